// The Falls page's live camera monitor: the camera with the skeleton, the fall probability over the last
// 20 s, and an alert banner with a sound when the detector raises an alert.
import { LiveClient } from '../live_client.js';
import { beep, guard, h, showBanner } from '../ui.js';
import { cameraStage, statsLine } from '../widgets.js';

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

export function mount(container) {
  const start = h('button', { id: 'falls-live-start' }, 'Monitor the camera');
  const stop = h('button', { id: 'falls-live-stop', class: 'secondary', disabled: true }, 'Stop');
  const cam = cameraStage('falls-live');
  const prob = h('span', { id: 'falls-live-probability', class: 'big' }, '–');
  const status = h('p', { id: 'falls-live-status', class: 'muted' }, 'Not monitoring.');
  const spark = h('canvas', { id: 'falls-live-chart', width: 600, height: 120, class: 'sparkline' });
  const stats = statsLine('falls-live');
  let client = null;
  let points = [];
  let alerted = 0;

  const halt = () => { if (client) client.stop(); client = null; start.disabled = false; stop.disabled = true; status.textContent = 'Not monitoring.'; };
  const onUpdate = (msg) => {
    const now = performance.now() / 1000;
    points.push([now, msg.probability]);
    while (points.length && points[0][0] < now - WINDOW_S) points.shift();
    prob.textContent = `${Math.round(msg.probability * 100)} %`;
    sparkline(spark, points);
    if (msg.events.length > alerted) {
      alerted = msg.events.length;
      showBanner(`Fall detected (live camera, ${new Date().toLocaleTimeString()})`, 'alert');
      status.textContent = `${alerted} fall alert${alerted > 1 ? 's' : ''}.`;
      status.className = 'bad';
      beep(3);
    }
  };
  start.addEventListener('click', () => guard(async () => {
    start.disabled = true; points = []; alerted = 0;
    client = new LiveClient({ video: cam.video, canvas: cam.canvas, mode: 'falls', onUpdate,
      onStats: (s) => stats.set(s), onError: (m) => { showBanner(m); halt(); } });
    try { await client.start(); } catch (e) { halt(); throw e; }
    stop.disabled = false;
    status.textContent = 'Monitoring: an alert sounds when a fall is detected.';
    status.className = 'muted';
  }));
  stop.addEventListener('click', halt);
  container.append(h('h2', {}, 'Monitor a camera live'), h('p', {}, start, ' ', stop), status,
    h('div', { class: 'row' }, h('div', {}, cam.el, stats.el),
      h('div', {}, h('small', { class: 'muted' }, 'Fall probability'), prob, spark)));
  return halt;
}
