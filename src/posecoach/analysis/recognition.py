"""Exercise recognition: which catalogue exercise a pose sequence shows, or "other".

Each exercise's ``[profile]`` (data, in its catalogue file) says how it looks: typical posture (median of a
signal over the active frames), which signals must move (range p95 - p5 at least ...) and which stay still.
The signals are 3D joint angles and world-landmark positions in torso lengths, and bilateral signals are
left/right means, so a profile holds from the front, the side or at 45 degrees and for either side. Each
condition gives a soft match in [0, 1] (1 inside, decaying with the distance outside); an exercise's score is
the geometric mean times the worst, so one clear mismatch rules it out. The motion pattern (which signals carry
the movement) leaves out the signals a profile calls ``free`` (the arms in a squat); joints the camera does not
see are left out of the motion pattern, are not judged on staying still and count as uncertain when they must
move. Each exercise is matched over the span of its own repetitions (or hold), weighed by how much of the
sequence that covers and by agreement with the dominant periodic motion; one whose profile clearly fails on the
whole sequence is not counted at all (`PRUNE_SCORE`). Below `MIN_SCORE` nothing matches: "other".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from posecoach.analysis.exercises import Exercise, catalogue, get_exercise
from posecoach.analysis.holds import measure_hold
from posecoach.analysis.reps import RepResult, count_signals
from posecoach.features.signals import SIGNAL_UNITS

OTHER = "other"
#: Below this profile match the sequence is "other".
MIN_SCORE = 0.25
#: Distance outside a range at which a condition's match falls to 1/e, per unit.
SOFTNESS: dict[str, float] = {"deg": 12.0, "torso": 0.15}
#: Range worth as much as 90 degrees, per unit (for comparing ranges of motion across signals).
_SCALE: dict[str, float] = {"deg": 90.0, "torso": 1.0}
#: Weight of the worst-matching condition against all of them.
WORST_POWER = 0.5
#: Weight of the motion pattern against the posture.
MOTION_POWER = 1.0
#: Signals whose ranges of motion make the motion pattern (robust to camera view and zoom).
MOTION_AXES: tuple[str, ...] = ("knee", "hip", "elbow", "shoulder", "trunk_incline", "wrist_height",
                                "ankle_spread", "hip_height")
#: Weight of the agreement between an exercise's own count and the dominant periodic motion's.
AGREEMENT_POWER = 1.0
#: Seconds a repetition may stay at its turning point before it looks like a hold.
MAX_DWELL_S = 2.0
#: Weight of the share of the sequence an exercise's repetitions (or hold) cover.
COVERAGE_POWER = 0.5
#: Total range of motion (90-degree units) at which a hold's stillness match falls to 1/e.
HOLD_MOTION = 0.6
#: A repetition exercise whose profile matches the whole sequence below this is out of the running without
#: counting its repetitions (saves about half of recognition's time); on the benchmark clips the lowest
#: whole-sequence match of a recognised exercise is 0.35, ten times more.
PRUNE_SCORE = 0.03
#: Match of a "must move" condition on a joint the camera does not see: its estimated movement is a guess,
#: so it neither confirms nor rules out the exercise.
UNSEEN_MOVING = 0.5


@dataclass(frozen=True)
class Recognition:
    """The recognised exercise (``other`` when none matches), its confidence and every exercise's score."""

    name: str
    confidence: float
    scores: dict[str, float]
    #: The counts recognition made on the way: each repetition exercise's, and "other"'s (class-agnostic).
    counts: dict[str, RepResult] = field(default_factory=dict, repr=False)

    @property
    def count(self) -> RepResult | None:
        """The repetitions of the recognised exercise (class-agnostic for "other"; None for a hold)."""
        return self.counts.get(self.name)


def _soft(distance: float, signal: str) -> float:
    if not math.isfinite(distance):
        return 0.0
    return math.exp(-max(distance, 0.0) / SOFTNESS[SIGNAL_UNITS.get(signal, "deg")])


def describe(signals: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """``{signal: (median, range p95 - p5)}`` over the frames where each signal is known (NaN under 3 frames)."""
    names = list(signals)
    arr = np.stack([np.asarray(signals[k], dtype=np.float64) for k in names]) if names else np.zeros((0, 0))
    if arr.shape[1] == 0:
        return dict.fromkeys(names, (math.nan, math.nan))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, med, hi = np.nanpercentile(arr, [5, 50, 95], axis=1)  # one pass over every signal
    known = np.isfinite(arr).sum(axis=1) >= 3
    return {k: (float(med[i]), float(hi[i] - lo[i])) if known[i] else (math.nan, math.nan)
            for i, k in enumerate(names)}


def motion_signals(exercises: Mapping[str, Exercise]) -> tuple[str, ...]:
    """The axes of the motion pattern: the robust signals, plus any a profile says must move."""
    names: dict[str, None] = dict.fromkeys(MOTION_AXES)
    for ex in exercises.values():
        names.update(dict.fromkeys(ex.profile.moving))
    return tuple(names)


def motion_match(exercise: Exercise, stats: Mapping[str, tuple[float, float]], axes: tuple[str, ...],
                 hidden: frozenset[str] = frozenset()) -> float:
    """Cosine between the observed ranges of motion and the exercise's pattern (its moving signals), 0-1.

    Ranges are in comparable units (90 degrees ~ 1 torso length), so the match asks "do the exercise's signals
    carry most of the movement?" rather than "do they move at all?". The profile's ``free`` signals are left out,
    and so are ``hidden`` ones (joints the camera does not see: their estimated movement is a guess).
    """
    axes = tuple(a for a in axes if a not in exercise.profile.free and a not in hidden)
    obs = np.array([stats[a][1] / _SCALE[SIGNAL_UNITS.get(a, "deg")] for a in axes], dtype=np.float64)
    if not exercise.profile.moving:  # a hold: the stiller, the better
        return math.exp(-float(np.linalg.norm(np.nan_to_num(obs))) / HOLD_MOTION)
    exp = np.array([exercise.profile.moving.get(a, 0.0) / _SCALE[SIGNAL_UNITS.get(a, "deg")] for a in axes])
    obs = np.nan_to_num(obs)
    norm = float(np.linalg.norm(obs) * np.linalg.norm(exp))
    return max(float(obs @ exp) / norm, 0.0) if norm > 0 else 0.0


def profile_score(exercise: Exercise, stats: Mapping[str, tuple[float, float]],
                  axes: tuple[str, ...] = (), hidden: frozenset[str] = frozenset()) -> float:
    """How well the described sequence matches an exercise's profile, 0-1.

    ``hidden``: signals whose joints the camera does not see; that they should stay still is not judged, since
    an occluded joint's estimated position wanders with the rest of the body, and that they must move counts
    `UNSEEN_MOVING` either way.
    """
    terms: list[float] = []
    p = exercise.profile
    for r in p.posture:
        med = stats[r.signal][0]
        terms.append(_soft(max(r.low - med, med - r.high, 0.0), r.signal) if math.isfinite(med) else 0.0)
    for name, minimum in p.moving.items():
        terms.append(UNSEEN_MOVING if name in hidden else _soft(minimum - stats[name][1], name))
    for name, maximum in p.still.items():  # a signal never seen (feet out of the picture) is no evidence
        spread = stats[name][1]
        terms.append(_soft(spread - maximum, name) if math.isfinite(spread) and name not in hidden else 1.0)
    if not terms:
        return 0.0
    # The geometric mean of the terms, times the worst one: one clear mismatch rules the exercise out.
    score = math.exp(sum(math.log(max(t, 1e-9)) for t in terms) / len(terms)) * min(terms) ** WORST_POWER
    return float(score * motion_match(exercise, stats, axes, hidden) ** MOTION_POWER) if axes else float(score)


def _span(signals: Mapping[str, np.ndarray], start: int, stop: int) -> dict[str, np.ndarray]:
    return {k: np.asarray(v)[start:stop] for k, v in signals.items()}


def _agreement(n: int, dominant: int) -> float:
    """How well an exercise's own repetition count agrees with the dominant periodic motion's, 0-1."""
    return (min(n, dominant) + 1.0) / (max(n, dominant) + 1.0)


def _no_hold(res: RepResult, signals: Mapping[str, np.ndarray], times: np.ndarray) -> float:
    """1 for repetitions that turn and go back; less the longer they stay at the turning point (a held squat is
    a wall sit, not one slow squat): the median time within 10 % of the range from the turn, past `MAX_DWELL_S`."""
    if not res.reps or res.signal is None:
        return 1.0
    v = np.asarray(signals[res.signal], dtype=np.float64)
    dwells = []
    for r in res.reps:
        seg, t = v[r.start_frame:r.end_frame + 1], times[r.start_frame:r.end_frame + 1]
        near = np.abs(seg - v[r.turn_frame]) <= 0.1 * max(r.rom, 1e-9)
        dwells.append(float(np.diff(t, prepend=t[0])[near].sum()))
    return math.exp(-max(float(np.median(dwells)) - MAX_DWELL_S, 0.0) / MAX_DWELL_S)


def recognise(signals: Mapping[str, np.ndarray], exercises: Mapping[str, Exercise] | None = None,
              times: np.ndarray | None = None, hidden: frozenset[str] = frozenset()) -> Recognition:
    """Recognise the exercise in a sequence's signals (see the module docstring).

    ``hidden``: signals of joints the camera does not see (`posecoach.features.signals.hidden_signals`); what a
    profile says must stay still is not judged on those.
    """
    exercises = catalogue() if exercises is None else exercises
    n = len(next(iter(signals.values()))) if signals else 0
    times = np.arange(n) / 30.0 if times is None else np.asarray(times, dtype=np.float64)
    whole = describe(signals)
    axes = motion_signals(exercises)
    counts = {OTHER: count_signals(signals, times)}
    dominant = counts[OTHER].count
    detected = max(int(np.isfinite(np.asarray(signals["trunk_incline"])).sum()), 1) if "trunk_incline" in signals else n
    scores = {}
    for name, ex in exercises.items():
        if ex.kind == "hold":
            held = measure_hold(signals, times, ex.hold)
            span = (held.start_frame, held.end_frame) if held.start_frame is not None else None
            agreement = 1.0
        elif (whole_match := profile_score(ex, whole, axes, hidden)) < PRUNE_SCORE:
            scores[name] = round(whole_match, 4)
            continue
        else:
            res = counts[name] = ex.count_reps(signals, times)
            span = (res.reps[0].start_frame, res.reps[-1].end_frame) if res.reps else None
            agreement = _agreement(res.count, dominant) ** AGREEMENT_POWER * _no_hold(res, signals, times)
        stats = describe(_span(signals, span[0], span[1] + 1)) if span else whole
        coverage = min((span[1] - span[0] + 1) / detected, 1.0) if span else 1.0
        match = profile_score(ex, stats, axes, hidden)
        scores[name] = round(match * agreement * coverage ** COVERAGE_POWER, 4)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < MIN_SCORE:
        best = ranked[0][1] if ranked else 0.0
        return Recognition(OTHER, round(1.0 - best, 4), scores, counts)
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    name, top = ranked[0]
    confidence = top * (1.0 - runner_up / max(top, 1e-9) * 0.5)
    return Recognition(name, round(confidence, 4), scores, counts)


def resolve_exercise(signals: Mapping[str, np.ndarray], times: np.ndarray, exercise: str | Exercise | None = None,
                     hidden: frozenset[str] = frozenset()) -> tuple[Exercise | None, Recognition | None]:
    """The exercise to analyse and how it was decided: the one named (an `Exercise`, a catalogue name or alias),
    else (None or ``"auto"``) the recognised one, None for "other". The `Recognition` is None when named; its
    `count` holds the recognised exercise's repetitions, already counted with its settings
    (`Exercise.counter_settings`)."""
    if isinstance(exercise, Exercise):
        return exercise, None
    if exercise is not None and exercise.strip().lower() not in ("", "auto"):
        return get_exercise(exercise), None
    rec = recognise(signals, times=times, hidden=hidden)
    return (None if rec.name == OTHER else catalogue()[rec.name]), rec
