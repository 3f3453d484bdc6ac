// Care links, with the patient's consent: a clinician invites a patient by username and sees who accepted; a
// patient accepts or declines an invitation and may end a care link at any time (so may the clinician).
// Only an accepted link lets the clinician read the patient's videos, reports and history.
import { api } from './api.js';
import { fmtDate, guard, h } from './ui.js';

const act = (label, id, action, cls = 'secondary') => h('button', { type: 'button', class: cls, id, onclick: () => guard(action) }, label);

// The card shown on the History page; `changed()` is called after each change (to reload the page's lists).
export async function careCard(user, changed) {
  const links = await api('/v1/care-links');
  const card = h('section', { class: 'card', id: 'care' });
  const end = (l) => async () => { await api(`/v1/care-links/${encodeURIComponent(l.id)}`, { method: 'DELETE' }); await changed(); };
  if (user.role === 'clinician') {
    const name = h('input', { type: 'text', id: 'care-invite-name', required: true, maxlength: 100, autocomplete: 'off',
      placeholder: 'their username', 'aria-label': "Patient's username" });
    const form = h('form', { id: 'care-invite', class: 'care-invite' }, name, h('button', { type: 'submit' }, 'Invite'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      guard(async () => { await api('/v1/care-links', { method: 'POST', json: { patient: name.value.trim() } }); await changed(); });
    });
    const mine = links.filter((l) => l.clinician === user.name);
    card.append(h('h2', {}, 'Your patients'),
      h('p', { class: 'muted' }, 'Invite a patient by their username; you see their videos, reports and history once they accept.'),
      form,
      h('ul', { class: 'care-list', id: 'care-patients' }, ...mine.map((l) => h('li', { dataset: { state: l.state } },
        h('strong', {}, l.patient), ' ',
        l.state === 'accepted' ? `· accepted ${fmtDate(l.accepted_at)}` : h('span', { class: 'muted' }, '· invited, waiting for their answer'),
        act(l.state === 'accepted' ? 'End care' : 'Withdraw', `care-end-${l.patient}`, end(l))))));
  }
  const theirs = links.filter((l) => l.patient === user.name);
  if (user.role === 'admin' && !theirs.length) return card.childElementCount ? card : null;
  card.append(h('h2', {}, 'Your clinicians'),
    theirs.length ? h('ul', { class: 'care-list', id: 'care-clinicians' }, ...theirs.map((l) => h('li', { dataset: { state: l.state } },
      l.state === 'pending'
        ? [h('strong', {}, l.clinician), ' invites you to share your videos, reports and history with them.',
          act('Accept', `care-accept-${l.clinician}`, async () => {
            await api(`/v1/care-links/${encodeURIComponent(l.id)}/accept`, { method: 'POST' }); await changed();
          }, null),
          act('Decline', `care-decline-${l.clinician}`, end(l))]
        : [h('strong', {}, l.clinician), ` reads your videos, reports and history (since ${fmtDate(l.accepted_at)}).`,
          act('End care', `care-end-${l.clinician}`, end(l))])))
      : h('p', { class: 'muted', id: 'care-none' }, 'No clinician reads your data. A clinician who invites you is shown here to accept or decline.'));
  return card;
}
