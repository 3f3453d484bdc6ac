"""Holds measured as time (plank, wall sit): the longest stretch in which the hold's posture ranges are kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from posecoach.analysis.exercises.schema import Range

#: Breaks in the position shorter than this (seconds) do not end a hold (a wobble, a missed frame).
MAX_BREAK_S = 0.5


@dataclass(frozen=True)
class HoldResult:
    seconds: float
    start_frame: int | None = None
    end_frame: int | None = None
    start_s: float | None = None
    end_s: float | None = None


def in_position(signals: Mapping[str, np.ndarray], ranges: Sequence[Range]) -> np.ndarray:
    """``(T,)`` bool: every range holds in the frame (a missing signal does not)."""
    n = len(next(iter(signals.values())))
    ok = np.ones(n, dtype=bool)
    for r in ranges:
        v = np.asarray(signals[r.signal], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            ok &= (v >= r.low) & (v <= r.high)
    return ok


def measure_hold(signals: Mapping[str, np.ndarray], times: np.ndarray, ranges: Sequence[Range]) -> HoldResult:
    """The longest hold, bridging breaks shorter than `MAX_BREAK_S`."""
    ok = in_position(signals, ranges)
    times = np.asarray(times, dtype=np.float64)
    if not ok.any():
        return HoldResult(0.0)
    frames = np.flatnonzero(ok)
    # Split into runs where consecutive in-position frames are more than MAX_BREAK_S apart.
    gaps = np.flatnonzero(np.diff(times[frames]) > MAX_BREAK_S)
    starts = np.concatenate([[0], gaps + 1])
    ends = np.concatenate([gaps, [len(frames) - 1]])
    dt = float(np.median(np.diff(times))) if len(times) > 1 else 0.0
    lengths = times[frames[ends]] - times[frames[starts]] + dt
    k = int(np.argmax(lengths))
    a, b = int(frames[starts[k]]), int(frames[ends[k]])
    return HoldResult(round(float(lengths[k]), 3), a, b, float(times[a]), float(times[b]))
