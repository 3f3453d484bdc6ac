// Session: follow a guide live (issue 28). The guide's video plays beside the camera; the skeleton is drawn over
// the camera; the repetitions count toward the set's target; each repetition is scored against the guide when it
// ends (the server's streaming comparison: `posecoach.analysis.compare.streaming`), with its main deviation in
// words. Between sets a rest timer runs, then the next set starts; at the end, a summary of every set. Each set is
// kept in History by the server (a live set whose repetitions carry their scores); `onDone(sets)` of a programme
// page may record the whole session.
//
// #/session?guide=<id>[&reps=N][&sets=S][&rest=SECONDS]
import { api } from '../api.js';
import { h, hashParam, show } from '../ui.js';
import { liveControls } from '../widgets.js';

const whole = (raw, lo, hi, fallback) => {
  const n = Number(raw);
  return raw !== null && Number.isInteger(n) && n >= lo && n <= hi ? n : fallback;
};

export function scoreLine(r) {
  const score = r.score === null || r.score === undefined ? 'not measurable' : `${Math.round(r.score)}/100`;
  return h('li', { class: r.score !== null && r.score >= 80 ? 'ok' : 'sev-medium', dataset: { score: r.score ?? '' } },
    h('strong', {}, `Repetition ${r.index}: ${score}`), ` (${r.meaning})`, r.deviation ? ` · ${r.deviation}` : '');
}

function setsTable(sets) {
  const rows = sets.map((s, i) => h('tr', {},
    h('td', {}, String(i + 1)), h('td', {}, String(s.count)), h('td', {}, show(s.mean_score, 0)),
    h('td', {}, s.main_deviation || '–'),
    h('td', {}, s.saved ? h('a', { href: `#/live?session=${encodeURIComponent(s.saved.id)}` }, 'in History') : (s.save_note || '–'))));
  return h('table', { id: 'session-sets' },
    h('thead', {}, h('tr', {}, ...['Set', 'Repetitions', 'Mean score', 'Main deviation', 'Kept'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...rows));
}

export async function render(root, { onDone = null } = {}) {
  const id = hashParam('guide');
  if (!id) {
    root.append(h('section', { class: 'card' }, h('h1', {}, 'Follow a guide'),
      h('p', { id: 'session-empty' }, 'Choose an exercise of your programme to follow, or a guide of the library on the ',
        h('a', { href: '#/compare' }, 'Compare'), ' page.')));
    return undefined;
  }
  const guide = await api(`/v1/references/${encodeURIComponent(id)}`);
  const target = whole(hashParam('reps'), 1, 1000, guide.target_reps || 10);
  const sets = whole(hashParam('sets'), 1, 20, 1);
  const rest = whole(hashParam('rest'), 0, 600, 30);
  const done = [];  // the sets' summaries
  let ending = false;
  const count = h('div', { id: 'session-count', class: 'big' }, '0');
  const meter = h('progress', { id: 'session-meter', max: target, value: 0 });
  const setLine = h('p', { id: 'session-set' }, `Set 1 of ${sets} · target ${target} repetitions`);
  const scores = h('ol', { id: 'session-scores', class: 'scores', 'aria-live': 'polite' });
  const restLine = h('p', { id: 'session-rest', class: 'rest', role: 'status', hidden: true });
  const summaryBox = h('div', { id: 'session-summary' });
  const guideVideo = h('video', { id: 'session-guide-video', src: `/v1/references/${encodeURIComponent(id)}/video`,
    loop: true, muted: true, playsinline: true, autoplay: true, 'aria-label': `Guide: ${guide.name}` });
  guideVideo.addEventListener('error', () => guideVideo.replaceWith(
    h('p', { class: 'muted', id: 'session-guide-missing' }, 'The guide\'s video is not available; follow the count and the scores.')));
  let timer = null;

  const onUpdate = (msg) => {
    const shown = msg.shown ?? msg.count;
    count.textContent = `${shown} / ${target}`;
    meter.value = Math.min(target, shown);
    for (const r of msg.new || []) scores.append(scoreLine(r));
    if (shown >= target && !ending) { ending = true; setTimeout(() => controls.finish(), 0); }
  };
  const onStart = () => {
    ending = false;
    scores.replaceChildren();
    count.textContent = `0 / ${target}`;
    meter.value = 0;
    restLine.hidden = true;
    setLine.textContent = `Set ${done.length + 1} of ${sets} · target ${target} repetitions`;
  };
  const finishAll = () => {
    const all = done.flatMap((s) => s.reps || []).filter((r) => r.score !== null && r.score !== undefined);
    const mean = all.length ? all.reduce((a, r) => a + r.score, 0) / all.length : null;
    summaryBox.replaceChildren(h('section', { class: 'card', id: 'session-done' },
      h('h2', {}, 'Session done'),
      h('p', { id: 'session-total' }, `${done.length} set${done.length === 1 ? '' : 's'}, `
        + `${done.reduce((a, s) => a + s.count, 0)} repetitions, mean score ${show(mean, 0)}/100`),
      setsTable(done)));
    if (onDone) onDone(done);
  };
  const onStop = (summary) => {
    if (!summary) return;
    done.push(summary);  // the set's repetitions as decided on the whole set replace those scored live
    scores.replaceChildren(...(summary.reps || []).map(scoreLine));
    if (done.length >= sets) { finishAll(); return; }
    let left = rest;
    restLine.hidden = false;
    const tick = () => {
      restLine.textContent = `Rest: ${left} s before set ${done.length + 1} of ${sets}`;
      if (left <= 0) { timer = null; restLine.textContent = `Set ${done.length + 1}: go`; document.getElementById('session-start').click(); return; }
      left -= 1;
      timer = setTimeout(tick, 1000);
    };
    tick();
  };
  const controls = liveControls('session', { mode: 'guide', startLabel: 'Start',
    params: () => ({ guide: id, target }), onUpdate, onStart, onStop });
  const { buttons, cam, stats, halt } = controls;
  root.append(h('section', { class: 'card live-head' },
    h('h1', {}, `Follow: ${guide.name}`),
    guide.description ? h('p', {}, guide.description) : '',
    setLine, buttons),
  summaryBox,
  h('div', { class: 'row live-row session-row' },
    h('section', { class: 'card session-guide' }, h('small', { class: 'muted' }, 'Guide'), guideVideo),
    h('section', { class: 'card live-camera' }, cam.el, stats.el),
    h('section', { class: 'card live-panel' },
      h('small', { class: 'muted' }, 'Repetitions'), count, meter, restLine,
      h('h2', {}, 'Scores against the guide'), scores)));
  return () => { if (timer) clearTimeout(timer); halt(); };
}
