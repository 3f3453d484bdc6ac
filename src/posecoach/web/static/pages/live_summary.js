// The summary of a finished live set (the socket's summary when the user stops or the target is met, or a set
// kept in History, GET /v1/live-sessions/{id}): reps against the target, tempo, form issues per repetition, and
// whether it was kept in History.
import { h, show } from '../ui.js';

// s: { count, title, target, duration_s, reps: [{index, duration_s, errors: [{title, cue, severity}]}], hold_s,
//      count_confidence, saved: {id} | null, save_note }
export function summaryCard(s) {
  const reps = s.reps || [];
  const tempo = reps.length ? reps.reduce((t, r) => t + r.duration_s, 0) / reps.length : null;
  const issues = reps.reduce((n, r) => n + r.errors.length, 0);
  const met = s.target ? s.count >= s.target : null;
  const stat = (label, id, value) => h('div', { class: 'stat' }, h('small', {}, label), h('span', { id }, value));
  const rows = reps.map((r) => h('tr', {}, h('td', {}, String(r.index)), h('td', {}, `${show(r.duration_s, 1)} s`),
    h('td', {}, r.errors.length ? h('ul', { class: 'errors' }, ...r.errors.map((e) => h('li', { class: `sev-${e.severity}` },
      h('strong', {}, e.title), ': ', e.cue))) : h('span', { class: 'ok' }, 'good'))));
  const kept = s.saved
    ? h('p', { id: 'live-saved' }, 'Kept in your History. ', h('a', { href: '#/history' }, 'Open History'))
    : h('p', { id: 'live-saved', class: 'muted' }, s.save_note ? `Not kept in History: ${s.save_note}.` : '');
  return h('section', { class: 'card', id: 'live-summary' },
    h('h2', {}, `Set summary: ${s.title || 'movement'}`),
    stat('Repetitions', 'live-summary-count', s.target ? `${s.count} of ${s.target}` : String(s.count)),
    met === null ? null : stat('Target', 'live-summary-target', met ? 'met' : 'not met'),
    s.hold_s ? stat('Held', 'live-summary-hold', `${show(s.hold_s, 1)} s`) : null,
    stat('Tempo', 'live-summary-tempo', tempo === null ? '–' : `${tempo.toFixed(1)} s a rep`),
    stat('Form issues', 'live-summary-issues', String(issues)),
    stat('Duration', 'live-summary-duration', `${show(s.duration_s, 0)} s`),
    reps.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'live-summary-reps' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Tempo'), h('th', {}, 'Form'))), h('tbody', {}, ...rows)))
      : h('p', { class: 'muted' }, 'No repetitions were counted in this set.'),
    kept);
}
