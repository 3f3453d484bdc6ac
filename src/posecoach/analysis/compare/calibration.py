"""The overall 0-100 score: deviations that do not depend on who moves, weighed by a calibration fitted on real
correct and deliberately incorrect executions by other people.

**Channels** (`channel_matrix`), all independent of where the person stands, how tall they are and where the
camera is: the joint angles, the segment tilts from vertical, and the wrists, elbows, knees, ankles and shoulders
relative to the mid-hip in the body's own frame (hips' line, up, forward), in per cent of the person's torso
length (limb-length normalisation: a tall and a short person doing the same movement trace the same curves),
and the wrists and elbows relative to the mid-shoulder in the trunk's own frame of each frame (`trunk_frames`):
how far the arm itself moves, whatever the trunk does (an arm raised less, with a trunk that leans to make up for
it, moves as far in the body frame but less relative to the trunk). UI-PRMD leave one subject out, mean AUC
0.899 -> 0.904 (hurdle step 0.886 -> 0.900, shoulder extension 0.878 -> 0.895, side lunge 0.841 -> 0.852).

**Deviations** per channel, between the guide and the attempt along the alignment:

* *excess* and *deficit* of range of motion, ``log((range_attempt + floor) / (range_guide + floor))`` split by
  sign: a joint that moves less than the guide's (not deep enough), or one that moves where the guide keeps it
  still (a compensating trunk, a bent knee in a straight-leg raise);
* *excursion*: each channel measured from the person's *own* start posture (the attempt's frames matched with
  the guide's first frames), the mean absolute difference along the alignment. Someone whose elbows rest at 60
  degrees and someone whose elbows rest at 100 make the same movement; how far each part moves and when differs.

* *overshoot* and *undershoot*: at the guide's characteristic frames (the top quarter of `frame_weights`: its
  target or turning point), how far each channel is from the person's own start posture against how far the
  guide's is, ``log((attempt + floor) / (guide + floor))`` split by sign: going further (a compensating trunk at
  the bottom of a lunge) or stopping short (an arm not extended as far) where it counts, not over the whole path.

Each deviation is averaged over the channels of one kind (left and right together: the movement may be done on
either side), each channel weighted by the square of the guide's range of motion (plus `RANGE_FLOOR`): the side
that moves in the guide counts most (a one-arm movement's still arm, whose tracking may be poor, no longer halves
its deficit), the guide's "joints that matter" counting `KEY_CHANNEL_WEIGHT` times; the same deviations of the
guide's main joint angle (`main_channels`) and of its most moving point coordinate (`main_point`) stand on their
own. The weighted sum ``z`` of
these per-kind deviations (weights: a logistic regression with non-negative weights, correct against incorrect
repetitions; ``benchmarks/bench_compare.py --fit`` writes them to ``calibration.json`` beside this file) gives

    score = 100 * 0.8 ** (z / z_typical)

plus the shape term (`SHAPE_BASE_WEIGHT` per degree by which the joint angles and segment directions differ from
the guide's, and `SHAPE_WEIGHT` per degree beyond what 95 % of correct executions by other people show: a
different movement scores low), with
``z_typical`` the median ``z`` of correct repetitions by other people in the fitting data: **100** is the
guide's own movement, **80** deviates as much as a typical correct execution by someone else, 64 twice as much,
51 three times. Every deviation costs (weights >= 0, and any difference of shape a little), so only the
guide's own movement scores 100.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from posecoach.analysis.compare.features import SCORED_ANGLES, SEGMENTS, Features, body_frame, fill_gaps
from posecoach.analysis.compare.scoring import SCORE_SCALE_DEG
from posecoach.core.skeleton import BLAZEPOSE_33

#: Points followed in the body frame (both sides of each).
POINTS: tuple[str, ...] = ("wrist", "elbow", "knee", "ankle", "shoulder")
_POINT_IDX = [BLAZEPOSE_33.index(f"{s}_{p}") for p in POINTS for s in ("left", "right")]
_HIPS = [BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")]
_SHOULDERS = [BLAZEPOSE_33.index("left_shoulder"), BLAZEPOSE_33.index("right_shoulder")]
#: Arm points also followed relative to the trunk (`trunk_frames`): how far the arm itself moves, whatever the
#: trunk does.
ARM_POINTS: tuple[str, ...] = ("wrist", "elbow")
_ARM_IDX = [BLAZEPOSE_33.index(f"{s}_{p}") for p in ARM_POINTS for s in ("left", "right")]
#: Channel names in `channel_matrix` order.
CHANNELS: tuple[str, ...] = (*SCORED_ANGLES, *(f"tilt_{s}" for s in SEGMENTS),
                             *(f"{s}_{p}_{a}" for p in POINTS for s in ("left", "right") for a in "xyz"),
                             *(f"{s}_{p}_trunk_{a}" for p in ARM_POINTS for s in ("left", "right") for a in "xyz"))


def _kind(name: str) -> str:
    return name.removeprefix("left_").removeprefix("right_").replace("tilt_left_", "tilt_").replace(
        "tilt_right_", "tilt_")


#: Kinds of channel (left and right together), in order of first appearance.
KINDS: tuple[str, ...] = tuple(dict.fromkeys(_kind(c) for c in CHANNELS))
_KIND_OF = np.array([KINDS.index(_kind(c)) for c in CHANNELS])
DEVIATIONS: tuple[str, ...] = ("excess", "deficit", "excursion", "overshoot", "undershoot")
#: Feature names: deviation/kind, then deviation/main (the guide's main joints: the joints that matter when the
#: guide names them, else the joint angle that moves most in the guide), then deviation/main_point (the body-frame
#: point coordinate that moves most in the guide, `main_point`), in `deviation_features` order.
FEATURES: tuple[str, ...] = (*(f"{d}/{k}" for d in DEVIATIONS for k in KINDS), *(f"{d}/main" for d in DEVIATIONS),
                             *(f"{d}/main_point" for d in DEVIATIONS))
_ANGLES = len(SCORED_ANGLES)
_FIRST_POINT = _ANGLES + len(SEGMENTS)  # the first point coordinate in `CHANNELS`
_END_POINT = _FIRST_POINT + 3 * len(_POINT_IDX)  # the end of the body-frame points (the trunk-frame arms follow)
#: Added to both ranges before their ratio (degrees, or per cent of the torso): jitter is no change of range.
RANGE_FLOOR = 10.0
#: Excursion differences are divided by this (degrees or per cent of the torso) to be of the ranges' size.
EXCURSION_UNIT = 30.0
#: A key joint's angle (and its side's segments) counts this many times another channel of its kind.
KEY_CHANNEL_WEIGHT = 3.0
#: Share of the guide's frames taken as its start posture (and the attempt's frames matched with them).
START_SHARE = 0.05
#: Share of the matched pairs (those whose guide frame is most characteristic, `scoring.frame_weights`) where
#: overshoot and undershoot are measured.
PEAK_SHARE = 0.25
#: The score of a deviation as large as a typical correct execution by another person.
TYPICAL_SCORE = 80.0
#: Score bands in words (lower bound, meaning).
SCORE_BANDS: tuple[tuple[float, str], ...] = (
    (TYPICAL_SCORE, "as the guide (within what correct executions by other people differ)"),
    (60.0, "close to the guide, with differences"), (40.0, "partly like the guide"), (0.0, "unlike the guide"))
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
#: The shape term: joint angles and segment directions (the movement's form, `scoring.score_pairs`) that differ
#: from the guide's by more than this quantile of correct executions by other people (the tolerance) add
#: `SHAPE_WEIGHT` per degree beyond it to ``z``: a different movement scores low even when its ranges of motion
#: happen to match. 0.3 per degree beyond the 95th percentile: yoga same- against different-pose AUC 0.84 -> 0.92,
#: UI-PRMD correct against incorrect (leave one subject out) 0.879 -> 0.875; 0.5: 0.93 and 0.872 (the inline
#: lunge, where people's postures differ most, falls from 0.83 to 0.76); see docs/results.md.
SHAPE_TOLERANCE_QUANTILE = 95.0
SHAPE_WEIGHT = 0.3
#: ... and every degree costs a little (within the tolerance too), so that a different movement whose ranges
#: match never scores 100 (UI-PRMD's shoulder scaption against its abduction did): 0.01, AUC -0.001.
SHAPE_BASE_WEIGHT = 0.01


def trunk_frames(points: np.ndarray) -> np.ndarray:
    """``(T, 3, 3)`` per frame, rows: the trunk's left (the shoulder line), up (mid-hip to mid-shoulder, made
    square to the shoulder line) and forward; NaN where a shoulder or hip is missing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        left = points[:, _SHOULDERS[0]] - points[:, _SHOULDERS[1]]
        left = left / np.linalg.norm(left, axis=-1, keepdims=True)
        up = np.mean(points[:, _SHOULDERS], axis=1) - np.mean(points[:, _HIPS], axis=1)
        up = up - np.sum(up * left, axis=-1, keepdims=True) * left
        up = up / np.linalg.norm(up, axis=-1, keepdims=True)
    return np.stack([left, up, np.cross(left, up)], axis=1)


def channel_matrix(f: Features) -> np.ndarray:
    """``(T, C)`` channels in `CHANNELS` order: angles and tilts (degrees), then the points relative to the
    mid-hip in the body frame, then the arm points relative to the mid-shoulder in the trunk's own frame of each
    frame (`trunk_frames`; both in per cent of the torso length); gaps filled."""
    p = f.points
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hip = np.nanmean(p[:, _HIPS], axis=1)
        shoulder = np.nanmean(p[:, _SHOULDERS], axis=1)
        torso = float(np.nanmedian(np.linalg.norm(shoulder - hip, axis=1)))
    if not np.isfinite(torso) or torso <= 0:
        torso = float("nan")
    rel = 100.0 * ((p[:, _POINT_IDX] - hip[:, None]) / torso) @ body_frame(p).T  # (T, P, 3)
    arm = 100.0 * np.einsum("tij,tpj->tpi", trunk_frames(p), (p[:, _ARM_IDX] - shoulder[:, None]) / torso)
    cols = [f.angles[n] for n in SCORED_ANGLES] + [f.tilts[n] for n in SEGMENTS]
    return fill_gaps(np.concatenate([np.stack(cols, axis=1), rel.reshape(len(p), -1), arm.reshape(len(p), -1)],
                                    axis=1))


def channel_weights(key_joints: Sequence[str] = ()) -> np.ndarray:
    """``(C,)`` 1 per channel, `KEY_CHANNEL_WEIGHT` for the key joints' angles."""
    return np.array([KEY_CHANNEL_WEIGHT if c in key_joints else 1.0 for c in CHANNELS])


def _range(x: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanpercentile(x, 95, axis=0) - np.nanpercentile(x, 5, axis=0)


#: Each channel's deviation counts ``(guide's range + RANGE_FLOOR) ** RANGE_WEIGHT_POWER`` within its kind (0: all
#: equal). UI-PRMD leave one subject out, mean AUC (shoulder extension), before overshoot/undershoot: equal 0.874
#: (0.753), power 1 0.882 (0.806), power 2 0.885 (0.832); with them 0.888 (0.848).
RANGE_WEIGHT_POWER = 2.0


def _by_kind(values: np.ndarray, weights: np.ndarray, ref_range: np.ndarray | None = None) -> np.ndarray:
    """``(K,)`` per kind: the channels' ``values * weights``, each channel counting by the guide's range
    (`RANGE_WEIGHT_POWER`; equal without ``ref_range``), divided by the kind's total count (NaN channels left out;
    0 for a kind with none)."""
    ok = np.isfinite(values)
    share = np.ones(len(values)) if ref_range is None else (
        np.nan_to_num(np.maximum(ref_range, 0.0)) + RANGE_FLOOR) ** RANGE_WEIGHT_POWER
    total = np.bincount(_KIND_OF, np.where(ok, values * weights * share, 0.0), minlength=len(KINDS))
    count = np.bincount(_KIND_OF, np.where(ok, share, 0.0), minlength=len(KINDS))
    return np.where(count > 0, total / np.where(count > 0, count, 1.0), 0.0)


def deviation_features(ref_channels: np.ndarray, att_channels: np.ndarray, ref_idx: np.ndarray,
                       att_idx: np.ndarray, frame_w: np.ndarray | None = None,
                       key_joints: Sequence[str] = ()) -> np.ndarray:
    """``(F,)`` deviations in `FEATURES` order over matched frames ``ref[ref_idx]`` / ``att[att_idx]`` of the
    `channel_matrix` of guide and attempt (pairs weighted by the guide frame's ``frame_w``; equal without)."""
    rc, ac = ref_channels, att_channels
    w = np.ones(len(ref_idx)) if frame_w is None else np.asarray(frame_w, dtype=np.float64)[ref_idx]
    if not w.sum() > 0:
        w = np.ones(len(ref_idx))
    cw = channel_weights(key_joints)
    start = ref_idx < ref_idx.min() + max(1, round(START_SHARE * len(rc)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref_rest = np.nanmedian(rc[ref_idx[start]], axis=0)
        att_rest = np.nanmedian(ac[att_idx[start]], axis=0)
        exc = np.abs((ac[att_idx] - att_rest) - (rc[ref_idx] - ref_rest))
        ok = np.isfinite(exc)
        excursion = np.sum(np.where(ok, exc, 0.0) * w[:, None], axis=0) / np.sum(ok * w[:, None], axis=0)
        ref_range = _range(rc[ref_idx])
        ratio = np.log((_range(ac[att_idx]) + RANGE_FLOOR) / (ref_range + RANGE_FLOOR))
        top = w >= np.quantile(w, 1.0 - PEAK_SHARE)  # the guide's target / turning point
        reach = np.log((np.nanmean(np.abs(ac[att_idx[top]] - att_rest), axis=0) + RANGE_FLOOR)
                       / (np.nanmean(np.abs(rc[ref_idx[top]] - ref_rest), axis=0) + RANGE_FLOOR))
    main = main_channels(ref_range, key_joints)
    per_channel = (np.maximum(ratio, 0.0), np.maximum(-ratio, 0.0), excursion / EXCURSION_UNIT,
                   np.maximum(reach, 0.0), np.maximum(-reach, 0.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mains = [float(np.nanmax(v[main])) if main.size and np.isfinite(v[main]).any() else 0.0
                 for v in per_channel]  # the joint that matters that deviates most
    point = main_point(ref_range, key_joints)
    points = [float(v[point]) if point is not None and np.isfinite(v[point]) else 0.0 for v in per_channel]
    return np.concatenate([*(_by_kind(v, cw, ref_range) * kind_factors(key_joints) for v in per_channel), mains,
                           points])


#: The kinds of channel that belong to each joint that matters (its angle, the segments and points it moves).
_RELATED: dict[str, tuple[str, ...]] = {
    "knee": ("knee", "tilt_thigh", "tilt_shin", "knee_", "ankle_"),
    "hip": ("hip", "tilt_thigh", "tilt_trunk_side", "trunk_lean", "knee_", "shoulder_"),
    "elbow": ("elbow", "tilt_forearm", "tilt_upper_arm", "elbow_", "wrist_"),
    "shoulder": ("shoulder", "tilt_upper_arm", "tilt_forearm", "elbow_", "wrist_", "shoulder_"),
    "trunk_lean": ("trunk_lean", "tilt_trunk_side", "tilt_shoulder_line", "shoulder_"),
}
#: When the guide names the joints that matter, the other kinds of channel count this much.
OTHER_KIND_FACTOR = 0.25


def kind_factors(key_joints: Sequence[str] = ()) -> np.ndarray:
    """``(K,)`` 1 per kind of channel; with joints that matter, `OTHER_KIND_FACTOR` for the kinds unrelated to
    them (a squat's guide that names the knees and hips: how the arms swing counts a quarter)."""
    parts = {j.removeprefix("left_").removeprefix("right_") for j in key_joints}
    related = tuple(r for p in parts for r in _RELATED.get(p, ()))
    if not related:
        return np.ones(len(KINDS))
    return np.array([1.0 if any(k == r or (r.endswith("_") and k.startswith(r)) for r in related)
                     else OTHER_KIND_FACTOR for k in KINDS])


def main_channels(ref_range: np.ndarray, key_joints: Sequence[str] = ()) -> np.ndarray:
    """Indices of the guide's main joint angles: its key joints when it names them, else the angle with the
    largest range of motion."""
    keys = [CHANNELS.index(j) for j in key_joints if j in CHANNELS[:_ANGLES]]
    if keys:
        return np.array(keys)
    r = np.asarray(ref_range[:_ANGLES], dtype=np.float64)
    return np.array([int(np.nanargmax(r))]) if np.isfinite(r).any() else np.array([], dtype=np.int64)


def main_point(ref_range: np.ndarray, key_joints: Sequence[str] = ()) -> int | None:
    """Index in `CHANNELS` of the point coordinate (body frame, per cent of the torso) with the largest range of
    motion in the guide: what the movement is about (the wrist going back in a shoulder extension, the ankle going
    up in a leg raise), whichever kind it is; with joints that matter, among the kinds related to them. Its own
    deviations (`FEATURES` ``.../main_point``) are not diluted by the still channels of its kind. UI-PRMD leave one
    subject out, mean AUC 0.888 -> 0.896 (shoulder extension 0.848 -> 0.881)."""
    r = np.asarray(ref_range[_FIRST_POINT:_END_POINT], dtype=np.float64)
    related = kind_factors(key_joints)[_KIND_OF[_FIRST_POINT:_END_POINT]] >= 1.0
    r = np.where(related & np.isfinite(r), r, -np.inf)
    return _FIRST_POINT + int(np.argmax(r)) if np.isfinite(r).any() else None


@dataclass(frozen=True)
class Calibration:
    """Weights of the deviation features, the typical deviation of a correct execution by another person, and
    the shape term: how far the joint angles and segment directions may differ (`shape_deviation`, degrees)
    before it counts, and what each degree beyond costs."""

    weights: np.ndarray  # (F,) in FEATURES order, >= 0
    z_typical: float
    shape_tolerance_deg: float = float("inf")
    shape_weight: float = SHAPE_WEIGHT
    shape_base_weight: float = SHAPE_BASE_WEIGHT

    def deviation(self, features: np.ndarray, shape_deg: float = float("nan")) -> float:
        """``z``: the weighted deviation features (NaN counts 0) plus the shape term."""
        z = float(np.sum(self.weights * np.nan_to_num(np.maximum(features, 0.0))))
        if np.isfinite(shape_deg):
            z += self.shape_base_weight * max(0.0, shape_deg)
            if np.isfinite(self.shape_tolerance_deg):
                z += self.shape_weight * max(0.0, shape_deg - self.shape_tolerance_deg)
        return z

    def score(self, features: np.ndarray, shape_deg: float = float("nan")) -> float:
        """``100 * 0.8 ** (z / z_typical)``: 100 for no deviation, `TYPICAL_SCORE` for a typical correct
        execution by another person."""
        z = self.deviation(features, shape_deg)
        return float(100.0 * (TYPICAL_SCORE / 100.0) ** (z / max(self.z_typical, 1e-12)))


def shape_deviation(shape_score: float | None) -> float:
    """The joint-angle and segment-direction score (`scoring.score_pairs`, ``100 * exp(-e / 30)``) back in
    degrees ``e``; NaN when unknown."""
    if shape_score is None or not np.isfinite(shape_score) or shape_score <= 0:
        return float("nan")
    return float(SCORE_SCALE_DEG * np.log(100.0 / min(shape_score, 100.0)))


@cache
def load_calibration(path: Path = CALIBRATION_FILE) -> Calibration:
    """The shipped calibration (written by ``bench_compare.py --fit``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return Calibration(np.array([float(data["weights"].get(n, 0.0)) for n in FEATURES]), float(data["z_typical"]),
                       float(data.get("shape_tolerance_deg", float("inf"))),
                       float(data.get("shape_weight", SHAPE_WEIGHT)),
                       float(data.get("shape_base_weight", SHAPE_BASE_WEIGHT)))


def calibrated_score(features: np.ndarray, shape_deg: float = float("nan"),
                     calibration: Calibration | None = None) -> float:
    """The 0-100 score of deviation ``features`` and shape deviation (degrees) with the shipped calibration."""
    return (calibration or load_calibration()).score(features, shape_deg)


def score_meaning(score: float) -> str:
    """The band a score falls in, in words (`SCORE_BANDS`)."""
    return next(words for low, words in SCORE_BANDS if score >= low)


def fit_calibration(features: np.ndarray, correct: np.ndarray, shape_deg: np.ndarray | None = None,
                    l2: float = 0.02) -> Calibration:
    """Non-negative weights of the logistic model ``P(correct) = sigmoid(b - w . features)`` (features scaled to
    unit spread for the fit, ``l2`` ridge on the scaled weights); the shape tolerance: the
    `SHAPE_TOLERANCE_QUANTILE` of the correct rows' shape deviations; ``z_typical``: the median ``z`` of the
    correct rows."""
    x = np.nan_to_num(np.asarray(features, dtype=np.float64))
    y = np.asarray(correct, dtype=np.float64)
    scale = np.where(x.std(axis=0) > 1e-9, x.std(axis=0), 1.0)
    xs = x / scale

    def loss(p: np.ndarray) -> tuple[float, np.ndarray]:
        z = p[0] - xs @ p[1:]
        prob = 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))
        ll = float(np.mean(np.logaddexp(0.0, -z) * y + np.logaddexp(0.0, z) * (1 - y)))
        g = (prob - y) / len(y)
        return ll + l2 * float(np.sum(p[1:] ** 2)), np.r_[g.sum(), -(xs.T @ g)] + 2 * l2 * np.r_[0.0, p[1:]]

    res = minimize(loss, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B",
                   bounds=[(None, None)] + [(0.0, None)] * x.shape[1])
    ok = y > 0.5
    shape = np.full(len(y), np.nan) if shape_deg is None else np.asarray(shape_deg, dtype=np.float64)
    good = shape[ok & np.isfinite(shape)]
    tol = float(np.percentile(good, SHAPE_TOLERANCE_QUANTILE)) if len(good) else float("inf")
    cal = Calibration(res.x[1:] / scale, 1.0, tol)
    zs = [cal.deviation(x[k], shape[k]) for k in np.flatnonzero(ok)]
    return replace(cal, z_typical=float(np.median(zs)) if zs else 1.0)


def write_calibration(cal: Calibration, info: dict[str, object], path: Path = CALIBRATION_FILE) -> None:
    """Store a fitted calibration (weights by feature name, and where it came from)."""
    data = {"info": info, "z_typical": cal.z_typical, "shape_tolerance_deg": cal.shape_tolerance_deg,
            "shape_weight": cal.shape_weight, "shape_base_weight": cal.shape_base_weight,
            "weights": {n: round(float(v), 6) for n, v in zip(FEATURES, cal.weights, strict=True) if v > 0}}
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    load_calibration.cache_clear()


def contributions(features: np.ndarray, calibration: Calibration | None = None) -> list[tuple[str, float]]:
    """``(feature name, share of the features' z)`` of the features that lower the score, largest first."""
    w = (calibration or load_calibration()).weights
    part = w * np.nan_to_num(np.maximum(features, 0.0))
    total = float(part.sum())
    if total <= 0:
        return []
    return [(FEATURES[k], float(part[k] / total)) for k in np.argsort(-part) if part[k] > 0]


def channel_ranges(ref_channels: np.ndarray, att_channels: np.ndarray, ref_idx: np.ndarray,
                   att_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(C,)`` ranges of motion (5th to 95th percentile) of the guide's and the attempt's matched frames."""
    return _range(ref_channels[ref_idx]), _range(att_channels[att_idx])
