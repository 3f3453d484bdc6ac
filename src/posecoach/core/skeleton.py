"""Skeleton definitions: BlazePose-33 (MediaPipe's landmark order) and COCO-17, with the mapping between them.

Left and right are the person's own, as MediaPipe names them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Skeleton:
    """A named set of keypoints and the bones that join them."""

    name: str
    names: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]

    @property
    def num_keypoints(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Index of the keypoint called ``name`` (raises ``KeyError`` with the known names otherwise)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"{self.name} has no keypoint {name!r}; known: {', '.join(self.names)}") from None

    def side(self, index: int) -> str:
        """'left', 'right' or 'centre' for a keypoint."""
        n = self.names[index]
        return "left" if n.startswith("left_") else "right" if n.startswith("right_") else "centre"

    def mirror_indices(self) -> np.ndarray:
        """For each keypoint, the index of its left/right counterpart (itself for centre points)."""
        out = []
        for n in self.names:
            if n.startswith("left_"):
                out.append(self.names.index("right_" + n[5:]))
            elif n.startswith("right_"):
                out.append(self.names.index("left_" + n[6:]))
            else:
                out.append(self.names.index(n))
        return np.asarray(out, dtype=np.int64)


BLAZEPOSE_33 = Skeleton(
    name="blazepose33",
    names=(
        "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
        "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
        "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel", "right_heel",
        "left_foot_index", "right_foot_index",
    ),
    edges=(
        (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
        (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
        (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
        (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
        (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
    ),
)

COCO_17 = Skeleton(
    name="coco17",
    names=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
        "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip",
        "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    edges=(
        (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
        (5, 11), (6, 12), (11, 12), (11, 13), (13, 15), (12, 14), (14, 16),
    ),
)

#: For each COCO-17 keypoint, the BlazePose-33 keypoint with the same name.
COCO17_TO_BLAZEPOSE33: np.ndarray = np.asarray([BLAZEPOSE_33.index(n) for n in COCO_17.names], dtype=np.int64)

SKELETONS: dict[str, Skeleton] = {s.name: s for s in (BLAZEPOSE_33, COCO_17)}


def coco17_to_blazepose33(points: np.ndarray) -> np.ndarray:
    """Place ``(..., 17, C)`` COCO keypoints into a ``(..., 33, C)`` BlazePose array; the rest are NaN."""
    points = np.asarray(points)
    if points.shape[-2] != COCO_17.num_keypoints:
        raise ValueError(f"expected 17 COCO keypoints on axis -2, got shape {points.shape}")
    out = np.full((*points.shape[:-2], BLAZEPOSE_33.num_keypoints, points.shape[-1]), np.nan, dtype=np.float32)
    out[..., COCO17_TO_BLAZEPOSE33, :] = points
    return out


#: NTU RGB+D's 25 joints (Kinect v2 order; also what tools that map MediaPipe to NTU give) that have a BlazePose
#: counterpart: head -> nose, shoulders, elbows, wrists, hips, knees, ankles. The spine, hand and foot joints have
#: none and are left out.
NTU25_TO_BLAZEPOSE33: dict[int, int] = {
    3: BLAZEPOSE_33.index("nose"), 4: BLAZEPOSE_33.index("left_shoulder"), 5: BLAZEPOSE_33.index("left_elbow"),
    6: BLAZEPOSE_33.index("left_wrist"), 8: BLAZEPOSE_33.index("right_shoulder"),
    9: BLAZEPOSE_33.index("right_elbow"), 10: BLAZEPOSE_33.index("right_wrist"), 12: BLAZEPOSE_33.index("left_hip"),
    13: BLAZEPOSE_33.index("left_knee"), 14: BLAZEPOSE_33.index("left_ankle"), 16: BLAZEPOSE_33.index("right_hip"),
    17: BLAZEPOSE_33.index("right_knee"), 18: BLAZEPOSE_33.index("right_ankle"),
}
NTU_25_POINTS = 25
_NTU_FROM, _NTU_TO = (np.asarray(list(ix), dtype=np.int64) for ix in zip(*NTU25_TO_BLAZEPOSE33.items(), strict=True))


def ntu25_to_blazepose33(points: np.ndarray) -> np.ndarray:
    """Place ``(..., 25, C)`` NTU joints into a ``(..., 33, C)`` BlazePose array (`NTU25_TO_BLAZEPOSE33`); the rest
    are NaN."""
    points = np.asarray(points)
    if points.shape[-2] != NTU_25_POINTS:
        raise ValueError(f"expected 25 NTU joints on axis -2, got shape {points.shape}")
    out = np.full((*points.shape[:-2], BLAZEPOSE_33.num_keypoints, points.shape[-1]), np.nan, dtype=np.float32)
    out[..., _NTU_TO, :] = points[..., _NTU_FROM, :]
    return out


def blazepose33_to_coco17(points: np.ndarray) -> np.ndarray:
    """Select the 17 COCO keypoints from a ``(..., 33, C)`` BlazePose array."""
    points = np.asarray(points)
    if points.shape[-2] != BLAZEPOSE_33.num_keypoints:
        raise ValueError(f"expected 33 BlazePose keypoints on axis -2, got shape {points.shape}")
    return points[..., COCO17_TO_BLAZEPOSE33, :]
