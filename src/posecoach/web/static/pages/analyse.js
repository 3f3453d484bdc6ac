// Analyse: upload or record a video, follow the job, then the overlay video with a timeline of reps and form
// errors (click to seek), the per-rep table, the interactive angle chart and downloads.
// #/analyse?job=<id> reopens a finished analysis.
import { api, resultJson, resultUrl } from '../api.js';
import { lineChart } from '../chart.js';
import { fmtShort, fmtTime, guard, h, hashParam, progressBar, show } from '../ui.js';
import { exerciseSelect, runJob, timeline, videoSource } from '../widgets.js';

function summary(report) {
  const ex = report.exercise;
  const how = !report.input.detection_rate ? 'nobody in the video: not measurable' : ex.given ? 'named' : `recognised, ${Math.round(ex.confidence * 100)} %`;
  const stats = [
    h('div', { class: 'stat' }, h('small', {}, 'Repetitions'), h('span', { id: 'analyse-count', class: 'big' }, String(report.reps.count))),
    h('div', { class: 'stat' }, h('small', {}, 'Exercise'), h('span', { id: 'analyse-exercise-name' }, `${ex.title} (${how})`)),
    h('div', { class: 'stat' }, h('small', {}, 'Form errors'), h('span', { id: 'analyse-errors' },
      String(report.reps.items.reduce((n, r) => n + r.errors.length, 0) + (report.hold ? report.hold.errors.length : 0)))),
  ];
  if (report.hold) stats.push(h('div', { class: 'stat' }, h('small', {}, 'Held'), h('span', { id: 'analyse-hold' }, `${report.hold.seconds.toFixed(1)} s`)));
  const warnings = (report.warnings || []).map((w) => h('li', { class: 'sev-warning', dataset: { code: w.code } }, h('strong', {}, 'Warning: '), w.message));
  return h('div', {}, ...stats, h('ul', { class: 'summary', id: 'analyse-warnings', hidden: !warnings.length }, ...warnings),
    h('ul', { class: 'summary' }, ...report.summary.map((s) => h('li', {}, s))));
}

function repTable(report, seek) {
  const rows = report.reps.items.map((r) => h('tr', { class: 'clickable', dataset: { rep: r.index }, onclick: () => seek(r.start_s) },
    h('td', {}, String(r.index)), h('td', {}, `${fmtTime(r.start_s)}–${fmtTime(r.end_s)}`),
    h('td', {}, `${r.duration_s.toFixed(1)} s`), h('td', {}, r.rom_unit === 'deg' ? `${r.rom.toFixed(0)}°` : r.rom_unit === 'cm' ? `~${r.rom.toFixed(0)} cm (estimate)` : '–'),
    h('td', {}, r.errors.length ? h('ul', { class: 'errors' }, ...r.errors.map((e) => h('li', { class: `sev-${e.severity}` }, h('strong', {}, e.title), ': ', e.cue)))
      : h('span', { class: 'ok' }, 'good'))));
  return h('div', { class: 'table-wrap' }, h('table', { id: 'analyse-reps' },
    h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Time'), h('th', {}, 'Duration'), h('th', {}, 'Range'), h('th', {}, 'Form'))),
    h('tbody', {}, ...rows)));
}

async function showResult(out, jobId) {
  const report = await resultJson(jobId, 'report');
  const fps = report.input.fps || 30;
  const video = h('video', { id: 'analyse-video', controls: true, playsinline: true, preload: 'auto', src: resultUrl(jobId, 'overlay') });
  const seek = (t) => { video.currentTime = t; };
  const spans = report.reps.items.map((r) => ({ start: r.start_s, end: r.end_s, kind: r.errors.length ? 'error' : '', label: `rep ${r.index}` }));
  const errorSpans = report.reps.items.flatMap((r) => r.errors.flatMap((e) => e.frames.map(([a, b]) => ({ start: a / fps, end: (b + 1) / fps, kind: 'error', label: e.title }))));
  const bar = timeline('analyse-timeline', report.input.duration_s || video.duration || 1, spans, seek);
  video.addEventListener('timeupdate', () => bar.setTime(video.currentTime));
  const chartBox = h('div', { id: 'analyse-chart', class: 'chart' });
  out.replaceChildren(
    h('section', { class: 'card' }, h('h2', {}, report.input.path || 'Result'), summary(report)),
    h('section', { class: 'card' }, video, bar.el,
      h('p', { class: 'muted' }, 'Blue: repetitions, red: repetitions with form errors. Click the bar, a row or the chart to seek.')),
    h('section', { class: 'card' }, h('h2', {}, 'Repetitions'), report.reps.items.length ? repTable(report, seek) : h('p', { class: 'muted' }, 'No repetitions.')),
    h('section', { class: 'card' }, h('h2', {}, 'Angles'), chartBox),
    h('p', {}, h('a', { href: resultUrl(jobId, 'report'), download: `report-${jobId.slice(0, 8)}.json` }, 'Report (JSON)'), ' · ',
      h('a', { href: resultUrl(jobId, 'csv') }, 'Repetitions (CSV)'), ' · ', h('a', { href: resultUrl(jobId, 'plot'), target: '_blank' }, 'Plot (PNG)')));
  try {
    const series = await resultJson(jobId, 'series');
    if (!series.series.length) { chartBox.append(h('p', { class: 'muted' }, 'No signal to show.')); return; }
    const byUnit = series.series.filter((s) => s.unit === series.series[0].unit);
    lineChart(chartBox, { x: series.times, series: byUnit.map((s) => ({ label: s.name.replace(/_/g, ' ') + (s.counting ? ' (counting)' : ''), values: s.values })),
      spans: [...spans, ...errorSpans], yLabel: byUnit[0].unit === 'deg' ? 'degrees' : 'cm (estimate)', onClick: seek });
  } catch (e) {
    chartBox.append(h('p', { class: 'muted' }, `No interactive chart for this analysis (${e.message}).`));
  }
}

// The last analyses (History's entries): the clip's file name, the exercise, the count and when.
async function previous(list, titles) {
  const items = (await api('/v1/history')).filter((i) => i.kind === 'analyze').slice(0, 10);
  list.replaceChildren(...items.map((i) => h('li', {}, h('a', { href: `#/analyse?job=${i.job_id}` }, i.file_name || 'video'),
    ` · ${titles[i.exercise] || i.exercise || 'movement not recognised'} · `,
    h('span', { class: 'count' }, `${show(i.rep_count)} ${i.rep_count === 1 ? 'rep' : 'reps'}`),
    h('span', { class: 'muted' }, ` · ${fmtShort(i.finished_at)}`))));
  if (!items.length) list.append(h('li', { class: 'muted', id: 'analyse-previous-empty' }, 'None yet: choose a video above (or record one) and its analysis is listed here.'));
}

export async function render(root) {
  const select = await exerciseSelect('analyse-exercise');
  const out = h('div', { id: 'analyse-result' });
  const bar = progressBar();
  bar.el.hidden = true;
  bar.el.id = 'analyse-progress';
  const list = h('ul', { id: 'analyse-previous' });
  const titles = Object.fromEntries([...select.options].map((o) => [o.value, o.textContent]));
  const source = videoSource('analyse', async (video) => {
    out.replaceChildren();
    const job = await runJob({ kind: 'analyze', video_id: video.id, exercise: select.value }, bar);
    bar.set(1, 'Done');
    history.replaceState(null, '', `#/analyse?job=${job.id}`);
    await showResult(out, job.id);
    previous(list, titles);
  });
  root.append(
    h('section', { class: 'card' }, h('h1', {}, 'Analyse a video'),
      h('label', {}, 'Exercise', select), source, bar.el),
    out,
    h('section', { class: 'card' }, h('h2', {}, 'Earlier analyses'), list));
  guard(() => previous(list, titles));
  const id = hashParam('job');
  if (id) await showResult(out, id);
}
