// Live camera client: the webcam -> JPEG frames over the WebSocket /v1/live -> landmarks and coaching back,
// the skeleton drawn on a canvas laid over the video (protocol: src/posecoach/web/live.py).
//
// const live = new LiveClient({ video, canvas, mode: 'exercise'|'falls'|'posture', params: {...},
//                               onUpdate(msg), onStats({ fps, latency_ms, latency_p95_ms, server_ms }),
//                               onError(message), onReady(msg) });
// await live.start();   // asks for the camera (640x480), opens the socket, streams frames
// const summary = await live.finish();  // the session's final result from the server (null if none in 3 s)
// live.stop();          // stops the camera and closes the socket
// Each new camera frame (requestVideoFrameCallback) is sent unless two frames are already in flight; then it is
// skipped, so the latency stays bounded whatever the server's speed and the frame rate is the camera's or the
// server's, whichever is lower. Latency = capture -> answer drawn.

const MIN_VISIBILITY = 0.3;
export const WIDTH = 640;
export const HEIGHT = 480;

// Draw a skeleton ([[x, y, visibility] x 33], normalised; `edges`: its bones as index pairs, from the server's
// "ready" message) on a 2D context of a w x h canvas.
export function drawSkeleton(ctx, landmarks, edges, w, h, color = '#21e07a') {
  ctx.lineWidth = Math.max(2, w / 200);
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  for (const [a, b] of edges) {
    const p = landmarks[a], q = landmarks[b];
    if (p[2] < MIN_VISIBILITY || q[2] < MIN_VISIBILITY) continue;
    ctx.beginPath(); ctx.moveTo(p[0] * w, p[1] * h); ctx.lineTo(q[0] * w, q[1] * h); ctx.stroke();
  }
  for (const p of landmarks.slice(11)) {
    if (p[2] < MIN_VISIBILITY) continue;
    ctx.beginPath(); ctx.arc(p[0] * w, p[1] * h, Math.max(3, w / 160), 0, 2 * Math.PI); ctx.fill();
  }
}

export class LiveClient {
  constructor({ video, canvas, mode = 'exercise', params = {}, onUpdate = () => {}, onStats = () => {},
                onError = () => {}, onReady = () => {} }) {
    Object.assign(this, { video, canvas, mode, params, onUpdate, onStats, onError, onReady });
    this.grab = document.createElement('canvas');
    this.grab.width = WIDTH; this.grab.height = HEIGHT;
    this.inFlight = 0;
    this.answers = [];  // [receivedAt, latency, serverMs] of the last answers, for the stats
    this.running = false;
    this.skeletons = 0;  // frames drawn with a skeleton (tests read it)
    this.edges = [];  // the skeleton's bones, from the server's "ready" message
  }

  async start() {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new Error('this browser gives no camera access here (use https or localhost)');
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia(
        { video: { width: WIDTH, height: HEIGHT, frameRate: 30 }, audio: false });
    } catch (e) {
      throw new Error(`no camera: ${e.message || e.name}`);
    }
    this.video.srcObject = this.stream;
    this.video.muted = true;
    await this.video.play();
    this.canvas.width = WIDTH; this.canvas.height = HEIGHT;
    const rate = this.stream.getVideoTracks()[0].getSettings()?.frameRate || 30;
    const query = new URLSearchParams({ mode: this.mode, width: WIDTH, height: HEIGHT, fps: Math.round(rate), ...this.params });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.ws = new WebSocket(`${scheme}://${location.host}/v1/live?${query}`);
    this.ws.binaryType = 'arraybuffer';
    this.running = true;
    await new Promise((resolve, reject) => {
      this.ws.onmessage = (e) => {
        const msg = JSON.parse(e.data);
        if (msg.type === 'ready') {
          this.edges = msg.skeleton?.edges || [];  // the server says which bones its landmarks have
          this.onReady(msg);
          resolve();
        } else if (msg.type === 'error') reject(new Error(msg.message));
      };
      this.ws.onerror = () => reject(new Error('the live connection failed'));
      this.ws.onclose = (e) => reject(new Error(e.reason || 'the live connection closed'));
    }).catch((e) => { this.stop(); throw e; });
    this.ws.onmessage = (e) => this.answer(JSON.parse(e.data));
    this.ws.onclose = (e) => { if (this.running) { this.stop(); this.onError(e.reason || 'the live connection closed'); } };
    this.pump();
  }

  // Send on every new camera frame (timer fallback where requestVideoFrameCallback is missing).
  pump() {
    if (!this.running) return;
    this.send();
    if (this.video.requestVideoFrameCallback) this.video.requestVideoFrameCallback(() => this.pump());
    else setTimeout(() => this.pump(), 1000 / 30);
  }

  send() {
    if (!this.running || this.ws.readyState !== WebSocket.OPEN || this.inFlight >= 2) return;
    this.inFlight += 1;
    const t = performance.now();
    this.grab.getContext('2d').drawImage(this.video, 0, 0, WIDTH, HEIGHT);
    this.grab.toBlob(async (blob) => {
      if (!this.running || !blob) { this.inFlight -= 1; return; }
      const head = new DataView(new ArrayBuffer(8));
      head.setFloat64(0, t, true);
      this.ws.send(new Blob([head.buffer, blob]));
    }, 'image/jpeg', 0.7);
  }

  // Ask the server for the session's final result (`{"type": "finish"}` -> `{"type": "summary", ...}`): the
  // count decided on the whole session, as the offline analysis decides. Frames stop being sent; null when the
  // socket is closed or no summary comes within `timeoutMs`.
  finish(timeoutMs = 3000) {
    this.running = false;
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.onSummary = null; resolve(null); }, timeoutMs);
      this.onSummary = (msg) => { clearTimeout(timer); this.onSummary = null; resolve(msg); };
      this.ws.send(JSON.stringify({ type: 'finish' }));
    });
  }

  answer(msg) {
    if (msg.type === 'summary') { if (this.onSummary) this.onSummary(msg); return; }
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (msg.type === 'dropped') return;  // over the server's frame-rate cap: not processed, nothing to draw
    if (msg.type === 'error') { this.onError(msg.message); return; }
    const ctx = this.canvas.getContext('2d');
    ctx.clearRect(0, 0, WIDTH, HEIGHT);
    if (msg.landmarks) {
      drawSkeleton(ctx, msg.landmarks, this.edges, WIDTH, HEIGHT, msg.alert ? '#ff3b30' : '#21e07a');
      this.skeletons += 1;
    }
    const now = performance.now();
    this.answers.push([now, now - msg.t, msg.server_ms]);
    while (this.answers.length && now - this.answers[0][0] > 3000) this.answers.shift();
    this.onUpdate(msg);
    this.onStats(this.stats());
  }

  stats() {
    const a = this.answers;
    if (a.length < 2) return { fps: 0, latency_ms: 0, latency_p95_ms: 0, server_ms: 0 };
    const span = (a[a.length - 1][0] - a[0][0]) / 1000;
    const lat = a.map((x) => x[1]).sort((x, y) => x - y);
    const srv = a.map((x) => x[2]).sort((x, y) => x - y);
    const q = (v, p) => v[Math.min(v.length - 1, Math.floor(p * v.length))];
    return { fps: (a.length - 1) / span, latency_ms: q(lat, 0.5), latency_p95_ms: q(lat, 0.95), server_ms: q(srv, 0.5) };
  }

  stop() {
    this.running = false;
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) this.ws.close();
    if (this.stream) for (const track of this.stream.getTracks()) track.stop();
    this.stream = null;
    if (this.video) this.video.srcObject = null;
  }
}
