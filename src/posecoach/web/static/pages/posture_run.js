// The Posture trainer's "Run a model on a video" section: choose a trained model, upload a video (or pick one
// of yours), and see the postures over time as a coloured bar under the video, how often each posture changed
// to each other, the time spent in each and, when two postures are named, the repetitions between them.
import { api, resultJson, resultUrl } from '../api.js';
import { fmtTime, guard, h, progressBar, show } from '../ui.js';
import { runJob, videoSource } from '../widgets.js';

const COLOURS = ['#1769e0', '#e07a17', '#2e9e4f', '#b23ab2', '#c62828', '#00838f', '#7b6d00', '#5d4037'];

// One colour per posture of the model, in the order of its classes (the same posture keeps its colour).
export const colourOf = (classes) => (posture) => COLOURS[Math.max(0, classes.indexOf(posture)) % COLOURS.length];

const pct = (part, whole) => (whole > 0 ? `${((100 * part) / whole).toFixed(0)} %` : '–');

// The steady postures as a coloured bar (click to seek), with a legend.
function postureBar(report, colour, onSeek) {
  const duration = report.duration_s || (report.frames / report.fps) || 1;
  const frame = 1 / (report.fps || 30);
  const bar = h('div', { id: 'posture-run-timeline', class: 'timeline', role: 'slider', 'aria-label': 'postures over time',
    title: 'Click to seek' });
  for (const s of report.segments) {
    const left = (100 * s.start_s) / duration;
    const width = Math.max(0.4, (100 * (s.end_s + frame - s.start_s)) / duration);
    bar.append(h('div', { class: 'mark', title: `${s.posture}: ${fmtTime(s.start_s)}–${fmtTime(s.end_s + frame)}`,
      dataset: { posture: s.posture }, style: `left:${left}%;width:${width}%;background:${colour(s.posture)};top:0;bottom:0` }));
  }
  const cursor = h('div', { class: 'cursor' });
  bar.append(cursor);
  bar.addEventListener('click', (e) => {
    const r = bar.getBoundingClientRect();
    onSeek(Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)) * duration);
  });
  const legend = h('p', { id: 'posture-run-legend', class: 'muted' }, ...report.classifier.classes.map((c) => h('span', {},
    h('span', { style: `display:inline-block;width:.9em;height:.9em;border-radius:2px;vertical-align:middle;background:${colour(c)}` }),
    ` ${c}   `)));
  return { el: h('div', {}, bar, legend), setTime(t) { cursor.style.left = `${(100 * t) / duration}%`; } };
}

function transitionsTable(report) {
  if (!report.transitions.length) return h('p', { id: 'posture-run-transitions', class: 'muted' }, 'The posture did not change.');
  return h('table', { id: 'posture-run-transitions' },
    h('thead', {}, h('tr', {}, h('th', {}, 'From'), h('th', {}, 'To'), h('th', {}, 'Times'))),
    h('tbody', {}, ...report.transitions.map((t) => h('tr', {}, h('td', {}, t.from_posture), h('td', {}, t.to_posture),
      h('td', {}, String(t.count))))));
}

function timesTable(report) {
  const duration = report.duration_s;
  const rows = Object.entries(report.time_per_posture_s);
  return h('table', { id: 'posture-run-times' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Posture'), h('th', {}, 'Time'), h('th', {}, 'Share'))),
    h('tbody', {}, ...rows.map(([p, s]) => h('tr', {}, h('td', {}, p), h('td', {}, `${show(s, 1)} s`), h('td', {}, pct(s, duration))))));
}

export async function showRun(out, jobId) {
  const job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
  const report = await resultJson(jobId, 'report');
  const colour = colourOf(report.classifier.classes);
  const video = h('video', { id: 'posture-run-video', controls: true, playsinline: true, preload: 'auto',
    src: `/v1/videos/${encodeURIComponent(job.video_id)}/file` });
  const bar = postureBar(report, colour, (t) => { video.currentTime = t; });
  video.ontimeupdate = () => bar.setTime(video.currentTime);
  const reps = report.repetitions;
  out.replaceChildren(h('h2', {}, `${report.input || 'Video'}: ${report.classifier.path || 'postures'}`),
    h('div', { class: 'row' },
      h('div', {}, video, bar.el),
      h('div', {},
        reps ? h('p', { id: 'posture-run-reps' }, h('strong', { class: 'big' }, String(reps.count)),
          ` repetition${reps.count === 1 ? '' : 's'} ${reps.first} → ${reps.second} → ${reps.first}`) : null,
        h('h3', {}, 'Changes of posture'), transitionsTable(report),
        h('h3', {}, 'Time per posture'), timesTable(report))),
    h('p', {}, h('a', { href: resultUrl(jobId, 'report') }, 'Report (JSON)'), ' · ',
      h('a', { href: resultUrl(jobId, 'csv') }, 'Per frame (CSV)')));
}

// The section: `refresh(models)` after the models changed, `choose(model)` to run that one.
export function runSection() {
  const model = h('select', { id: 'posture-run-model' });
  const first = h('select', { id: 'posture-run-first' });
  const second = h('select', { id: 'posture-run-second' });
  const pick = h('select', { id: 'posture-run-video' });
  const bar = progressBar();
  bar.el.hidden = true;
  const out = h('div', { id: 'posture-run-result' });
  let ready = [];
  const fillCount = () => {
    const m = ready.find((x) => x.id === model.value);
    const names = m ? m.classes : [];
    first.replaceChildren(h('option', { value: '' }, 'no repetitions'), ...names.map((c) => h('option', { value: c }, c)));
    second.replaceChildren(h('option', { value: '' }, '–'), ...names.map((c) => h('option', { value: c }, c)));
  };
  model.onchange = fillCount;
  const run = async (videoId) => {
    if (!model.value) throw new Error('choose a trained model first');
    const spec = { kind: 'posture', video_id: videoId, model_id: model.value };
    if (first.value || second.value) {
      if (!first.value || !second.value || first.value === second.value) throw new Error('to count repetitions, choose two different postures');
      spec.count = [first.value, second.value];
    }
    out.replaceChildren();
    const job = await runJob(spec, bar, 'Finding postures');
    bar.set(1, 'Done');
    await showRun(out, job.id);
  };
  const source = videoSource('posture-run', async (v) => { await run(v.id); }, { record: false });
  const go = h('button', { id: 'posture-run-go', class: 'secondary', onclick: () => guard(async () => {
    if (!pick.value) throw new Error('choose one of your videos, or upload one');
    await run(pick.value);
  }) }, 'Run on this video');
  const el = h('section', { id: 'posture-run', class: 'card' }, h('h2', {}, 'Run a model on a video'),
    h('p', { class: 'muted' }, 'See which posture the model finds in every frame, how often it changes, and how long each lasts.'),
    h('div', { class: 'row' }, h('label', {}, 'Model', model),
      h('label', {}, 'Count repetitions of', first), h('label', {}, 'through', second)),
    source, h('p', {}, h('label', {}, 'Or one of your videos', pick), ' ', go), bar.el, out);
  const refresh = async (models) => {
    const chosen = model.value;
    ready = models.filter((m) => m.state === 'ready');
    model.replaceChildren(h('option', { value: '' }, ready.length ? 'Choose a model…' : 'No trained model yet: train one above'),
      ...ready.map((m) => h('option', { value: m.id }, `${m.name} (${m.classes.join(' / ')})`)));
    if (ready.some((m) => m.id === chosen)) model.value = chosen;
    fillCount();
    const videos = await api('/v1/videos');
    pick.replaceChildren(h('option', { value: '' }, videos.length ? 'Choose a video…' : 'No videos yet'),
      ...videos.map((v) => h('option', { value: v.id }, `${v.filename} (${v.duration_s.toFixed(1)} s)`)));
  };
  const choose = (m) => { model.value = m.id; fillCount(); el.scrollIntoView(); };
  return { el, refresh, choose };
}
