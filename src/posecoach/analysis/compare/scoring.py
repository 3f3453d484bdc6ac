"""Scores from aligned joint angles: 0-100 per joint, per repetition, per phase and overall.

A joint's score is ``100 * exp(-e / SCORE_SCALE_DEG)`` with ``e`` its mean absolute angle difference (degrees)
over the matched frames: 100 for the same movement, about 72 for 10 degrees off throughout, 37 for 30. The
overall score is the mean of the joint scores weighted by how much each joint moves in the guide (a joint that
the exercise moves matters more than one held still) and by the guide's "joints that matter" (x3).

Phases come from the guide's main joint (the one that moves most): at rest, on the way in, at the turning point
(within 30 % of its extreme), on the way back.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from posecoach.analysis.compare.features import SCORED_ANGLES, Features, fill_gaps
from posecoach.core.skeleton import BLAZEPOSE_33

SCORE_SCALE_DEG = 30.0
KEY_JOINT_WEIGHT = 3.0
PHASES: tuple[str, ...] = ("rest", "going", "turn", "returning")


def score_of(error_deg: np.ndarray | float) -> np.ndarray | float:
    """0-100 from a mean absolute angle difference in degrees."""
    return 100.0 * np.exp(-np.asarray(error_deg, dtype=np.float64) / SCORE_SCALE_DEG)


def angle_matrix(f: Features) -> np.ndarray:
    """``(T, J)`` scored angles in `SCORED_ANGLES` order, gaps filled."""
    return fill_gaps(np.stack([f.angles[n] for n in SCORED_ANGLES], axis=1))


def _range(x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(x, 95, axis=0) - np.nanpercentile(x, 5, axis=0)


def joint_weights(ref_angles: np.ndarray, key_joints: Sequence[str] = ()) -> np.ndarray:
    """``(J,)`` weights: 1 + range of motion / 30 degrees, x3 for the key joints, 0 where unmeasured."""
    rom = np.nan_to_num(_range(ref_angles), nan=0.0)
    w = 1.0 + rom / 30.0
    w *= np.array([KEY_JOINT_WEIGHT if n in key_joints else 1.0 for n in SCORED_ANGLES])
    return np.where(np.isfinite(ref_angles).any(axis=0), w, 0.0)


@dataclass(frozen=True)
class Scores:
    """Scores of a set of matched frame pairs."""

    score: float
    joint_scores: np.ndarray  # (J,) NaN where unmeasured
    abs_diff: np.ndarray  # (J,) mean absolute difference, degrees
    diff: np.ndarray  # (J,) mean signed difference (attempt minus guide), degrees
    pairs: int


def score_pairs(ref_angles: np.ndarray, att_angles: np.ndarray, ref_idx: np.ndarray, att_idx: np.ndarray,
                weights: np.ndarray) -> Scores:
    """Scores over matched frames ``ref_angles[ref_idx]`` / ``att_angles[att_idx]``."""
    d = att_angles[att_idx] - ref_angles[ref_idx]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        abs_diff, diff = np.nanmean(np.abs(d), axis=0), np.nanmean(d, axis=0)
    js = score_of(abs_diff)
    ok = np.isfinite(js) & (weights > 0)
    overall = float(np.sum(js[ok] * weights[ok]) / np.sum(weights[ok])) if ok.any() else float("nan")
    return Scores(overall, np.where(ok, js, np.nan), abs_diff, diff, len(ref_idx))


@dataclass(frozen=True)
class Phases:
    """The guide's phases: a label index into `PHASES` per guide frame, and words for its turning point."""

    labels: np.ndarray  # (N,) int
    main_joint: str | None
    downward: bool  # the hips go down towards the turning point (a squat): "bottom", "on the way down"

    def words(self, phase: str) -> str:
        if self.downward:
            return {"rest": "at the start position", "going": "on the way down", "turn": "at the bottom",
                    "returning": "on the way back up"}[phase]
        return {"rest": "at the start position", "going": "on the way into the movement",
                "turn": "at the turning point", "returning": "on the way back"}[phase]


def _hip_height(points: np.ndarray) -> np.ndarray:
    i = {n: BLAZEPOSE_33.index(n) for n in ("left_hip", "right_hip", "left_ankle", "right_ankle",
                                            "left_shoulder", "right_shoulder")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hip = np.nanmean(points[:, [i["left_hip"], i["right_hip"]]], axis=1)
        ankle = np.nanmean(points[:, [i["left_ankle"], i["right_ankle"]]], axis=1)
        shoulder = np.nanmean(points[:, [i["left_shoulder"], i["right_shoulder"]]], axis=1)
        torso = np.nanmedian(np.linalg.norm(shoulder - hip, axis=-1))
    return (ankle[:, 1] - hip[:, 1]) / torso  # y points down


def reference_phases(f: Features, key_joints: Sequence[str] = ()) -> Phases:
    """Phases of the guide from its main joint's progress between rest and its extreme."""
    ang = angle_matrix(f)
    n = len(ang)
    rom = np.nan_to_num(_range(ang), nan=0.0)
    keys = [SCORED_ANGLES.index(j) for j in key_joints if j in SCORED_ANGLES]
    cands = keys if keys and rom[keys].max() > 0 else list(range(len(SCORED_ANGLES)))
    j = max(cands, key=lambda c: rom[c])
    a = ang[:, j]
    if n < 3 or not np.isfinite(a).all() or rom[j] < 5.0:
        return Phases(np.zeros(n, np.int64), None, False)
    rest = float(np.median(a[: max(1, n // 20)]))
    dist = np.abs(a - rest)
    p = dist / max(float(dist.max()), 1e-9)
    k = max(3, n // 30) | 1
    smooth = np.convolve(np.pad(p, k // 2, mode="edge"), np.ones(k) / k, mode="valid")
    rising = np.gradient(smooth) >= 0
    labels = np.where(p < 0.3, 0, np.where(p > 0.7, 2, np.where(rising, 1, 3)))
    height = _hip_height(f.points)
    turn, still = labels == 2, labels == 0
    downward = bool(turn.any() and still.any()
                    and np.nanmedian(height[turn]) < 0.85 * np.nanmedian(height[still]))
    return Phases(labels.astype(np.int64), SCORED_ANGLES[j], downward)
