// Widgets shared by pages: the exercise picker, the live camera view and controls, video upload, jobs, timeline.
import { api, cancelJob, createJob, uploadVideo, waitForJob } from './api.js';
import { LiveClient } from './live_client.js';
import { clearBanner, filePicker, guard, h, progressBar, showBanner } from './ui.js';

export async function exerciseSelect(id) {
  const select = h('select', { id }, h('option', { value: 'auto' }, 'Recognise it (auto)'));
  for (const ex of await api('/v1/exercises')) select.append(h('option', { value: ex.name }, ex.title));
  return select;
}

// A camera view: <video> with a canvas over it, in a .stage box.
export function cameraStage(prefix) {
  const video = h('video', { id: `${prefix}-video`, playsinline: true, muted: true, autoplay: true });
  const canvas = h('canvas', { id: `${prefix}-canvas`, class: 'overlay', width: 640, height: 480 });
  return { video, canvas, el: h('div', { class: 'stage live-stage' }, video, canvas) };
}

export function statsLine(prefix) {
  const fps = h('span', { id: `${prefix}-fps` }, '–');
  const latency = h('span', { id: `${prefix}-latency` }, '–');
  const server = h('span', { id: `${prefix}-server` }, '–');
  const el = h('p', { class: 'muted live-stats' }, fps, ' frames/s · latency ', latency, ' ms (server ', server, ' ms)');
  return {
    el,
    set(s) {
      fps.textContent = s.fps.toFixed(1);
      latency.textContent = Math.round(s.latency_ms);
      server.textContent = Math.round(s.server_ms);
      el.dataset.fps = s.fps.toFixed(2);
      el.dataset.latency = s.latency_ms.toFixed(1);
      el.dataset.latencyP95 = s.latency_p95_ms.toFixed(1);
      el.dataset.server = s.server_ms.toFixed(1);
    },
  };
}

// Choose a video file (or record one with the camera) and upload it with a progress bar; resolves with the
// uploaded video ({id, filename, ...}) through onUploaded. Returns the element to place on the page.
export function videoSource(prefix, onUploaded, { record = true } = {}) {
  const bar = progressBar();
  bar.el.hidden = true;
  // A new upload is a new action: the messages of the one before (an error, a notice) are cleared.
  const upload = (file) => guard(async () => {
    clearBanner();
    bar.el.hidden = false;
    bar.set(0, `Uploading ${file.name}…`);
    const video = await uploadVideo(file, (f) => bar.set(f, `Uploading ${file.name}… ${Math.round(f * 100)} %`));
    bar.set(1, `Uploaded ${video.filename} (${video.duration_s.toFixed(1)} s)`);
    await onUploaded(video);
  });
  const picker = filePicker('Drop a video here or choose one', upload);
  picker.querySelector('input').id = `${prefix}-file`;
  const parts = [picker];
  if (record) parts.push(recorder(prefix, upload));
  return h('div', { class: 'video-source' }, ...parts, bar.el);
}

// Record from the camera with MediaRecorder (WebM); onFile(File) when stopped.
function recorder(prefix, onFile) {
  const preview = h('video', { id: `${prefix}-rec-preview`, muted: true, playsinline: true, hidden: true });
  const button = h('button', { id: `${prefix}-record`, class: 'secondary', type: 'button' }, 'Record with the camera');
  let rec = null;
  button.addEventListener('click', () => guard(async () => {
    if (rec) { rec.stop(); return; }
    if (!navigator.mediaDevices || !window.MediaRecorder) throw new Error('this browser cannot record video here');
    let stream;
    try { stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false }); } catch (e) {
      throw new Error(`no camera: ${e.message || e.name}`);
    }
    preview.srcObject = stream; preview.hidden = false; await preview.play();
    const chunks = [];
    rec = new MediaRecorder(stream, { mimeType: 'video/webm' });
    rec.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    rec.onstop = () => {
      for (const t of stream.getTracks()) t.stop();
      preview.hidden = true; preview.srcObject = null; rec = null;
      button.textContent = 'Record with the camera';
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
      onFile(new File(chunks, `recording-${stamp}.webm`, { type: 'video/webm' }));
    };
    rec.start(500);
    button.textContent = 'Stop recording';
  }));
  return h('div', { class: 'recorder' }, button, preview);
}

// Create a job and wait for it, showing its progress and a Cancel button; resolves with the finished job (rejects
// with the reason when it fails or is cancelled).
export async function runJob(spec, bar, label = 'Analysing') {
  bar.el.hidden = false;
  const job = await createJob(spec);
  bar.set(0, `${label}: queued`);
  const cancel = h('button', { id: 'job-cancel', class: 'secondary', type: 'button' }, 'Cancel');
  cancel.addEventListener('click', () => guard(async () => { cancel.disabled = true; await cancelJob(job.id); }));
  bar.el.append(cancel);
  try {
    return await waitForJob(job.id, (j) => bar.set(j.progress, `${label}: ${j.state} ${Math.round(j.progress * 100)} %`));
  } finally {
    cancel.remove();
  }
}

// A clickable time bar: spans [{start, end, kind, label}] over `duration` seconds; onSeek(seconds).
export function timeline(id, duration, spans, onSeek) {
  const bar = h('div', { id, class: 'timeline', role: 'slider', 'aria-label': 'timeline', title: 'Click to seek' });
  for (const s of spans) {
    bar.append(h('div', { class: `mark ${s.kind || ''}`, title: s.label || '',
      style: `left:${(100 * s.start) / duration}%;width:${Math.max(0.4, (100 * (s.end - s.start)) / duration)}%` }));
  }
  const cursor = h('div', { class: 'cursor' });
  bar.append(cursor);
  bar.addEventListener('click', (e) => {
    const r = bar.getBoundingClientRect();
    onSeek(Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)) * duration);
  });
  return { el: bar, setTime(t) { cursor.style.left = `${(100 * t) / duration}%`; } };
}

// Start/stop buttons, camera view and statistics of one live session (the Live page, the Falls monitor, the
// Posture trainer). `params()` gives the socket's query parameters at start; `onStart()` runs before the
// camera is asked for, `onStop(summary)` after the session ends (by the user, an error or leaving the page);
// `summary` is the server's final result when the user stopped it (`LiveClient.finish`), else null.
export function liveControls(prefix, { mode, startLabel, params = () => ({}), onUpdate, onStart = () => {}, onStop = () => {} }) {
  const start = h('button', { id: `${prefix}-start` }, startLabel);
  const stop = h('button', { id: `${prefix}-stop`, class: 'secondary', disabled: true }, 'Stop');
  const cam = cameraStage(prefix);
  const stats = statsLine(prefix);
  let client = null;
  const halt = (summary = null) => {
    if (client) client.stop();
    client = null; start.disabled = false; stop.disabled = true;
    onStop(summary);
  };
  const finish = async () => {
    stop.disabled = true;
    const summary = client ? await client.finish() : null;
    halt(summary);
  };
  start.addEventListener('click', () => guard(async () => {
    start.disabled = true;
    onStart();
    client = new LiveClient({ video: cam.video, canvas: cam.canvas, mode, params: params(), onUpdate,
      onStats: (s) => stats.set(s), onError: (m) => { showBanner(m); halt(); } });
    try { await client.start(); } catch (e) { halt(); throw e; }
    stop.disabled = false;
  }));
  stop.addEventListener('click', finish);
  // finish(): end the session as the Stop button does (with the server's summary), e.g. when a set's target is met
  return { buttons: h('p', {}, start, ' ', stop), cam, stats, halt: () => halt(), finish: () => (client && !stop.disabled ? finish() : null) };
}

// Poll a library entry (a guide, a posture model) until it is ready (resolves with it) or failed (rejects with
// `failure` and the stored reason); `label` tells progress on `bar`.
export async function waitUntilReady(url, bar, label, failure) {
  for (;;) {
    const row = await api(url);
    if (row.state === 'ready') return row;
    if (row.state === 'failed' || row.state === 'cancelled') throw new Error(`${failure}: ${row.error || row.state}`);
    bar.set(0.5, `${label}: ${row.state}`);
    await new Promise((r) => setTimeout(r, 700));
  }
}
