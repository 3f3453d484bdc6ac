"""Form rules judged per repetition (or over a hold): pure functions of the signals and the counted reps.

A rule (see `posecoach.analysis.exercises.schema.Rule`) aggregates one signal over a window of the repetition
and is broken when the aggregate passes its limit. The frames reported are those of the window where the signal
itself is past the limit (the whole window when the rule is about the window as a whole, e.g. a range). A rule
whose camera view is not among the rule's views, or whose signal is not visible, is "not measurable" for that
repetition: never guessed.

No rule is judged on bad evidence: a frame counts only when its skeleton is plausible (``pose_ok``: not collapsed,
not upside down), the keypoints the rule names are seen (``seen_<stem>`` at least `MIN_VISIBILITY`) and the body
is in the exercise's orientation (its profile's trunk range, within `POSTURE_MARGIN_DEG`: not kneeling up or
standing during a rest between push-ups). These come from the per-frame signals, so the live coach judges a
repetition exactly as the offline analysis does. Rules marked ``experimental`` in the catalogue are judged the
same way but their findings are kept apart (`Judgement.experimental`), never shown as confident cues.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from posecoach.analysis.exercises.schema import Range, Rule
from posecoach.analysis.reps import Rep
from posecoach.features.signals import DEPTH_SIGNALS, SEEN_STEMS
from posecoach.features.view import view_of

#: Share of a repetition's range within which the counting signal is "at" the turning point or the start.
NEAR_EXTREME = 0.25
#: Visibility (or a 2D tool's keypoint score) from which a keypoint a rule names counts as seen.
MIN_VISIBILITY = 0.5
#: Degrees beyond the exercise's usual trunk range (its recognition profile) where the body is taken to be
#: out of the exercise (resting, getting up) rather than doing it badly.
POSTURE_MARGIN_DEG = 25.0


@dataclass(frozen=True)
class Finding:
    """The verdict of one rule on one repetition (or hold)."""

    rule: Rule
    status: str  # "ok" | "broken" | "not_measurable"
    value: float = float("nan")
    frames: tuple[tuple[int, int], ...] = ()
    reason: str | None = None

    @property
    def broken(self) -> bool:
        return self.status == "broken"


@dataclass
class Judgement:
    """All findings for one repetition (``rep`` None for a hold) and the view it was seen from."""

    rep: Rep | None
    view: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """Broken rules the evidence supports: the cues."""
        return [f for f in self.findings if f.broken and not f.rule.experimental]

    @property
    def experimental(self) -> list[Finding]:
        """Broken rules not (yet) supported by labelled executions: reported apart, not as cues."""
        return [f for f in self.findings if f.broken and f.rule.experimental]


def _ranges(mask: np.ndarray, offset: int) -> tuple[tuple[int, int], ...]:
    """Inclusive ``(first, last)`` frame ranges of the True runs of ``mask``."""
    if not mask.any():
        return ()
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return tuple((int(a) + offset, int(b) - 1 + offset) for a, b in zip(edges[::2], edges[1::2], strict=True))


def _near(values: np.ndarray, target: float, rom: float) -> np.ndarray:
    return np.abs(values - target) <= NEAR_EXTREME * max(rom, 1e-9)


def window_frames(rep: Rep, window: str, driver: np.ndarray | None) -> tuple[int, int]:
    """``[first, last]`` frames of a repetition's window: the whole rep, or the frames near its turn / start."""
    first, last = rep.start_frame, rep.end_frame
    if window == "rep" or driver is None:
        return first, last
    seg = np.asarray(driver[first:last + 1], dtype=np.float64)
    anchor = rep.turn_frame if window == "turn" else rep.start_frame
    target = driver[anchor]
    if not np.isfinite(target):
        return (anchor, anchor)
    near = _near(seg, float(target), rep.rom)
    i = anchor - first
    lo = i
    while lo > 0 and near[lo - 1]:
        lo -= 1
    hi = i
    while hi < len(near) - 1 and near[hi + 1]:
        hi += 1
    return first + lo, first + hi


def trusted(rule: Rule, signals: Mapping[str, np.ndarray], first: int = 0, last: int | None = None,
            posture: Sequence[Range] = ()) -> np.ndarray:
    """Frames ``[first, last]`` on which ``rule`` may be judged (see the module docstring); all True for signals
    without the evidence signals (made by hand)."""
    stop = None if last is None else last + 1
    n = len(np.asarray(signals[rule.signal][first:stop]))
    ok = np.ones(n, bool)
    if "pose_ok" in signals:
        ok &= np.asarray(signals["pose_ok"][first:stop]) > 0.5
    for stem in rule.joints:
        if stem in SEEN_STEMS and f"seen_{stem}" in signals:
            ok &= np.asarray(signals[f"seen_{stem}"][first:stop]) >= MIN_VISIBILITY
    for r in posture:
        if r.signal == "trunk_incline" and r.signal in signals:
            trunk = np.asarray(signals[r.signal][first:stop], dtype=np.float64)
            with np.errstate(invalid="ignore"):
                ok &= (trunk >= r.low - POSTURE_MARGIN_DEG) & (trunk <= r.high + POSTURE_MARGIN_DEG)
    return ok


def _in_depth(rule: Rule, signals: Mapping[str, np.ndarray], first: int, last: int) -> bool:
    if rule.signal not in DEPTH_SIGNALS or "depth" not in signals:
        return False
    return bool(np.mean(np.asarray(signals["depth"][first:last + 1]) > 0.5) > 0.5)


def judge_rule(rule: Rule, signals: Mapping[str, np.ndarray], first: int, last: int, view: str,
               baseline: float | None = None, posture: Sequence[Range] = ()) -> Finding:
    """Judge one rule on frames ``[first, last]`` seen from ``view`` (only its `trusted` frames). A rule on a joint
    angle or the trunk's incline is judged from any view when most frames have depth (3D world landmarks); its
    ``views`` are those a 2D skeleton shows it from."""
    if view not in rule.views and not _in_depth(rule, signals, first, last):
        where = ", ".join(rule.views)
        return Finding(rule, "not_measurable", reason=f"not measurable from a {view} view (needs {where})")
    values = np.asarray(signals[rule.signal][first:last + 1], dtype=np.float64)
    if not np.isfinite(values).any():
        return Finding(rule, "not_measurable", reason=f"{rule.signal} not visible")
    values = np.where(trusted(rule, signals, first, last, posture), values, np.nan)
    if not np.isfinite(values).any():
        return Finding(rule, "not_measurable", reason="no frame with a plausible pose, the "
                       f"{', '.join(rule.joints) or 'body'} seen and the body in the exercise's position")
    if rule.relative:
        if baseline is None or not np.isfinite(baseline):
            return Finding(rule, "not_measurable", reason=f"{rule.signal} not visible at the start")
        values = values - baseline
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        agg = {
            "min": np.nanmin, "max": np.nanmax, "mean": np.nanmean,
            "range": lambda v: np.nanmax(v) - np.nanmin(v),
        }[rule.aggregate](values)
    above = rule.broken_when == "above"
    broken = bool(agg > rule.limit) if above else bool(agg < rule.limit)
    if not broken:
        return Finding(rule, "ok", float(agg))
    if rule.aggregate in ("min", "max"):
        mask = values > rule.limit if above else values < rule.limit
    else:
        mask = np.isfinite(values)
    return Finding(rule, "broken", float(agg), _ranges(mask, first) or ((first, last),))


def _baseline(rule: Rule, signals: Mapping[str, np.ndarray], first: int, last: int,
              posture: Sequence[Range]) -> float | None:
    """A relative rule's reference: its signal on the first trusted frame of the repetition."""
    if not rule.relative:
        return None
    ok = np.flatnonzero(trusted(rule, signals, first, last, posture)
                        & np.isfinite(np.asarray(signals[rule.signal][first:last + 1], dtype=np.float64)))
    return float(signals[rule.signal][first + ok[0]]) if len(ok) else None


def judge_reps(rules: Sequence[Rule], signals: Mapping[str, np.ndarray], reps: Sequence[Rep],
               driver: str | None = None, posture: Sequence[Range] = ()) -> list[Judgement]:
    """Judge every rule on every repetition; ``driver`` is the counting signal (for turn / start windows; None or
    not a signal, as for a whole-body count: the repetition's own turn frame). ``posture``: the exercise's
    profile ranges (its trunk range tells a rest from the exercise)."""
    drive = None if driver is None or driver not in signals else np.asarray(signals[driver], dtype=np.float64)
    out = []
    for rep in reps:
        view = view_of(signals, rep.start_frame, rep.end_frame + 1)
        j = Judgement(rep, view)
        for rule in rules:
            first, last = window_frames(rep, rule.window, drive)
            base = _baseline(rule, signals, rep.start_frame, rep.end_frame, posture)
            j.findings.append(judge_rule(rule, signals, first, last, view, base, posture))
        out.append(j)
    return out


def judge_span(rules: Sequence[Rule], signals: Mapping[str, np.ndarray], first: int, last: int,
               posture: Sequence[Range] = ()) -> Judgement:
    """Judge every rule over one span of frames (a hold), each rule over the whole span."""
    view = view_of(signals, first, last + 1)
    j = Judgement(None, view)
    for rule in rules:
        base = _baseline(rule, signals, first, last, posture)
        j.findings.append(judge_rule(rule, signals, first, last, view, base, posture))
    return j


def frame_values(rules: Sequence[Rule], signals: Mapping[str, np.ndarray], posture: Sequence[Range] = ()
                 ) -> dict[str, np.ndarray]:
    """Each rule's signal frame by frame where it may be judged on one frame alone (NaN elsewhere, and for rules
    about a whole window: a range, or a change from the start): for per-frame labels."""
    out = {}
    for rule in rules:
        v = np.asarray(signals[rule.signal], dtype=np.float64)
        if rule.relative or rule.aggregate == "range":
            out[rule.id] = np.full(len(v), np.nan)
            continue
        view = np.array([view_of(signals, i, i + 1) in rule.views or _in_depth(rule, signals, i, i)
                         for i in range(len(v))])
        out[rule.id] = np.where(trusted(rule, signals, posture=posture) & view, v, np.nan)
    return out
