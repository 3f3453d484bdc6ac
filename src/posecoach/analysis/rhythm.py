"""The rhythm of a set of repetitions: how regular it is, and cycles missed in a fast steady one.

`regularity` weighs a long count's vote in `posecoach.analysis.reps.RepCounter.best`: a periodic movement is
regular, pose noise counted as cycles is not.

Fast sets (jump rope, running in place, fast jumping jacks): at five or more cycles a second, motion blur and the
pose smoothing flatten some cycles below a channel's hysteresis band, so the counter sees one interval twice as
long as the others where a cycle was lost. In a steady fast rhythm that is a dropped beat, not a pause: a stop to
rest (or a trip on the rope) lasts far longer. `missed_cycles` finds those intervals; the counter adds them to its
count and `split_rep` divides the repetition that spans one into equal parts, so a result's ``count`` always
equals its number of repetitions.

Pure functions of repetition end times: the live counter and the offline pass get the same answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from posecoach.analysis.rep import Rep

#: Intervals within this band of their median are regular (`regularity`).
REGULAR_BAND = (0.6, 1.6)
#: Only sets whose median interval between repetitions is at most this (seconds) are this fast.
FAST_PERIOD_S = 0.5
#: A rhythm needs at least this many repetitions to say anything.
MIN_REPS = 12
#: An interval longer than this many median intervals is a stop, not a dropped beat.
MAX_GAP = 2.5


def regularity(ends: Sequence[float]) -> float:
    """Share of the intervals between repetition ends (seconds) within `REGULAR_BAND` of their median: near 1 for a
    periodic movement, lower for pose noise counted as cycles; 1.0 below `MIN_REPS` repetitions (says little)."""
    if len(ends) < MIN_REPS:
        return 1.0
    gaps = np.diff(np.asarray(ends, dtype=np.float64))
    mid = float(np.median(gaps))
    if mid <= 0:
        return 1.0
    lo, hi = REGULAR_BAND
    return float(np.mean((gaps >= lo * mid) & (gaps <= hi * mid)))


def missed_cycles(ends: Sequence[float]) -> list[int]:
    """For each interval between consecutive repetition ends (seconds), how many cycles it hides: the interval
    in median intervals, rounded, minus one, in a fast steady set (`FAST_PERIOD_S`, `MIN_REPS`) and up to
    `MAX_GAP` median intervals; 0 everywhere else."""
    gaps = np.diff(np.asarray(ends, dtype=np.float64))
    if len(ends) < MIN_REPS:
        return [0] * len(gaps)
    mid = float(np.median(gaps))
    if not 0.0 < mid <= FAST_PERIOD_S:
        return [0] * len(gaps)
    k = np.rint(gaps / mid) - 1.0
    return [int(n) for n in np.where((k > 0) & (gaps <= MAX_GAP * mid), k, 0)]


def split_rep(rep: Rep, parts: int) -> list[Rep]:
    """A repetition that spans ``parts`` cycles, as ``parts`` equal ones: frames
    and times divided evenly from its start to its end, each turning half-way, each with its range of motion."""
    if parts <= 1:
        return [rep]
    f0, f1 = rep.start_frame, rep.end_frame
    t0, t1 = rep.start_s, rep.end_s
    out = []
    for i in range(parts):
        a, b, m = i / parts, (i + 1) / parts, (i + 0.5) / parts
        out.append(dataclasses.replace(
            rep, start_frame=f0 + round(a * (f1 - f0)), turn_frame=f0 + round(m * (f1 - f0)),
            end_frame=f0 + round(b * (f1 - f0)), start_s=t0 + a * (t1 - t0), turn_s=t0 + m * (t1 - t0),
            end_s=t0 + b * (t1 - t0)))
    return out
