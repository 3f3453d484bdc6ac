// The Falls page's alert log: every fall alert (uploaded checks and the live camera; a clinician's accepted
// patients' too) with when and where it fired, what became of the person, whether it reached the webhook, and an
// Acknowledge button (with an optional note); then where alerts go: the user's webhook URL, saved, removed or
// tried with a test message.
import { api } from '../api.js';
import { fmtShort, fmtTime, guard, h } from '../ui.js';

const DELIVERY = {
  none: () => 'not sent (no webhook set when it fired)',
  pending: (a) => (a.delivery_attempts ? `waiting to be sent again (${a.delivery_error || 'not delivered'})` : 'being sent'),
  sending: () => 'being sent',
  sent: (a) => `sent to the webhook ${fmtShort(a.delivered_at)}`,
  failed: (a) => `not delivered: ${a.delivery_error || 'the webhook did not answer'}`,
};

function whereCell(a) {
  const name = a.source === 'live' ? 'Live camera' : a.name;
  const at = `${name} at ${fmtTime(a.alert_s)}`;
  return a.job_id ? h('a', { href: `#/falls?job=${encodeURIComponent(a.job_id)}` }, at) : at;
}

function ackCell(a, me, onDone) {
  if (a.acknowledged_at) {
    const by = a.acknowledged_by === me ? 'you' : (a.acknowledged_by || 'someone');
    return h('td', { 'data-label': 'Acknowledged', class: 'ok' }, h('span', {}, `by ${by}, ${fmtShort(a.acknowledged_at)}`,
      a.note ? h('span', { class: 'muted alert-note-text' }, ` – “${a.note}”`) : null));
  }
  const note = h('input', { type: 'text', maxlength: 500, placeholder: 'note (optional)', 'aria-label': 'Note',
    class: 'alert-note' });
  const button = h('button', { type: 'button', class: 'alert-ack' }, 'Acknowledge');
  button.addEventListener('click', () => guard(async () => {
    button.disabled = true;
    try {
      await api(`/v1/alerts/${encodeURIComponent(a.id)}/acknowledge`, { method: 'POST', json: { note: note.value.trim() || null } });
    } finally { button.disabled = false; }
    await onDone();
  }));
  return h('td', { 'data-label': 'Acknowledged' }, h('div', { class: 'alert-ack-form' }, note, button));
}

function alertTable(alerts, me, onDone) {
  const others = alerts.some((a) => a.owner !== me);
  const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
  const rows = alerts.map((a) => h('tr', { dataset: { id: a.id, delivery: a.delivery, acknowledged: a.acknowledged_at ? '1' : '0' },
    class: a.acknowledged_at ? null : 'open' },
    cell('Fired', fmtShort(a.created_at)),
    ...(others ? [cell('Who', a.owner)] : []),
    cell('Where', whereCell(a)),
    h('td', { 'data-label': 'What became of them', class: a.outcome === 'got_up' ? null : 'bad' }, a.outcome_text),
    cell('Webhook', (DELIVERY[a.delivery] || (() => a.delivery))(a)),
    ackCell(a, me, onDone)));
  const heads = ['Fired', ...(others ? ['Who'] : []), 'Where', 'What became of them', 'Webhook', 'Acknowledged'];
  return h('div', { class: 'table-wrap' }, h('table', { id: 'falls-alerts-table', class: 'stack' },
    h('thead', {}, h('tr', {}, ...heads.map((t) => h('th', {}, t)))), h('tbody', {}, ...rows)));
}

function destinationForm() {
  const input = h('input', { type: 'url', id: 'falls-webhook-url', placeholder: 'https://alerts.example.com/posecoach',
    'aria-label': 'Webhook URL', maxlength: 2048,
    style: 'display:block;width:100%;max-width:40rem;box-sizing:border-box;margin-top:.25rem;font-weight:400' });
  const message = h('p', { id: 'falls-webhook-message', class: 'muted' });
  const say = (text, kind = 'muted') => { message.textContent = text; message.className = kind; };
  const save = h('button', { type: 'submit', id: 'falls-webhook-save' }, 'Save');
  const test = h('button', { type: 'button', class: 'secondary', id: 'falls-webhook-test' }, 'Send a test');
  const remove = h('button', { type: 'button', class: 'secondary', id: 'falls-webhook-remove' }, 'Remove');
  const setState = (url) => { input.value = url || ''; test.disabled = !url; remove.disabled = !url; };
  const form = h('form', { id: 'falls-webhook', class: 'row controls' },
    h('label', {}, 'Send each alert to this webhook (a JSON POST)', input), h('div', {}, save, ' ', test, ' ', remove));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    guard(async () => {
      try {
        const saved = await api('/v1/me/alert-destination', { method: 'PUT', json: { webhook_url: input.value.trim() } });
        setState(saved.webhook_url);
        say('Saved: alerts from now on are sent there.', 'ok');
      } catch (err) { say(`Not saved: ${err.message}`, 'bad'); }
    });
  });
  test.addEventListener('click', () => guard(async () => {
    say('Sending a test…');
    const sent = await api('/v1/me/alert-destination/test', { method: 'POST' });
    say(sent.delivered ? `Test delivered: ${sent.detail}.` : `Test not delivered: ${sent.detail}.`, sent.delivered ? 'ok' : 'bad');
  }));
  remove.addEventListener('click', () => guard(async () => {
    await api('/v1/me/alert-destination', { method: 'DELETE' });
    setState(null);
    say('Removed: alerts are kept in the log below only.');
  }));
  const load = async () => {
    const d = await api('/v1/me/alert-destination');
    setState(d.webhook_url);
    say(d.webhook_url ? 'Alerts are sent to this webhook.' : 'No webhook set: alerts are kept in the log only.');
  };
  return { el: h('div', {}, form, message), load };
}

// mount(container, user) -> refresh(): fills the panel and returns the function that reloads the alert list.
export function mount(container, user) {
  const list = h('div', { id: 'falls-alerts-list' });
  const openOnly = h('input', { type: 'checkbox', id: 'falls-alerts-open' });
  const destination = destinationForm();
  const refresh = () => guard(async () => {
    const alerts = await api(`/v1/alerts${openOnly.checked ? '?open=true' : ''}`);
    if (!alerts.length) {
      list.replaceChildren(h('p', { id: 'falls-alerts-empty', class: 'muted' }, openOnly.checked
        ? 'Every alert has been acknowledged.'
        : 'No fall alerts yet. Each alert of an uploaded check or of the live camera is listed here, to acknowledge.'));
      return;
    }
    const open = alerts.filter((a) => !a.acknowledged_at).length;
    list.replaceChildren(h('p', { id: 'falls-alerts-count', class: open ? 'bad' : 'muted' },
      open ? `${open} alert${open > 1 ? 's' : ''} not acknowledged yet.` : 'Every alert has been acknowledged.'),
    alertTable(alerts, user.name, refresh));
  });
  openOnly.addEventListener('change', refresh);
  container.append(h('h2', {}, 'Alerts'),
    h('label', { class: 'inline' }, openOnly, ' Only alerts not acknowledged'), list,
    h('h3', {}, 'Where alerts go'), destination.el);
  guard(destination.load);
  refresh();
  return refresh;
}
