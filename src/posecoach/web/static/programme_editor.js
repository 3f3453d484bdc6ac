// The programme editor of the Programmes page: a clinician picks a patient (one who accepted their care), a title,
// dates, and exercises from the guide library (sets, repetitions or seconds held, rest, times a week, notes).
// Saving a programme that exists makes a new version (the old one stays in its history).
import { api } from './api.js';
import { guard, h, localDate, showBanner } from './ui.js';

const field = (label, input) => h('label', {}, label, input);
const num = (cls, value, min, max, label) => h('input', { type: 'number', class: cls, value, min, max, step: 1, required: true,
  'aria-label': label });

// One exercise row; `item` fills it (an exercise of the version edited: its id is kept, so is its history).
function itemRow(guides, item, onRemove) {
  const guide = h('select', { class: 'prog-guide', 'aria-label': 'Guide', required: true },
    ...guides.map((g) => h('option', { value: g.id }, g.name)));
  if (item && !guides.some((g) => g.id === item.guide_id)) {
    guide.append(h('option', { value: item.guide_id }, `${item.guide_name} (no longer in the library)`));
  }
  if (item) guide.value = item.guide_id;
  const hold = !!(item?.hold_s);
  const mode = h('select', { class: 'prog-mode', 'aria-label': 'Repetitions or hold' },
    h('option', { value: 'reps' }, 'repetitions'), h('option', { value: 'hold' }, 'seconds held'));
  mode.value = hold ? 'hold' : 'reps';
  const amount = num('prog-amount', item ? (hold ? item.hold_s : item.reps) : 10, 1, 600, 'Repetitions or seconds per set');
  const sets = num('prog-sets', item ? item.sets : 3, 1, 20, 'Sets');
  const rest = num('prog-rest', item ? item.rest_s : 60, 0, 900, 'Rest between sets (s)');
  const week = num('prog-week', item ? item.per_week : 3, 1, 7, 'Times a week');
  const notes = h('input', { type: 'text', class: 'prog-notes', maxlength: 1000, value: item ? item.notes : '',
    placeholder: 'e.g. slowly, stop if it hurts', 'aria-label': 'Notes' });
  const remove = h('button', { type: 'button', class: 'secondary prog-remove', onclick: onRemove }, 'Remove');
  const el = h('fieldset', { class: 'card prog-item', dataset: { id: item ? item.id : '' } },
    h('legend', {}, 'Exercise'), field('Guide', guide),
    h('div', { class: 'row' }, field('Sets', sets), field('Per set', mode), field('How many', amount)),
    h('div', { class: 'row' }, field('Rest (s)', rest), field('Times a week', week)),
    field('Notes', notes), remove);
  el.style.cssText = 'border: 1px solid var(--line); margin: .5rem 0;';
  return {
    el,
    value() {
      const n = Number(amount.value);
      return { id: el.dataset.id || null, guide_id: guide.value, sets: Number(sets.value), rest_s: Number(rest.value),
        per_week: Number(week.value), notes: notes.value.trim(),
        reps: mode.value === 'reps' ? Math.round(n) : null, hold_s: mode.value === 'hold' ? n : null };
    },
  };
}

// The editor card. `programme`: the one edited (null: a new one); `onSaved(programme)` after saving.
export async function editor(patients, programme, onSaved) {
  const guides = (await api('/v1/references')).filter((g) => g.state === 'ready');
  const card = h('section', { class: 'card', id: 'programme-editor' },
    h('h2', {}, programme ? `Edit "${programme.title}" (makes version ${programme.current_version + 1})` : 'New programme'));
  if (!patients.length && !programme) {
    card.append(h('p', { id: 'programme-no-patients' }, 'No patient has accepted your care yet. Invite a patient by their ',
      'username under "Your patients" on the ', h('a', { href: '#/history' }, 'History page'),
      '; once they accept, build their programme here.'));
    return card;
  }
  if (!guides.length) {
    card.append(h('p', { id: 'programme-no-guides' }, 'Your guide library is empty. Record a guide from a video on the ',
      h('a', { href: '#/compare' }, 'Compare page'), ' ("Make a guide from a video"), then come back to prescribe it.'));
    return card;
  }
  const patient = h('select', { id: 'prog-patient', required: true }, ...patients.map((p) => h('option', { value: p.name }, p.name)));
  const title = h('input', { type: 'text', id: 'prog-title', maxlength: 200, required: true, value: programme ? programme.title : '',
    placeholder: 'e.g. Knee rehabilitation, weeks 1-4' });
  const local = localDate();
  const start = h('input', { type: 'date', id: 'prog-start', required: true, value: programme ? programme.start_date : local });
  const end = h('input', { type: 'date', id: 'prog-end', value: programme?.end_date ? programme.end_date : '' });
  for (const d of [start, end]) d.style.cssText = 'display: block; width: 100%; padding: .4rem .5rem; margin-top: .25rem;';
  const list = h('div', { id: 'prog-items' });
  const rows = [];
  const add = (item) => {
    const row = itemRow(guides, item, () => { rows.splice(rows.indexOf(row), 1); row.el.remove(); });
    rows.push(row);
    list.append(row.el);
  };
  for (const item of programme ? programme.items : [null]) add(item);
  const form = h('form', { id: 'programme-form' },
    programme ? h('p', {}, 'Patient: ', h('strong', {}, programme.patient)) : field('Patient', patient),
    field('Title', title), h('div', { class: 'row' }, field('Starts', start), field('Ends (optional)', end)),
    list, h('button', { type: 'button', class: 'secondary', id: 'prog-add-item', onclick: () => add(null) }, 'Add an exercise'),
    ' ', h('button', { type: 'submit', id: 'prog-save' }, programme ? 'Save a new version' : 'Create the programme'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guard(async () => {
      if (!rows.length) throw new Error('add at least one exercise');
      const body = { title: title.value.trim(), start_date: start.value, end_date: end.value || null,
        items: rows.map((r) => r.value()) };
      const saved = programme
        ? await api(`/v1/programmes/${encodeURIComponent(programme.id)}`, { method: 'PUT', json: { ...body, version: programme.current_version } })
        : await api('/v1/programmes', { method: 'POST', json: { ...body, patient: patient.value } });
      showBanner(programme ? `Saved as version ${saved.version}.` : `Programme "${saved.title}" prescribed to ${saved.patient}.`, 'info');
      await onSaved(saved);
    });
  });
  card.append(form);
  return card;
}
