// The Posture trainer's "try it live" section (CONTRACT STUB: the live helper implements it).
// mount(container, ctx, modelId) fills `container` with a start/stop button, the camera view with the
// skeleton and the posture the model sees; returns a cleanup function.
import { h } from '../ui.js';

export function mount(container) {
  container.append(h('p', { class: 'muted' }, 'Trying a model live is not built yet.'));
  return () => {};
}
