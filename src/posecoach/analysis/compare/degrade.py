"""Known changes to a movement, for checking a comparison: slowed, moved and resized in the frame, mirrored, or
one joint restricted by a known number of degrees. Pure functions of a one-person `PoseSequence`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.features.angles import ANGLE_DEFS, angle_at, image_size

#: For each joint angle that can be restricted: the keypoints beyond it (they turn with the distal segment).
DISTAL: dict[str, tuple[str, ...]] = {
    "knee": ("ankle", "heel", "foot_index"),
    "hip": ("knee", "ankle", "heel", "foot_index"),
    "elbow": ("wrist", "pinky", "index", "thumb"),
    "shoulder": ("elbow", "wrist", "pinky", "index", "thumb"),
}


def _one(seq: PoseSequence) -> PoseSequence:
    return seq.person() if seq.num_people > 1 else seq


def slowed(seq: PoseSequence, factor: float) -> PoseSequence:
    """The movement ``factor`` times slower (frames resampled by linear interpolation at the same fps)."""
    seq = _one(seq)
    n = max(2, round(seq.num_frames * factor))
    src = np.linspace(0, seq.num_frames - 1, n)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, seq.num_frames - 1)
    w = (src - lo)[:, None, None, None]
    lm = (1 - w) * seq.landmarks[lo] + w * seq.landmarks[hi]
    world = (1 - w) * seq.world[lo] + w * seq.world[hi]
    return replace(seq, landmarks=lm, world=world, timestamps=np.arange(n) / seq.fps, raw_landmarks=None,
                   raw_world=None, source=dict(seq.source))


def shifted(seq: PoseSequence, dx: float = 0.2, dy: float = 0.1, scale: float = 0.6) -> PoseSequence:
    """The person elsewhere in the frame and smaller/larger (image landmarks; world landmarks do not change)."""
    seq = _one(seq)
    lm = seq.landmarks.copy()
    lm[..., 0] = 0.5 + scale * (lm[..., 0] - 0.5) + dx
    lm[..., 1] = 0.5 + scale * (lm[..., 1] - 0.5) + dy
    lm[..., 2] *= scale
    return replace(seq, landmarks=lm, raw_landmarks=None, raw_world=None, source=dict(seq.source))


def mirrored(seq: PoseSequence) -> PoseSequence:
    """A mirrored video: the image flips and the sides are named as seen (the movement on the other side)."""
    seq = _one(seq)
    m = BLAZEPOSE_33.mirror_indices()
    lm, world = seq.landmarks[:, :, m].copy(), seq.world[:, :, m].copy()
    lm[..., 0] = 1 - lm[..., 0]
    world[..., 0] = -world[..., 0]
    return replace(seq, landmarks=lm, world=world, raw_landmarks=None, raw_world=None, source=dict(seq.source))


def _rotate(v: np.ndarray, axis: np.ndarray, deg: np.ndarray) -> np.ndarray:
    """Rodrigues: ``(T, K, 3)`` vectors about ``(T, 3)`` unit axes by ``(T,)`` degrees."""
    t = np.radians(deg)[:, None, None]
    k = axis[:, None, :]
    return v * np.cos(t) + np.cross(k, v) * np.sin(t) + k * np.sum(k * v, -1, keepdims=True) * (1 - np.cos(t))


def _restrict_points(pts: np.ndarray, joint: str, degrees: float) -> np.ndarray:
    """``(T, 33, 3)`` points with ``joint``'s excursion from its start value cut by up to ``degrees``."""
    d = next(a for a in ANGLE_DEFS if a.name == joint)
    (a,), (b,), (c,) = d.indices
    ang = angle_at(pts[:, a], pts[:, b], pts[:, c])
    if not np.isfinite(ang).any():
        return pts
    head = ang[: max(1, len(ang) // 20)]
    start = float(np.nanmedian(head)) if np.isfinite(head).any() else float(ang[np.isfinite(ang)][0])
    excursion = np.abs(ang - start)
    peak = float(np.nanmax(excursion)) if np.isfinite(excursion).any() else 0.0
    if peak <= 0:
        return pts
    cut = np.minimum(degrees * np.nan_to_num(excursion) / peak, np.nan_to_num(excursion))  # never past the start
    sign = np.sign(start - np.nan_to_num(ang, nan=start))  # turn back towards the start value
    if joint.endswith("_shoulder"):  # the shoulder angle's distal point is its first one (elbow, shoulder, hip)
        sign = -sign
    u, v = pts[:, a] - pts[:, b], pts[:, c] - pts[:, b]
    axis = np.cross(u, v)
    norm = np.linalg.norm(axis, axis=-1, keepdims=True)
    axis = np.where(norm > 1e-9, axis / np.where(norm > 1e-9, norm, 1.0), 0.0)  # rotating about u x v opens the angle
    side = joint.split("_")[0]
    distal = [BLAZEPOSE_33.index(f"{side}_{n}") for n in DISTAL[joint.split("_", 1)[1]]]
    out = pts.copy()
    out[:, distal] = pts[:, b:b + 1] + _rotate(pts[:, distal] - pts[:, b:b + 1], axis, sign * cut)
    return out


def restricted(seq: PoseSequence, joint: str, degrees: float) -> PoseSequence:
    """``joint`` (e.g. ``left_knee``) moves ``degrees`` less at its extreme, in proportion on the way (world and
    image landmarks both)."""
    if joint.split("_", 1)[-1] not in DISTAL or joint.split("_")[0] not in ("left", "right"):
        raise KeyError(f"cannot restrict {joint!r}; choose a left_/right_ knee, hip, elbow or shoulder")
    seq = _one(seq)
    world = seq.world.copy()
    world[:, 0] = _restrict_points(world[:, 0].astype(np.float64), joint, degrees)
    w, h = image_size(seq)
    scale = np.array([w, h, w])
    lm = seq.landmarks.copy()
    lm[:, 0, :, :3] = _restrict_points(lm[:, 0, :, :3].astype(np.float64) * scale, joint, degrees) / scale
    return replace(seq, landmarks=lm, world=world, raw_landmarks=None, raw_world=None, source=dict(seq.source))
