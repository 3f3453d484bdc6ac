"""Scores from aligned joint angles: 0-100 per joint and per phase, and the shape score.

A joint's score is ``100 * exp(-e / SCORE_SCALE_DEG)`` with ``e`` its mean absolute angle difference (degrees)
over the matched frames: 100 for the same movement, about 72 for 10 degrees off throughout, 37 for 30. The mean
weighs each matched pair by how characteristic its guide frame is (`frame_weights`: the guide still and far from
its start posture, i.e. the target or held pose and the turning point, more than getting in and out of it). The
shape score (`score_pairs(...).score`) is the weighted mean of the joint scores (each joint 1, x3 for the guide's
"joints that matter") and of the segment-direction scores (the same formula on the angle between the guide's and
the attempt's segment directions in the body frame; together `DIRECTION_SHARE` of the joints' weight); it was the
overall score, and now enters it as the shape term of `calibration` (the overall and per-repetition scores).

Phases come from the guide's main joint (the one that moves most): at rest, on the way in, at the turning point
(within 30 % of its extreme), on the way back.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from posecoach.analysis.compare.features import SCORED_ANGLES, Features, alignment_matrix, fill_gaps
from posecoach.core.skeleton import BLAZEPOSE_33

SCORE_SCALE_DEG = 30.0
KEY_JOINT_WEIGHT = 3.0
#: The segment directions' share of the overall score relative to the joints' total weight.
DIRECTION_SHARE = 0.5
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
    """``(J,)`` weights: 1, x3 for the key joints, 0 where unmeasured. (Weighting by the guide's range of motion
    made a held pose's still joints count less than getting into it: yoga AUC 0.945 against 0.952.)"""
    w = np.array([KEY_JOINT_WEIGHT if n in key_joints else 1.0 for n in SCORED_ANGLES])
    return np.where(np.isfinite(ref_angles).any(axis=0), w, 0.0)


def _smooth(x: np.ndarray, k: int) -> np.ndarray:
    """``(T, D)`` moving average over ``k`` frames (edges held)."""
    pad = np.pad(x, ((k // 2, k // 2), (0, 0)), mode="edge")
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), pad]), axis=0)
    return (c[k:] - c[:-k]) / k


def frame_weights(f: Features) -> np.ndarray:
    """``(T,)`` how characteristic each guide frame is, 0-1: its distance from the start posture (the median of
    the first 5 % of frames, in the alignment's feature space, relative to the largest) times its stillness
    (``1 / (1 + speed / median speed)``). The held pose of a yoga guide and the turning point of an exercise
    weigh most, standing at the start least. All ones for a guide that does not move."""
    x = alignment_matrix(f)
    n = len(x)
    if n < 3:
        return np.ones(n)
    step = float(np.median(np.diff(f.times)))
    x = _smooth(x, max(3, round(1 / (6 * step)) if step > 0 else 5) | 1)  # about 1/6 s
    far = np.linalg.norm(x - np.median(x[: max(1, n // 20)], axis=0), axis=1)
    speed = np.linalg.norm(np.gradient(x, axis=0), axis=1)
    w = far / max(float(far.max()), 1e-9) / (1.0 + speed / (float(np.median(speed)) + 1e-9))
    return w if np.isfinite(w).all() and w.max() > 1e-6 else np.ones(n)


@dataclass(frozen=True)
class Scores:
    """Scores of a set of matched frame pairs."""

    score: float
    joint_scores: np.ndarray  # (J,) NaN where unmeasured
    abs_diff: np.ndarray  # (J,) mean absolute difference, degrees
    diff: np.ndarray  # (J,) mean signed difference (attempt minus guide), degrees
    pairs: int


def _mean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Column means of ``(K, D)`` over the finite entries, rows weighted by ``(K,)``; NaN where none."""
    ok = np.isfinite(x)
    total = np.sum(w[:, None] * ok, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, np.sum(np.where(ok, x, 0.0) * w[:, None], axis=0) / total, np.nan)


def direction_errors(ref_dirs: np.ndarray, att_dirs: np.ndarray) -> np.ndarray:
    """``(K, S)`` degrees between matched ``(K, S, 3)`` unit segment directions."""
    return np.degrees(np.arccos(np.clip(np.sum(ref_dirs * att_dirs, axis=-1), -1.0, 1.0)))


def score_pairs(ref_angles: np.ndarray, att_angles: np.ndarray, ref_idx: np.ndarray, att_idx: np.ndarray,
                weights: np.ndarray, frame_w: np.ndarray | None = None,
                directions: tuple[np.ndarray, np.ndarray] | None = None) -> Scores:
    """Scores over matched frames ``ref_angles[ref_idx]`` / ``att_angles[att_idx]``: each pair weighted by
    ``frame_w[ref_idx]`` (the guide frame's `frame_weights`; equal without), and with ``directions`` (the guide's
    and the attempt's ``(T, S, 3)`` segment directions) their scores in the overall score too."""
    d = att_angles[att_idx] - ref_angles[ref_idx]
    w = np.ones(len(ref_idx)) if frame_w is None else np.asarray(frame_w, dtype=np.float64)[ref_idx]
    if not w.sum() > 0:
        w = np.ones(len(ref_idx))
    abs_diff, diff = _mean(np.abs(d), w), _mean(d, w)
    js = score_of(abs_diff)
    ok = np.isfinite(js) & (weights > 0)
    scores, ws = [js[ok]], [weights[ok]]
    if directions is not None and ok.any():
        ss = score_of(_mean(direction_errors(directions[0][ref_idx], directions[1][att_idx]), w))
        fine = np.isfinite(ss)
        if fine.any():
            scores.append(ss[fine])
            ws.append(np.full(int(fine.sum()), DIRECTION_SHARE * float(weights[ok].sum()) / fine.sum()))
    s, wt = np.concatenate(scores), np.concatenate(ws)
    overall = float(np.sum(s * wt) / np.sum(wt)) if len(s) else float("nan")
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
