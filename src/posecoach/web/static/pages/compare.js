// Compare: pick a guide from the reference library (or make one from a video), upload an attempt, then the
// score, the side-by-side video (both real videos, aligned), the main deviations, per-repetition scores and tempo.
// #/compare?job=<id> reopens a finished comparison.
import { api, resultJson, resultUrl } from '../api.js';
import { clearBanner, fmtTime, h, hashParam, progressBar, showBanner } from '../ui.js';
import { runJob, videoSource, waitUntilReady } from '../widgets.js';

const score = (s) => (s === null || s === undefined ? '–' : Math.round(s));

async function fillGuides(select, chosen) {
  const guides = await api('/v1/references');
  select.replaceChildren(...guides.map((g) => h('option', { value: g.id, disabled: g.state !== 'ready' },
    `${g.name}${g.state === 'ready' ? '' : ` (${g.state})`}${g.reps ? ` · ${g.reps} reps` : ''}`)));
  if (!guides.length) select.append(h('option', { value: '', disabled: true }, 'No guides yet: make one below'));
  if (chosen) select.value = chosen;
  return guides;
}

// The side-by-side video: the guide's and the attempt's own frames, aligned, each with its skeleton and the
// joints off the guide in red (a side whose video is gone shows its stick figure, and says so in the picture).
// An attempt in which nobody was found has no such video: say that instead of an empty player.
function sideBySide(jobId, results) {
  const made = !Array.isArray(results) || results.some((r) => r.kind === 'side_by_side');
  if (!made) return h('p', { id: 'compare-no-video', class: 'muted' }, 'No side-by-side video: nobody was found in the attempt.');
  return h('video', { id: 'compare-video', controls: true, playsinline: true, preload: 'auto', src: resultUrl(jobId, 'side_by_side') });
}

async function showResult(out, jobId) {
  const report = await resultJson(jobId, 'report');
  const results = await api(`/v1/jobs/${encodeURIComponent(jobId)}/results`).catch(() => null);
  const video = sideBySide(jobId, results);
  const seek = (t) => { if (video.tagName === 'VIDEO') video.currentTime = t; };
  const deviations = report.deviations.slice(0, 6).map((d) => h('li', {}, d.text));
  const reps = report.reps.map((r) => h('tr', { class: 'clickable', onclick: () => seek(r.start_s) },
    h('td', {}, String(r.index)), h('td', {}, fmtTime(r.start_s)), h('td', {}, String(score(r.score))),
    h('td', {}, `${r.tempo_ratio.toFixed(2)}×`)));
  const joints = report.joints.filter((j) => j.score !== null).map((j) => h('tr', {},
    h('td', {}, j.name.replace(/_/g, ' ') + (j.key ? ' ★' : '')), h('td', {}, String(score(j.score))),
    h('td', {}, j.mean_diff_deg === null ? '–' : `${j.mean_diff_deg > 0 ? '+' : ''}${j.mean_diff_deg.toFixed(0)}°`)));
  out.replaceChildren(h('section', { class: 'card' },
    h('h2', {}, `Compared with ${report.reference.name || 'the guide'}`),
    h('div', { class: 'stat' }, h('small', {}, 'Score (0-100)'), h('span', { id: 'compare-score', class: 'big' }, String(score(report.score)))),
    report.tempo ? h('div', { class: 'stat' }, h('small', {}, 'Tempo'), h('span', { id: 'compare-tempo' }, report.tempo.text)) : null,
    h('ul', { class: 'summary' }, ...report.summary.map((s) => h('li', {}, s)))),
  h('section', { class: 'card', id: 'compare-side-by-side' },
    h('p', { class: 'muted' }, 'Guide on the left, your attempt on the right, matched frame by frame. Joints more than 15° off the guide are red.'), video),
  h('div', { class: 'row' },
    h('section', { class: 'card' }, h('h2', {}, 'Main deviations'),
      deviations.length ? h('ol', { id: 'compare-deviations' }, ...deviations) : h('p', { id: 'compare-deviations', class: 'ok' }, 'No large deviation.')),
    h('section', { class: 'card' }, h('h2', {}, 'Joints'), h('div', { class: 'table-wrap' }, h('table', { id: 'compare-joints' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Joint'), h('th', {}, 'Score'), h('th', {}, 'vs guide'))), h('tbody', {}, ...joints))))),
  reps.length ? h('section', { class: 'card' }, h('h2', {}, 'Repetitions'), h('div', { class: 'table-wrap' }, h('table', { id: 'compare-reps' },
    h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'Start'), h('th', {}, 'Score'), h('th', {}, 'Tempo'))), h('tbody', {}, ...reps)))) : null,
  h('p', {}, h('a', { href: resultUrl(jobId, 'report') }, 'Report (JSON)'), ' · ', h('a', { href: resultUrl(jobId, 'plot'), target: '_blank' }, 'Plot (PNG)')));
}

export async function render(root) {
  const guide = h('select', { id: 'compare-guide' });
  const guideName = h('input', { type: 'text', id: 'compare-guide-name', placeholder: 'e.g. squat-guide', pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,63}' });
  const out = h('div', { id: 'compare-result' });
  const guideBar = progressBar();
  guideBar.el.hidden = true;
  const bar = progressBar();
  bar.el.hidden = true;
  const makeGuide = videoSource('compare-guide', async (video) => {
    const name = guideName.value.trim() || video.filename.replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64);
    const made = await api('/v1/references', { method: 'POST', json: { video_id: video.id, name } });
    guideBar.el.hidden = false;
    await waitUntilReady(`/v1/references/${encodeURIComponent(made.id)}`, guideBar, 'Making the guide',
      'the guide could not be made');
    guideBar.set(1, `Guide ${name} is ready`);
    clearBanner();
    await fillGuides(guide, made.id);
  }, { record: true });
  const attempt = videoSource('compare-attempt', async (video) => {
    if (!guide.value) throw new Error('choose a guide first (or make one from a video)');
    out.replaceChildren();
    const job = await runJob({ kind: 'compare', video_id: video.id, reference_id: guide.value }, bar, 'Comparing');
    bar.set(1, 'Done');
    history.replaceState(null, '', `#/compare?job=${job.id}`);
    await showResult(out, job.id);
  });
  root.append(
    h('section', { class: 'card' }, h('h1', {}, 'Compare with a guide'),
      h('label', {}, 'Guide', guide),
      h('details', { id: 'compare-new-guide' }, h('summary', {}, 'Make a guide from a video'),
        h('label', {}, 'Name', guideName), makeGuide, guideBar.el)),
    h('section', { class: 'card' }, h('h2', {}, 'Your attempt'), attempt, bar.el),
    out);
  await fillGuides(guide);
  const id = hashParam('job');
  if (id) await showResult(out, id);
  else if (!guide.value) showBanner('No guide in your library yet: make one from a video first.', 'info');
}
