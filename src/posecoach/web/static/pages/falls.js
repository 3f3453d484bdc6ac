// Falls: upload a video -> fall probability timeline, detected falls (click to seek), an alert banner and a
// sound; or monitor a camera live (falls_live.js). #/falls?job=<id> reopens a finished check. Below, the alert log
// with Acknowledge buttons and where alerts go (falls_alerts.js).
import { api, resultJson, resultUrl } from '../api.js';
import { lineChart } from '../chart.js';
import { beep, fmtTime, h, hashParam, progressBar, showBanner } from '../ui.js';
import { runJob, videoSource } from '../widgets.js';
import { mount as mountAlerts } from './falls_alerts.js';
import { mount } from './falls_live.js';

// What became of the person, in words (an older report has only `recovered`). A person not seen since the fall
// is never said to have recovered.
export function outcomeText(e) {
  const outcome = e.outcome || (e.recovered ? 'got_up' : 'down');
  const unconfirmed = e.confirmed === false ? ' (unconfirmed: the video ended before the drop was confirmed)' : '';
  if (outcome === 'lost') {
    return `not seen since the fall${e.seen_s != null ? ` (last seen at ${fmtTime(e.seen_s)})` : ''}${unconfirmed}`;
  }
  return (outcome === 'got_up' ? 'got up' : 'still down at the end') + unconfirmed;
}

async function showResult(out, jobId, { sound = false } = {}) {
  const job = await api(`/v1/jobs/${encodeURIComponent(jobId)}`);
  const report = await resultJson(jobId, 'report');
  // The overlay (skeleton, fall probability, alerts) when the job made one; an older job has the video alone.
  const results = await api(`/v1/jobs/${encodeURIComponent(jobId)}/results`).catch(() => []);
  const overlay = Array.isArray(results) && results.some((r) => r.kind === 'overlay');
  const video = h('video', { id: 'falls-video', controls: true, playsinline: true, preload: 'auto',
                             src: overlay ? resultUrl(jobId, 'overlay') : `/v1/videos/${encodeURIComponent(job.video_id)}/file` });
  const seek = (t) => { video.currentTime = t; };
  const events = report.events.map((e) => h('li', { class: 'clickable bad', dataset: { t: e.start_s }, onclick: () => seek(e.start_s) },
    `Fall ${e.index} at ${fmtTime(e.impact_s)}: alert at ${fmtTime(e.alert_s)}, ${outcomeText(e)}`,
    ` (confidence ${Math.round(e.confidence * 100)} %)`));
  const verdict = report.fall_detected
    ? h('div', { id: 'falls-verdict', class: 'alert-box' }, `Fall detected: ${report.events.length} fall${report.events.length > 1 ? 's' : ''}`)
    : h('div', { id: 'falls-verdict', class: 'ok-box' }, 'No fall detected');
  const chartBox = h('div', { id: 'falls-chart', class: 'chart' });
  out.replaceChildren(h('section', { class: 'card' }, h('h2', {}, report.input || 'Result'), verdict,
    h('div', { class: 'row' }, h('div', {}, video), h('div', {}, h('h2', {}, 'Falls'),
      events.length ? h('ul', { id: 'falls-events' }, ...events) : h('p', { class: 'muted' }, 'None.'))),
    h('h2', {}, 'Fall probability'), chartBox,
    h('p', {}, h('a', { href: resultUrl(jobId, 'report') }, 'Report (JSON)'), ' · ', h('a', { href: resultUrl(jobId, 'csv') }, 'Per frame (CSV)'))));
  const threshold = report.detector.threshold;
  lineChart(chartBox, { x: report.times_s, height: 220, yLabel: 'probability', onClick: seek,
    series: [{ label: 'fall probability (smoothed)', values: report.smoothed },
             { label: 'per frame', values: report.probabilities, color: '#9fb4d8' },
             { label: 'alert threshold', values: report.times_s.map(() => threshold), color: '#c62828' }],
    spans: report.events.map((e) => ({ start: e.start_s, end: e.end_s, kind: 'error' })) });
  if (report.fall_detected) {
    showBanner(`Fall detected in ${report.input || 'the video'}`, 'alert');
    if (sound) beep(3);
  }
}

export async function render(root, ctx) {
  const out = h('div', { id: 'falls-result' });
  const bar = progressBar();
  bar.el.hidden = true;
  const source = videoSource('falls', async (video) => {
    out.replaceChildren();
    const job = await runJob({ kind: 'falls', video_id: video.id }, bar, 'Checking for falls');
    bar.set(1, 'Done');
    history.replaceState(null, '', `#/falls?job=${job.id}`);
    await showResult(out, job.id, { sound: true });
    refreshAlerts();  // the check's alerts, if any, are in the log now
  }, { record: false });
  const live = h('section', { id: 'falls-live', class: 'card' });
  const alerts = h('section', { id: 'falls-alerts', class: 'card' });
  const refreshAlerts = mountAlerts(alerts, ctx.user);
  root.append(h('section', { class: 'card' }, h('h1', {}, 'Fall detection'),
    h('p', { class: 'muted' }, 'Upload a video to check it for falls, or monitor a camera below.'), source, bar.el), out, alerts, live);
  const cleanup = mount(live, { onAlert: () => setTimeout(refreshAlerts, 500) });
  const id = hashParam('job');
  if (id) await showResult(out, id);
  return cleanup;
}
