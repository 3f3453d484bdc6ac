// Posture trainer: choose or upload a video, mark labelled time ranges on its timeline, train a classifier,
// see its cross-validated accuracy, then try it live on the camera (posture_live.js).
import { api } from '../api.js';
import { fmtTime, guard, h, progressBar } from '../ui.js';
import { timeline, videoSource, waitUntilReady } from '../widgets.js';
import { mount } from './posture_live.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);

export async function render(root, ctx) {
  let video = null;  // the chosen video ({id, filename, duration_s})
  const ranges = [];  // [{start_s, end_s, label}]
  const pick = h('select', { id: 'posture-video-pick' });
  const player = h('video', { id: 'posture-video', controls: true, playsinline: true, preload: 'auto' });
  const bar = h('div', { id: 'posture-timeline-box' });
  const label = h('input', { type: 'text', id: 'posture-label', placeholder: 'e.g. up', value: 'up' });
  const start = h('input', { type: 'number', id: 'posture-start', step: '0.1', min: '0', placeholder: 'start s' });
  const end = h('input', { type: 'number', id: 'posture-end', step: '0.1', min: '0', placeholder: 'end s' });
  const list = h('ul', { id: 'posture-ranges' });
  const name = h('input', { type: 'text', id: 'posture-name', placeholder: 'model name, e.g. squat-postures' });
  const train = h('button', { id: 'posture-train' }, 'Train');
  const trainBar = progressBar();
  trainBar.el.hidden = true;
  const result = h('div', { id: 'posture-result' });
  const models = h('ul', { id: 'posture-models' });
  const live = h('section', { id: 'posture-live', class: 'card', hidden: true });
  let stopLive = () => {};

  const drawRanges = () => {
    list.replaceChildren(...ranges.map((r, i) => h('li', {}, `${r.label}: ${fmtTime(r.start_s)}–${fmtTime(r.end_s)} `,
      h('button', { class: 'link', onclick: () => { ranges.splice(i, 1); drawRanges(); } }, 'remove'))));
    if (video) {
      const t = timeline('posture-timeline', video.duration_s, ranges.map((r) => ({ start: r.start_s, end: r.end_s, label: r.label,
        kind: [...new Set(ranges.map((x) => x.label))].indexOf(r.label) % 2 ? 'error' : '' })), (s) => { player.currentTime = s; });
      player.ontimeupdate = () => t.setTime(player.currentTime);
      bar.replaceChildren(t.el);
    }
  };
  const choose = (v) => {
    video = v; ranges.length = 0;
    player.src = `/v1/videos/${encodeURIComponent(v.id)}/file`;
    drawRanges();
  };
  const fillVideos = async (chosen) => {
    const videos = await api('/v1/videos');
    pick.replaceChildren(h('option', { value: '' }, videos.length ? 'Choose a video…' : 'No videos yet: upload one'),
      ...videos.map((v) => h('option', { value: v.id }, `${v.filename} (${v.duration_s.toFixed(1)} s)`)));
    pick.onchange = () => { const v = videos.find((x) => x.id === pick.value); if (v) choose(v); };
    if (chosen) { pick.value = chosen.id; choose(chosen); }
  };
  const addRange = () => {
    const r = { start_s: Number(start.value), end_s: Number(end.value), label: label.value.trim() };
    if (!video) throw new Error('choose a video first');
    if (!NAME.test(r.label)) throw new Error('a label is letters, digits, "_", "-" or "." (e.g. up, down, sitting)');
    if (start.value === '' || end.value === '' || !(r.end_s > r.start_s)) throw new Error('a range needs a start before its end');
    if (r.end_s > video.duration_s + 0.05) throw new Error(`the video lasts ${video.duration_s.toFixed(1)} s`);
    ranges.push(r);
    drawRanges();
  };
  const showModels = async () => {
    const all = await api('/v1/posture-models');
    models.replaceChildren(...all.map((m) => h('li', {}, h('strong', {}, m.name), ` · ${m.state}`,
      m.state === 'ready' ? ` · ${m.classes.join(' / ')} · cross-validated accuracy ${pct(m.cv_accuracy)} ` : ' ',
      m.state === 'ready' ? h('button', { class: 'link', dataset: { model: m.id }, onclick: () => tryLive(m) }, 'try it live') : null)));
    if (!all.length) models.append(h('li', { class: 'muted' }, 'None yet.'));
  };
  const tryLive = (m) => {
    stopLive();
    live.hidden = false;
    stopLive = mount(live, ctx, m.id);
    live.prepend(h('p', { class: 'muted' }, `Model: ${m.name} (${m.classes.join(' / ')})`));
    live.scrollIntoView();
  };

  train.addEventListener('click', () => guard(async () => {
    if (!video) throw new Error('choose a video first');
    if (!NAME.test(name.value.trim())) throw new Error('give the model a name (letters, digits, "_", "-", ".")');
    train.disabled = true;
    try {
      const made = await api('/v1/posture-models', { method: 'POST',
        json: { name: name.value.trim(), videos: [{ video_id: video.id, ranges }] } });
      trainBar.el.hidden = false;
      const m = await waitUntilReady(`/v1/posture-models/${encodeURIComponent(made.id)}`, trainBar, 'Training',
        'training failed');
      trainBar.set(1, 'Trained');
      // replaceChildren writes a null argument as the text "null": pass only the nodes there are.
      result.replaceChildren(...[h('p', {}, 'Cross-validated accuracy: ', h('strong', { id: 'posture-accuracy' }, pct(m.cv_accuracy)),
        ` (${m.algorithm}, ${m.frames} frames, postures ${m.classes.join(' / ')})`),
      m.cv_accuracy === null ? h('p', { class: 'warn' }, 'Not cross-validated: label at least two ranges of each posture '
        + '(or use several videos) to see how well the model does on ranges it was not trained on.') : null].filter(Boolean));
      await showModels();
      tryLive(m);
    } finally { train.disabled = false; }
  }));

  root.append(
    h('section', { class: 'card' }, h('h1', {}, 'Posture trainer'),
      h('p', { class: 'muted' }, 'Label a few time ranges of a video with the posture shown (at least two postures), train, then try the model on the camera.'),
      h('label', {}, 'Video', pick), videoSource('posture', async (v) => { await fillVideos(v); }, { record: true })),
    h('section', { class: 'card' }, player, bar,
      h('div', { class: 'row' }, h('label', {}, 'Posture', label), h('label', {}, 'From (s)', start), h('label', {}, 'To (s)', end)),
      h('p', {},
        h('button', { id: 'posture-mark-start', class: 'secondary', onclick: () => { start.value = player.currentTime.toFixed(2); } }, 'Start = now'), ' ',
        h('button', { id: 'posture-mark-end', class: 'secondary', onclick: () => { end.value = player.currentTime.toFixed(2); } }, 'End = now'), ' ',
        h('button', { id: 'posture-add', onclick: () => guard(async () => addRange()) }, 'Add range')),
      h('h2', {}, 'Labelled ranges'), list),
    h('section', { class: 'card' }, h('label', {}, 'Model name', name), train, trainBar.el, result,
      h('h2', {}, 'Your models'), models),
    live);
  await fillVideos();
  await showModels();
  return () => stopLive();
}
