// Session: follow a guide live (issue 28). The guide's video plays beside the camera; the skeleton is drawn over
// the camera; the repetitions count toward the set's target; each repetition is scored against the guide when it
// ends (the server's streaming comparison: `posecoach.analysis.compare.streaming`), with its main deviation in
// words and its range of motion. Between sets a rest timer runs, then the next set starts. Each set is kept in
// History by the server (a live set whose repetitions carry their scores).
//
// #/session?guide=<id>[&reps=N][&sets=S][&rest=SECONDS]   one guide's sets
// #/session?programme=<id>   today's session of a programme: each exercise due today in turn, then how it felt
//   (pain, difficulty) and the session recorded; kept on this device until the server has it (session_outbox.js).
// A lost connection ends the set as incomplete with what was scored, said on the page; never lost silently.
import { api } from '../api.js';
import { flush, newClientId, record } from '../session_outbox.js';
import { h, hashParam, localDate, show, showBanner } from '../ui.js';
import { liveControls } from '../widgets.js';

const whole = (raw, lo, hi, fallback) => {
  const n = Number(raw);
  return raw !== null && raw !== '' && Number.isInteger(n) && n >= lo && n <= hi ? n : fallback;
};
const mean = (xs) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : null);
const scoresOf = (sets) => sets.flatMap((s) => s.reps || []).map((r) => r.score).filter((x) => x !== null && x !== undefined);

export function scoreLine(r) {
  const score = r.score === null || r.score === undefined ? 'not measurable' : `${Math.round(r.score)}/100`;
  return h('li', { class: r.score !== null && r.score >= 80 ? 'ok' : 'sev-medium', dataset: { score: r.score ?? '' } },
    h('strong', {}, `Repetition ${r.index}: ${score}`), ` (${r.meaning})`, r.deviation ? ` · ${r.deviation}` : '',
    r.rom_deg !== null && r.rom_deg !== undefined ? ` · range ${Math.round(r.rom_deg)}°` : '');
}

function setsTable(sets) {
  const rows = sets.map((s, i) => h('tr', {},
    h('td', {}, `${i + 1}${s.incomplete ? ' (incomplete)' : ''}`), h('td', {}, String(s.count)),
    h('td', {}, show(s.mean_score, 0)), h('td', {}, s.main_deviation || '–'),
    h('td', {}, s.saved ? h('a', { href: `#/live?session=${encodeURIComponent(s.saved.id)}` }, 'in History') : (s.save_note || '–'))));
  return h('table', { class: 'session-sets' },
    h('thead', {}, h('tr', {}, ...['Set', 'Repetitions', 'Mean score', 'Main deviation', 'Kept'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows));
}

// One guide's sets in `box`; resolves with the sets' summaries when the last set ends or `stop()` is called.
function followGuide(box, guide, { target, sets, rest, heading }) {
  const done = [];
  let ending = false;
  let last = null;  // the latest answer: what was scored if the connection is lost
  let timer = null;
  let resolveAll;
  const finished = new Promise((r) => { resolveAll = r; });
  const count = h('div', { id: 'session-count', class: 'big' }, '0');
  const meter = h('progress', { id: 'session-meter', max: target, value: 0 });
  const setLine = h('p', { id: 'session-set' }, `Set 1 of ${sets} · target ${target} repetitions`);
  const scores = h('ol', { id: 'session-scores', class: 'scores', 'aria-live': 'polite' });
  const restLine = h('p', { id: 'session-rest', class: 'rest', role: 'status', hidden: true });
  const video = h('video', { id: 'session-guide-video', src: `/v1/references/${encodeURIComponent(guide.id)}/video`,
    loop: true, muted: true, playsinline: true, autoplay: true, 'aria-label': `Guide: ${guide.name}` });
  video.addEventListener('error', () => video.replaceWith(h('p', { class: 'muted', id: 'session-guide-missing' },
    'The guide\'s video is not available; follow the count and the scores.')));

  const onUpdate = (msg) => {
    last = msg;
    const shown = msg.shown ?? msg.count;
    count.textContent = `${shown} / ${target}`;
    meter.value = Math.min(target, shown);
    for (const r of msg.new || []) scores.append(scoreLine(r));
    if (shown >= target && !ending) { ending = true; setTimeout(() => controls.finish(), 0); }
  };
  const onStart = () => {
    ending = false; last = null;
    scores.replaceChildren();
    count.textContent = `0 / ${target}`;
    meter.value = 0;
    restLine.hidden = true;
    setLine.textContent = `Set ${done.length + 1} of ${sets} · target ${target} repetitions`;
  };
  const onStop = (summary) => {
    if (!summary && !last) return;  // stopped before the first answer: nothing to keep
    if (!summary) {  // the connection was lost (or the server could not summarise): keep what was scored
      const reps = last.scored || [];
      summary = { count: last.shown ?? last.count, reps, incomplete: true, main_deviation: null,
        mean_score: mean(reps.map((r) => r.score).filter((x) => x !== null)), saved: null,
        save_note: 'the connection was lost: kept as incomplete' };
      showBanner(`The connection was lost during set ${done.length + 1}: it is kept as incomplete with `
        + `${summary.count} repetition(s). Press Start to go on.`);
    }
    done.push(summary);  // the set's repetitions as decided on the whole set replace those scored live
    scores.replaceChildren(...(summary.reps || []).map(scoreLine));
    if (done.length >= sets) { resolveAll(done); return; }
    if (summary.incomplete) return;
    let left = rest;
    restLine.hidden = false;
    const tick = () => {
      restLine.textContent = `Rest: ${left} s before set ${done.length + 1} of ${sets}`;
      if (left <= 0) { timer = null; restLine.textContent = `Set ${done.length + 1}: go`; startButton.click(); return; }
      left -= 1;
      timer = setTimeout(tick, 1000);
    };
    tick();
  };
  const controls = liveControls('session', { mode: 'guide', startLabel: 'Start',
    params: () => ({ guide: guide.id, target }), onUpdate, onStart, onStop });
  const { buttons, cam, stats, halt } = controls;
  const startButton = buttons.querySelector('#session-start');
  const end = h('button', { id: 'session-end', class: 'secondary' }, 'End this exercise');
  end.addEventListener('click', async () => { await controls.finish(); resolveAll(done); });
  box.replaceChildren(h('section', { class: 'card live-head' }, h('h1', {}, heading),
    guide.description ? h('p', {}, guide.description) : '', setLine, h('div', { class: 'row' }, buttons, end)),
  h('div', { class: 'row live-row session-row' },
    h('section', { class: 'card session-guide' }, h('small', { class: 'muted' }, 'Guide'), video),
    h('section', { class: 'card live-camera' }, cam.el, stats.el),
    h('section', { class: 'card live-panel' },
      h('small', { class: 'muted' }, 'Repetitions'), count, meter, restLine,
      h('h2', {}, 'Scores against the guide'), scores)));
  return { finished, stop: () => { if (timer) clearTimeout(timer); halt(); resolveAll(done); } };
}

function summaryCard(title, blocks) {
  return h('section', { class: 'card', id: 'session-done' }, h('h2', {}, title), ...blocks);
}

async function oneGuide(root, id) {
  const guide = await api(`/v1/references/${encodeURIComponent(id)}`);
  const box = h('div');
  const summaryBox = h('div', { id: 'session-summary' });
  root.append(summaryBox, box);
  const run = followGuide(box, guide, { target: whole(hashParam('reps'), 1, 1000, guide.target_reps || 10),
    sets: whole(hashParam('sets'), 1, 20, 1), rest: whole(hashParam('rest'), 0, 600, 30), heading: `Follow: ${guide.name}` });
  run.finished.then((sets) => {
    const reps = sets.reduce((a, s) => a + s.count, 0);
    summaryBox.replaceChildren(summaryCard('Session done', [
      h('p', { id: 'session-total' }, `${sets.length} set${sets.length === 1 ? '' : 's'}, ${reps} repetitions, `
        + `mean score ${show(mean(scoresOf(sets)), 0)}/100`), setsTable(sets)]));
  });
  return run.stop;
}

function ratingForm(onSave) {
  const pain = h('input', { type: 'range', id: 'session-pain', min: 0, max: 10, step: 1, value: 0 });
  const painOut = h('output', { id: 'session-pain-value' }, '0');
  pain.addEventListener('input', () => { painOut.textContent = pain.value; });
  const difficulty = h('select', { id: 'session-difficulty' },
    ...['1 easy', '2', '3 moderate', '4', '5 very hard'].map((t, i) => h('option', { value: i + 1, selected: i === 2 }, t)));
  const save = h('button', { id: 'session-save' }, 'Save the session');
  save.addEventListener('click', () => { save.disabled = true; onSave(Number(pain.value), Number(difficulty.value)); });
  return h('div', { class: 'rating' }, h('label', {}, 'Pain during the session (0 none, 10 worst) ', pain, ' ', painOut),
    h('label', {}, 'How hard was it ', difficulty), save);
}

async function programmeSession(root, programme) {
  await flush();  // sessions kept on this device from an earlier lost connection go first
  const today = await api(`/v1/programmes/${encodeURIComponent(programme)}/today?date=${localDate()}`);
  const due = today.due.filter((d) => d.due);
  const head = h('section', { class: 'card' }, h('h1', {}, `Today: ${today.title}`),
    h('p', { id: 'session-plan' }, due.length
      ? `${due.length} exercise${due.length === 1 ? '' : 's'} due today: ${due.map((d) => d.item.guide_name).join(', ')}.`
      : 'Nothing is due today. ', due.length ? '' : h('a', { href: '#/programmes' }, 'Back to your programmes')));
  const box = h('div');
  const summaryBox = h('div', { id: 'session-summary' });
  root.append(head, summaryBox, box);
  if (!due.length) return undefined;
  const started = new Date().toISOString();
  const clientId = newClientId();
  const results = [];
  let current = null;
  let cancelled = false;
  for (const [k, d] of due.entries()) {
    if (cancelled) break;
    const guide = await api(`/v1/references/${encodeURIComponent(d.item.guide_id)}`);
    current = followGuide(box, guide, { target: d.item.reps || 1, sets: d.item.sets, rest: d.item.rest_s,
      heading: `Exercise ${k + 1} of ${due.length}: ${d.item.guide_name}` });
    results.push({ item: d.item, sets: await current.finished });
  }
  box.replaceChildren();
  const exercises = results.map(({ item, sets }) => ({ item_id: item.id, sets_done: sets.filter((s) => s.count > 0).length,
    reps_done: sets.reduce((a, s) => a + s.count, 0), scores: scoresOf(sets).map((x) => Math.round(x * 10) / 10),
    rom_deg: mean(sets.flatMap((s) => s.reps || []).map((r) => r.rom_deg).filter((x) => x !== null && x !== undefined)) }));
  const complete = results.length === due.length && results.every(({ item, sets }) => sets.length >= item.sets
    && sets.every((s) => !s.incomplete && s.count >= (item.reps || 1)));
  const status = h('p', { id: 'session-recorded', role: 'status' });
  const table = h('table', { id: 'session-exercises' },
    h('thead', {}, h('tr', {}, ...['Exercise', 'Sets', 'Repetitions', 'Mean score', 'Range'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...results.map(({ item }, i) => h('tr', {}, h('td', {}, item.guide_name),
      h('td', {}, `${exercises[i].sets_done} of ${item.sets}`), h('td', {}, String(exercises[i].reps_done)),
      h('td', {}, show(mean(exercises[i].scores), 0)), h('td', {}, exercises[i].rom_deg === null ? '–' : `${Math.round(exercises[i].rom_deg)}°`)))));
  const perRep = results.map(({ item, sets }) => h('details', { class: 'session-rep-scores', open: true },
    h('summary', {}, `${item.guide_name}: each repetition against the guide`),
    h('ol', {}, ...sets.flatMap((set) => set.reps || []).map((r, i) => scoreLine({ ...r, index: i + 1 })))));
  summaryBox.replaceChildren(summaryCard(complete ? 'Session done' : 'Session done (incomplete)', [table, ...perRep,
    ratingForm(async (pain, difficulty) => {
      const body = { client_id: clientId, started_at: started, finished_at: new Date().toISOString(),
        day: localDate(), complete, pain, difficulty, exercises };
      const outcome = await record(programme, body).catch((e) => { status.textContent = `Not recorded: ${e.message}`; return null; });
      if (outcome === 'saved') status.textContent = 'Recorded: your clinician sees it with your progress.';
      if (outcome === 'pending') {
        status.textContent = 'Kept on this device: it will be recorded when the connection is back.';
        window.addEventListener('posecoach:sessions-flushed', onFlushed);
      }
    }), status]));
  const onFlushed = (e) => {
    if (e.detail.includes(clientId)) return;
    status.textContent = 'Recorded now that the connection is back: your clinician sees it with your progress.';
    window.removeEventListener('posecoach:sessions-flushed', onFlushed);
  };
  return () => {
    cancelled = true;
    window.removeEventListener('posecoach:sessions-flushed', onFlushed);
    if (current) current.stop();
  };
}

export async function render(root) {
  const programme = hashParam('programme');
  if (programme) return programmeSession(root, programme);
  const id = hashParam('guide');
  if (id) return oneGuide(root, id);
  root.append(h('section', { class: 'card' }, h('h1', {}, 'Follow a guide'),
    h('p', { id: 'session-empty' }, 'Start today\'s session from your ', h('a', { href: '#/programmes' }, 'programmes'),
      ', or follow a guide of the library from the ', h('a', { href: '#/compare' }, 'Compare'), ' page.')));
  return undefined;
}
