// The Falls page's live camera monitor: the camera with the skeleton, the fall probability over the last
// 20 s, and an alert banner with a sound when the detector raises an alert; then what became of the person
// (still down, not seen since the fall, got up).
import { beep, h, showBanner } from '../ui.js';
import { liveControls } from '../widgets.js';

const WINDOW_S = 20;

function sparkline(canvas, points) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: hgt } = canvas;
  ctx.clearRect(0, 0, w, hgt);
  ctx.strokeStyle = '#c62828'; ctx.setLineDash([4, 4]); ctx.beginPath();
  ctx.moveTo(0, hgt * 0.3); ctx.lineTo(w, hgt * 0.3); ctx.stroke(); ctx.setLineDash([]);  // the 0.7 threshold
  if (points.length < 2) return;
  const t0 = points[points.length - 1][0] - WINDOW_S;
  ctx.strokeStyle = '#1769e0'; ctx.lineWidth = 2; ctx.beginPath();
  points.forEach(([t, p], i) => {
    const x = ((t - t0) / WINDOW_S) * w, y = hgt - p * hgt;
    if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
  });
  ctx.stroke();
}

export function mount(container, { onAlert = () => {} } = {}) {
  const prob = h('span', { id: 'falls-live-probability', class: 'big' }, '–');
  const status = h('p', { id: 'falls-live-status', class: 'muted' }, 'Not monitoring.');
  const spark = h('canvas', { id: 'falls-live-chart', width: 600, height: 120, class: 'sparkline' });
  let points = [];
  let alerted = 0;

  const onUpdate = (msg) => {
    const now = performance.now() / 1000;
    points.push([now, msg.probability]);
    while (points.length && points[0][0] < now - WINDOW_S) points.shift();
    prob.textContent = `${Math.round(msg.probability * 100)} %`;
    sparkline(spark, points);
    if (msg.events.length > alerted) {
      alerted = msg.events.length;
      showBanner(`Fall detected (live camera, ${new Date().toLocaleTimeString()})`, 'alert');
      status.className = 'bad';
      beep(3);
      onAlert();  // the alert log lists it (recorded by the server)
    }
    if (alerted) {  // what became of the person since the latest fall: still down, not seen since, got up
      const latest = msg.events[msg.events.length - 1];
      status.textContent = `${alerted} fall alert${alerted > 1 ? 's' : ''}. Latest: ${latest.outcome_text || 'still down'}.`;
      status.dataset.outcome = latest.outcome || 'down';
    }
  };
  const { buttons, cam, stats, halt } = liveControls('falls-live', { mode: 'falls', startLabel: 'Monitor the camera', onUpdate,
    onStart: () => {
      points = []; alerted = 0;
      status.textContent = 'Monitoring: an alert sounds when a fall is detected.';
      status.className = 'muted';
    },
    onStop: () => { status.textContent = 'Not monitoring.'; } });
  container.append(h('h2', {}, 'Monitor a camera live'), buttons, status,
    h('div', { class: 'row' }, h('div', {}, cam.el, stats.el),
      h('div', {}, h('small', { class: 'muted' }, 'Fall probability'), prob, spark)));
  return halt;
}
