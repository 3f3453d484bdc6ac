// History: a user's sessions over time (uploaded analyses and live sets, comparisons, fall checks) as charts, one
// series per exercise (repetitions, form errors, range of motion in degrees or estimated cm, each point naming its
// clip), and a table naming each clip (or "Live set") and linking to its result; filters by exercise
// and dates; a clinician chooses whose history to see among the patients who accepted, invites patients, and a
// patient accepts, declines or ends a clinician's care (care.js).
import { api } from '../api.js';
import { careCard } from '../care.js';
import { lineChart } from '../chart.js';
import { fmtShort, guard, h, show } from '../ui.js';

const LINKS = { analyze: (j) => `#/analyse?job=${j}`, compare: (j) => `#/compare?job=${j}`, falls: (j) => `#/falls?job=${j}`,
  live: (j) => `#/live?session=${j}` };
const KIND_NAMES = { analyze: 'Analysis', compare: 'Comparison', falls: 'Fall check', posture: 'Postures', pose: 'Poses',
  live: 'Live set' };
const REPS_KINDS = ['analyze', 'live'];
const seconds = (i) => new Date(i.finished_at).getTime() / 1000;

// One chart, one series per group (an exercise): x is the union of the groups' times (oldest first), each series
// has its values at its own times (gaps elsewhere, joined). `valueText(point)`: the legend's text for the point under
// the cursor (e.g. the range with the clip's name), instead of the bare value.
function chart(box, id, title, groups, yLabel, yRange, valueText) {
  const used = groups.filter((g) => g.points.length);
  if (!used.length) return;
  const xs = [...new Set(used.flatMap((g) => g.points.map((p) => p.x)))].sort((a, b) => a - b);
  const holder = h('div', { class: 'chart', id: `history-chart-${id}` });
  box.append(h('h2', {}, title), holder);
  const byX = (g) => { const m = new Map(g.points.map((p) => [p.x, p])); return xs.map((x) => (m.has(x) ? m.get(x).y : null)); };
  const all = used.flatMap((g) => g.points);
  const made = lineChart(holder, {
    x: xs, series: used.map((g) => ({ label: g.label, values: byX(g) })), xLabel: 'date', time: true, height: 200,
    yLabel, yRange,
    onClick: (t) => { const p = all.find((q) => q.x === t); if (p && LINKS[p.item.kind]) location.hash = LINKS[p.item.kind](p.item.job_id); },
  });
  holder.dataset.series = used.map((g) => g.label).join('|');
  if (valueText) {
    used.forEach((g, i) => {
      const at = new Map(g.points.map((p) => [p.x, p]));
      made.plot.series[i + 1].value = (_u, _v, _si, idx) => {
        const p = idx === null || idx === undefined ? undefined : at.get(xs[idx]);
        return p ? valueText(p) : '–';
      };
    });
  }
}

// An analysis' typical range of motion per repetition (History's `rom`): degrees, or centimetres estimated.
const romText = (i) => (i.rom === null || i.rom === undefined ? '–'
  : i.rom_unit === 'cm' ? `${Math.round(i.rom)} cm (estimate)` : `${Math.round(i.rom)}°`);
const clipName = (i) => (i.source === 'live' ? 'Live set' : (i.file_name || 'video'));

function perExercise(items, titles, value) {
  const groups = new Map();
  for (const i of items) {
    const y = value(i);
    if (y === null || y === undefined || !Number.isFinite(y) || !i.finished_at) continue;
    const key = i.exercise || 'other';
    if (!groups.has(key)) groups.set(key, { label: titles[key] || (i.exercise ? i.exercise : 'Other movement'), points: [] });
    groups.get(key).points.push({ x: seconds(i), y, item: i });
  }
  return [...groups.values()];
}

function nameCell(i) {
  const name = clipName(i);
  return LINKS[i.kind] ? h('a', { href: LINKS[i.kind](i.job_id) }, name) : name;
}

// A repetition count under 0.5 confidence is marked unsure (the report says why).
function repsCell(i) {
  const unsure = i.rep_count !== null && i.rep_count !== undefined && i.rep_confidence !== null
    && i.rep_confidence !== undefined && i.rep_confidence < 0.5;
  const count = `${show(i.rep_count)}${i.target ? ` of ${i.target}` : ''}${unsure ? ' (unsure)' : ''}`;
  return h('td', { 'data-label': 'Reps', class: unsure ? 'unsure' : null,
    title: i.rep_confidence !== null && i.rep_confidence !== undefined ? `count confidence ${Math.round(i.rep_confidence * 100)} %` : null }, count);
}

function table(items, titles) {
  const cell = (label, ...content) => h('td', { 'data-label': label }, ...content);
  const rows = items.map((i) => h('tr', { dataset: { source: i.source, kind: i.kind } },
    cell('Finished', fmtShort(i.finished_at)),
    cell('Name', nameCell(i)),
    cell('Kind', KIND_NAMES[i.kind] || i.kind),
    cell('Exercise / guide', titles[i.exercise] || i.exercise || '–'),
    repsCell(i), cell('Errors', show(i.error_count)), h('td', { 'data-label': 'Range', class: 'rom' }, romText(i)),
    cell('Score', show(i.score, 0)), cell('Falls', show(i.fall_count))));
  return h('section', { class: 'card' }, h('h2', {}, 'Sessions'), h('div', { class: 'table-wrap' },
    h('table', { id: 'history-table', class: 'stack' },
      h('thead', {}, h('tr', {}, ...['Finished', 'Name', 'Kind', 'Exercise / guide', 'Reps', 'Errors', 'Range', 'Score', 'Falls'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...rows))));
}

function emptyState(filtered, whose) {
  if (filtered) {
    return h('p', { id: 'history-empty', class: 'muted' }, 'Nothing matches these filters: choose another exercise or other dates, or clear the filters.');
  }
  if (whose) return h('p', { id: 'history-empty', class: 'muted' }, `${whose} has no finished sessions yet.`);
  return h('div', { id: 'history-empty' }, h('p', {}, 'No finished sessions yet.'),
    h('p', { class: 'muted' }, 'Analyse a video on the ', h('a', { href: '#/analyse' }, 'Analyse page'), ' or do a set on the ',
      h('a', { href: '#/live' }, 'Live page'), ': each one is listed here, with charts of your repetitions over time.'));
}

async function show_(out, query, titles, whose) {
  const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v));
  const qs = params.toString();
  const items = await api(`/v1/history${qs ? `?${qs}` : ''}`);
  out.replaceChildren();
  if (!items.length) { out.append(h('section', { class: 'card' }, emptyState(!!(query.exercise || query.since || query.until), whose))); return; }
  const oldestFirst = [...items].reverse();
  const charts = h('section', { class: 'card', id: 'history-charts' });
  const reps = oldestFirst.filter((i) => REPS_KINDS.includes(i.kind));
  chart(charts, 'rep_count', 'Repetitions per set (uploads and live sets)', perExercise(reps, titles, (i) => i.rep_count), 'repetitions', 'zero');
  chart(charts, 'error_rate', 'Form errors per repetition', perExercise(reps, titles,
    (i) => (i.rep_count ? i.error_count / i.rep_count : null)), 'errors per rep', 'zero');
  // range of motion per repetition over time, one series per exercise, each point naming its clip
  const ranged = (unit) => perExercise(reps.filter((i) => i.rom_unit === unit), titles, (i) => i.rom);
  chart(charts, 'rom', 'Range of motion per repetition (degrees)', ranged('deg'), 'degrees', 'zero',
    (p) => `${romText(p.item)} · ${clipName(p.item)}`);
  chart(charts, 'rom_cm', 'Range of motion per repetition (cm, estimated from the body)', ranged('cm'), 'cm', 'zero',
    (p) => `${romText(p.item)} · ${clipName(p.item)}`);
  chart(charts, 'score', 'Similarity to the guide', perExercise(oldestFirst.filter((i) => i.kind === 'compare'), titles,
    (i) => i.score), 'score (0-100)', [0, 100]);
  chart(charts, 'fall_count', 'Falls detected', [{ label: 'falls', points: oldestFirst.filter((i) => i.kind === 'falls' && i.fall_count !== null)
    .map((i) => ({ x: seconds(i), y: i.fall_count, item: i })) }], 'falls', 'zero');
  if (charts.childElementCount) out.append(charts);
  out.append(table(items, titles));
}

function filters(titles, onChange) {
  const exercise = h('select', { id: 'history-exercise' }, h('option', { value: '' }, 'All exercises'),
    ...Object.entries(titles).map(([name, title]) => h('option', { value: name }, title)));
  const since = h('input', { type: 'date', id: 'history-since', 'aria-label': 'From' });
  const until = h('input', { type: 'date', id: 'history-until', 'aria-label': 'To' });
  const clear = h('button', { type: 'button', class: 'secondary', id: 'history-clear' }, 'Clear filters');
  const value = () => ({ exercise: exercise.value, since: since.value, until: until.value });
  for (const el of [exercise, since, until]) el.addEventListener('change', () => onChange(value()));
  clear.addEventListener('click', () => { exercise.value = ''; since.value = ''; until.value = ''; onChange(value()); });
  return { el: h('div', { class: 'row controls history-filters' }, h('label', {}, 'Exercise', exercise),
    h('label', {}, 'From', since), h('label', {}, 'To', until), h('div', {}, clear)), value };
}

export async function render(root, ctx) {
  const { user } = ctx;
  const out = h('div', { id: 'history' });
  const head = h('section', { class: 'card' }, h('h1', {}, 'History'));
  // care links: invitations to accept, patients to invite; a change reloads the page's lists
  const care = await careCard(user, () => { root.replaceChildren(); return render(root, ctx); });
  const titles = Object.fromEntries((await api('/v1/exercises')).map((e) => [e.name, e.title]));
  const patients = user.role === 'user' ? [] : await api('/v1/patients');
  let patient = '';
  const reload = () => guard(() => show_(out, { patient, ...filter.value() }, titles, patient));
  const filter = filters(titles, reload);
  const notes = [];
  if (patients.length) {
    const select = h('select', { id: 'history-user' }, h('option', { value: '' }, `${user.name} (you)`),
      ...patients.map((p) => h('option', { value: p.name }, p.name)));
    select.addEventListener('change', () => { patient = select.value; reload(); });
    head.append(h('label', {}, user.role === 'clinician' ? 'Patient' : 'User', select));
  } else if (user.role === 'clinician') {
    notes.push(h('section', { class: 'card', id: 'history-no-patients' }, h('h2', {}, 'No patients yet'),
      h('p', {}, 'To follow a patient here, invite them by their username under "Your patients" below. They see the ',
        'invitation on their own History page; once they accept, choose them in the Patient list above to read their ',
        'sessions. Until then this page shows your own sessions.')));
  }
  head.append(filter.el);
  root.append(head, ...notes, ...(care ? [care] : []), out);
  await show_(out, filter.value(), titles, '');
}
