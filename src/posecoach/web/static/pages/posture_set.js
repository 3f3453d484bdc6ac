// A posture model's training set: its videos with the accuracy on each when cross-validation held it out, and one
// more labelled video added to it (the model is trained again on all of them).
import { api, waitForJob } from '../api.js';
import { h, show } from '../ui.js';

export const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)} %`);

// The table of a model's videos (GET /v1/posture-models/{id}/videos).
export async function videosTable(modelId) {
  const set = await api(`/v1/posture-models/${encodeURIComponent(modelId)}/videos`);
  const rows = set.videos.map((v) => h('tr', {},
    h('td', {}, v.filename || h('span', { class: 'muted' }, 'a video you cannot see')),
    h('td', {}, v.labels.join(' / ')),
    h('td', {}, `${v.ranges.length}`),
    h('td', {}, show(v.labelled_frames)),
    h('td', { class: 'held-out' }, v.held_out ? `${pct(v.held_out.accuracy)} (${v.held_out.correct}/${v.held_out.frames})` : '–')));
  return h('div', { class: 'posture-set', dataset: { model: modelId } },
    h('table', { id: 'posture-videos' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Video'), h('th', {}, 'Postures'), h('th', {}, 'Ranges'),
        h('th', {}, 'Labelled frames'), h('th', {}, 'Accuracy when held out'))),
      h('tbody', {}, ...rows)),
    h('p', { class: 'muted' }, `Cross-validation: ${set.method}; `
      + `${set.videos.length} video${set.videos.length === 1 ? '' : 's'}, accuracy over all held-out frames ${pct(set.cv_accuracy)}. `
      + (set.videos.length < 3 ? 'Each held-out video is named by a model trained on the others: add videos to make it better.' : '')));
}

// Add `item` ({video_id, ranges}) to model `modelId` and wait for the training; `onProgress(job)`.
export async function addToModel(modelId, item, onProgress) {
  const job = await api(`/v1/posture-models/${encodeURIComponent(modelId)}/videos`, { method: 'POST', json: item });
  return waitForJob(job.id, onProgress);
}
