"""Fall features: per-frame body measures and causal sliding-window statistics of them.

Skeleton-agnostic: only the joints every common skeleton has are read (`CORE`: nose, shoulders, hips, knees,
ankles; the eyes and ears stand in for a missing nose), so BlazePose-33, COCO-17 (YOLO-pose, OpenPose),
AlphaPose-13, MD4FD's 11 joints and NTU-25 mapped onto these slots give the same features from the same body.
Per frame (y down): trunk angle to vertical (hip centre to shoulder centre), hip and head height, the box of the
core joints. Everything is normalised by the body's size: the longest torso seen in the last `RECENT_S` seconds
(a fall towards the camera shortens the torso in the image but not this scale), but at least `FLOOR_SHARE` of the
longest in the last `SCALE_S` (a body lying along the line of sight does not blow up the scale; a person walking
away from a high camera is not measured by their size when they were close), so the features do not depend
on the frame size or the units: pixels or normalised coordinates give the same values (no absolute pixel
threshold anywhere). Window features at frame t use only frames up to t (so the live detector computes
exactly what the offline one does): how far and how fast hips and head dropped, how fast the trunk turned, how
long the body has been low, how still it is since, and whether it was upright before; and over longer windows
what follows a drop (the head sunk towards the hips and staying so, the hips' drop over 5 s, stillness over 2 s,
the share of the last 4 s spent low, the torso's length against its 6 s maximum).

Missing frames are bridged for up to `MAX_GAP_S` (the last pose held); longer gaps, and a person who left the
frame, give NaN features, which the model (histogram gradient boosting) treats as missing.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, minimum_filter1d, uniform_filter1d

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, COCO_17, Skeleton

SCALE_S = 10.0
RECENT_S = 2.0
FLOOR_SHARE = 0.5
MAX_GAP_S = 0.5
HISTORY_S = SCALE_S + 0.5  # frames a live detector must keep
#: The joints the features read, by name: every common 2D skeleton has them (NTU-25's "head" goes to the nose).
CORE: tuple[str, ...] = ("nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip", "left_knee",
                         "right_knee", "left_ankle", "right_ankle")
HEAD_FALLBACK: tuple[str, ...] = ("left_eye", "right_eye", "left_ear", "right_ear")  # when the nose is missing
MIN_VISIBILITY = 0.2
FEATURES: tuple[str, ...] = (
    "trunk_deg", "log_aspect", "head_above_hip", "hip_drop", "head_drop", "hip_vmax", "head_vmax",
    "trunk_change", "trunk_rate_max", "low_share", "stillness", "detected_share", "upright_before",
    "height_ratio", "hip_v", "trunk_min_3s",
    # What follows a drop, over longer windows (a fall stays folded, low and still; bending or a squat comes back):
    "fold_5s", "fold_held", "hip_drop_5s", "still_2s", "low_held", "torso_ratio",
)


def _joints(skeleton: Skeleton, names: tuple[str, ...]) -> list[int]:
    return [skeleton.index(n) for n in names]


def frame_measures(landmarks: np.ndarray, width: float, height: float) -> dict[str, np.ndarray]:
    """Per-frame trunk angle, torso length, hip / head y and core-joint box size of ``(T, 33|17, >=2)``
    landmarks (BlazePose or COCO order), in ``width`` x ``height`` units per coordinate unit."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    skeleton = COCO_17 if landmarks.shape[-2] == COCO_17.num_keypoints else BLAZEPOSE_33
    xy = landmarks[..., :2] * np.array([width, height])
    if landmarks.shape[-1] >= 4:
        xy = np.where((landmarks[..., 3] < MIN_VISIBILITY)[..., None], np.nan, xy)
    core = xy[:, _joints(skeleton, CORE)]
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames (nobody) give NaN, as they should
        sh = np.nanmean(core[:, 1:3], axis=1)
        hip = np.nanmean(core[:, 3:5], axis=1)
        head = np.where(np.isfinite(core[:, :1]), core[:, :1],
                        np.nanmean(xy[:, _joints(skeleton, HEAD_FALLBACK)], axis=1, keepdims=True))[:, 0]
        box_w = np.nanmax(core[..., 0], axis=1) - np.nanmin(core[..., 0], axis=1)
        box_h = np.nanmax(core[..., 1], axis=1) - np.nanmin(core[..., 1], axis=1)
    trunk = sh - hip
    torso = np.hypot(trunk[:, 0], trunk[:, 1])
    angle = np.degrees(np.arctan2(np.abs(trunk[:, 0]), -trunk[:, 1]))  # 0 upright, 90 horizontal, 180 inverted
    return {"trunk": angle, "torso": torso, "hip_y": hip[:, 1], "head_y": head[:, 1], "box_w": box_w,
            "box_h": box_h}


def _fill(x: np.ndarray, max_gap: int) -> np.ndarray:
    """Hold the last finite value for up to ``max_gap`` frames (forward only: causal)."""
    out = x.copy()
    idx = np.where(np.isfinite(x), np.arange(len(x)), -1)
    last = np.maximum.accumulate(idx) if len(x) else idx
    ok = (last >= 0) & (np.arange(len(x)) - last <= max_gap)
    out[ok] = x[last[ok]]
    return out


def _past(fn: type | object, x: np.ndarray, n: int) -> np.ndarray:
    """Causal window statistic over the last ``n`` frames (NaN treated via -inf / +inf by the callers)."""
    n = max(1, int(n))
    return fn(x, size=n, origin=(n - 1) // 2, mode="nearest")  # type: ignore[operator]


def _rolling_max(x: np.ndarray, n: int) -> np.ndarray:
    out = _past(maximum_filter1d, np.where(np.isfinite(x), x, -np.inf), n)
    return np.where(np.isfinite(out), out, np.nan)


def _rolling_min(x: np.ndarray, n: int) -> np.ndarray:
    out = _past(minimum_filter1d, np.where(np.isfinite(x), x, np.inf), n)
    return np.where(np.isfinite(out), out, np.nan)


def _rolling_mean(x: np.ndarray, n: int) -> np.ndarray:
    ok = np.isfinite(x)
    s = _past(uniform_filter1d, np.where(ok, x, 0.0), n)
    c = _past(uniform_filter1d, ok.astype(np.float64), n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 1e-9, s / c, np.nan)


def _rate(x: np.ndarray, fps: float, lag_s: float = 0.2) -> np.ndarray:
    """Change per second over the last ``lag_s`` (causal)."""
    k = max(1, round(lag_s * fps))
    out = np.full_like(x, np.nan)
    out[k:] = (x[k:] - x[:-k]) * fps / k
    return out


def window_features(measures: dict[str, np.ndarray], fps: float) -> np.ndarray:
    """``(T, len(FEATURES))`` causal window features of `frame_measures` output at ``fps``."""
    n = lambda s: max(1, round(s * fps))  # noqa: E731
    detected = np.isfinite(measures["hip_y"]) & np.isfinite(measures["trunk"])
    m = {k: _fill(v, n(MAX_GAP_S)) for k, v in measures.items()}
    m = {k: _rolling_mean(v, n(0.1)) if k != "torso" else v for k, v in m.items()}
    torso = _causal_median(m["torso"])
    scale = np.fmax(_rolling_max(torso, n(RECENT_S)), FLOOR_SHARE * _rolling_max(torso, n(SCALE_S)))
    scale = np.where(scale > 0.0, scale, np.nan)  # units cancel: pixels or normalised give the same features
    # Positions stay in input units; only differences are divided by the current scale (translation-invariant:
    # the same body anywhere in the frame, at any size, gives the same features).
    hip_px, head_px, trunk = m["hip_y"], m["head_y"], m["trunk"]
    hip_v, head_v = _rate(hip_px, fps) / scale, _rate(head_px, fps) / scale
    trunk_rate = np.abs(_rate(trunk, fps))
    above = (hip_px - head_px) / scale
    low = (above < 0.8) | (trunk > 55)
    low = np.where(np.isfinite(above), low.astype(np.float64), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        floor = 0.05 * scale  # a box thinner than this is one line of joints: its width is noise
        log_aspect = np.log(np.maximum(m["box_w"], floor) / np.maximum(m["box_h"], floor))
        height_ratio = m["box_h"] / _rolling_max(m["box_h"], n(4.0))
    still = np.hypot(_std(hip_px, n(0.6)), _std(head_px, n(0.6))) / scale
    fold = _rolling_max(above, n(5.0)) - above  # how far the head sank towards the hips since the last 5 s
    with np.errstate(invalid="ignore", divide="ignore"):
        torso_ratio = torso / _rolling_max(torso, n(6.0))  # a fall along the line of sight shrinks the torso
    cols = {
        "trunk_deg": trunk,
        "log_aspect": log_aspect,
        "head_above_hip": above,
        "hip_drop": (hip_px - _rolling_min(hip_px, n(2.0))) / scale,
        "head_drop": (head_px - _rolling_min(head_px, n(2.0))) / scale,
        "hip_vmax": _rolling_max(hip_v, n(1.5)),
        "head_vmax": _rolling_max(head_v, n(1.5)),
        "trunk_change": trunk - _rolling_min(trunk, n(2.0)),
        "trunk_rate_max": _rolling_max(trunk_rate, n(1.5)),
        "low_share": _rolling_mean(low, n(2.0)),
        "stillness": still,
        "detected_share": _rolling_mean(detected.astype(np.float64), n(1.0)),
        "upright_before": _rolling_max(above, n(3.0)),
        "height_ratio": height_ratio,
        "hip_v": hip_v,
        "trunk_min_3s": _rolling_min(trunk, n(3.0)),
        "fold_5s": fold,
        "fold_held": _rolling_min(fold, n(1.5)),  # ...and stayed sunk for the last 1.5 s
        "hip_drop_5s": (hip_px - _rolling_min(hip_px, n(5.0))) / scale,
        "still_2s": np.hypot(_std(hip_px, n(2.0)), _std(head_px, n(2.0))) / scale,
        "low_held": _rolling_mean(low, n(4.0)),
        "torso_ratio": _rolling_max(torso_ratio, n(1.0)),
    }
    out = np.stack([cols[f] for f in FEATURES], axis=1)
    out[~np.isfinite(m["hip_y"]) | ~np.isfinite(scale)] = np.nan
    return out


def _causal_median(x: np.ndarray, n: int = 5) -> np.ndarray:
    """Median of the last ``n`` frames (missing values count as 0, which never wins a later maximum)."""
    return median_filter(np.where(np.isfinite(x), x, 0.0), size=n, origin=(n - 1) // 2, mode="nearest")


def _std(x: np.ndarray, n: int) -> np.ndarray:
    mean = _rolling_mean(x, n)
    var = _rolling_mean(x * x, n) - mean * mean
    return np.sqrt(np.maximum(var, 0.0))


def frame_size(seq: PoseSequence) -> tuple[float, float]:
    """The video's width and height from the sequence's metadata (1 x 1 when unknown)."""
    src = seq.source or {}
    w, h = src.get("width"), src.get("height")
    return (float(w), float(h)) if w and h else (1.0, 1.0)


def sequence_features(seq: PoseSequence) -> np.ndarray:
    """Window features of the subject of ``seq`` (``(T, len(FEATURES))``; NaN where unknown)."""
    if not seq.num_people or not seq.num_frames:
        return np.full((seq.num_frames, len(FEATURES)), np.nan)
    w, h = frame_size(seq)
    return window_features(frame_measures(seq.subject_landmarks(), w, h), seq.fps)
