"""Fall features: per-frame body measures and causal sliding-window statistics of them.

Per frame (image pixels, y down, from the subject's 2D landmarks): trunk angle to vertical (hip centre to
shoulder centre), hip and head height, the bounding box of the visible keypoints. Everything is normalised by
the body's size: the longest torso seen in the last `SCALE_S` seconds (a fall towards the camera shortens the
torso in the image but not this scale). Window features at frame t use only frames up to t (so the live
detector computes exactly what the offline one does): how far and how fast hips and head dropped, how fast the
trunk turned, how long the body has been low, how still it is since, and whether it was upright before.

Missing frames are bridged for up to `MAX_GAP_S` (the last pose held); longer gaps, and a person who left the
frame, give NaN features, which the model (histogram gradient boosting) treats as missing.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter, minimum_filter1d, uniform_filter1d

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33

SCALE_S = 10.0
MAX_GAP_S = 0.5
HISTORY_S = SCALE_S + 0.5  # frames a live detector must keep
_I = BLAZEPOSE_33.index
SHOULDERS = [_I("left_shoulder"), _I("right_shoulder")]
HIPS = [_I("left_hip"), _I("right_hip")]
HEAD = [_I("nose"), _I("left_ear"), _I("right_ear")]
FEATURES: tuple[str, ...] = (
    "trunk_deg", "log_aspect", "head_above_hip", "hip_drop", "head_drop", "hip_vmax", "head_vmax",
    "trunk_change", "trunk_rate_max", "low_share", "stillness", "detected_share", "upright_before",
    "height_ratio", "hip_v", "trunk_min_3s",
)


def frame_measures(landmarks: np.ndarray, width: float, height: float) -> dict[str, np.ndarray]:
    """Per-frame trunk angle, torso length, hip / head y and box size (pixels) of ``(T, 33, >=2)`` landmarks."""
    xy = np.asarray(landmarks, dtype=np.float64)[..., :2] * np.array([width, height])
    if landmarks.shape[-1] >= 4:
        vis = np.asarray(landmarks[..., 3], dtype=np.float64)
        xy = np.where((vis < 0.2)[..., None], np.nan, xy)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN frames (nobody) give NaN, as they should
        sh = np.nanmean(xy[:, SHOULDERS], axis=1)
        hip = np.nanmean(xy[:, HIPS], axis=1)
        head = np.nanmean(xy[:, HEAD], axis=1)
        box_w = np.nanmax(xy[..., 0], axis=1) - np.nanmin(xy[..., 0], axis=1)
        box_h = np.nanmax(xy[..., 1], axis=1) - np.nanmin(xy[..., 1], axis=1)
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
    scale = _rolling_max(_causal_median(m["torso"]), n(SCALE_S))
    scale = np.where(scale > 1.0, scale, np.nan)
    hip, head, trunk = m["hip_y"] / scale, m["head_y"] / scale, m["trunk"]
    hip_v, head_v = _rate(hip, fps), _rate(head, fps)
    trunk_rate = np.abs(_rate(trunk, fps))
    above = hip - head
    low = (above < 0.8) | (trunk > 55)
    low = np.where(np.isfinite(above), low.astype(np.float64), np.nan)
    box_h = m["box_h"] / scale
    with np.errstate(invalid="ignore", divide="ignore"):
        log_aspect = np.log(np.maximum(m["box_w"], 1.0) / np.maximum(m["box_h"], 1.0))
        height_ratio = box_h / _rolling_max(box_h, n(4.0))
    still = np.hypot(_std(hip, n(0.6)), _std(head, n(0.6)))
    cols = {
        "trunk_deg": trunk,
        "log_aspect": log_aspect,
        "head_above_hip": above,
        "hip_drop": hip - _rolling_min(hip, n(2.0)),
        "head_drop": head - _rolling_min(head, n(2.0)),
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
