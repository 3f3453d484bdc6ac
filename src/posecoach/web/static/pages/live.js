// Live: the webcam with the skeleton drawn over it, the rep count, the exercise (chosen or recognised), the
// latest repetition's form cues, frame rate and latency; spoken cues optional.
import { h } from '../ui.js';
import { exerciseSelect, liveControls } from '../widgets.js';

export async function render(root) {
  const select = await exerciseSelect('live-exercise');
  const speak = h('input', { type: 'checkbox', id: 'live-speak' });
  const badge = h('div', { id: 'live-badge', class: 'badge', 'aria-hidden': 'true' }, '0');
  const count = h('div', { id: 'live-count', class: 'big' }, '0');
  const exercise = h('div', { id: 'live-exercise-name' }, '–');
  const hold = h('div', { id: 'live-hold', class: 'muted' });
  const cues = h('ul', { id: 'live-cues' });
  let lastCue = '';

  const say = (text) => {
    if (!speak.checked || !('speechSynthesis' in window) || text === lastCue) return;
    lastCue = text;
    speechSynthesis.speak(new SpeechSynthesisUtterance(text));
  };
  const onUpdate = (msg) => {
    if (String(msg.count) !== count.textContent && msg.count > 0) say(String(msg.count));
    count.textContent = msg.count;
    badge.textContent = msg.count;
    exercise.textContent = msg.exercise ? `${msg.title}${msg.confidence < 1 ? ` (recognised, ${Math.round(msg.confidence * 100)} %)` : ''}` : msg.title;
    hold.textContent = msg.hold_s !== null && msg.hold_s !== undefined ? `held ${msg.hold_s} s` : '';
    cues.replaceChildren(...msg.cues.map((c) => h('li', { class: `sev-${c.severity}` }, h('strong', {}, c.title), ': ', c.cue)));
    if (!msg.cues.length && msg.count > 0 && msg.exercise) cues.append(h('li', { class: 'ok' }, 'Good form in the last repetition.'));
    if (msg.cues.length) say(msg.cues[0].cue);
  };
  const { buttons, cam, stats, halt } = liveControls('live', { mode: 'exercise', startLabel: 'Start camera',
    params: () => ({ exercise: select.value }), onUpdate,
    onStart: () => { select.disabled = true; }, onStop: () => { select.disabled = false; } });
  cam.el.append(badge);  // the count over the video, readable from a distance while exercising
  root.append(h('section', { class: 'card' },
    h('h1', {}, 'Live coaching'),
    h('div', { class: 'row controls' },
      h('label', {}, 'Exercise', select),
      h('label', { class: 'inline' }, speak, ' Speak the count and cues')),
    buttons),
  h('div', { class: 'row' },
    h('section', { class: 'card' }, cam.el, stats.el),
    h('section', { class: 'card live-panel' },
      h('small', { class: 'muted' }, 'Repetitions'), count,
      h('small', { class: 'muted' }, 'Exercise'), exercise, hold,
      h('h2', {}, 'Form cues'), cues)));
  return halt;
}
