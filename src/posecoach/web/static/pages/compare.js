// The compare page (not built yet).
import { h } from '../ui.js';

export function render(root) {
  root.append(h('section', { class: 'card' }, h('h1', {}, 'compare'), h('p', { class: 'muted' }, 'Not built yet.')));
}
