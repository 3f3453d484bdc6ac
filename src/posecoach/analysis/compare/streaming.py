"""Following a guide live: every repetition is scored against the guide as soon as it ends (issue 28).

The streaming form of the comparison. The live coach (`analysis.live.LiveCoach`) counts the attempt's repetitions
frame by frame; when a repetition has ended (its end lies `SETTLE_S` behind the latest frame), its frames are
compared with one repetition of the guide by the offline comparison itself (`compare_prepared`), so a repetition's
live score is exactly the offline comparison of the same frames (`score_repetition`).

Pure: no I/O; the caller feeds landmarks and times.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posecoach.analysis.compare.calibration import score_meaning
from posecoach.analysis.compare.features import SCORED_ANGLES
from posecoach.analysis.compare.guide import Guide
from posecoach.analysis.compare.pipeline import Prepared, compare_prepared, prepare
from posecoach.analysis.live import LiveCoach, LiveState
from posecoach.core.sequence import PoseSequence

#: A repetition is scored once its end lies this far behind the latest frame (it may still move on along the
#: rest position until then).
SETTLE_S = 0.3


@dataclass(frozen=True)
class RepFeedback:
    """One repetition of the attempt scored against the guide: its time in the session, the calibrated 0-100
    (None when nothing could be compared), what the score means, the main deviation in words, and its tempo."""

    index: int
    start_s: float
    end_s: float
    score: float | None
    meaning: str
    deviation: str | None
    tempo_ratio: float | None
    rom_joint: str | None = None  # the joint whose range of motion is measured (`main_joint`)
    rom_deg: float | None = None  # its range over the repetition, degrees

    def to_dict(self) -> dict[str, object]:
        return {"index": self.index, "start_s": round(self.start_s, 2), "end_s": round(self.end_s, 2),
                "duration_s": round(self.end_s - self.start_s, 2), "score": self.score, "meaning": self.meaning,
                "deviation": self.deviation, "tempo_ratio": self.tempo_ratio, "rom_joint": self.rom_joint,
                "rom_deg": self.rom_deg, "errors": []}


def guide_repetition(guide_seq: PoseSequence, guide: Guide | None = None) -> tuple[Prepared, Guide]:
    """The guide's one repetition that every attempt repetition is compared with, prepared once: the whole guide
    when it shows one repetition (``guide.reps == 1``, or one is counted), else its first counted repetition.
    Returns it with the guide's description set to one repetition."""
    whole = prepare(guide_seq, role="guide", mirror=False)
    one = (guide or Guide(name="guide")).model_copy(update={"reps": 1})
    if (guide is not None and guide.reps == 1) or len(whole.reps) < 2:
        return whole, one
    a, b = whole.reps[0]
    return prepare(guide_seq.frames(a, b + 1), role="guide", mirror=False, reps=False), one


def _range_deg(angle: np.ndarray) -> float | None:
    seen = angle[np.isfinite(angle)]
    return round(float(seen.max() - seen.min()), 1) if len(seen) >= 2 else None


def _mean(values: list[float | None]) -> float | None:
    seen = [v for v in values if v is not None]
    return round(float(np.mean(seen)), 1) if seen else None


def main_joint(reference: Prepared, guide: Guide | None = None) -> str | None:
    """The joint whose range of motion a repetition reports: the guide's first joint that matters, else the joint
    that moves most in the guide's repetition (None when no angle is seen)."""
    if guide is not None and guide.joints:
        return guide.joints[0]
    ranges = {name: _range_deg(angle) for name, angle in reference.features.angles.items() if name in SCORED_ANGLES}
    seen = {k: v for k, v in ranges.items() if v is not None}
    return max(seen, key=lambda k: seen[k]) if seen else None


def score_repetition(reference: Prepared, attempt: PoseSequence, guide: Guide | None = None, *, index: int = 1,
                     t0: float | None = None) -> RepFeedback:
    """Score one repetition's frames (``attempt``) against the guide's repetition (`guide_repetition`) by the
    offline comparison. ``t0``: the session's start (times are reported from it; default the attempt's start)."""
    prepared = prepare(attempt, reps=False)
    report = compare_prepared(reference, prepared, guide=guide)
    start = float(attempt.timestamps[0]) if t0 is None else t0
    joint = main_joint(reference, guide)
    mirrored = report.alignment.mirrored and prepared.mirrored is not None
    angles = (prepared.mirrored if mirrored else prepared.features).angles  # type: ignore[union-attr]
    return RepFeedback(index=index, start_s=float(attempt.timestamps[0]) - start,
                       end_s=float(attempt.timestamps[-1]) - start, score=report.score,
                       meaning=score_meaning(report.score) if report.score is not None else "not measurable",
                       deviation=report.deviations[0].text if report.deviations else None,
                       tempo_ratio=report.tempo.ratio if report.tempo else None, rom_joint=joint,
                       rom_deg=_range_deg(angles[joint]) if joint in angles else None)


@dataclass
class GuidedState:
    """What a screen shows after a frame: the live coach's state, every repetition scored so far, and the ones
    scored on this frame."""

    coach: LiveState
    scored: list[RepFeedback]
    new: list[RepFeedback] = field(default_factory=list)


class GuidedCoach:
    """Feed `update(landmarks, world, t)` per frame (as `LiveCoach`); each repetition is scored against the guide
    when it ends. ``exercise``: the catalogue exercise the guide shows, or None to recognise it."""

    def __init__(self, guide_seq: PoseSequence, guide: Guide | None = None, *, exercise: str | None = None,
                 width: float = 1.0, height: float = 1.0) -> None:
        self.reference, self.guide = guide_repetition(guide_seq, guide)
        self.guide_name = guide.name if guide is not None else "guide"
        self.coach = LiveCoach(exercise, width=width, height=height)
        self.scored: list[RepFeedback] = []
        self._landmarks: list[np.ndarray] = []
        self._world: list[np.ndarray] = []
        self._times: list[float] = []
        self._scored_until = -1  # the last frame of the latest repetition scored
        self._by_span: dict[tuple[int, int], RepFeedback] = {}  # scores by frames [start, end]

    @property
    def size(self) -> tuple[float, float]:
        return self.coach.size

    @size.setter
    def size(self, value: tuple[float, float]) -> None:
        self.coach.size = value

    def update(self, landmarks: np.ndarray | None, world: np.ndarray | None, t: float) -> GuidedState:
        if self._times and t <= self._times[-1]:
            raise ValueError(f"frame times must increase: {t} after {self._times[-1]}")
        state = self.coach.update(landmarks, world, t)
        self._append(landmarks, world, float(t))
        new = self._score_ended(state.shown)
        return GuidedState(state, list(self.scored), new)

    def finish(self) -> GuidedState:
        """The session is over: the count is decided on the whole session (as offline) and its repetitions, as
        decided, are the ones scored (a repetition scored live over the same frames keeps its score; one the
        final decision dropped or cut otherwise is replaced). ``new``: the repetitions scored only now."""
        self.coach.check_rhythm(final=True)
        live = {id(fb) for fb in self.scored}
        scored = (self._score(rep.start_frame, rep.end_frame, k)
                  for k, rep in enumerate(self.coach.result().reps, start=1))
        self.scored = [fb for fb in scored if fb is not None]
        return GuidedState(self.coach.state(), list(self.scored), [fb for fb in self.scored if id(fb) not in live])

    def sequence(self, start: int = 0, stop: int | None = None) -> PoseSequence:
        """The frames seen ``[start, stop)`` as a pose sequence (what `score_repetition` is given)."""
        stop = len(self._times) if stop is None else stop
        times = np.asarray(self._times[start:stop], dtype=np.float64)
        fps = 1.0 / float(np.median(np.diff(self._times))) if len(self._times) > 1 else 30.0
        lm = np.stack(self._landmarks[start:stop])[:, None]
        world = np.stack(self._world[start:stop])[:, None]
        return PoseSequence(landmarks=lm, world=world, timestamps=times, fps=fps, source={"live": True})

    def summary(self) -> dict[str, object]:
        """Repetitions scored, their mean score and the lowest-scoring repetition's deviation, for a set's end."""
        scores = [r.score for r in self.scored if r.score is not None]
        worst = min((r for r in self.scored if r.score is not None), key=lambda r: r.score or 0.0, default=None)
        return {"reps_scored": len(self.scored), "mean_score": round(float(np.mean(scores)), 1) if scores else None,
                "meaning": score_meaning(float(np.mean(scores))) if scores else "not measurable",
                "main_deviation": worst.deviation if worst else None,
                "rom_joint": self.scored[0].rom_joint if self.scored else None,
                "mean_rom_deg": _mean([r.rom_deg for r in self.scored]),
                "reps": [r.to_dict() for r in self.scored]}

    def _append(self, landmarks: np.ndarray | None, world: np.ndarray | None, t: float) -> None:
        lm = np.full((33, 5), np.nan, dtype=np.float32)
        if landmarks is not None:
            given = np.asarray(landmarks, dtype=np.float32)
            lm[:, :min(given.shape[-1], 5)] = given[:, :5]
            if given.shape[-1] < 5:  # presence / visibility of 1 where not given
                lm[:, given.shape[-1]:] = 1.0
            lm[~np.isfinite(lm[:, :2]).all(axis=1)] = np.nan
        w = np.full((33, 3), np.nan, dtype=np.float32) if world is None else np.asarray(world, np.float32)[:, :3]
        self._landmarks.append(lm)
        self._world.append(w)
        self._times.append(t)

    def _score(self, start: int, end: int, index: int) -> RepFeedback | None:
        """Frames ``[start, end]`` scored as repetition ``index`` (once per span and index)."""
        known = self._by_span.get((start, end))
        if known is not None and known.index == index:
            return known
        attempt = self.sequence(start, end + 1)
        if len(attempt.timestamps) < 2 or attempt.detection_rate() == 0:
            return None
        fb = score_repetition(self.reference, attempt, self.guide, index=index, t0=self._times[0])
        self._by_span[(start, end)] = fb
        return fb

    def _score_ended(self, shown: int) -> list[RepFeedback]:
        """Score the repetitions that have ended since the last one scored, no more than the count ``shown`` (which
        never decreases, so a repetition the coach takes back later is not scored twice)."""
        latest = self._times[-1] if self._times else 0.0
        new = []
        # The coach may recount (recognition named another exercise): a repetition is new when most of it lies
        # after the last one scored.
        for rep in (r for r in self.coach.result().reps if (r.start_frame + r.end_frame) / 2 > self._scored_until):
            if len(self.scored) >= shown or self._times[rep.end_frame] > latest - SETTLE_S:
                break  # not yet counted on screen, still under way, or its end may still move on
            fb = self._score(rep.start_frame, rep.end_frame, len(self.scored) + 1)
            if fb is None:
                continue
            self.scored.append(fb)
            new.append(fb)
            self._scored_until = rep.end_frame
        return new
