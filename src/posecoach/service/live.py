"""The live WebSocket ``/v1/live``: webcam frames in, landmarks and coaching out.

Protocol (one connection = one camera session):

* Query: ``mode=exercise|guide|falls|posture``; ``exercise=auto|NAME`` (modes exercise and guide);
  ``guide=<library guide id>`` (mode guide, one the caller may read); ``model=<posture model id>``
  (mode posture, one the caller may read); ``pose_model=lite|full`` (default ``POSECOACH_LIVE_POSE_MODEL``);
  ``width``, ``height`` (the frames' size, default 640x480), ``fps`` (the camera's rate, for the fall detector).
  Authentication: the web app's session cookie or the ``X-API-Key`` header.
* The server first sends ``{"type": "ready", "mode", "pose_model", "skeleton": {"name", "edges"}}`` (the bones
  of the landmarks it sends, as index pairs: the client draws those), or ``{"type": "error", "message": ...}``
  and closes (code 4401 for authentication, 4400 for bad parameters, 4429 when the user or the server has the most live
  sessions open: ``POSECOACH_LIVE_MAX_SESSIONS_PER_USER``, ``POSECOACH_LIVE_MAX_SESSIONS``).
* Client -> server, binary: 8 bytes little-endian float64, the client's capture time in ms, then one JPEG frame
  of at most ``POSECOACH_LIVE_MAX_FRAME_KB`` and ``POSECOACH_LIVE_MAX_FRAME_PIXELS`` (read from the JPEG header
  before decoding; a frame over them is answered ``{"type": "error", "message": ..., "t"}`` and never decoded).
  Frames beyond ``POSECOACH_LIVE_MAX_FPS`` are answered ``{"type": "dropped", "message", "t"}``, unprocessed.
  After ``POSECOACH_LIVE_MAX_REFUSALS`` refused frames in a row the server closes the socket with 1008
  (`posecoach.service.live_limits`).
* Server -> client, text: ``{"type": "frame", "t": <echoed>, "server_ms": .., "landmarks": [[x, y, vis] x 33]
  | null, ...}`` plus, by mode: ``count, shown, count_confidence, count_note, correction, corrections[], exercise,
  title, confidence, cues[], hold_s`` (exercise); ``probability, alert, events[]`` (falls; each ``{"t": alert
  time, "outcome": "down" | "lost" | "got_up", "outcome_text", "confirmed"}``, lost: not seen since the fall;
  confirmed false: the session ended while a drop waited for confirmation); ``posture,
  count`` (posture); mode guide: the exercise mode's count fields plus ``scored`` (every repetition scored so
  far against the guide: ``index, start_s, end_s, score, meaning, deviation, tempo_ratio``) and ``new`` (those
  scored on this frame: a repetition is scored when it ends, by the offline comparison of its frames,
  `posecoach.analysis.compare.streaming`). One answer per frame, in order.
* Client -> server, text ``{"type": "finish"}`` when the user stops: the server answers ``{"type": "summary",
  ...}`` with the session's final result, decided on the whole session as the offline analysis decides (mode
  exercise: ``count``, ``shown``, ``count_confidence``, ``count_note``, ``corrections``, ``exercise``, ``title``;
  falls: ``events``; posture: ``count``; guide: the count fields, ``reps_scored``, ``mean_score``, ``meaning``,
  ``main_deviation``, ``reps`` as decided on the whole set, each with its ``score``), and keeps the connection
  open until the client closes it. Modes exercise and guide also send the set's repetitions (``reps``:
  ``index, start_s, end_s, duration_s, errors[]``, each error ``title, cue, severity``), ``duration_s``,
  ``target`` and the History entry it saved: ``saved`` (``{"id"}``, the entry of ``GET /v1/live-sessions/{id}``
  and of ``GET /v1/history``, kind ``live``) or ``saved: null`` with ``save_note`` (why not: a read-only key,
  ``save=0``, nothing counted or held). One finish saves one entry; a second finish answers the same entry.
* Query, modes exercise and guide: ``target`` (1-1000 repetitions: the set's target, kept with the entry; the
  page ends the set there), ``save=0`` (do not keep the set in History).
* Mode exercise: ``count`` is the coach's best current estimate (it may step back or jump: use it for the result
  at the end), ``shown`` the count to display, which never decreases; an estimate that falls under the count
  shown, or rises more than one above it at once, is a correction, listed in ``corrections`` (the session's,
  latest last: ``{"frame", "shown", "estimate", "text"}``, the text in plain words to show next to the count);
  ``correction`` is the latest one's text or null (`posecoach.analysis.live.ShownCount` has the exact rule).

The client keeps at most two frames in flight, so the server never queues more than one frame and latency stays
bounded. Decoding, pose estimation and the analysis run in one worker thread per connection (MediaPipe's
video mode is stateful), off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from typing import Any

import numpy as np
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.concurrency import run_in_threadpool

from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.errors import InputError, PoseCoachError
from posecoach.pose.models import MODEL_NAMES
from posecoach.service import library_db, live_alerts, live_keep
from posecoach.service.auth import connection_user
from posecoach.service.db import PostureModel, ReferenceGuide
from posecoach.service.live_limits import Rate, Sessions, frame_refusal
from posecoach.solutions import (
    Comparison,
    ComparisonSession,
    ExerciseAnalysis,
    ExerciseSession,
    FallDetection,
    LiveUpdate,
    PostureClassification,
)
from posecoach.solutions import LiveSession as SolutionSession

router = APIRouter()
log = logging.getLogger("posecoach.live")


class LiveSession:
    """Per-connection state: the pose landmarker and the mode's live session (``analysis``: a solution's
    `posecoach.solutions.LiveSession`, the same ``update`` for every mode), all used from one thread."""

    def __init__(self, mode: str, pose_model: str, analysis: SolutionSession[Any]) -> None:
        from posecoach.pose.landmarker import MediaPipeBackend

        self.mode, self.analysis = mode, analysis
        self.backend = MediaPipeBackend(pose_model, max_people=1, video=True)
        self.t0 = time.monotonic()
        self.keep: Any = None  # (summary) -> {"saved", "save_note"}: keeps the finished set in History (`_run`)
        self.kept: dict[str, Any] | None = None

    def close(self) -> None:
        self.backend.close()

    def process(self, jpeg: bytes) -> dict[str, Any]:
        import cv2

        started = time.perf_counter()
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError("a frame is not a JPEG image")
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        t = time.monotonic() - self.t0
        poses = self.backend(rgb, t)
        lm = poses.landmarks[0] if len(poses) else None
        world = poses.world[0] if len(poses) else None
        out: dict[str, Any] = {"type": "frame", "width": rgb.shape[1], "height": rgb.shape[0],
                               "landmarks": None if lm is None else np.round(lm[:, [0, 1, 3]], 4).tolist()}
        out.update(self.analyse(lm, world, t, rgb.shape[1], rgb.shape[0]))
        out["server_ms"] = round((time.perf_counter() - started) * 1000.0, 1)
        return out

    def finish(self) -> dict[str, Any]:
        """The session's final result (the client stopped): exercise mode decides the count on the whole session
        (`LiveCoach.check_rhythm(final=True)`), as the offline analysis does."""
        done = self.analysis.finish()  # falls: a drop still waiting for confirmation is reported, unconfirmed
        out = {"type": "summary", **_SUMMARY[self.mode](self.analysis, done)}
        if self.mode in ("exercise", "guide"):
            return self._kept({**out, "duration_s": round(time.monotonic() - self.t0, 2)})
        return out

    def _kept(self, summary: dict[str, Any]) -> dict[str, Any]:
        """The set's summary with the History entry it was kept as (kept on the first finish only)."""
        if self.kept is None:
            self.kept = self.keep(summary) if self.keep else {"saved": None, "save_note": "not kept"}
        return {**summary, **self.kept}

    def analyse(self, lm: np.ndarray | None, world: np.ndarray | None, t: float, width: int, height: int
                ) -> dict[str, Any]:
        a = self.analysis
        if isinstance(a, ExerciseSession | ComparisonSession):
            a.coach.size = (float(width), float(height))  # the frames' real size (the camera may differ from asked)
        return _FIELDS[self.mode](a.update(lm, t, world))


def _exercise_fields(u: LiveUpdate[Any]) -> dict[str, Any]:
    s = u.state
    return {**_count_fields(s), "confidence": s.confidence, "rep_frames": s.rep_frames,
            "cues": [{"title": c.title, "cue": c.cue, "severity": c.severity, "rep": c.rep} for c in s.cues],
            "correction": s.correction.text if s.correction else None}


def _guide_fields(u: LiveUpdate[Any]) -> dict[str, Any]:
    g = u.state
    return {**_count_fields(g.coach), "scored": [r.to_dict() for r in g.scored], "new": [r.to_dict() for r in g.new]}


def _falls_fields(u: LiveUpdate[Any]) -> dict[str, Any]:
    events = list(u.state.events)
    return {"probability": round(float(u.state.probability), 4), "alert": bool(events),
            "events": _fall_events(events)}


def _posture_fields(u: LiveUpdate[Any]) -> dict[str, Any]:
    return {"posture": u.state.posture, "count": u.count}


#: What the socket sends after a frame, by mode, from the session's `LiveUpdate`.
_FIELDS: dict[str, Callable[[LiveUpdate[Any]], dict[str, Any]]] = {
    "exercise": _exercise_fields, "guide": _guide_fields, "falls": _falls_fields, "posture": _posture_fields}

#: ... and in the session's summary, from the session and its final `LiveUpdate`.
_SUMMARY: dict[str, Callable[[Any, LiveUpdate[Any]], dict[str, Any]]] = {
    "exercise": lambda a, u: {**_count_fields(u.state), "reps": a.coach.rep_items()},
    "guide": lambda a, u: {**_count_fields(u.state.coach), **a.coach.summary(),
                           "title": f"{u.state.coach.title} · guide {a.coach.guide_name}"},
    "falls": lambda a, u: {"events": _fall_events(list(u.state.events))},
    "posture": lambda a, u: {"count": u.count},
}


def _count_fields(s: Any) -> dict[str, Any]:
    """The live coach's count as the socket sends it, on every frame and in the summary (``s``: a `LiveState`)."""
    return {"count": s.count, "shown": s.shown, "count_confidence": round(s.count_confidence, 3),
            "count_note": s.count_note or None, "exercise": s.exercise, "title": s.title,
            "hold_s": None if s.hold_s is None else round(s.hold_s, 1),
            "corrections": [{"frame": c.frame, "shown": c.shown, "estimate": c.estimate, "text": c.text}
                            for c in s.corrections]}


def _fall_events(events: list[Any]) -> list[dict[str, Any]]:
    """The live fall detector's events as the socket sends them: alert time and what became of the person."""
    return [{"t": round(e.alert_s, 2), "outcome": e.outcome, "outcome_text": e.outcome_text,
             "confirmed": e.confirmed} for e in events]


async def _control(text: str, session: LiveSession, loop: asyncio.AbstractEventLoop,
                   executor: ThreadPoolExecutor) -> dict[str, Any]:
    """A text message from the client: ``{"type": "finish"}`` -> the session's summary; anything else an error."""
    try:
        kind = json.loads(text).get("type")
    except (ValueError, AttributeError):
        kind = None
    if kind != "finish":
        return {"type": "error", "message": 'a text message must be {"type": "finish"}; frames are binary messages'}
    try:
        return await loop.run_in_executor(executor, session.finish)
    except Exception:  # a bug: say so, keep the session, log the traceback
        log.exception("live summary failed")
        return {"type": "error", "message": "the session's summary could not be made (see the server log)"}


def _caller(ws: WebSocket) -> Any:
    return connection_user(ws)


def _target(params: dict[str, str]) -> int | None:
    raw = params.get("target") or ""
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise InputError("target must be a whole number of repetitions from 1 to 1000")
    return int(raw)


def _size(params: dict[str, str]) -> tuple[float, float]:
    try:
        width, height = float(params.get("width") or 640), float(params.get("height") or 480)
    except ValueError:
        raise InputError("width and height must be numbers (the camera frame's size)") from None
    if not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise InputError("width and height must be between 16 and 4096 pixels")
    return width, height


def _analysis(ws: WebSocket, user: Any, mode: str, params: dict[str, str]) -> SolutionSession[Any]:
    """The mode's live session (a solution's ``live()``), built from the query parameters; InputError with the
    reason when they are bad."""
    width, height = _size(params)
    if mode == "exercise":
        return ExerciseAnalysis(params.get("exercise") or None).live(width=width, height=height)
    if mode == "falls":
        try:
            fps = min(60.0, max(5.0, float(params.get("fps") or 30.0)))
        except ValueError:
            raise InputError("fps must be a number (the camera's frame rate)") from None
        return FallDetection().live(fps=fps, width=width, height=height)
    if mode == "guide":
        return _guided(ws, user, params, width, height)
    if mode == "posture":
        from posecoach.analysis.posture import PostureClassifier

        row = _ready_row(ws, user, PostureModel, params.get("model") or "",
                         "no such posture model (choose one of yours)", "that posture model is not trained yet")
        with ws.app.state.storage.local_copy(row.storage_key) as path:
            clf = PostureClassifier.load(path)
        return PostureClassification(clf).live(width=width, height=height)
    raise InputError(f"unknown mode {mode!r}: use exercise, guide, falls or posture")


def _guided(ws: WebSocket, user: Any, params: dict[str, str], width: float, height: float) -> SolutionSession[Any]:
    """Mode guide: a guide of the library the caller may read, followed live (`Comparison.live`)."""
    from posecoach.analysis.compare import Guide
    from posecoach.core.sequence import PoseSequence

    row = _ready_row(ws, user, ReferenceGuide, params.get("guide") or "",
                     "no such guide (choose one of the library's)", "that guide is not ready yet")
    with ws.app.state.storage.local_copy(row.storage_key) as path:
        seq = PoseSequence.load(path)
    return Comparison(seq, guide=Guide.model_validate_json(row.guide)).live(
        exercise=params.get("exercise") or None, width=width, height=height)


def _ready_row(ws: WebSocket, user: Any, model: type[Any], row_id: str, missing: str, not_ready: str) -> Any:
    """A library row (guide, posture model) the caller may read whose file is stored; InputError otherwise."""
    made = library_db.made_row(ws.app.state.db, user, model, row_id) if row_id else None
    if made is None:
        raise InputError(missing)
    if made.row.storage_key is None:
        raise InputError(not_ready)
    return made.row


def ready_message(mode: str, pose_model: str) -> dict[str, Any]:
    """The first message of a session: its mode and pose model, and the skeleton the frames' landmarks follow
    (its name and bones as index pairs), so a client draws what the server sends without a copy of its own."""
    return {"type": "ready", "mode": mode, "pose_model": pose_model,
            "skeleton": {"name": BLAZEPOSE_33.name, "edges": [list(e) for e in BLAZEPOSE_33.edges]}}


async def _refuse(ws: WebSocket, code: int, message: str) -> None:
    await ws.accept()
    await ws.send_text(json.dumps({"type": "error", "message": message}))
    await ws.close(code=code, reason=message[:120])


@router.websocket("/v1/live")
async def live(ws: WebSocket) -> None:
    user = await run_in_threadpool(_caller, ws)  # a database query: off the event loop
    if user is None:
        await _refuse(ws, 4401, "sign in first: a valid API key is required")
        return
    settings = ws.app.state.settings
    sessions = _sessions(ws)
    refusal = sessions.enter(user.id, settings.live_max_sessions_per_user, settings.live_max_sessions)
    if refusal:  # before the pose model is loaded
        await _refuse(ws, 4429, refusal)
        return
    try:
        await _run(ws, user, settings)
    finally:
        sessions.leave(user.id)


def _sessions(ws: WebSocket) -> Sessions:
    state = ws.app.state
    if getattr(state, "live_sessions", None) is None:
        state.live_sessions = Sessions()
    return state.live_sessions  # type: ignore[no-any-return]


async def _run(ws: WebSocket, user: Any, settings: Any) -> None:
    params = dict(ws.query_params)
    mode = params.get("mode", "exercise")
    pose_model = params.get("pose_model") or settings.live_pose_model
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="posecoach-live")
    loop = asyncio.get_running_loop()
    session: LiveSession | None = None
    try:
        if pose_model not in MODEL_NAMES:
            raise InputError(f"unknown pose model {pose_model!r}: use {', '.join(MODEL_NAMES)}")
        analysis = await loop.run_in_executor(executor, _analysis, ws, user, mode, params)
        target = _target(params) if mode in ("exercise", "guide") else None
        session = await loop.run_in_executor(executor, LiveSession, mode, pose_model, analysis)
        if mode in ("exercise", "guide"):
            session.keep = live_keep.keeper(ws, user, target, params.get("save") != "0")
        if mode == "falls":  # each alert kept in the alert log and sent to the user's webhook
            analysis.on_alert = live_alerts.hook(ws.app.state.db, user.id, settings.alert_webhook_allow_private)
    except (InputError, PoseCoachError) as exc:
        executor.shutdown(wait=False)
        await _refuse(ws, 4400, str(exc))
        return
    except Exception:  # a bug or a broken model file: the reason is in the server log, not in the browser
        log.exception("live session failed to start")
        executor.shutdown(wait=False)
        await _refuse(ws, 1011, "the live session could not start (see the server log)")
        return
    await ws.accept()
    await ws.send_text(json.dumps(ready_message(mode, pose_model)))
    try:
        await _frames(ws, session, loop, executor, settings)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        with suppress(Exception):  # the socket is gone; closing the landmarker must not fail the handler
            await loop.run_in_executor(executor, session.close)
        executor.shutdown(wait=False)


async def _frames(ws: WebSocket, session: LiveSession, loop: asyncio.AbstractEventLoop, executor: ThreadPoolExecutor,
                  settings: Any) -> None:
    """Answer the client's messages until it leaves: frames within the caps (`live_limits`) are decoded and
    analysed in the session's thread; the others are refused with the reason, unread; a client refused
    ``live_max_refusals`` times in a row is disconnected (1008)."""
    max_bytes, rate, refused = int(settings.live_max_frame_kb * 1024), Rate(settings.live_max_fps), 0
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            out = await _control(message["text"], session, loop, executor)
        elif (data := message.get("bytes")) is None or len(data) < 9:
            out = {"type": "error", "message": "a frame is a binary message: 8 bytes of time, then a JPEG of at "
                   f"most {max_bytes // 1024} KiB"}
        else:
            (client_t,) = struct.unpack("<d", data[:8])
            out = await _frame(data[8:], session, loop, executor, rate, settings)
            out["t"] = client_t
        refused = refused + 1 if out["type"] in ("error", "dropped") else 0
        await ws.send_text(json.dumps(out))
        if refused >= settings.live_max_refusals:
            reason = f"{refused} frames in a row were refused (the last: {out['message']})"
            await ws.close(code=1008, reason=reason[:120])
            return


async def _frame(jpeg: bytes, session: LiveSession, loop: asyncio.AbstractEventLoop, executor: ThreadPoolExecutor,
                 rate: Rate, settings: Any) -> dict[str, Any]:
    """One frame's answer: refused unread when over the caps, else the session's analysis of it."""
    refusal = frame_refusal(jpeg, int(settings.live_max_frame_kb * 1024), settings.live_max_frame_pixels)
    if refusal:
        return {"type": "error", "message": refusal}
    if not rate.allow():
        return {"type": "dropped", "message": f"frame dropped: more than {settings.live_max_fps:g} frames a second"}
    try:
        return await loop.run_in_executor(executor, session.process, jpeg)
    except InputError as exc:
        return {"type": "error", "message": str(exc)}
    except Exception:  # a bug or a pose-model failure: say so, keep the session, log the traceback
        log.exception("live frame failed")
        return {"type": "error", "message": "this frame could not be processed (see the server log)"}
