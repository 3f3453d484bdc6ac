"""Setting and checking form-rule limits on labelled executions (pure functions; the data come from the caller).

A rule flags an execution when its value (the rule's aggregate, worst repetition) is beyond the rule's limit.
`fit_limit` chooses the limit that best separates correct from incorrect executions (balanced accuracy), and
`leave_one_group_out` measures that choice honestly: for each person or source, the limit is fitted on the
others and applied to it. `Scores` are the usual figures of a flag against the labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Scores:
    """Flags against labels (positive = incorrect execution)."""

    tp: int
    fp: int
    fn: int
    tn: int

    @classmethod
    def of(cls, flagged: Sequence[bool] | np.ndarray, incorrect: Sequence[bool] | np.ndarray) -> Scores:
        f, y = np.asarray(flagged, bool), np.asarray(incorrect, bool)
        return cls(int((f & y).sum()), int((f & ~y).sum()), int((~f & y).sum()), int((~f & ~y).sum()))

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else float("nan")

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else float("nan")

    @property
    def specificity(self) -> float:
        return self.tn / (self.tn + self.fp) if self.tn + self.fp else float("nan")

    @property
    def balanced_accuracy(self) -> float:
        """Mean of recall and specificity; with one class only, that class's rate."""
        parts = [v for v in (self.recall, self.specificity) if np.isfinite(v)]
        return float(np.mean(parts)) if parts else float("nan")


def flag(values: np.ndarray, limit: float, broken_when: str) -> np.ndarray:
    """Which values are beyond ``limit`` (NaN: not measurable, never flagged)."""
    v = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(v), v > limit if broken_when == "above" else v < limit, False)


def fit_limit(values: Sequence[float] | np.ndarray, incorrect: Sequence[bool] | np.ndarray, broken_when: str,
              default: float) -> float:
    """The limit with the best balanced accuracy on these executions (midway between two measured values).

    Ties go to the limit nearest ``default`` (the catalogue's, from the exercise's usual coaching advice); with
    no measured value of both labels, ``default`` stays.
    """
    v = np.asarray(values, dtype=np.float64)
    y = np.asarray(incorrect, bool)
    ok = np.isfinite(v)
    if not (ok & y).any() or not (ok & ~y).any():
        return float(default)
    u = np.unique(v[ok])
    cands = np.concatenate([[u[0] - 1e-6, u[-1] + 1e-6], (u[1:] + u[:-1]) / 2])
    best, best_ba = float(default), -1.0
    for c in sorted(cands, key=lambda c: abs(c - default)):
        ba = Scores.of(flag(v, c, broken_when), y).balanced_accuracy
        if ba > best_ba + 1e-12:
            best, best_ba = float(c), ba
    return best


def leave_one_group_out(values: Sequence[float] | np.ndarray, incorrect: Sequence[bool] | np.ndarray,
                        groups: Sequence[str], broken_when: str, default: float
                        ) -> tuple[np.ndarray, dict[str, float]]:
    """Flags for every execution from a limit fitted without its group; and the limit used for each group.

    With a single group there is nothing to hold out: the catalogue's ``default`` limit is applied.
    """
    v = np.asarray(values, dtype=np.float64)
    y = np.asarray(incorrect, bool)
    g = np.asarray(groups, dtype=object)
    out = np.zeros(len(v), bool)
    limits: dict[str, float] = {}
    for name in dict.fromkeys(g.tolist()):
        held = g == name
        limit = fit_limit(v[~held], y[~held], broken_when, default) if (~held).any() else float(default)
        limits[str(name)] = limit
        out[held] = flag(v[held], limit, broken_when)
    return out, limits


def _any(values: np.ndarray, limits: Sequence[float], broken_when: Sequence[str]) -> np.ndarray:
    out = np.zeros(len(values), bool)
    for k, (limit, when) in enumerate(zip(limits, broken_when, strict=True)):
        out |= flag(values[:, k], limit, when)
    return out


def fit_limits_jointly(values: np.ndarray, incorrect: Sequence[bool] | np.ndarray, broken_when: Sequence[str],
                       start: Sequence[float], passes: int = 3, grid: int = 40) -> list[float]:
    """Limits for rules used together (an execution is flagged when any rule is beyond its limit), for labels that
    do not say which error was made: coordinate ascent on the balanced accuracy of the combined flag, from
    ``start`` (each rule's own fit), each rule's limit among ``grid`` quantiles of its measured values."""
    v = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    y = np.asarray(incorrect, bool)
    limits = [float(x) for x in start]
    if not y.any() or y.all():
        return limits
    best = Scores.of(_any(v, limits, broken_when), y).balanced_accuracy
    for _ in range(passes):
        moved = False
        for k in range(v.shape[1]):
            col = v[:, k][np.isfinite(v[:, k])]
            if not len(col):
                continue
            for c in np.quantile(col, np.linspace(0.0, 1.0, grid + 1)):
                trial = [*limits[:k], float(c), *limits[k + 1:]]
                ba = Scores.of(_any(v, trial, broken_when), y).balanced_accuracy
                if ba > best + 1e-9:
                    best, limits, moved = ba, trial, True
        if not moved:
            break
    return limits


def leave_one_group_out_jointly(values: np.ndarray, incorrect: Sequence[bool] | np.ndarray, groups: Sequence[str],
                                broken_when: Sequence[str], start: Sequence[float]) -> np.ndarray:
    """`fit_limits_jointly` fitted without each group and applied to it: the combined flag per execution. ``start``
    is refitted per rule without the group too."""
    v = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    y = np.asarray(incorrect, bool)
    g = np.asarray(groups, dtype=object)
    out = np.zeros(len(v), bool)
    for name in dict.fromkeys(g.tolist()):
        held = g == name
        own = [fit_limit(v[~held, k], y[~held], broken_when[k], start[k]) for k in range(v.shape[1])]
        limits = fit_limits_jointly(v[~held], y[~held], broken_when, own)
        out[held] = _any(v[held], limits, broken_when)
    return out
