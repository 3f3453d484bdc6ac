"""Transformations of a pose sequence that should not change its repetition count (issue 22).

Each is a pure function ``PoseSequence -> PoseSequence`` that hands the subject's landmarks back in the way an
outside user would: a ``(T, K, C)`` array through `PoseSequence.from_landmarks`, with all-zero rows for frames
(and keypoints) with no detection, the sequence's timestamps and fps, and no other metadata (no frame size, no
world landmarks unless the transformation is about them). The output is always a one-person sequence.

`TRANSFORMS` maps a name to each function:

* ``identity_from_landmarks``: x, y, z, visibility unchanged (the baseline an outside user gets);
* ``box``: x and y normalised per frame to the person's bounding box over the detected keypoints;
* ``world``: the world landmarks (metres, hip-centred) given as the landmark array;
* ``coco17``: only the 17 COCO keypoints, x, y, visibility (a ``(T, 17, 3)`` array);
* ``avg5``: a centred 5-frame moving average of every component;
* ``drop``: 10 % of the frames removed at random (seeded), the others keep their timestamps;
* ``fps15``: the frames nearest a 15 Hz grid (every other frame of a 30 fps stream), fps 15;
* ``mirror``: x -> 1 - x with left and right keypoints swapped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, blazepose33_to_coco17

Transform = Callable[[PoseSequence], PoseSequence]

#: Share of the frames `drop` removes, and its default seed.
DROP_SHARE = 0.10
DROP_SEED = 22
#: Window of `avg5` (frames, centred) and the rate `fps15` resamples to (Hz).
AVG_WINDOW = 5
TARGET_FPS = 15.0


def _xyzv(seq: PoseSequence) -> np.ndarray:
    """``(T, K, 4)`` x, y, z, visibility of the subject; NaN where a keypoint is missing."""
    lm = np.asarray(seq.subject_landmarks(), dtype=np.float64)[..., :4].copy()
    lm[~np.isfinite(lm[..., 0])] = np.nan
    return lm


def _hand_in(array: np.ndarray, seq: PoseSequence, *, timestamps: np.ndarray | None = None,
             fps: float | None = None) -> PoseSequence:
    """``array`` (NaN where missing) as an outside user passes it: missing keypoints as zeros."""
    arr = np.asarray(array, dtype=np.float32).copy()
    missing = ~np.all(np.isfinite(arr), axis=-1)
    arr[missing] = 0.0
    arr = np.nan_to_num(arr, nan=0.0)
    ts = seq.timestamps if timestamps is None else timestamps
    return PoseSequence.from_landmarks(arr, fps=seq.fps if fps is None else fps, timestamps=np.array(ts, float))


def identity_from_landmarks(seq: PoseSequence) -> PoseSequence:
    """The subject's x, y, z, visibility through `PoseSequence.from_landmarks` (world and frame size dropped)."""
    return _hand_in(_xyzv(seq), seq)


def box(seq: PoseSequence) -> PoseSequence:
    """x and y normalised per frame to the bounding box of the detected keypoints, z and visibility kept.

    A frame whose box has no width or no height (one keypoint) counts as no detection.
    """
    lm = _xyzv(seq)
    with np.errstate(invalid="ignore", divide="ignore"):
        for c in (0, 1):
            v = lm[..., c]
            seen = np.isfinite(v).any(axis=1)
            lo = np.where(seen, np.nanmin(np.where(seen[:, None], v, 0.0), axis=1), np.nan)[:, None]
            hi = np.where(seen, np.nanmax(np.where(seen[:, None], v, 0.0), axis=1), np.nan)[:, None]
            span = hi - lo
            lm[..., c] = np.where(span > 0, (v - lo) / span, np.nan)
    return _hand_in(lm, seq)


def world(seq: PoseSequence) -> PoseSequence:
    """The world landmarks (x, y, z in metres, hip-centred, y down) given as the landmark array.

    Frames without world landmarks are no detection; visibility is lost (1 for every keypoint given).
    """
    return _hand_in(np.asarray(seq.subject_world(), dtype=np.float64), seq)


def coco17(seq: PoseSequence) -> PoseSequence:
    """Only the 17 COCO keypoints, as a ``(T, 17, 3)`` x, y, visibility array (z dropped)."""
    return _hand_in(blazepose33_to_coco17(_xyzv(seq)[..., [0, 1, 3]]), seq)


def moving_average(values: np.ndarray, window: int = AVG_WINDOW) -> np.ndarray:
    """Centred moving average over axis 0 of the finite values in each window (shorter at the ends).

    Entries that are NaN in ``values`` stay NaN: a smoother does not invent detections.
    """
    if window < 1 or window % 2 == 0:
        raise ValueError(f"window must be a positive odd number of frames, got {window}")
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    zero = np.where(ok, v, 0.0)
    half = window // 2
    pad = [(half, half)] + [(0, 0)] * (v.ndim - 1)
    csum = np.cumsum(np.pad(zero, pad), axis=0)
    cnt = np.cumsum(np.pad(ok.astype(np.float64), pad), axis=0)
    csum = np.concatenate([np.zeros_like(csum[:1]), csum])
    cnt = np.concatenate([np.zeros_like(cnt[:1]), cnt])
    total = csum[window:] - csum[:-window]
    n = cnt[window:] - cnt[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok & (n > 0), total / n, np.nan)


def avg5(seq: PoseSequence) -> PoseSequence:
    """A centred 5-frame moving average of x, y, z and visibility (NaN-aware, missing frames stay missing)."""
    return _hand_in(moving_average(_xyzv(seq), AVG_WINDOW), seq)


def drop_frames(seq: PoseSequence, share: float = DROP_SHARE, seed: int = DROP_SEED) -> PoseSequence:
    """``share`` of the frames removed at random (``seed``: the same frames every time); the rest keep their
    timestamps (a variable-frame-rate input), the nominal fps is kept."""
    if not 0.0 <= share < 1.0:
        raise ValueError(f"share must be in [0, 1), got {share}")
    n = seq.num_frames
    gone = np.random.default_rng(seed).choice(n, size=round(share * n), replace=False)
    keep = np.setdiff1d(np.arange(n), gone)
    return _hand_in(_xyzv(seq)[keep], seq, timestamps=seq.timestamps[keep])


def drop(seq: PoseSequence) -> PoseSequence:
    """10 % of the frames removed at random (seeded, deterministic), timestamps kept for the rest."""
    return drop_frames(seq)


def resample_indices(timestamps: np.ndarray, rate: float) -> np.ndarray:
    """Indices of the frames nearest a ``rate`` Hz grid from the first timestamp (each frame at most once).

    For a 30 fps stream and a 15 Hz grid: every other frame. A stream no faster than ``rate`` keeps every frame.
    """
    ts = np.asarray(timestamps, dtype=np.float64)
    if len(ts) < 2:
        return np.arange(len(ts))
    grid = ts[0] + np.arange(int(np.floor((ts[-1] - ts[0]) * rate + 1e-6)) + 1) / rate
    right = np.clip(np.searchsorted(ts, grid), 1, len(ts) - 1)
    left = right - 1
    nearest = np.where(np.abs(ts[right] - grid) < np.abs(grid - ts[left]), right, left)
    return np.unique(nearest)


def fps15(seq: PoseSequence) -> PoseSequence:
    """The frames nearest a 15 Hz grid, their timestamps kept, fps 15 (the input's when it is slower)."""
    keep = resample_indices(seq.timestamps, TARGET_FPS)
    return _hand_in(_xyzv(seq)[keep], seq, timestamps=seq.timestamps[keep], fps=min(seq.fps, TARGET_FPS))


def mirror(seq: PoseSequence) -> PoseSequence:
    """A mirrored image: x -> 1 - x, each left keypoint swapped with its right counterpart (z, visibility kept)."""
    lm = _xyzv(seq)[:, BLAZEPOSE_33.mirror_indices()]
    lm[..., 0] = 1.0 - lm[..., 0]
    return _hand_in(lm, seq)


TRANSFORMS: dict[str, Transform] = {
    "identity_from_landmarks": identity_from_landmarks,
    "box": box,
    "world": world,
    "coco17": coco17,
    "avg5": avg5,
    "drop": drop,
    "fps15": fps15,
    "mirror": mirror,
}

#: The transformation the others are compared with.
BASELINE = "identity_from_landmarks"
