// The live page (not built yet).
import { h } from '../ui.js';

export function render(root) {
  root.append(h('section', { class: 'card' }, h('h1', {}, 'live'), h('p', { class: 'muted' }, 'Not built yet.')));
}
