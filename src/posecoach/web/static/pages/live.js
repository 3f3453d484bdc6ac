// Live: the webcam with the skeleton drawn over it, the rep count, the exercise (chosen or recognised), the
// latest repetition's form cues, frame rate and latency; spoken cues optional.
// The count shown is the server's `shown` count, which never decreases; when the coach corrects its estimate
// (down, or up by more than one at once) the correction is listed under the count in plain words, latest last,
// for the rest of the session, and spoken with the cues. When the user stops, the server decides the final
// count on the whole session (its summary; the latest answer's `count` when none comes), said next to the shown
// one when they differ, with how sure it is when it is unsure.
// A set may have a target (repetitions): progress toward it is shown, and the set ends when the count shown
// reaches it, with the summary (reps, tempo, form issues per rep), which the server keeps in History.
// #/live?session=<id> shows a set kept in History.
import { api } from '../api.js';
import { h, hashParam } from '../ui.js';
import { exerciseSelect, liveControls } from '../widgets.js';
import { summaryCard } from './live_summary.js';

export async function render(root) {
  const id = hashParam('session');
  if (id) {
    const kept = await api(`/v1/live-sessions/${encodeURIComponent(id)}`);
    root.append(summaryCard({ ...kept, count: kept.rep_count, saved: { id: kept.id } }),
      h('p', {}, h('a', { href: '#/live' }, 'Start a new live set'), ' · ', h('a', { href: '#/history' }, 'History')));
    return undefined;
  }
  const select = await exerciseSelect('live-exercise');
  const target = h('input', { type: 'number', id: 'live-target', min: 1, max: 1000, step: 1, inputmode: 'numeric',
    placeholder: 'none', 'aria-label': 'Target repetitions' });
  const meter = h('progress', { id: 'live-target-meter', max: 1, value: 0 });
  const toGo = h('span', { id: 'live-target-text' });
  const progress = h('div', { id: 'live-target-progress', class: 'target-progress', hidden: true }, meter, toGo);
  const summaryBox = h('div', { id: 'live-summary-box' });
  let goal = null;  // the set's target while it runs
  let ending = false;
  const speak = h('input', { type: 'checkbox', id: 'live-speak' });
  const badge = h('div', { id: 'live-badge', class: 'badge', 'aria-hidden': 'true' }, '0');
  const count = h('div', { id: 'live-count', class: 'big' }, '0');
  const corrections = h('ol', { id: 'live-corrections', class: 'corrections', 'aria-live': 'polite', hidden: true });
  const final = h('p', { id: 'live-final', role: 'status', hidden: true });
  const exercise = h('div', { id: 'live-exercise-name' }, '–');
  const hold = h('div', { id: 'live-hold', class: 'muted' });
  const cues = h('ul', { id: 'live-cues' });
  let lastCue = '';
  let last = null;  // the latest answer, for the final count

  const say = (text) => {
    if (!speak.checked || !('speechSynthesis' in window) || text === lastCue) return;
    lastCue = text;
    speechSynthesis.speak(new SpeechSynthesisUtterance(text));
  };
  const showCorrections = (list) => {
    if (list.length === corrections.children.length) return;
    const fresh = list.slice(corrections.children.length);
    corrections.replaceChildren(...list.map((c, i) => h('li', { class: i === list.length - 1 ? 'latest' : null,
      dataset: { shown: c.shown, estimate: c.estimate } }, c.text)));
    corrections.hidden = list.length === 0;
    badge.title = list.length ? list[list.length - 1].text : '';
    for (const c of fresh) say(`Count corrected, ${c.shown} to ${c.estimate}`);
  };
  const onUpdate = (msg) => {
    const shown = msg.shown ?? msg.count;  // `shown` never decreases (an older server sends only `count`)
    if (goal) {
      meter.value = Math.min(1, shown / goal);
      toGo.textContent = shown >= goal ? `${goal} of ${goal}: target met` : `${shown} of ${goal} (${goal - shown} to go)`;
      if (shown >= goal && !ending) { ending = true; say('Target met'); setTimeout(() => controls.finish(), 0); }
    }
    if (String(shown) !== count.textContent && shown > 0) say(String(shown));
    count.textContent = shown;
    badge.textContent = shown;
    showCorrections(msg.corrections || []);
    last = msg;
    exercise.textContent = msg.exercise ? `${msg.title}${msg.confidence < 1 ? ` (recognised, ${Math.round(msg.confidence * 100)} %)` : ''}` : msg.title;
    hold.textContent = msg.hold_s !== null && msg.hold_s !== undefined ? `held ${msg.hold_s} s` : '';
    cues.replaceChildren(...msg.cues.map((c) => h('li', { class: `sev-${c.severity}` }, h('strong', {}, c.title), ': ', c.cue)));
    if (!msg.cues.length && msg.count > 0 && msg.exercise) cues.append(h('li', { class: 'ok' }, 'Good form in the last repetition.'));
    if (msg.cues.length) say(msg.cues[0].cue);
  };
  const onStart = () => {
    select.disabled = true;
    target.disabled = true;
    const n = Number(target.value);
    goal = target.value && Number.isInteger(n) && n >= 1 && n <= 1000 ? n : null;
    if (target.value && !goal) target.value = '';
    ending = false;
    meter.value = 0;
    toGo.textContent = goal ? `0 of ${goal} (${goal} to go)` : '';
    progress.hidden = !goal;
    summaryBox.replaceChildren();
    last = null;
    count.textContent = '0'; badge.textContent = '0'; badge.title = '';
    corrections.replaceChildren(); corrections.hidden = true;
    final.hidden = true;
  };
  const onStop = (summary) => {
    select.disabled = false;
    target.disabled = false;
    if (summary) summaryBox.replaceChildren(summaryCard(summary));
    const end = summary || last;
    if (!end || (end.hold_s !== null && end.hold_s !== undefined)) return;
    if (summary) showCorrections(summary.corrections || []);
    const shown = (last && (last.shown ?? last.count)) ?? end.count;
    final.textContent = `Final count: ${end.count}` + (end.count !== shown
      ? ` (the best estimate; ${shown} was shown, see the corrections above)` : '')
      + (end.count_note ? `. Unsure: ${end.count_note}` : '');
    final.hidden = false;
  };
  const controls = liveControls('live', { mode: 'exercise', startLabel: 'Start camera',
    params: () => ({ exercise: select.value, ...(goal ? { target: goal } : {}) }), onUpdate, onStart, onStop });
  const { buttons, cam, stats, halt } = controls;
  cam.el.append(badge);  // the count over the video, readable from a distance while exercising
  root.append(h('section', { class: 'card live-head' },
    h('h1', {}, 'Live coaching'),
    h('div', { class: 'row controls' },
      h('label', {}, 'Exercise', select),
      h('label', {}, 'Target (reps)', target),
      h('label', { class: 'inline' }, speak, ' Speak the count and cues')),
    buttons),
  summaryBox,
  h('div', { class: 'row live-row' },
    h('section', { class: 'card live-camera' }, cam.el, stats.el),
    h('section', { class: 'card live-panel' },
      h('small', { class: 'muted' }, 'Repetitions'), count, progress, corrections, final,
      h('small', { class: 'muted' }, 'Exercise'), exercise, hold,
      h('h2', {}, 'Form cues'), cues)));
  return halt;
}
