// Programmes: home exercise programmes built from the guide library. A clinician builds and edits (each save a
// new version) a programme for a patient who accepted their care, sees who needs attention, each programme's
// adherence (sessions done against prescribed, per exercise completion, score and range of motion over time) and
// downloads a patient's sessions as CSV. A patient sees their programmes and today's exercises (each opens the
// Session page, to follow live, or the Compare page). #/programmes?id=<id> opens one programme.
import { api } from '../api.js';
import { lineChart } from '../chart.js';
import { editor } from '../programme_editor.js';
import { fmtShort, guard, h, hashParam, localDate, show } from '../ui.js';

const pct = (x) => (x === null || x === undefined ? '–' : `${Math.round(x * 100)} %`);
const dose = (i) => `${i.sets} × ${i.reps ? `${i.reps} reps` : `${i.hold_s} s hold`}, rest ${i.rest_s} s, ${i.per_week}× a week`;
const dates = (p) => `${p.start_date} to ${p.end_date || 'open-ended'}`;
const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
// One exercise followed live on the Session page: the guide beside the camera, the set's target, sets and rest.
const followUrl = (i) => `#/session?${new URLSearchParams({ guide: i.guide_id, ...(i.reps ? { reps: i.reps } : {}),
  sets: i.sets, rest: i.rest_s })}`;
const csvUrl = (patient) => `/v1/programme-sessions.csv?patient=${encodeURIComponent(patient)}`;
// The progress report (PDF) of a programme over a period (default: from its start to today).
const pdfUrl = (p, from = p.start_date, to = localDate()) => `/v1/programmes/${encodeURIComponent(p.id)}/report.pdf`
  + `?from=${from}&to=${[from, to].sort()[1]}`;  // ISO dates: the later of the two

function open(id) { history.replaceState(null, '', id ? `#/programmes?id=${encodeURIComponent(id)}` : '#/programmes'); }

// Today's exercises of one programme, for its patient.
async function todayCard(p) {
  const today = await api(`/v1/programmes/${encodeURIComponent(p.id)}/today?date=${localDate()}`);
  const due = today.due.filter((d) => d.due);
  const rest = today.due.filter((d) => !d.due);
  const item = (d) => h('li', { class: 'today-item', dataset: { due: String(d.due), id: d.item.id } },
    h('strong', {}, d.item.guide_name), ` · ${dose(d.item)}`,
    d.item.notes ? h('div', { class: 'muted' }, d.item.notes) : null,
    h('div', { class: 'muted' }, `${d.done_this_week} of ${d.target_this_week} done this week · ${d.reason}`),
    d.due ? h('p', {}, h('a', { href: followUrl(d.item), class: 'today-follow' }, 'Follow the guide live'), ' · ',
      h('a', { href: `#/compare?guide=${encodeURIComponent(d.item.guide_id)}`, class: 'today-compare' },
        'or compare a video of it with the guide')) : null);
  return h('section', { class: 'card today', dataset: { programme: p.id } },
    h('h2', {}, p.title),
    h('p', { class: 'muted' }, `From ${p.clinician || 'your clinician'} · ${dates(p)} · version ${p.version}`),
    h('h3', {}, `Today's exercises (${today.date})`),
    due.length ? h('p', {}, h('a', { href: `#/session?programme=${encodeURIComponent(p.id)}`, class: 'today-start' },
      "Start today's session"), h('span', { class: 'muted' }, ': each exercise due in turn, live, then how it felt')) : null,
    due.length ? h('ul', { class: 'today-due' }, ...due.map(item))
      : h('p', { class: 'today-none ok' }, 'Nothing due today: rest, or look at what comes next below.'),
    rest.length ? [h('h3', {}, 'Not today'), h('ul', { class: 'today-rest' }, ...rest.map(item))] : null,
    h('p', {}, h('a', { href: pdfUrl(p), class: 'today-pdf', download: '' }, 'My progress report (PDF)')));
}

async function patientView(root, mine) {
  if (!mine.length) {
    root.append(h('section', { class: 'card', id: 'programmes-empty' }, h('h2', {}, 'No programme yet'),
      h('p', {}, 'Your clinician prescribes your exercises here. Accept their invitation on the ',
        h('a', { href: '#/history' }, 'History page'), ' (Your clinicians); once they build a programme for you, ',
        "today's exercises appear on this page.")));
    return;
  }
  const box = h('div', { id: 'today' });
  root.append(box);
  for (const p of mine) box.append(await todayCard(p));
  box.append(h('p', {}, h('a', { href: csvUrl(mine[0].patient), id: 'my-csv' }, 'Download all my sessions (CSV)')));
}

function attentionCard(list) {
  const card = h('section', { class: 'card', id: 'programmes-attention' }, h('h2', {}, 'Needs attention'));
  if (!list.length) {
    card.append(h('p', { class: 'muted', id: 'attention-none' }, 'No patient needs attention today: nobody is behind on ',
      "this week's sessions, no exercise's scores are falling, no high pain was reported."));
    return card;
  }
  card.append(h('ul', {}, ...list.flatMap((a) => a.programmes.map((p) => h('li', { dataset: { patient: a.patient } },
    h('strong', {}, a.patient), ' · ', h('a', { href: `#/programmes?id=${encodeURIComponent(p.id)}` }, p.title), ': ',
    p.reasons.join('; '))))));
  return card;
}

function listCard(mine, onOpen) {
  const card = h('section', { class: 'card', id: 'programmes-list' }, h('h2', {}, 'Your programmes'));
  if (!mine.length) {
    card.append(h('p', { class: 'muted', id: 'programmes-none' }, 'No programme yet: build one below for a patient who accepted your care.'));
    return card;
  }
  card.append(h('div', { class: 'table-wrap' }, h('table', { class: 'stack' },
    h('thead', {}, h('tr', {}, ...['Patient', 'Title', 'Dates', 'Version', 'Exercises', ''].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...mine.map((p) => h('tr', { dataset: { id: p.id } },
      cell('Patient', p.patient), cell('Title', p.title), cell('Dates', dates(p)), cell('Version', String(p.version)),
      cell('Exercises', String(p.items.length)),
      cell('', h('button', { type: 'button', class: 'secondary open-programme', onclick: () => guard(() => onOpen(p.id)) }, 'Open'))))))));
  return card;
}

function weeksTable(a) {
  return h('div', { class: 'table-wrap' }, h('table', { id: 'adherence-weeks', class: 'stack' },
    h('thead', {}, h('tr', {}, ...['Week of', 'Done', 'Expected so far', 'Prescribed', 'Complete'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...a.weeks.map((w) => h('tr', {}, cell('Week of', w.start), cell('Done', String(w.done)),
      cell('Expected so far', String(w.expected)), cell('Prescribed', String(w.prescribed)), cell('Complete', String(w.complete)))))));
}

function exercisesTable(a) {
  return h('div', { class: 'table-wrap' }, h('table', { id: 'adherence-exercises', class: 'stack' },
    h('thead', {}, h('tr', {}, ...['Exercise', 'Done', 'Expected', 'Sets done', 'Mean score', 'Mean ROM'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...a.exercises.map((e) => h('tr', { dataset: { id: e.item.id } },
      cell('Exercise', e.item.guide_name + (e.current ? '' : ' (removed)')), cell('Done', String(e.done)),
      cell('Expected', String(e.prescribed)), cell('Sets done', pct(e.completion)),
      cell('Mean score', show(e.mean_score, 0)), cell('Mean ROM', e.mean_rom_deg === null ? '–' : `${Math.round(e.mean_rom_deg)}°`))))));
}

// Score and range of motion per session, one series per exercise.
function charts(box, a) {
  for (const [key, title, label, range] of [['score', 'Score per session', 'score (0-100)', [0, 100]], ['rom_deg', 'Range of motion per session', 'degrees', 'zero']]) {
    const used = a.exercises.filter((e) => e.points.some((p) => p[key] !== null));
    if (!used.length) continue;
    const seconds = (d) => new Date(`${d}T12:00:00`).getTime() / 1000;
    const xs = [...new Set(used.flatMap((e) => e.points.map((p) => seconds(p.day))))].sort((x, y) => x - y);
    const holder = h('div', { class: 'chart', id: `adherence-chart-${key}` });
    box.append(h('h3', {}, title), holder);
    lineChart(holder, { x: xs, time: true, height: 200, xLabel: 'date', yLabel: label, yRange: range,
      series: used.map((e) => ({ label: e.item.guide_name, values: xs.map((x) => {
        const p = e.points.filter((q) => seconds(q.day) === x && q[key] !== null);
        return p.length ? p[p.length - 1][key] : null;
      }) })) });
  }
}

async function detail(out, id, user, patients, reload) {
  const [p, a, versions] = await Promise.all([api(`/v1/programmes/${encodeURIComponent(id)}`),
    api(`/v1/programmes/${encodeURIComponent(id)}/adherence?date=${localDate()}`),
    api(`/v1/programmes/${encodeURIComponent(id)}/versions`)]);
  open(id);
  const adherence = h('section', { class: 'card', id: 'programme-adherence' },
    h('h2', {}, `${p.title} · ${p.patient}`), h('p', { class: 'muted' }, `${dates(p)} · version ${p.version}`),
    h('div', { class: 'stat' }, h('small', {}, 'Sessions done / expected so far'), h('span', { class: 'big', id: 'adherence-done' }, `${a.done} / ${a.prescribed}`)),
    h('div', { class: 'stat' }, h('small', {}, 'Adherence'), h('span', { class: 'big', id: 'adherence-rate' }, pct(a.rate))),
    a.attention.length ? h('ul', { class: 'bad', id: 'adherence-attention' }, ...a.attention.map((r) => h('li', {}, r)))
      : h('p', { class: 'ok', id: 'adherence-ok' }, 'On track: nothing needs your attention.'));
  if (a.weeks.length) adherence.append(h('h3', {}, 'Per week'), weeksTable(a));
  if (a.done) {
    adherence.append(h('h3', {}, 'Per exercise'), exercisesTable(a));
    charts(adherence, a);
  } else {
    adherence.append(h('p', { class: 'muted', id: 'adherence-empty' }, `${p.patient} has recorded no session of this programme yet; `,
      'their sessions, scores and range of motion appear here as they do them.'));
  }
  adherence.append(h('p', {}, h('a', { href: pdfUrl(p), id: 'programme-pdf', download: '' }, 'Progress report (PDF)'),
    ' · ', h('a', { href: csvUrl(p.patient), id: 'programme-csv' }, `Download all sessions of ${p.patient} (CSV)`)));
  const versionsCard = h('section', { class: 'card', id: 'programme-versions' }, h('h2', {}, 'Versions'),
    h('ul', {}, ...versions.map((v) => h('li', { dataset: { version: String(v.version) } },
      h('details', {}, h('summary', {}, `Version ${v.version} · ${fmtShort(v.version_created_at)} · ${v.author || 'unknown'} · ${v.title}`),
        h('ul', {}, ...v.items.map((i) => h('li', {}, `${i.guide_name}: ${dose(i)}${i.notes ? ` (${i.notes})` : ''}`))))))));
  const parts = [adherence, versionsCard];
  versionsCard.append(h('button', { type: 'button', class: 'secondary', id: 'programme-close', onclick: () => guard(() => reload(null)) },
    'Close (back to a new programme)'));
  if (p.clinician === user.name) parts.push(await editor(patients, p, reload));
  out.replaceChildren(...parts);
}

export async function render(root, ctx) {
  const { user } = ctx;
  root.append(h('section', { class: 'card' }, h('h1', {}, 'Programmes'),
    h('p', { class: 'muted' }, user.role === 'clinician'
      ? 'Prescribe exercises from your guides to your patients and follow how they keep to them.'
      : 'The exercises your clinician prescribed, and the ones due today.')));
  const all = await api('/v1/programmes');
  const mine = all.filter((p) => p.patient === user.name);
  if (user.role !== 'clinician') { await patientView(root, mine); return; }
  const patients = await api('/v1/patients');
  const prescribed = all.filter((p) => p.clinician === user.name);
  const out = h('div', { id: 'programme-detail' });
  // after a save: the programme saved opened (null: the list and a new programme)
  const reload = async (saved) => { root.replaceChildren(); open(saved ? saved.id : null); await render(root, ctx); };
  const show_ = (id) => detail(out, id, user, patients, reload);
  root.append(attentionCard(await api(`/v1/programmes/attention?date=${localDate()}`)), listCard(prescribed, show_), out);
  const id = hashParam('id');
  if (id && prescribed.some((p) => p.id === id)) await show_(id);
  else root.append(await editor(patients, null, reload));
  if (mine.length) await patientView(root, mine);  // a clinician may be someone's patient too
}
