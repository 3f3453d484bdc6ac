"""Joint angles from pose landmarks, with the angle definitions kept as data.

Three kinds of angle, all in degrees in [0, 180]:

* ``joint``: the angle at ``points[1]`` between ``points[0]`` and ``points[2]`` (180 = straight limb);
* ``vertical``: between the vector ``points[0] -> points[1]`` and straight up (0 = upright, 90 = level);
* ``segments``: between ``points[0] -> points[1]`` and ``points[2] -> points[3]`` (0 = in line).

A point is a tuple of keypoint names whose mean is used (one name, or two for a midpoint). Image angles are
measured in pixel-proportional coordinates (x * width, y * height), so they are right on non-square frames;
up is -y both in the image and in MediaPipe's world frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33

Point = tuple[str, ...]


@dataclass(frozen=True)
class AngleDef:
    """One angle: its name, kind (``joint`` / ``vertical`` / ``segments``) and the points it uses."""

    name: str
    kind: str
    points: tuple[Point, ...]

    def __post_init__(self) -> None:
        need = {"joint": 3, "vertical": 2, "segments": 4}
        if self.kind not in need:
            raise ValueError(f"unknown angle kind {self.kind!r}; known: {', '.join(need)}")
        if len(self.points) != need[self.kind]:
            n = need[self.kind]
            raise ValueError(f"a {self.kind} angle needs {n} points, {self.name} has {len(self.points)}")

    @property
    def indices(self) -> tuple[tuple[int, ...], ...]:
        """BlazePose-33 indices of each point's keypoints."""
        return tuple(tuple(BLAZEPOSE_33.index(n) for n in p) for p in self.points)


_MID_HIP: Point = ("left_hip", "right_hip")
_MID_SHOULDER: Point = ("left_shoulder", "right_shoulder")
_MID_EAR: Point = ("left_ear", "right_ear")


def _sides() -> tuple[AngleDef, ...]:
    defs: list[AngleDef] = []
    for s in ("left", "right"):
        defs += [
            AngleDef(f"{s}_knee", "joint", ((f"{s}_hip",), (f"{s}_knee",), (f"{s}_ankle",))),
            AngleDef(f"{s}_hip", "joint", ((f"{s}_shoulder",), (f"{s}_hip",), (f"{s}_knee",))),
            AngleDef(f"{s}_elbow", "joint", ((f"{s}_shoulder",), (f"{s}_elbow",), (f"{s}_wrist",))),
            AngleDef(f"{s}_shoulder", "joint", ((f"{s}_elbow",), (f"{s}_shoulder",), (f"{s}_hip",))),
        ]
    return tuple(defs)


ANGLE_DEFS: tuple[AngleDef, ...] = (
    *_sides(),
    AngleDef("trunk_lean", "vertical", (_MID_HIP, _MID_SHOULDER)),
    AngleDef("neck", "segments", (_MID_HIP, _MID_SHOULDER, _MID_SHOULDER, _MID_EAR)),
)
ANGLE_NAMES: tuple[str, ...] = tuple(d.name for d in ANGLE_DEFS)
_BY_NAME: dict[str, AngleDef] = {d.name: d for d in ANGLE_DEFS}

#: Where each angle's label goes on an overlay: the joint itself; trunk at the (left) hip, neck at the nose.
ANGLE_JOINT: dict[str, int] = {
    **{d.name: BLAZEPOSE_33.index(d.name) for d in ANGLE_DEFS if d.kind == "joint"},
    "trunk_lean": BLAZEPOSE_33.index("left_hip"),
    "neck": BLAZEPOSE_33.index("nose"),
}


def _vector_angle(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors ``(..., D)``; NaN where either is NaN or has zero length."""
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    u, v = np.broadcast_arrays(u, v)
    if u.shape[-1] == 2:
        cross = np.abs(u[..., 0] * v[..., 1] - u[..., 1] * v[..., 0])
    elif u.shape[-1] == 3:
        cross = np.linalg.norm(np.cross(u, v), axis=-1)
    else:
        raise ValueError(f"vectors must be 2D or 3D, got shape {u.shape}")
    dot = np.sum(u * v, axis=-1)
    with np.errstate(invalid="ignore"):
        ang = np.degrees(np.arctan2(cross, dot))
        degenerate = (np.linalg.norm(u, axis=-1) == 0) | (np.linalg.norm(v, axis=-1) == 0)
    return np.where(degenerate, np.nan, ang)


def angle_at(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Angle in degrees at ``b`` between ``b -> a`` and ``b -> c`` for ``(..., 2|3)`` points, in [0, 180]."""
    b = np.asarray(b, dtype=np.float64)
    return _vector_angle(np.asarray(a, dtype=np.float64) - b, np.asarray(c, dtype=np.float64) - b)


def _resolve(names: Sequence[str] | None) -> tuple[AngleDef, ...]:
    if names is None:
        return ANGLE_DEFS
    unknown = [n for n in names if n not in _BY_NAME]
    if unknown:
        raise KeyError(f"unknown angle(s) {unknown}; known: {', '.join(ANGLE_NAMES)}")
    return tuple(_BY_NAME[n] for n in names)


def _angles_from_points(points: np.ndarray, defs: Sequence[AngleDef]) -> dict[str, np.ndarray]:
    """Angles from ``(..., 33, D)`` points (D = 2 image or 3 world, up = -y) for each definition."""
    up = np.zeros(points.shape[-1])
    up[1] = -1.0

    def point(names_idx: tuple[int, ...]) -> np.ndarray:
        if len(names_idx) == 1:
            return points[..., names_idx[0], :]
        return np.mean(points[..., list(names_idx), :], axis=-2)

    out: dict[str, np.ndarray] = {}
    for d in defs:
        p = [point(i) for i in d.indices]
        if d.kind == "joint":
            out[d.name] = angle_at(p[0], p[1], p[2])
        elif d.kind == "vertical":
            out[d.name] = _vector_angle(p[1] - p[0], up)
        else:
            out[d.name] = _vector_angle(p[1] - p[0], p[3] - p[2])
    return out


def _image_points(landmarks: np.ndarray, width: float, height: float, min_visibility: float) -> np.ndarray:
    """``(..., 33, 5)`` normalised landmarks -> ``(..., 33, 2)`` pixel-proportional x, y."""
    lm = np.asarray(landmarks, dtype=np.float64)
    pts = lm[..., :2] * np.array([float(width), float(height)])
    return _mask_invisible(pts, lm[..., 3], min_visibility)


def _mask_invisible(points: np.ndarray, visibility: np.ndarray, min_visibility: float) -> np.ndarray:
    if min_visibility > 0:
        points = np.where((visibility >= min_visibility)[..., None], points, np.nan)
    return points


def image_size(seq: PoseSequence) -> tuple[float, float]:
    """``(width, height)`` of the source frames, or ``(1, 1)`` (square pixels) when unknown."""
    w, h = seq.source.get("width"), seq.source.get("height")
    if w and h:
        return float(w), float(h)
    return 1.0, 1.0


def joint_angles(seq: PoseSequence, *, world: bool = False, track_id: int | None = None,
                 names: Sequence[str] | None = None, min_visibility: float = 0.0) -> dict[str, np.ndarray]:
    """``{name: (T,) float64 degrees}`` for one person (default: the subject).

    ``world=False`` uses the image landmarks corrected for the frame's aspect ratio; ``world=True`` the 3D
    world landmarks. Keypoints with visibility below ``min_visibility`` count as missing (NaN angles).
    """
    defs = _resolve(names)
    lm = seq.subject_landmarks(track_id)
    if world:
        pts = np.asarray(seq.subject_world(track_id), dtype=np.float64)
        pts = _mask_invisible(pts, lm[..., 3], min_visibility)
    else:
        pts = _image_points(lm, *image_size(seq), min_visibility)
    return _angles_from_points(pts, defs)


def frame_angles(landmarks_k5: np.ndarray, *, width: int, height: int, names: Sequence[str] | None = None,
                 min_visibility: float = 0.0) -> dict[str, float]:
    """Image angles of one person in one frame (``(33, 5)`` normalised landmarks), e.g. for overlay labels."""
    lm = np.asarray(landmarks_k5)
    if lm.shape != (BLAZEPOSE_33.num_keypoints, 5):
        raise ValueError(f"expected (33, 5) landmarks, got {lm.shape}")
    angles = _angles_from_points(_image_points(lm, width, height, min_visibility), _resolve(names))
    return {k: float(v) for k, v in angles.items()}


def angles_from_points(points: np.ndarray, names: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """``{name: (...,) degrees}`` from ``(..., 33, 2|3)`` points (up = -y), e.g. already-normalised poses."""
    return _angles_from_points(np.asarray(points, dtype=np.float64), _resolve(names))
