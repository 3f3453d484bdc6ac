// The Posture trainer's "try it live" section: the camera with the skeleton and the posture the chosen model
// sees, with the postures seen so far.
import { LiveClient } from '../live_client.js';
import { guard, h, showBanner } from '../ui.js';
import { cameraStage, statsLine } from '../widgets.js';

export function mount(container, ctx, modelId) {
  const start = h('button', { id: 'posture-live-start' }, 'Try it on the camera');
  const stop = h('button', { id: 'posture-live-stop', class: 'secondary', disabled: true }, 'Stop');
  const cam = cameraStage('posture-live');
  const state = h('div', { id: 'posture-live-state', class: 'big' }, '–');
  const seen = h('p', { id: 'posture-live-seen', class: 'muted' });
  const stats = statsLine('posture-live');
  const postures = new Set();
  let client = null;
  const halt = () => { if (client) client.stop(); client = null; start.disabled = false; stop.disabled = true; };
  start.addEventListener('click', () => guard(async () => {
    start.disabled = true;
    client = new LiveClient({ video: cam.video, canvas: cam.canvas, mode: 'posture', params: { model: modelId },
      onUpdate: (msg) => {
        state.textContent = msg.posture || '–';
        if (msg.posture && msg.posture !== 'unknown') postures.add(msg.posture);
        seen.textContent = `Seen: ${[...postures].join(', ')}`;
      },
      onStats: (s) => stats.set(s), onError: (m) => { showBanner(m); halt(); } });
    try { await client.start(); } catch (e) { halt(); throw e; }
    stop.disabled = false;
  }));
  stop.addEventListener('click', halt);
  container.replaceChildren(h('h2', {}, 'Try it live'), h('p', {}, start, ' ', stop),
    h('div', { class: 'row' }, h('div', {}, cam.el, stats.el), h('div', {}, h('small', { class: 'muted' }, 'Posture'), state, seen)));
  return halt;
}
