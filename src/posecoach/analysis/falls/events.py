"""From per-frame fall probability to fall events: a causal sliding average and a small state machine.

`ProbabilitySmoother` averages the last `SMOOTH_S` seconds of probabilities. `FallStateMachine` watches the
smoothed probability and the body's posture frame by frame:

* **watching** -> **fallen** when the smoothed probability reaches `on` while the body is low (head less than
  `LOW_ABOVE` torso lengths above the hips, or the trunk tilted past `LOW_TRUNK` but not upside down: a
  squat's bottom or a pose-estimation flip never alerts), and only if the body was upright (head
  `UPRIGHT_BEFORE` torso lengths over the hips, trunk within `UPRIGHT_TRUNK` of vertical) in the last 3 s
  and low for less than `LOW_BEFORE` of the last 2 s: who was already down (plank, push-ups, lying in bed)
  does not fall, unless the hips just dropped `DROP_FROM_LOW` torso lengths (off a chair, sofa or bed).
  Where the recent past casts doubt (`PostureHistory.doubtful`: a skeleton seen upside down in
  the last `FLIP_S`, i.e. a pose estimate not to trust, or `REPS` dips out of upright and back in the last
  `REPS_S`, i.e. squats, push-ups or other repeated exercise) the drop is held as pending and the alert fires
  only if the body has not come back upright `CONFIRM_S` later (a fall stays down; a squat's or push-up's bottom
  comes back up). This is the alert. A sure drop (probability `on`, upright before) of a body not yet seen low
  also alerts when the pose is then lost (unseen for more than `LOST_S`, within `LOST_DROP_S`) before the body
  is seen low or upright again: a fast fall whose pose the estimator loses on the way down (two held-out Le2i
  falls, YOLOv8-pose) is reported as "not seen since the fall"; none of the 236 non-fall videos alerts this way,
  even with a model that never saw them. The fall's start is where
  the run of probability above `onset` began (at most `MAX_FALL_S` before), the impact the frame of the
  fastest drop of the hips within the run;
* **fallen** -> **watching** once the person has been upright for `RECOVER_S` (got up) or after the
  probability stayed below `off` for `RELEASE_S` while the body was seen and not lying (a false start, or
  sitting up); the event ends there, or at the last frame. While the event is open its ``outcome`` says what a
  carer needs to know: ``down`` (seen, not up), ``lost`` (the pose has not been seen since, for more than
  `LOST_S`: lying still, hidden, out of the picture) or ``got_up``. Losing the pose never ends an alarm: with
  no body there is no evidence of getting up, so a person not seen since the fall stays "not seen since the
  fall", however low the probability (the model sees nothing). Each change of ``outcome`` is reported
  (`FallStateMachine.update` returns the event). Lying duration runs from impact to getting up (or the end).
A drop still pending confirmation when the stream ends (the body had not come back up; `FallStateMachine.finish`)
is reported too, as an **unconfirmed** fall (``confirmed`` False) with its alert at the end: the evidence was
cut short, which a carer must hear rather than silence (none of the 236 non-fall videos of ``../shared/data``
ends that way with the shipped model; two held-out Le2i falls do).

The same object serves offline analysis (`fall_events` feeds it a whole sequence) and the live detector.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from posecoach.analysis.falls.features import FEATURES

SMOOTH_S = 0.3
MAX_FALL_S = 2.0
RECOVER_S = 1.0
RELEASE_S = 2.0
LOW_ABOVE, LOW_TRUNK, INVERTED = 0.7, 45.0, 135.0  # head less than 0.7 torso above the hips, or trunk tilted
_ABOVE, _TRUNK, _HIP_V = FEATURES.index("head_above_hip"), FEATURES.index("trunk_deg"), FEATURES.index("hip_v")
_UP_BEFORE, _TRUNK_MIN = FEATURES.index("upright_before"), FEATURES.index("trunk_min_3s")
_LOW_SHARE, _HIP_DROP = FEATURES.index("low_share"), FEATURES.index("hip_drop")
LOW_BEFORE = 0.6  # ...and not low for most of the last 2 s (a fall is a change, not a posture)
DROP_FROM_LOW = 0.8  # ...or the hips dropped this many torso lengths in the last 2 s (off a chair, sofa or bed)
UPRIGHT_BEFORE, UPRIGHT_TRUNK = 1.1, 15.0  # an alert needs the body upright (head over hips) in the last 3 s
UP_ABOVE, UP_TRUNK = 0.9, 35.0  # upright again: head 0.9 torso over the hips, trunk within 35 degrees
FLIP_S = 10.0  # an upside-down skeleton this recently: the pose estimate of this body is not to be trusted
STEADY_S = 0.3  # a posture counts once held this long
REPS_S, REPS = 10.0, 2  # 2 dips (out of upright, then back up) in 10 s: exercise
CONFIRM_S = 2.0  # ...then an alert waits until the body has stayed down (not upright again) this long
LOST_S = 0.5  # an open fall whose body has not been seen this long is "lost" (not seen since the fall)
LOST_DROP_S = 1.5  # a sure drop of a body not (yet) low alerts if the pose is lost within this long, body unseen
#: What became of a fall, as its event says while open and at its end.
DOWN, LOST, GOT_UP = "down", "lost", "got_up"
OUTCOME_TEXT = {DOWN: "still down", LOST: "not seen since the fall", GOT_UP: "got up"}
#: Added to the outcome in words of an unconfirmed fall (`FallStateMachine.finish`).
UNCONFIRMED_TEXT = " (unconfirmed: the video ended before the drop was confirmed)"


@dataclass
class FallEvent:
    start_frame: int
    alert_frame: int
    impact_frame: int
    end_frame: int
    start_s: float
    alert_s: float
    impact_s: float
    end_s: float
    confidence: float
    recovered: bool
    outcome: str = DOWN  # DOWN, LOST or GOT_UP (see the module docstring)
    seen_s: float = float("nan")  # the last time the body was seen during the event
    confirmed: bool = True  # False: the stream ended while the drop waited for confirmation (`finish`)

    @property
    def lying_s(self) -> float:
        return max(0.0, self.end_s - self.impact_s)

    @property
    def outcome_text(self) -> str:
        """The outcome in words, for a carer."""
        text = OUTCOME_TEXT.get(self.outcome, self.outcome)
        return text if self.confirmed else text + UNCONFIRMED_TEXT


class ProbabilitySmoother:
    """Causal mean of the probabilities of the last ``window_s`` seconds."""

    def __init__(self, window_s: float = SMOOTH_S) -> None:
        self.window_s = window_s
        self._buf: deque[tuple[float, float]] = deque()
        self._sum = 0.0

    def update(self, t: float, p: float) -> float:
        self._buf.append((t, p))
        self._sum += p
        while self._buf and self._buf[0][0] <= t - self.window_s:
            self._sum -= self._buf.popleft()[1]
        return self._sum / len(self._buf)


def smooth(times: np.ndarray, proba: np.ndarray, window_s: float = SMOOTH_S) -> np.ndarray:
    s = ProbabilitySmoother(window_s)
    return np.array([s.update(float(t), float(p)) for t, p in zip(times, proba, strict=True)])


def is_upright(above: float, trunk: float) -> bool:
    """Upright (again): the head `UP_ABOVE` torso lengths over the hips and the trunk within `UP_TRUNK` of
    vertical (False when unknown)."""
    return bool(np.isfinite(above) and above > UP_ABOVE and trunk < UP_TRUNK)


def may_alert(features: np.ndarray) -> np.ndarray:
    """Per row of window features (``(N, len(FEATURES))`` or one row): could the state machine raise an alert
    there? The body was upright in the last 3 s (head `UPRIGHT_BEFORE` torso lengths over the hips, trunk within
    `UPRIGHT_TRUNK`) and low for less than `LOW_BEFORE` of the last 2 s, or the hips just dropped `DROP_FROM_LOW`
    torso lengths. Elsewhere no probability raises an alert; the model is trained on these rows only
    (`model.TrainConfig.gate`), so lying in bed, planks or a squat's bottom do not teach it that a low body is
    no fall."""
    f = np.atleast_2d(np.asarray(features, dtype=np.float64))
    with np.errstate(invalid="ignore"):
        return (((f[:, _UP_BEFORE] >= UPRIGHT_BEFORE) & (f[:, _TRUNK_MIN] < UPRIGHT_TRUNK)
                 & (f[:, _LOW_SHARE] < LOW_BEFORE)) | (f[:, _HIP_DROP] >= DROP_FROM_LOW))


@dataclass
class PostureHistory:
    """What the body did lately, from postures held at least `STEADY_S` (single-frame pose glitches do not
    count): when the skeleton was last steadily upside down, whether the body is steadily upright, and when it
    came back upright from a dip (steadily upright, then steadily not, then upright again). Repeated dips are
    exercise (squats, push-ups, bending down); a fall does not come back up."""

    inverted_s: float = float("-inf")
    returns: deque[float] = field(default_factory=deque)
    up: bool | None = None  # steadily upright (None: not known yet)
    changed_s: float = float("-inf")  # when `up` last changed
    _was_up: bool = False  # steadily upright once (a clip that starts low has no dip to count)
    _run: tuple[bool, float] | None = None  # the current upright / not-upright run and when it began
    _flip_since: float | None = None

    def update(self, t: float, above: float, trunk: float) -> bool | None:
        """Record one frame; returns `up`."""
        if not (np.isfinite(above) and np.isfinite(trunk)):
            return self.up
        self._flip_since = (self._flip_since if self._flip_since is not None else t) if trunk >= INVERTED else None
        if self._flip_since is not None and t - self._flip_since >= STEADY_S:
            self.inverted_s = t
        upright = is_upright(above, trunk)
        if self._run is None or self._run[0] != upright:
            self._run = (upright, t)
        if t - self._run[1] >= STEADY_S and self.up != upright:
            if upright and self.up is False and self._was_up:
                self.returns.append(t)
            self.up, self.changed_s = upright, t
            self._was_up = self._was_up or upright
        while self.returns and self.returns[0] < t - REPS_S:
            self.returns.popleft()
        return self.up

    def doubtful(self, t: float) -> bool:
        """A recent pose flip or repeated dips: a drop now needs confirming (the body stays down)."""
        return t - self.inverted_s <= FLIP_S or len(self.returns) >= REPS


@dataclass
class FallStateMachine:
    on: float = 0.7
    onset: float = 0.2
    off: float = 0.2
    events: list[FallEvent] = field(default_factory=list)
    _hist: deque[tuple[int, float, float, float]] = field(default_factory=deque)  # frame, t, p, hip_v
    _active: FallEvent | None = None
    _upright_since: float | None = None
    _calm_since: float | None = None
    _impact_v: float = 0.0
    _posture: PostureHistory = field(default_factory=PostureHistory)
    _pending: FallEvent | None = None  # a drop waiting for confirmation (see `PostureHistory.doubtful`)
    _lost_drop: FallEvent | None = None  # a sure drop of a body not seen low: alerts if the pose is lost next
    _seen_s: float = float("-inf")

    def update(self, frame: int, t: float, p: float, features: np.ndarray) -> FallEvent | None:
        """Feed one frame; returns the event on the frame its alert fires and on each frame its ``outcome``
        changes (lost, seen down again, got up), else None."""
        hip_v = float(features[_HIP_V]) if np.isfinite(features[_HIP_V]) else 0.0
        self._hist.append((frame, t, p, hip_v))
        while self._hist and self._hist[0][1] < t - MAX_FALL_S - 1.0:
            self._hist.popleft()
        above, trunk = features[_ABOVE], features[_TRUNK]
        low = bool(np.isfinite(above) and (above < LOW_ABOVE or trunk > LOW_TRUNK) and trunk < INVERTED)
        steady_up = self._posture.update(t, float(above), float(trunk))
        seen = bool(np.isfinite(above) and np.isfinite(trunk))
        if seen:
            self._seen_s = t
        ev = self._active
        if ev is None:
            return self._watch(frame, t, p, features, low, bool(steady_up), seen)
        upright = is_upright(above, trunk)
        ev.confidence = max(ev.confidence, p)
        ev.end_frame, ev.end_s = frame, t
        if ev.impact_frame == ev.alert_frame and frame <= ev.alert_frame + 15 and hip_v > self._impact_v:
            self._impact_v = hip_v
            ev.impact_frame, ev.impact_s = frame, t
        before = ev.outcome
        if not seen:  # no body, no evidence either way: the alarm stands, the clocks of getting up stop
            self._upright_since = self._calm_since = None
            if t - ev.seen_s > LOST_S:
                ev.outcome = LOST
            return ev if ev.outcome != before else None
        ev.seen_s, ev.outcome = t, DOWN
        self._upright_since = (self._upright_since if self._upright_since is not None else t) if upright else None
        lying = low
        self._calm_since = ((self._calm_since if self._calm_since is not None else t)
                            if p < self.off and not lying else None)
        got_up = self._upright_since is not None and t - self._upright_since >= RECOVER_S
        released = self._calm_since is not None and t - self._calm_since >= RELEASE_S
        if got_up or released:
            ev.recovered, ev.outcome = True, GOT_UP
            self._close()
        return ev if ev.outcome != before else None

    def finish(self, frame: int, t: float) -> FallEvent | None:
        """The stream ended at ``frame`` (time ``t``): a drop still waiting for confirmation becomes an unconfirmed
        fall, alerted now (returned); else None."""
        pending = self._pending
        if pending is None or self._active is not None:
            return None
        ev = self._raise(pending, frame, t, pending.confidence)
        ev.confirmed = False
        return ev

    def _watch(self, frame: int, t: float, p: float, features: np.ndarray, low: bool,
               upright: bool, seen: bool) -> FallEvent | None:
        lost = self._lost_drop
        if lost is not None:
            if not seen and t - self._seen_s > LOST_S:  # the body vanished right after a sure drop
                self._lost_drop = None
                ev = self._raise(lost, frame, t, lost.confidence)
                ev.outcome, ev.seen_s = LOST, self._seen_s
                return ev
            if seen and (low or t - lost.alert_s > LOST_DROP_S):
                self._lost_drop = None
        pending = self._pending
        if pending is not None:
            if upright and self._posture.changed_s > pending.alert_s:  # steadily back up within CONFIRM_S:
                self._pending = None  # a squat's or push-up's bottom, not a fall
            elif t - pending.alert_s >= CONFIRM_S:
                return self._raise(pending, frame, t, p)
            return None
        was_up = bool(may_alert(features)[0])
        if p >= self.on and was_up and seen and not low and self._lost_drop is None:
            self._lost_drop = self._drop(frame, t, p)
        if not (p >= self.on and low and was_up):
            return None
        ev = self._drop(frame, t, p)
        if self._posture.doubtful(t):
            self._pending = ev
            return None
        return self._raise(ev, frame, t, p)

    def _raise(self, ev: FallEvent, frame: int, t: float, p: float) -> FallEvent:
        ev.alert_frame = ev.end_frame = frame
        ev.alert_s = ev.end_s = ev.seen_s = t
        ev.confidence = max(ev.confidence, p)
        self._pending = None
        self._active = ev
        self.events.append(ev)
        return ev

    def _drop(self, frame: int, t: float, p: float) -> FallEvent:
        """The event of a drop seen at ``frame``: its start and impact from the probability and hip history."""
        hist = list(self._hist)
        i = len(hist) - 1
        while i > 0 and hist[i - 1][2] >= self.onset and hist[i - 1][1] >= t - MAX_FALL_S:
            i -= 1
        run = hist[i:]
        k = max(range(len(run)), key=lambda j: run[j][3])
        ev = FallEvent(start_frame=run[0][0], alert_frame=frame, impact_frame=run[k][0], end_frame=frame,
                       start_s=run[0][1], alert_s=t, impact_s=run[k][1], end_s=t, confidence=p, recovered=False)
        self._impact_v = run[k][3]
        return ev

    def _close(self) -> None:
        self._active = None
        self._upright_since = self._calm_since = None


def fall_events(times: np.ndarray, smoothed: np.ndarray, features: np.ndarray, on: float = 0.7) -> list[FallEvent]:
    """Events of a whole sequence: the state machine fed every frame."""
    sm = FallStateMachine(on=on)
    for i, (t, p) in enumerate(zip(times, smoothed, strict=True)):
        sm.update(i, float(t), float(p), features[i])
    if len(times):
        sm.finish(len(times) - 1, float(times[-1]))
    return sm.events
