"""Form rules judged per repetition (or over a hold): pure functions of the signals and the counted reps.

A rule (see `posecoach.analysis.exercises.schema.Rule`) aggregates one signal over a window of the repetition
and is broken when the aggregate passes its limit. The frames reported are those of the window where the signal
itself is past the limit (the whole window when the rule is about the window as a whole, e.g. a range). A rule
whose camera view is not among the rule's views, or whose signal is not visible, is "not measurable" for that
repetition: never guessed.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from posecoach.analysis.exercises.schema import Rule
from posecoach.analysis.reps import Rep
from posecoach.features.view import view_of

#: Share of a repetition's range within which the counting signal is "at" the turning point or the start.
NEAR_EXTREME = 0.25


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
        return [f for f in self.findings if f.broken]


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


def judge_rule(rule: Rule, signals: Mapping[str, np.ndarray], first: int, last: int, view: str,
               baseline: float | None = None) -> Finding:
    """Judge one rule on frames ``[first, last]`` seen from ``view``."""
    if view not in rule.views:
        where = ", ".join(rule.views)
        return Finding(rule, "not_measurable", reason=f"not measurable from a {view} view (needs {where})")
    values = np.asarray(signals[rule.signal][first:last + 1], dtype=np.float64)
    if rule.relative:
        if baseline is None or not np.isfinite(baseline):
            return Finding(rule, "not_measurable", reason=f"{rule.signal} not visible at the start")
        values = values - baseline
    if not np.isfinite(values).any():
        return Finding(rule, "not_measurable", reason=f"{rule.signal} not visible")
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


def judge_reps(rules: Sequence[Rule], signals: Mapping[str, np.ndarray], reps: Sequence[Rep],
               driver: str | None = None) -> list[Judgement]:
    """Judge every rule on every repetition; ``driver`` is the counting signal (for turn / start windows; None or
    not a signal, as for a whole-body count: the repetition's own turn frame)."""
    drive = None if driver is None or driver not in signals else np.asarray(signals[driver], dtype=np.float64)
    out = []
    for rep in reps:
        view = view_of(signals, rep.start_frame, rep.end_frame + 1)
        j = Judgement(rep, view)
        for rule in rules:
            first, last = window_frames(rep, rule.window, drive)
            base = float(signals[rule.signal][rep.start_frame]) if rule.relative else None
            j.findings.append(judge_rule(rule, signals, first, last, view, base))
        out.append(j)
    return out


def judge_span(rules: Sequence[Rule], signals: Mapping[str, np.ndarray], first: int, last: int) -> Judgement:
    """Judge every rule over one span of frames (a hold), each rule over the whole span."""
    view = view_of(signals, first, last + 1)
    j = Judgement(None, view)
    for rule in rules:
        base = float(signals[rule.signal][first]) if rule.relative else None
        j.findings.append(judge_rule(rule, signals, first, last, view, base))
    return j
