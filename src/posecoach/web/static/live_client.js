// Live webcam coaching client (CONTRACT STUB: the live helper implements it).
//
// const live = new LiveClient({ video, canvas, mode: 'exercise'|'falls'|'posture', params: {...},
//                               onUpdate(msg), onStats({ fps, latency_ms, server_ms }), onError(message) });
// await live.start();   // asks for the camera (640x480), opens the WebSocket /v1/live, streams frames
// live.stop();          // stops the camera and closes the socket
// The skeleton is drawn on `canvas` (laid over `video`); `msg` is the server's JSON answer for one frame.
export class LiveClient {
  constructor(options) { this.options = options; }
  async start() { throw new Error('live coaching is not built yet'); }
  stop() {}
}
