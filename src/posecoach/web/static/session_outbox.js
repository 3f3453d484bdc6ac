// Programme sessions waiting to be recorded (issue 28, "offline-first edges"): a finished session is kept on this
// device until the server has stored it, so a lost connection never loses it silently. Each session carries the
// client id made when it started; the server stores a session once per client id (sending it again answers the
// stored one), so retrying is always safe.
//
// record(programmeId, body) -> 'saved' | 'pending'   (pending: kept here, sent again by flush())
// flush() -> number of sessions still pending          (called on page load and when the browser is back online;
//                                                       it then fires 'posecoach:sessions-flushed')
import { ApiError, api } from './api.js';

const KEY = 'posecoach.pendingSessions';

const load = () => {
  try { return JSON.parse(localStorage.getItem(KEY) || '[]'); } catch { return []; }
};
const store = (list) => localStorage.setItem(KEY, JSON.stringify(list));

export const pending = () => load();

export function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `s-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

async function send(entry) {
  await api(`/v1/programmes/${encodeURIComponent(entry.programme)}/sessions`, { method: 'POST', json: entry.body });
}

// A refusal with a reason (4xx but 408/429) will not change by retrying: it is dropped from the queue and thrown.
const permanent = (e) => e instanceof ApiError && e.status >= 400 && e.status < 500 && ![408, 429].includes(e.status);

export async function record(programme, body) {
  const entry = { programme, body };
  store([...load().filter((e) => e.body.client_id !== body.client_id), entry]);  // kept before it is sent
  try {
    await send(entry);
  } catch (e) {
    if (permanent(e)) { store(load().filter((x) => x.body.client_id !== body.client_id)); throw e; }
    return 'pending';
  }
  store(load().filter((x) => x.body.client_id !== body.client_id));
  return 'saved';
}

// Send every pending session; then the event 'posecoach:sessions-flushed' (detail: the client ids still pending).
export async function flush() {
  for (const entry of load()) {
    try {
      await send(entry);
    } catch (e) {
      if (!permanent(e)) continue;
    }
    store(load().filter((x) => x.body.client_id !== entry.body.client_id));
  }
  const left = load().map((e) => e.body.client_id);
  window.dispatchEvent(new CustomEvent('posecoach:sessions-flushed', { detail: left }));
  return left.length;
}

window.addEventListener('online', () => { flush(); });
