// History: a user's sessions over time (repetitions, form errors, comparison scores, falls) as charts and a
// table linking to each result; a clinician chooses whose history to see among the patients who accepted, invites
// patients, and a patient accepts, declines or ends a clinician's care (care.js).
import { api } from '../api.js';
import { careCard } from '../care.js';
import { lineChart } from '../chart.js';
import { fmtDate, guard, h } from '../ui.js';

const LINKS = { analyze: (j) => `#/analyse?job=${j}`, compare: (j) => `#/compare?job=${j}`, falls: (j) => `#/falls?job=${j}` };
const KIND_NAMES = { analyze: 'Analysis', compare: 'Comparison', falls: 'Fall check', posture: 'Postures', pose: 'Poses' };

function chart(box, title, items, field, label) {
  const points = items.filter((i) => i[field] !== null && i[field] !== undefined && i.finished_at);
  if (!points.length) return;
  const holder = h('div', { class: 'chart', id: `history-chart-${field}` });
  box.append(h('h2', {}, title), holder);
  lineChart(holder, {
    x: points.map((i) => new Date(i.finished_at).getTime() / 1000),
    series: [{ label, values: points.map((i) => i[field]) }],
    xLabel: 'date', time: true, height: 200,
    onClick: (t) => { const i = points.find((p) => new Date(p.finished_at).getTime() / 1000 === t); if (i && LINKS[i.kind]) location.hash = LINKS[i.kind](i.job_id); },
  });
}

async function show(out, patient) {
  const items = await api(`/v1/history${patient ? `?patient=${encodeURIComponent(patient)}` : ''}`);
  out.replaceChildren();
  // A repetition count under 0.5 confidence is marked unsure (the report says why).
  const repsCell = (i) => {
    const unsure = i.rep_count !== null && i.rep_count !== undefined && i.rep_confidence != null && i.rep_confidence < 0.5;
    return h('td', { class: unsure ? 'unsure' : null,
      title: i.rep_confidence != null ? `count confidence ${Math.round(i.rep_confidence * 100)} %` : null },
    `${i.rep_count ?? '–'}${unsure ? ' (unsure)' : ''}`);
  };
  if (!items.length) { out.append(h('p', { id: 'history-empty', class: 'muted' }, 'No finished sessions yet.')); return; }
  const oldestFirst = [...items].reverse();
  const charts = h('section', { class: 'card' });
  out.append(charts);
  chart(charts, 'Repetitions per session', oldestFirst.filter((i) => i.kind === 'analyze'), 'rep_count', 'repetitions');
  chart(charts, 'Form errors per session', oldestFirst.filter((i) => i.kind === 'analyze'), 'error_count', 'form errors');
  chart(charts, 'Similarity to the guide', oldestFirst.filter((i) => i.kind === 'compare'), 'score', 'score (0-100)');
  chart(charts, 'Falls detected', oldestFirst.filter((i) => i.kind === 'falls'), 'fall_count', 'falls');
  const rows = items.map((i) => h('tr', {},
    h('td', {}, i.finished_at ? fmtDate(i.finished_at) : '–'),
    h('td', {}, LINKS[i.kind] ? h('a', { href: LINKS[i.kind](i.job_id) }, KIND_NAMES[i.kind] || i.kind) : (KIND_NAMES[i.kind] || i.kind)),
    h('td', {}, i.exercise || '–'),
    repsCell(i), h('td', {}, i.error_count ?? '–'),
    h('td', {}, i.score !== null && i.score !== undefined ? i.score.toFixed(0) : '–'), h('td', {}, i.fall_count ?? '–')));
  out.append(h('section', { class: 'card' }, h('h2', {}, 'Sessions'), h('div', { class: 'table-wrap' },
    h('table', { id: 'history-table' },
      h('thead', {}, h('tr', {}, ...['Finished', 'Kind', 'Exercise / guide', 'Reps', 'Errors', 'Score', 'Falls'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...rows)))));
}

export async function render(root, ctx) {
  const { user } = ctx;
  const out = h('div', { id: 'history' });
  const head = h('section', { class: 'card' }, h('h1', {}, 'History'));
  // care links: invitations to accept, patients to invite; a change reloads the page's lists
  const care = await careCard(user, () => { root.replaceChildren(); return render(root, ctx); });
  root.append(head, ...(care ? [care] : []), out);
  const patients = user.role === 'user' ? [] : await api('/v1/patients');
  if (patients.length) {
    const select = h('select', { id: 'history-user' }, h('option', { value: '' }, `${user.name} (you)`),
      ...patients.map((p) => h('option', { value: p.name }, p.name)));
    select.addEventListener('change', () => guard(() => show(out, select.value)));
    head.append(h('label', {}, user.role === 'clinician' ? 'Patient' : 'User', select));
  }
  await show(out, '');
}
