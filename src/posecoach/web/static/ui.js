// Small DOM helpers shared by the pages (no framework): element builder, banner, progress, formatting.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') el.style.cssText = v;  // through the CSSOM: the CSP forbids style attributes
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

// The page-wide message line: errors in red, notices in blue; `clearBanner` on navigation.
export function showBanner(message, kind = 'error') {
  const b = document.getElementById('banner');
  b.textContent = message;
  b.className = kind;
  b.hidden = false;
}
export function clearBanner() { document.getElementById('banner').hidden = true; }

// Run an async action, showing its error (one line) in the banner instead of an uncaught exception. A message is
// scoped to the action that caused it: the banner of an earlier action is cleared when the next one starts.
export async function guard(action) {
  clearBanner();
  try { return await action(); } catch (e) {
    if (e && e.name === 'AbortError') return undefined;
    showBanner(e?.message ? e.message : String(e));
    return undefined;
  }
}

// <progress> with a label: set(fraction 0..1, text).
export function progressBar(label = '') {
  const bar = h('progress', { max: 1, value: 0 });
  const text = h('span', { class: 'progress-text' }, label);
  const el = h('div', { class: 'progress', role: 'status' }, bar, text);
  return { el, set(fraction, t) { bar.value = fraction; if (t !== undefined) text.textContent = t; } };
}

export const fmtTime = (s) => {
  if (!Number.isFinite(s)) return '–';
  const m = Math.floor(s / 60);
  return `${m}:${(s - 60 * m).toFixed(1).padStart(4, '0')}`;
};
export const fmtDate = (iso) => (iso ? new Date(iso).toLocaleString() : '–');
// A short date and time (History rows, lists): "7 Dec 2026, 14:05".
export const fmtShort = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { day: 'numeric', month: 'short',
  year: 'numeric', hour: '2-digit', minute: '2-digit' }) : '–');
// A value for the page's text: '–' for null/undefined/NaN, never the words "null" or "undefined".
export const show = (v, digits) => (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))
  ? '–' : (typeof v === 'number' && digits !== undefined ? v.toFixed(digits) : String(v)));

// A file picker that also accepts drag-and-drop; calls onFile(File). The input is emptied once read, so choosing
// the same file again (after an error, or to analyse it again) reacts too.
export function filePicker(label, onFile, accept = 'video/*') {
  const input = h('input', { type: 'file', accept, onchange: () => {
    const file = input.files[0];
    input.value = '';
    if (file) onFile(file);
  } });
  const zone = h('label', { class: 'dropzone' }, h('span', {}, label), input);
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault(); zone.classList.remove('over');
    if (e.dataTransfer.files[0]) onFile(e.dataTransfer.files[0]);
  });
  return zone;
}

// A short alarm (two beeps) with WebAudio: no sound file needed. Browsers allow it after a user gesture.
export function beep(times = 2) {
  try {
    const ctx = new (window.AudioContext || window.webkitAudioContext)();
    for (let i = 0; i < times; i += 1) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + i * 0.35);
      osc.stop(ctx.currentTime + i * 0.35 + 0.2);
    }
    setTimeout(() => ctx.close(), 1000 * (times * 0.35 + 0.3));
    return true;
  } catch { return false; }
}

// A parameter of the page's hash route: `#/analyse?job=ID` -> hashParam('job') = 'ID' (null when absent).
// Today's date in the user's own calendar (YYYY-MM-DD), as a session's day and the day asked about are given.
export const localDate = () => new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10);
export const hashParam = (name) => new URLSearchParams(location.hash.split('?')[1] || '').get(name);
