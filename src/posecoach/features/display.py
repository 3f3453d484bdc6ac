"""What PoseCoach shows a person for a frame or a repetition: one place, used by the overlay, the chart, the
tables, the JSON report and the web page, so the same frame reads the same number everywhere.

* Joint angles are the movement signals of `posecoach.features.signals` (3D from world landmarks when the pose
  has them, else from the image): the overlay's "left_elbow" label on frame *i* is ``elbow_left[i]``, the very
  value the chart draws and the repetition's range is taken from.
* Lengths (signals in torso lengths, an internal unit) are shown in centimetres, estimated from the person's torso
  length in the world landmarks (a typical adult torso when the pose has none) and labelled as estimates.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.features.signals import SIGNAL_UNITS

#: Overlay angle label -> the signal it shows.
DISPLAY_ANGLES: dict[str, str] = {
    "left_knee": "knee_left", "right_knee": "knee_right", "left_hip": "hip_left", "right_hip": "hip_right",
    "left_elbow": "elbow_left", "right_elbow": "elbow_right", "left_shoulder": "shoulder_left",
    "right_shoulder": "shoulder_right", "left_ankle": "ankle_left", "right_ankle": "ankle_right",
    "trunk_lean": "trunk_incline",
}
#: Torso length (shoulder centre to hip centre, metres) assumed when the pose has no world landmarks.
TYPICAL_TORSO_M = 0.5
#: Plain words for the lengths a chart shows.
LENGTH_WORDS: dict[str, str] = {
    "hip_height": "hips above ankles", "shoulder_height": "shoulders above ankles", "nose_height": "head height",
    "body_height": "hip height in the image", "wrist_height": "wrists above shoulders",
    "elbow_height": "elbows above shoulders", "knee_height": "knee height", "ankle_height": "ankle height",
    "nose_over_wrist": "head above hands", "hip_sag": "hip sag", "ankle_spread": "feet apart",
    "wrist_spread": "hands apart", "knee_spread": "knees apart",
}


def display_angles(signals: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``{overlay label: (T,) degrees}``: the per-frame angles every output shows (from ``signals``)."""
    return {label: np.asarray(signals[name], dtype=float) for label, name in DISPLAY_ANGLES.items()
            if name in signals}


def frame_values(angles: Mapping[str, np.ndarray], frame: int) -> dict[str, float]:
    """The angles of one frame (``display_angles`` at ``frame``), finite ones only."""
    out = {}
    for label, values in angles.items():
        if 0 <= frame < len(values) and np.isfinite(values[frame]):
            out[label] = float(values[frame])
    return out


def torso_length_m(seq: PoseSequence) -> tuple[float, bool]:
    """The subject's torso length in metres and whether it was measured (world landmarks) or assumed."""
    if not seq.num_people:
        return TYPICAL_TORSO_M, False
    names = seq.skeleton.names
    if not all(n in names for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")):
        return TYPICAL_TORSO_M, False
    w = seq.subject_world()
    idx = [names.index(n) for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        shoulders = (w[:, idx[0]] + w[:, idx[1]]) / 2
        hips = (w[:, idx[2]] + w[:, idx[3]]) / 2
        lengths = np.linalg.norm(shoulders - hips, axis=1)
        length = float(np.nanmedian(lengths)) if np.isfinite(lengths).any() else float("nan")
    if not np.isfinite(length) or not 0.2 <= length <= 1.0:
        return TYPICAL_TORSO_M, False
    return length, True


def display_unit(signal: str) -> str:
    """The unit a person sees for ``signal``: "deg" for angles, "cm" for lengths, else the signal's own."""
    unit = SIGNAL_UNITS.get(signal, "deg")
    return "cm" if unit == "torso" else unit


def display_series(signal: str, values: np.ndarray, torso_m: float) -> np.ndarray:
    """``values`` of ``signal`` in the unit a person sees (`display_unit`): lengths in centimetres."""
    values = np.asarray(values, dtype=float)
    return values * torso_m * 100.0 if SIGNAL_UNITS.get(signal) == "torso" else values


def span_range(signal: str, values: np.ndarray, first: int, last: int, torso_m: float) -> float | None:
    """The range (max - min) of ``signal`` over frames ``first..last`` as shown (`display_series`)."""
    seg = display_series(signal, np.asarray(values, dtype=float)[max(first, 0):last + 1], torso_m)
    seg = seg[np.isfinite(seg)]
    return float(seg.max() - seg.min()) if seg.size else None
