"""Fall detection over a whole sequence (`detect_sequence`) and live, frame by frame (`LiveFallDetector`).

Both run the same steps: causal window features -> model probability -> sliding average -> state machine, so
a stream gives the events the offline analysis gives, each alert on the frame it would fire live. The live
detector keeps only the last `features.HISTORY_S` seconds of landmarks (bounded memory and work per frame);
its alert hook is a Python callback, and `webhook_hook(url)` makes one that POSTs the event as JSON.
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from posecoach.analysis.falls.events import SMOOTH_S, FallEvent, FallStateMachine, ProbabilitySmoother, smooth
from posecoach.analysis.falls.features import FEATURES, HISTORY_S, frame_measures, sequence_features, window_features
from posecoach.analysis.falls.model import FallModel
from posecoach.core.sequence import PoseSequence
from posecoach.reports.fall_report import DetectorInfo, FallEventItem, FallReport

THRESHOLD = 0.7
AlertHook = Callable[[FallEvent], None]


def detector_info(model: FallModel, threshold: float = THRESHOLD) -> DetectorInfo:
    return DetectorInfo(model=model.name, features=list(FEATURES), threshold=threshold, smoothing_s=SMOOTH_S)


def event_items(events: list[FallEvent]) -> list[FallEventItem]:
    def value(v: Any) -> Any:
        return (round(v, 4) if math.isfinite(v) else None) if isinstance(v, float) else v

    return [FallEventItem(index=i + 1, lying_s=round(e.lying_s, 4), **{k: value(v) for k, v in asdict(e).items()})
            for i, e in enumerate(events)]


def detect_sequence(seq: PoseSequence, model: FallModel, *, threshold: float = THRESHOLD,
                    per_frame: bool = True) -> FallReport:
    """Falls of the subject of ``seq`` (a pure function of the sequence and the model)."""
    from posecoach.analysis.falls.events import fall_events

    times = seq.timestamps - (seq.timestamps[0] if seq.num_frames else 0.0)
    X = sequence_features(seq)
    proba = model.predict_proba(X)
    smoothed = smooth(times, proba)
    events = fall_events(times, smoothed, X, on=threshold)
    return FallReport(
        **FallReport.header(seq),
        detector=detector_info(model, threshold), fall_detected=bool(events), events=event_items(events),
        times_s=[round(float(t), 4) for t in times] if per_frame else [],
        probabilities=[round(float(p), 4) for p in proba] if per_frame else [],
        smoothed=[round(float(p), 4) for p in smoothed] if per_frame else [])


class LiveFallDetector:
    """The detector on a stream: ``update(landmarks, t)`` per frame returns the smoothed fall probability.

    ``landmarks``: one frame's ``(33, 3|4|5)`` normalised landmarks (NaN or all zeros: nobody), ``t`` seconds.
    ``on_alert(event)`` is called on the frame a fall's alert fires and again on each frame its ``outcome``
    changes (``lost``: not seen since the fall; ``down``: seen again, still down; ``got_up``). Work per frame is
    bounded by the
    kept history (`HISTORY_S` seconds), so latency does not grow with the length of the stream.
    """

    def __init__(self, model: FallModel, *, fps: float, width: float = 1.0, height: float = 1.0,
                 threshold: float = THRESHOLD, on_alert: AlertHook | None = None) -> None:
        self.model, self.fps, self.size = model, float(fps), (float(width), float(height))
        self.on_alert = on_alert
        self._frames: deque[np.ndarray] = deque(maxlen=max(2, round(HISTORY_S * fps)))
        self._smoother = ProbabilitySmoother()
        self.machine = FallStateMachine(on=threshold)
        self.frame = 0
        self._last_t = 0.0

    @property
    def events(self) -> list[FallEvent]:
        return self.machine.events

    def update(self, landmarks: np.ndarray, t: float) -> float:
        lm = np.asarray(landmarks, dtype=np.float64)
        if lm.shape[-1] < 4:
            lm = np.concatenate([lm, np.ones((*lm.shape[:-1], 4 - lm.shape[-1]))], axis=-1)
        lm = lm[..., :4].copy()
        lm[np.all(lm[..., :3] == 0, axis=-1)] = np.nan
        self._frames.append(lm)
        feats = window_features(frame_measures(np.stack(self._frames), *self.size), self.fps)[-1]
        p = float(self.model.predict_proba(feats[None])[0])
        ps = self._smoother.update(t, p)
        event = self.machine.update(self.frame, t, ps, feats)
        self.frame += 1
        self._last_t = t
        if event is not None and self.on_alert is not None:
            self.on_alert(event)
        return ps

    def finish(self) -> FallEvent | None:
        """The stream ended: a drop still waiting for confirmation is alerted as an unconfirmed fall (returned,
        and passed to ``on_alert``)."""
        if not self.frame:
            return None
        event = self.machine.finish(self.frame - 1, self._last_t)
        if event is not None and self.on_alert is not None:
            self.on_alert(event)
        return event


def webhook_hook(url: str, timeout_s: float = 5.0, extra: dict[str, Any] | None = None) -> AlertHook:
    """An alert hook POSTing JSON to ``url`` from a background thread (the detector never waits on the network;
    a failed delivery is dropped): ``{"event": "fall", ...}`` when a fall's alert fires, then ``{"event":
    "fall_update", ...}`` on each change of its ``outcome`` (``lost``, ``down``, ``got_up``; ``outcome_text`` in
    words: a person not seen since the fall is never reported as recovered)."""
    alerted: set[int] = set()

    def send(event: FallEvent) -> None:
        kind = "fall_update" if id(event) in alerted else "fall"
        alerted.add(id(event))
        body = json.dumps({"event": kind, **asdict(event), "outcome_text": event.outcome_text,
                           **(extra or {})}).encode()
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")

        def post() -> None:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(req, timeout=timeout_s).close()

        threading.Thread(target=post, daemon=True).start()

    return send
