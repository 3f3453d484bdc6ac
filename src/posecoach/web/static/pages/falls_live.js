// The Falls page's live camera monitor (CONTRACT STUB: the live helper implements it).
// mount(container, ctx) fills `container` with a start/stop button, the camera view with the skeleton, the
// fall probability and an alert banner with sound; returns a cleanup function.
import { h } from '../ui.js';

export function mount(container) {
  container.append(h('p', { class: 'muted' }, 'Live monitoring is not built yet.'));
  return () => {};
}
