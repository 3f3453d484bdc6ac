// Posture trainer: choose or upload videos, mark labelled time ranges on each one's timeline, keep several videos
// in the training set, train a classifier, see its accuracy on each held-out video (posture_set.js), add more
// videos to a trained model, run it on a video (posture_run.js) or try it live on the camera (posture_live.js).
import { api } from '../api.js';
import { clearBanner, fmtTime, guard, h, progressBar } from '../ui.js';
import { timeline, videoSource, waitUntilReady } from '../widgets.js';
import { mount } from './posture_live.js';
import { runSection } from './posture_run.js';
import { addToModel, pct, videosTable } from './posture_set.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export async function render(root, ctx) {
  let video = null;  // the chosen video ({id, filename, duration_s})
  const ranges = [];  // [{start_s, end_s, label}] of the chosen video
  const kept = [];  // the training set: [{video, ranges}]
  const pick = h('select', { id: 'posture-video-pick' });
  const player = h('video', { id: 'posture-video', controls: true, playsinline: true, preload: 'auto' });
  const bar = h('div', { id: 'posture-timeline-box' });
  const label = h('input', { type: 'text', id: 'posture-label', placeholder: 'e.g. up', value: 'up' });
  const start = h('input', { type: 'number', id: 'posture-start', step: '0.1', min: '0', placeholder: 'start s' });
  const end = h('input', { type: 'number', id: 'posture-end', step: '0.1', min: '0', placeholder: 'end s' });
  const list = h('ul', { id: 'posture-ranges' });
  const setList = h('ul', { id: 'posture-set' });
  const name = h('input', { type: 'text', id: 'posture-name', placeholder: 'model name, e.g. squat-postures' });
  const train = h('button', { id: 'posture-train' }, 'Train');
  const trainBar = progressBar();
  trainBar.el.hidden = true;
  const result = h('div', { id: 'posture-result' });
  const models = h('ul', { id: 'posture-models' });
  const details = h('div', { id: 'posture-model-videos' });
  const runner = runSection();
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
  const drawSet = () => {
    setList.replaceChildren(...kept.map((k, i) => h('li', {}, h('strong', {}, k.video.filename),
      ` · ${k.ranges.length} range${k.ranges.length === 1 ? '' : 's'} (${[...new Set(k.ranges.map((r) => r.label))].join(', ')}) `,
      h('button', { class: 'link', onclick: () => { kept.splice(i, 1); drawSet(); } }, 'remove'))));
    if (!kept.length) setList.append(h('li', { class: 'muted' }, 'No video kept yet: label one, then keep it (or train on it alone).'));
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
  // The labelled video being shown, as a training item (refused without ranges).
  const current = () => {
    if (!video) throw new Error('choose a video first');
    if (!ranges.length) throw new Error(`label at least one range of ${video.filename} first`);
    return { video, ranges: ranges.map((r) => ({ ...r })) };
  };
  const keep = () => {
    const item = current();
    const at = kept.findIndex((k) => k.video.id === item.video.id);
    if (at >= 0) kept[at] = item; else kept.push(item);
    ranges.length = 0;
    drawRanges(); drawSet();
  };
  const showVideos = async (m) => {
    clearBanner();
    details.replaceChildren(h('h3', {}, `Videos of ${m.name}`), await videosTable(m.id));
  };
  const addVideo = async (m, button) => {
    const item = current();
    button.disabled = true;
    trainBar.el.hidden = false;
    try {
      await addToModel(m.id, { video_id: item.video.id, ranges: item.ranges },
        (j) => trainBar.set(j.progress, `Training ${m.name} again: ${j.state} ${Math.round(j.progress * 100)} %`));
      trainBar.set(1, `Trained ${m.name} again with ${item.video.filename}`);
      ranges.length = 0; drawRanges();
      await showModels();
      await showVideos(m);
    } finally { button.disabled = false; }
  };
  const showModels = async () => {
    const all = await api('/v1/posture-models');
    models.replaceChildren(...all.map((m) => {
      const ready = m.state === 'ready';
      const act = (text, cls, onclick) => h('button', { class: `link ${cls}`, dataset: { of: m.id }, onclick }, text);
      const add = act('add the labelled video', 'posture-add-video', (e) => guard(() => addVideo(m, e.target)));
      return h('li', {}, h('strong', {}, m.name), ` · ${m.state}`,
        ready ? ` · ${m.classes.join(' / ')} · cross-validated accuracy ${pct(m.cv_accuracy)} ` : ' ',
        ready ? h('span', { class: 'posture-actions' },
          act('videos', 'posture-show-videos', () => guard(() => showVideos(m))), ' · ',
          ...(m.owner === ctx.user.name ? [add, ' · '] : []),  // a clinician's shared model is theirs to change
          act('run on a video', 'posture-run-this', () => runner.choose(m)), ' · ',
          h('button', { class: 'link', dataset: { model: m.id }, onclick: () => tryLive(m) }, 'try it live')) : null);
    }));
    if (!all.length) models.append(h('li', { class: 'muted' }, 'None yet.'));
    await runner.refresh(all);
  };
  const tryLive = (m) => {
    stopLive();
    live.hidden = false;
    stopLive = mount(live, ctx, m.id);
    live.prepend(h('p', { class: 'muted' }, `Model: ${m.name} (${m.classes.join(' / ')})`));
    live.scrollIntoView();
  };

  train.addEventListener('click', () => guard(async () => {
    // the kept videos, and the one being labelled when it has ranges and is not kept already
    const items = [...kept];
    if (video && ranges.length && !kept.some((k) => k.video.id === video.id)) items.push(current());
    if (!items.length) throw new Error(video ? `label ranges of ${video.filename} first` : 'choose a video first');
    if (!NAME.test(name.value.trim())) throw new Error('give the model a name (letters, digits, "_", "-", ".")');
    train.disabled = true;
    try {
      const made = await api('/v1/posture-models', { method: 'POST',
        json: { name: name.value.trim(), videos: items.map((k) => ({ video_id: k.video.id, ranges: k.ranges })) } });
      trainBar.el.hidden = false;
      const m = await waitUntilReady(`/v1/posture-models/${encodeURIComponent(made.id)}`, trainBar, 'Training',
        'training failed');
      trainBar.set(1, 'Trained');
      // replaceChildren writes a null argument as the text "null": pass only the nodes there are.
      result.replaceChildren(...[h('p', {}, 'Cross-validated accuracy: ', h('strong', { id: 'posture-accuracy' }, pct(m.cv_accuracy)),
        ` (${m.algorithm}, ${m.frames} frames, postures ${m.classes.join(' / ')})`),
      m.cv_accuracy === null ? h('p', { class: 'warn' }, 'Not cross-validated: label at least two ranges of each posture '
        + '(or use several videos) to see how well the model does on ranges it was not trained on.') : null,
      items.length > 1 ? await videosTable(m.id) : null].filter(Boolean));
      await showModels();
      tryLive(m);
    } finally { train.disabled = false; }
  }));

  root.append(
    h('section', { class: 'card' }, h('h1', {}, 'Posture trainer'),
      h('p', { class: 'muted' }, 'Label a few time ranges of a video with the posture shown (at least two postures); keep it and label '
        + 'more videos for a model that knows more people and angles; train, then run the model on a video or try it on the camera.'),
      h('label', {}, 'Video', pick), videoSource('posture', async (v) => { await fillVideos(v); }, { record: true })),
    h('section', { class: 'card' }, player, bar,
      h('div', { class: 'row' }, h('label', {}, 'Posture', label), h('label', {}, 'From (s)', start), h('label', {}, 'To (s)', end)),
      h('p', {},
        h('button', { id: 'posture-mark-start', class: 'secondary', onclick: () => { start.value = player.currentTime.toFixed(2); } }, 'Start = now'), ' ',
        h('button', { id: 'posture-mark-end', class: 'secondary', onclick: () => { end.value = player.currentTime.toFixed(2); } }, 'End = now'), ' ',
        h('button', { id: 'posture-add', onclick: () => guard(async () => addRange()) }, 'Add range')),
      h('h2', {}, 'Labelled ranges'), list,
      h('p', {}, h('button', { id: 'posture-keep', class: 'secondary', onclick: () => guard(async () => keep()) },
        'Keep this video in the training set')),
      h('h2', {}, 'Training set'), setList),
    h('section', { class: 'card' }, h('label', {}, 'Model name', name), train, trainBar.el, result,
      h('h2', {}, 'Your models'), models, details),
    runner.el,
    live);
  drawSet();
  await fillVideos();
  await showModels();
  return () => stopLive();
}
