// The Posture trainer's "try it live" section: the camera with the skeleton and the posture the chosen model
// sees, with the postures seen so far.
import { h } from '../ui.js';
import { liveControls } from '../widgets.js';

export function mount(container, _ctx, modelId) {
  const state = h('div', { id: 'posture-live-state', class: 'big' }, '–');
  const seen = h('p', { id: 'posture-live-seen', class: 'muted' });
  const postures = new Set();
  const onUpdate = (msg) => {
    state.textContent = msg.posture || '–';
    if (msg.posture && msg.posture !== 'unknown') postures.add(msg.posture);
    seen.textContent = `Seen: ${[...postures].join(', ')}`;
  };
  const { buttons, cam, stats, halt } = liveControls('posture-live', { mode: 'posture', startLabel: 'Try it on the camera',
    params: () => ({ model: modelId }), onUpdate });
  container.replaceChildren(h('h2', {}, 'Try it live'), buttons,
    h('div', { class: 'row' }, h('div', {}, cam.el, stats.el), h('div', {}, h('small', { class: 'muted' }, 'Posture'), state, seen)));
  return halt;
}
