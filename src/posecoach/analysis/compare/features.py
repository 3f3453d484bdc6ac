"""Comparison features: what a movement looks like independent of where the person stands, how big they appear
and (as far as the data allows) where the camera is.

* **joint angles** (degrees, `posecoach.features.angles`): from the 3D world landmarks when the sequence has them,
  else from the image landmarks with MediaPipe's relative depth as the third coordinate, times `IMAGE_DEPTH_SCALE`
  (MediaPipe's image depth is exaggerated: the factor that keeps the limbs' lengths most constant, `depth_scale`,
  is 0.15-0.85, median 0.45, middle half 0.4-0.55, over the 92 yoga and 3 KERAAL sequences; unscaled, a straight
  standing knee measures ~130 degrees). Angles do not change with position, scale or camera yaw.
* **segment tilts** (degrees from straight up) of the upper arms, forearms, thighs, shins and trunk sides: view
  independent for a level camera, and they tell a raised arm from a lowered one at the same elbow angle.
* **segment directions**: unit vectors in a body frame (the person's hip line, up, forward; one frame per
  sequence, so a turn of the body is kept but the camera's yaw is not).

Mirroring (`mirror=True`) swaps the person's sides and reflects the body: a movement done on the other side.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.features.angles import image_size, joint_angles

#: The joint angles scored and explained (knees, hips, elbows, shoulders, trunk lean).
SCORED_ANGLES: tuple[str, ...] = ("left_knee", "right_knee", "left_hip", "right_hip", "left_elbow", "right_elbow",
                                  "left_shoulder", "right_shoulder", "trunk_lean")
#: Segments (from, to) whose tilt and direction feed the alignment.
SEGMENTS: dict[str, tuple[str, str]] = {
    **{f"{s}_{n}": (f"{s}_{a}", f"{s}_{b}") for s in ("left", "right") for n, (a, b) in {
        "upper_arm": ("shoulder", "elbow"), "forearm": ("elbow", "wrist"), "thigh": ("hip", "knee"),
        "shin": ("knee", "ankle"), "trunk_side": ("hip", "shoulder")}.items()},
    "shoulder_line": ("right_shoulder", "left_shoulder"),
}
_HIPS = [BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")]
_UP = np.array([0.0, -1.0, 0.0])  # y points down in both image and world landmarks


@dataclass(frozen=True)
class Features:
    """Per-frame features of one person's movement."""

    times: np.ndarray  # (T,) seconds
    angles: dict[str, np.ndarray]  # joint angle name -> (T,) degrees
    tilts: dict[str, np.ndarray]  # segment name -> (T,) degrees from straight up
    directions: np.ndarray  # (T, S, 3) unit vectors in the body frame, segments in SEGMENTS order
    points: np.ndarray  # (T, 33, 3) the 3D points the features came from
    mirrored: bool = False

    @property
    def num_frames(self) -> int:
        return len(self.times)


#: Limbs whose length should not change during a movement: they calibrate the image landmarks' depth.
BONES: tuple[tuple[str, str], ...] = tuple((f"{s}_{a}", f"{s}_{b}") for s in ("left", "right") for a, b in (
    ("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle"), ("shoulder", "hip")))
_BONES = np.array([(BLAZEPOSE_33.index(a), BLAZEPOSE_33.index(b)) for a, b in BONES])
#: Depth scales tried by `depth_scale` (1 = MediaPipe's "roughly the same scale as x").
DEPTH_SCALES = np.round(np.arange(0.05, 1.51, 0.05), 2)
#: The factor applied to the image landmarks' depth. One constant rather than `depth_scale` per sequence: the
#: estimate moves with the movement (a restricted joint changed it, and with it every angle of the attempt).
IMAGE_DEPTH_SCALE = 0.5


def depth_scale(points: np.ndarray) -> float:
    """The factor for the depth (z) of ``(T, 33, 3)`` image-derived points that keeps the limbs' lengths most
    constant over the sequence (the least mean standard deviation of log bone length); 1.0 when undetermined."""
    d = points[:, _BONES[:, 0]] - points[:, _BONES[:, 1]]  # (T, B, 3)
    ok = np.isfinite(d).all(axis=(1, 2))
    if ok.sum() < 3:
        return 1.0
    d = d[ok]
    sq = (d[..., None, :2] ** 2).sum(-1) + (d[..., None, 2] * DEPTH_SCALES) ** 2  # (T, B, K) squared lengths
    spread = np.log(np.maximum(sq, 1e-12)).std(axis=0).mean(axis=0)  # (K,) spread of log length
    return float(DEPTH_SCALES[int(np.argmin(spread))]) if np.isfinite(spread).all() else 1.0


def body_points(seq: PoseSequence) -> np.ndarray:
    """``(T, 33, 3)`` 3D points of the subject: world landmarks (metres) when present in most frames, else the
    image landmarks in pixel-proportional units with MediaPipe's depth (scaled like x, then by
    `IMAGE_DEPTH_SCALE`)."""
    world = np.asarray(seq.subject_world(), dtype=np.float64)
    if np.isfinite(world[:, _HIPS, 0]).all(axis=1).mean() >= 0.5:
        return world
    lm = np.asarray(seq.subject_landmarks(), dtype=np.float64)
    w, h = image_size(seq)
    pts = lm[..., :3] * np.array([w, h, w])
    pts[..., 2] *= IMAGE_DEPTH_SCALE
    return pts


def mirror_points(points: np.ndarray) -> np.ndarray:
    """The body reflected left-right with its sides renamed: the same movement done on the other side."""
    return points[:, BLAZEPOSE_33.mirror_indices()] * np.array([-1.0, 1.0, 1.0])


def _unit(v: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)


def body_frame(points: np.ndarray) -> np.ndarray:
    """``(3, 3)`` rows: the person's left (median hip line, made level), up, forward."""
    hip_line = points[:, _HIPS[0]] - points[:, _HIPS[1]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        left = np.nanmedian(_unit(hip_line), axis=0)
    if not np.isfinite(left).all():
        left = np.array([1.0, 0.0, 0.0])
    left = left - np.dot(left, _UP) * _UP
    left = left / np.linalg.norm(left) if np.linalg.norm(left) > 1e-9 else np.array([1.0, 0.0, 0.0])
    return np.stack([left, _UP, np.cross(left, _UP)])


def sequence_features(seq: PoseSequence, *, mirror: bool = False) -> Features:
    """The comparison features of the subject of ``seq`` (optionally mirrored)."""
    pts = body_points(seq)
    if mirror:
        pts = mirror_points(pts)
    one = seq.person() if seq.num_people else seq
    as_world = replace(one, world=pts[:, None].astype(np.float32)) if one.num_people else one
    angles = joint_angles(as_world, world=True, names=SCORED_ANGLES) if one.num_people else {
        n: np.full(seq.num_frames, np.nan) for n in SCORED_ANGLES}
    idx = {n: (BLAZEPOSE_33.index(a), BLAZEPOSE_33.index(b)) for n, (a, b) in SEGMENTS.items()}
    seg = _unit(np.stack([pts[:, b] - pts[:, a] for a, b in idx.values()], axis=1))
    with np.errstate(invalid="ignore"):
        tilt = np.degrees(np.arccos(np.clip(seg @ _UP, -1.0, 1.0)))
    tilts = {n: tilt[:, k] for k, n in enumerate(SEGMENTS)}
    directions = seg @ body_frame(pts).T
    return Features(times=np.asarray(seq.timestamps, dtype=np.float64), angles=angles, tilts=tilts,
                    directions=directions, points=pts, mirrored=mirror)


def fill_gaps(x: np.ndarray) -> np.ndarray:
    """``(T, D)`` with NaN runs linearly interpolated per column (held at the ends); all-NaN columns stay NaN."""
    out = np.array(x, dtype=np.float64)
    t = np.arange(len(out))
    for c in range(out.shape[1]):
        ok = np.isfinite(out[:, c])
        if ok.any() and not ok.all():
            out[~ok, c] = np.interp(t[~ok], t[ok], out[ok, c])
    return out


#: Degrees that count as one unit in the alignment's feature space; directions are unit vectors already.
ANGLE_UNIT_DEG = 30.0
DIRECTION_WEIGHT = 1.0


def alignment_matrix(f: Features) -> np.ndarray:
    """``(T, D)`` features for DTW: angles and tilts in units of `ANGLE_UNIT_DEG`, then the directions."""
    cols = [f.angles[n] for n in SCORED_ANGLES] + [f.tilts[n] for n in SEGMENTS]
    ang = np.stack(cols, axis=1) / ANGLE_UNIT_DEG
    return fill_gaps(np.concatenate([ang, DIRECTION_WEIGHT * f.directions.reshape(f.num_frames, -1)], axis=1))
