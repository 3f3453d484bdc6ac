// The REST API as seen from the browser. Authentication is the HttpOnly session cookie set by
// POST /v1/session, so <video src>, downloads and the live WebSocket authenticate like fetch does.

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

function reason(status, body) {
  // FastAPI answers {"detail": "..."} or, for validation, {"detail": [{"loc": [...], "msg": "..."}]}.
  const d = body?.detail;
  if (typeof d === 'string') return d;
  if (Array.isArray(d) && d.length) return d.map((e) => `${(e.loc || []).slice(1).join('.')}: ${e.msg}`).join('; ');
  return status === 0 ? 'the server cannot be reached' : `the server answered ${status}`;
}

export async function api(path, { method = 'GET', json, body, signal } = {}) {
  const init = { method, signal, credentials: 'same-origin', headers: {} };
  if (json !== undefined) { init.body = JSON.stringify(json); init.headers['Content-Type'] = 'application/json'; }
  else if (body !== undefined) init.body = body;
  let res;
  try { res = await fetch(path, init); } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'the server cannot be reached');
  }
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) throw new ApiError(res.status, reason(res.status, data));
  return data;
}

// Sign in with { username, password, totp } (a server-side session; the cookie holds its random token), or with
// { api_key } (the session then has the key's scopes).
export const signIn = (credentials) => api('/v1/session', { method: 'POST', json: credentials });
export const signOut = () => api('/v1/session', { method: 'DELETE' });
export const me = () => api('/v1/me');

// The upload's content type: the server takes video types only (a cross-origin page cannot send one without a
// CORS preflight). The file's own type, else one from its extension; anything else is refused with the reason.
const VIDEO_TYPES = { mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm',
  mkv: 'video/x-matroska', avi: 'video/x-msvideo' };
export function videoType(file) {
  if (file.type?.startsWith('video/')) return file.type;
  const ext = (file.name || '').split('.').pop().toLowerCase();
  return VIDEO_TYPES[ext] || file.type || 'application/octet-stream';
}

// Upload a video file with progress (fetch has no upload progress, XMLHttpRequest has).
export function uploadVideo(file, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const name = (file.name || 'recording.webm').slice(0, 255);
    xhr.open('POST', `/v1/videos?filename=${encodeURIComponent(name)}`);
    xhr.withCredentials = true;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, reason(xhr.status, data)));
    };
    xhr.onerror = () => reject(new ApiError(0, 'the upload failed: the server cannot be reached'));
    xhr.setRequestHeader('Content-Type', videoType(file));
    xhr.send(file);  // the raw bytes are the request body
  });
}

export const createJob = (spec) => api('/v1/jobs', { method: 'POST', json: spec });
export const getJob = (id) => api(`/v1/jobs/${encodeURIComponent(id)}`);
export const cancelJob = (id) => api(`/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });

// Poll a job until it is done (resolves with the job) or failed or cancelled (rejects with the stored reason).
export async function waitForJob(id, onProgress = () => {}, { interval = 700, signal } = {}) {
  for (;;) {
    if (signal?.aborted) throw new DOMException('cancelled', 'AbortError');
    const job = await getJob(id);
    onProgress(job);
    if (job.state === 'done') return job;
    if (job.state === 'failed') throw new ApiError(422, job.error || 'the job failed');
    if (job.state === 'cancelled') throw new ApiError(409, job.error || 'the job was cancelled');
    await new Promise((r) => setTimeout(r, interval));
  }
}

export const resultUrl = (jobId, kind) => `/v1/jobs/${encodeURIComponent(jobId)}/results/${kind}`;
export const resultJson = (jobId, kind = 'report') => api(resultUrl(jobId, kind));
