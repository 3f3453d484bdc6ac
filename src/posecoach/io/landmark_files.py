"""Readers for pose data saved by other tools, into a `PoseSequence` (BlazePose-33 order).

* `read_mediapipe_csv`: one row per frame of MediaPipe's 33 x (x, y, z, visibility) normalised landmarks
  (PosePilot's yoga CSVs; a header row and trailing non-numeric columns such as a label are ignored; gzip ok);
* `read_keraal_blazepose`: KERAAL's BlazePose JSON (``{"positions": {"<frame>": {"Left_knee": [x, y, z]}}}``);
* `read_ui_prmd`: UI-PRMD's Kinect v2 files (22 joints: positions relative to the parent joint plus YXZ Euler
  angles, forward kinematics as in the dataset's own code), mapped onto the BlazePose joints both skeletons have
  (shoulders, elbows, wrists, hips, knees, ankles, toes; the head stands for nose and ears). Its world
  landmarks are in metres, hip-centred, y down, as MediaPipe's; its image landmarks a front orthographic view.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
from pathlib import Path

import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.errors import InputError

K = BLAZEPOSE_33.num_keypoints

#: UI-PRMD Kinect joint index -> BlazePose keypoint names it stands for.
UI_PRMD_TO_BLAZEPOSE: dict[int, tuple[str, ...]] = {
    4: ("nose", "left_ear", "right_ear"), 7: ("left_shoulder",), 8: ("left_elbow",), 9: ("left_wrist",),
    11: ("right_shoulder",), 12: ("right_elbow",), 13: ("right_wrist",), 14: ("left_hip",), 15: ("left_knee",),
    16: ("left_ankle",), 17: ("left_foot_index",), 18: ("right_hip",), 19: ("right_knee",), 20: ("right_ankle",),
    21: ("right_foot_index",),
}
#: UI-PRMD forward kinematics: joint -> (parent joint, joint whose rotation chain it continues, or -1 to start one
#: from the rotation of the parent named second). Transcribed from the dataset's visualisation code.
_UI_PRMD_CHAINS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5),  # waist, spine, chest, neck, head, head tip
    (2, 6, 7, 8, 9),  # chest, left collar, upper arm, forearm, hand
    (2, 10, 11, 12, 13),
    (0, 14, 15, 16, 17),  # waist, left upper leg, lower leg, foot, toes
    (0, 18, 19, 20, 21),
)


def _open_text(path: Path) -> list[str]:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8") as f:
                return f.read().splitlines()
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None


def _floats(row: list[str]) -> list[float] | None:
    try:
        return [float(v) for v in row]
    except ValueError:
        return None


def read_mediapipe_csv(path: str | Path, fps: float = 30.0) -> PoseSequence:
    """A CSV of 33 x (x, y, z, visibility) per row (132 numbers first; other columns ignored). A header row of
    column numbers (``0,1,...,131``, as pandas writes it) is a header, not a frame."""
    path = Path(path)
    rows = []
    for row in csv.reader(_open_text(path)):
        values = _floats(row[:132]) if len(row) >= 132 else None
        if values is not None and values != [float(k) for k in range(132)]:
            rows.append(values)
    if not rows:
        raise InputError(f"{path}: no rows of 33 x (x, y, z, visibility) landmarks")
    arr = np.asarray(rows, dtype=np.float32).reshape(-1, K, 4)
    return PoseSequence.from_landmarks(arr, fps=fps, source={"path": str(path), "format": "mediapipe-csv"})


def read_keraal_blazepose(path: str | Path, fps: float = 30.0, width: int = 960, height: int = 544) -> PoseSequence:
    """KERAAL BlazePose JSON (group 3 videos are 960 x 544); frames in the order of their numbers."""
    path = Path(path)
    try:
        positions = json.loads("\n".join(_open_text(path)))["positions"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{path}: not a KERAAL BlazePose file ({exc})") from None
    frames = sorted(positions, key=float)
    arr = np.zeros((len(frames), K, 3), np.float32)
    for t, key in enumerate(frames):
        for name, xyz in (positions[key] or {}).items():
            arr[t, BLAZEPOSE_33.index(name.lower())] = xyz[:3]
    return PoseSequence.from_landmarks(arr, fps=fps, source={"path": str(path), "format": "keraal-blazepose",
                                                             "width": width, "height": height})


def _euler_yxz(deg: np.ndarray) -> np.ndarray:
    """(T, 3) UI-PRMD Euler angles (x, y, z in the file; rotations about Y, then X, then Z) -> (T, 3, 3) Rz Rx Ry.

    (The visualisation port multiplies Rz Ry Rx; with that order the feet of a deep squat rise to hip height,
    with this one they stay below the hips as in the videos.)"""
    g, b, a = np.radians(deg).T
    ca, sa, cb, sb, cg, sg = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(g), np.sin(g)
    one, zero = np.ones_like(a), np.zeros_like(a)
    rz = np.stack([ca, -sa, zero, sa, ca, zero, zero, zero, one], -1).reshape(-1, 3, 3)
    ry = np.stack([cb, zero, sb, zero, one, zero, -sb, zero, cb], -1).reshape(-1, 3, 3)
    rx = np.stack([one, zero, zero, zero, cg, -sg, zero, sg, cg], -1).reshape(-1, 3, 3)
    return rz @ rx @ ry


def ui_prmd_joints(positions: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """(T, 66) relative positions and (T, 66) Euler angles -> (T, 22, 3) absolute joint positions (Kinect units)."""
    rel, ang = positions.reshape(-1, 22, 3), angles.reshape(-1, 22, 3)
    out = rel.copy()
    for chain in _UI_PRMD_CHAINS:
        root = chain[0]
        # the spine continues the waist's rotation; limbs start again from their root's own rotation
        rot = _euler_yxz(ang[:, root])
        for parent, joint in itertools.pairwise(chain):
            if parent != root:
                rot = rot @ _euler_yxz(ang[:, parent])
            out[:, joint] = np.einsum("tij,tj->ti", rot, rel[:, joint]) + out[:, parent]
    return out


def read_ui_prmd(positions_path: str | Path, angles_path: str | Path | None = None, fps: float = 30.0,
                 units_per_metre: float = 100.0) -> PoseSequence:
    """A UI-PRMD Kinect repetition (``*_positions.txt``; the angles file beside it unless given)."""
    positions_path = Path(positions_path)
    if angles_path is None:  # beside the positions file, else in the release's sibling Angles folder
        name = positions_path.name.replace("_positions", "_angles")
        beside, sibling = positions_path.with_name(name), positions_path.parent.parent / "Angles" / name
        angles_path = sibling if not beside.exists() and sibling.exists() else beside
    angles_path = Path(angles_path)
    arrays = []
    for p in (positions_path, angles_path):
        rows = [v for v in (_floats(r) for r in csv.reader(_open_text(p)) if r) if v is not None and len(v) == 66]
        if not rows:
            raise InputError(f"{p}: no rows of 22 x 3 Kinect values")
        arrays.append(np.asarray(rows, np.float64))
    n = min(len(arrays[0]), len(arrays[1]))
    joints = ui_prmd_joints(arrays[0][:n], arrays[1][:n]) / units_per_metre
    world = np.full((n, K, 3), np.nan)
    for j, names in UI_PRMD_TO_BLAZEPOSE.items():
        for name in names:
            world[:, BLAZEPOSE_33.index(name)] = joints[:, j] * [1.0, -1.0, 1.0]  # y up -> y down
    hips = [BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")]
    centre = world[:, hips].mean(1, keepdims=True)
    image = np.zeros((n, K, 3), np.float32)
    known = np.isfinite(world[..., 0])
    image[known] = 0.5 + (world - centre)[known] / 2.5  # a front view, 2.5 m across the frame
    image[..., 2][known] = (world - centre)[..., 2][known] / 2.5
    return PoseSequence.from_landmarks(image, fps=fps, world=(world - centre).astype(np.float32),
                                       source={"path": str(positions_path), "format": "ui-prmd-kinect",
                                               "width": 1000, "height": 1000})
