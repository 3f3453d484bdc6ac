// The falls page (not built yet).
import { h } from '../ui.js';

export function render(root) {
  root.append(h('section', { class: 'card' }, h('h1', {}, 'falls'), h('p', { class: 'muted' }, 'Not built yet.')));
}
