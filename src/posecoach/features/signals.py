"""Per-frame movement signals: the named numbers that exercises, rep counting and form rules are written in.

Every signal is a function of one frame (no smoothing or normalisation across frames), so the same values come
out offline and live, frame by frame. Units are natural and comparable across signals:

* angles in degrees (3D from world landmarks when present, else from the image), e.g. ``knee``, ``elbow_left``;
* heights and distances in torso lengths of the same frame, y pointing up: relative ones from the 3D world
  landmarks (``hip_height``: hips above ankles, ``wrist_height``: wrists above shoulders, ``ankle_spread``),
  absolute ones (``body_height`` of the hips, ``shoulder_level``, ``ankle_height``) and 2D line geometry
  (``hip_sag``) from the image, scaled by the frame's pixels per metre;
* ``trunk_incline`` in degrees from upright (0 standing, 90 lying, 180 upside down), in 3D when world
  landmarks are present (so a push-up filmed head-on still reads about 90);
* ``view_yaw`` in degrees: 0 when the shoulders face the camera (front or back view), 90 in side view; from the
  3D world landmarks, else (keypoints from a 2D tool) from the width of the shoulders in the image against the
  torso's length (`SHOULDER_WIDTH_2D`);
* evidence for form rules: ``pose_ok`` (1: a plausible skeleton, 0: a collapsed or upside-down one), ``depth``
  (1: the frame has 3D world landmarks, so `DEPTH_SIGNALS` are view-independent) and ``seen_<keypoint>`` (the
  visibility of the better-seen side of a keypoint, 0 where it is missing).

Bilateral signals come as ``<name>_left``, ``<name>_right``, ``<name>`` (mean of both sides, or the side that is
seen) and ``<name>_diff`` (left minus right, for alternating movements).
"""

from __future__ import annotations

import warnings

import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.features.angles import angle_at, image_size

_I = {name: i for i, name in enumerate(BLAZEPOSE_33.names)}

#: Joint angles (vertex in the middle) computed per side.
_JOINTS: dict[str, tuple[str, str, str]] = {
    "knee": ("hip", "knee", "ankle"),
    "hip": ("shoulder", "hip", "knee"),
    "elbow": ("shoulder", "elbow", "wrist"),
    "shoulder": ("elbow", "shoulder", "hip"),
    "ankle": ("knee", "ankle", "foot_index"),
}

SIGNAL_UNITS: dict[str, str] = {}
for _j in _JOINTS:
    for _suffix in ("", "_left", "_right", "_diff"):
        SIGNAL_UNITS[_j + _suffix] = "deg"
SIGNAL_UNITS.update({
    "trunk_incline": "deg", "view_yaw": "deg", "shin_incline": "deg",
    "hip_height": "torso", "shoulder_height": "torso", "nose_height": "torso", "body_height": "torso",
    "shoulder_level": "torso",
    "wrist_height": "torso", "wrist_height_left": "torso", "wrist_height_right": "torso",
    "wrist_height_diff": "torso", "elbow_height": "torso", "knee_height": "torso",
    "ankle_height": "torso", "ankle_height_diff": "torso",
    "ankle_spread": "torso", "wrist_spread": "torso", "knee_spread": "torso",
    "knee_over_toe": "torso", "heel_lift": "torso", "elbow_drift": "torso", "hip_offset": "torso",
    "hip_below_knee": "torso", "hip_sag": "torso", "nose_over_wrist": "torso",
    "pose_ok": "flag", "depth": "flag",
})
#: Signals measured in 3D when the frame has world landmarks (``depth`` 1): joint angles and the trunk's incline
#: do not depend on the camera's view then.
DEPTH_SIGNALS: frozenset[str] = frozenset({*(j + s for j in _JOINTS for s in ("", "_left", "_right", "_diff")),
                                           "trunk_incline"})
#: Keypoint stems whose visibility is a signal (``seen_<stem>``): those form rules name in their ``joints``.
SEEN_STEMS: tuple[str, ...] = ("nose", "shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "foot_index")
SIGNAL_UNITS.update({f"seen_{stem}": "score" for stem in SEEN_STEMS})
#: Every signal name `frame_signals` computes.
SIGNAL_NAMES: tuple[str, ...] = tuple(SIGNAL_UNITS)


def _nanmean2(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.stack([a, b]), axis=0)


def _mid(p: np.ndarray, a: str, b: str) -> np.ndarray:
    return _nanmean2(p[:, _I[a]], p[:, _I[b]])


def _angles(points: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for joint, (a, b, c) in _JOINTS.items():
        sides = []
        for s in ("left", "right"):
            ang = angle_at(points[:, _I[f"{s}_{a}"]], points[:, _I[f"{s}_{b}"]], points[:, _I[f"{s}_{c}"]])
            out[f"{joint}_{s}"] = ang
            sides.append(ang)
        out[joint] = _nanmean2(*sides)
        out[f"{joint}_diff"] = sides[0] - sides[1]
    return out


def _tilt(v: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors ``(..., 2|3)`` (y up; 3D from world landmarks) and straight up."""
    norm = np.linalg.norm(v, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.degrees(np.arccos(np.clip(v[..., 1] / norm, -1.0, 1.0)))


def signal_arrays(landmarks: np.ndarray, world: np.ndarray | None, *, width: float = 1.0, height: float = 1.0,
                  min_visibility: float = 0.0, hidden: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """All signals for ``(T, 33, 5)`` image landmarks and optional ``(T, 33, 3)`` world landmarks.

    Returns ``{name: (T,) float64}``; NaN where the keypoints a signal needs are missing. Keypoints with
    visibility below ``min_visibility`` count as missing (in the image only). ``hidden`` ``(33,)`` bool: keypoints
    whose signals are NaN throughout; they still size the body (torso length, pixels per metre).
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 3 or lm.shape[1:] != (BLAZEPOSE_33.num_keypoints, 5):
        raise ValueError(f"expected (T, 33, 5) landmarks, got {lm.shape}")
    img = lm[..., :2] * np.array([width, -height])  # pixel-proportional, y up
    if min_visibility > 0:
        img = np.where((lm[..., 3] >= min_visibility)[..., None], img, np.nan)
    pts3 = img
    if world is not None:
        w = np.asarray(world, dtype=np.float64)
        if np.isfinite(w).any():
            pts3 = np.where(np.isfinite(w[..., :1]), w * np.array([1.0, -1.0, 1.0]), np.nan)
    out = _angles(pts3 if pts3.shape[-1] == 3 else img)
    # Fall back to image angles where world landmarks are missing for a frame.
    if pts3 is not img:
        img_angles = _angles(img)
        for k, v in out.items():
            out[k] = np.where(np.isfinite(v), v, img_angles[k])

    rel, absolute = _body_frames(img, pts3)
    if hidden is not None and np.any(hidden):
        keep = np.where(np.asarray(hidden, bool), np.nan, 1.0)[None, :, None]
        rel, absolute, img, pts3 = rel * keep, absolute * keep, img * keep, pts3 * keep
        out = _angles(pts3 if pts3.shape[-1] == 3 else img)
    with np.errstate(invalid="ignore", divide="ignore"):
        def y(p: np.ndarray) -> np.ndarray:
            return p[..., 1]

        def x(p: np.ndarray) -> np.ndarray:
            return p[..., 0]

        def side_dist(pts: np.ndarray, a: str) -> np.ndarray:
            return np.linalg.norm(pts[:, _I[f"left_{a}"]] - pts[:, _I[f"right_{a}"]], axis=-1)

        def mid(pts: np.ndarray, a: str) -> np.ndarray:
            return _mid(pts, f"left_{a}", f"right_{a}")

        # Relative positions: 3D world landmarks in torso lengths (view-independent); image where absent.
        sh, hp, an, wr = mid(rel, "shoulder"), mid(rel, "hip"), mid(rel, "ankle"), mid(rel, "wrist")
        kn, el = mid(rel, "knee"), mid(rel, "elbow")
        heel, toe = mid(rel, "heel"), mid(rel, "foot_index")
        # Absolute positions and 2D geometry: image landmarks in torso lengths of the same frame.
        ash, ahp, aan = mid(absolute, "shoulder"), mid(absolute, "hip"), mid(absolute, "ankle")
        akn, ael, atoe = mid(absolute, "knee"), mid(absolute, "elbow"), mid(absolute, "foot_index")
        out.update({
            "trunk_incline": _tilt(sh - hp),
            "shin_incline": _tilt(akn - aan),
            "hip_height": y(hp - an),
            "shoulder_height": y(sh - an),
            "nose_height": y(rel[:, _I["nose"]] - hp),
            "body_height": y(ahp),
            "shoulder_level": y(ash),
            "wrist_height": y(wr - sh),
            "wrist_height_left": y(rel[:, _I["left_wrist"]] - rel[:, _I["left_shoulder"]]),
            "wrist_height_right": y(rel[:, _I["right_wrist"]] - rel[:, _I["right_shoulder"]]),
            "elbow_height": y(el - sh),
            "knee_height": y(kn - an),
            "ankle_height": y(aan),
            "ankle_height_diff": y(absolute[:, _I["left_ankle"]] - absolute[:, _I["right_ankle"]]),
            "ankle_spread": side_dist(rel, "ankle"),
            "wrist_spread": side_dist(rel, "wrist"),
            "knee_spread": side_dist(rel, "knee") / np.maximum(side_dist(rel, "ankle"), 1e-6),
            "knee_over_toe": np.abs(x(akn - atoe)) - np.abs(x(aan - atoe)),
            "heel_lift": y(heel - toe),
            "elbow_drift": np.abs(x(ael - ash)),
            "hip_offset": np.abs(x(ahp - _nanmean2(ash, aan))),
            "hip_below_knee": y(kn - hp),
            "hip_sag": _below_line(ahp, ash, aan),
            "nose_over_wrist": y(rel[:, _I["nose"]] - wr),
        })
        out["wrist_height_diff"] = out["wrist_height_left"] - out["wrist_height_right"]
    out["view_yaw"] = _view_yaw(pts3) if pts3.shape[-1] == 3 else _view_yaw_2d(img)
    out.update(_evidence(lm, img, pts3))
    return {k: out[k] for k in SIGNAL_NAMES}


_SEGMENTS = tuple((_I[a], _I[b]) for a, b in (
    ("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"), ("left_shoulder", "left_hip"),
    ("right_shoulder", "right_hip"), ("left_hip", "left_knee"), ("right_hip", "right_knee"),
    ("left_knee", "left_ankle"), ("right_knee", "right_ankle"), ("left_shoulder", "left_elbow"),
    ("right_shoulder", "right_elbow"), ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"),
))


#: A torso (mid-shoulders to mid-hips) shorter than this in the 3D world landmarks (metres) is a collapsed pose
#: estimate, not a body: an adult's is 0.4-0.6 m, a child's about 0.3 m. Its frame's heights are unknown.
MIN_TORSO_M = 0.2


def _body_frames(img: np.ndarray, pts3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks in torso lengths: ``(relative 3D or 2D, absolute 2D image)``, both y up.

    With world landmarks, the torso length is measured in 3D (stable whatever the posture and view) and the
    image is converted with the frame's pixels per metre (least squares over the limb segments); a frame whose 3D
    torso is shorter than `MIN_TORSO_M` (a collapsed estimate) has no lengths. Without world landmarks, both use
    the torso length seen in the image.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        if pts3.shape[-1] == 3:
            torso3 = np.linalg.norm(_mid(pts3, "left_shoulder", "right_shoulder") - _mid(pts3, "left_hip", "right_hip"),
                                    axis=-1)
            torso3 = np.where(torso3 >= MIN_TORSO_M, torso3, np.nan)
            a, b = np.array(_SEGMENTS).T
            d2 = np.linalg.norm(img[:, a] - img[:, b], axis=-1)
            d3 = np.linalg.norm(pts3[:, a] - pts3[:, b], axis=-1)
            ok = np.isfinite(d2) & np.isfinite(d3)
            px_per_m = np.where(ok, d2 * d3, 0).sum(1) / np.where(ok, d3 * d3, 0).sum(1)
            unit = torso3[:, None, None]
            return pts3 / unit, img / (px_per_m * torso3)[:, None, None]
        torso2 = np.linalg.norm(_mid(img, "left_shoulder", "right_shoulder") - _mid(img, "left_hip", "right_hip"),
                                axis=-1)
        torso2 = np.where(torso2 > 1e-9, torso2, np.nan)[:, None, None]
        rel = img / torso2
        return rel, rel


def _below_line(p: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How far ``p`` lies below the line through ``a`` and ``b`` (2D, y up), measured square to the line."""
    d = b - a
    n = np.linalg.norm(d, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cross = (d[..., 0] * (p[..., 1] - a[..., 1]) - d[..., 1] * (p[..., 0] - a[..., 0])) / n
    # cross > 0: p is to the left of a->b; "below" is the side away from up.
    return -cross * np.sign(d[..., 0] + 1e-12)


def _view_yaw(world: np.ndarray) -> np.ndarray:
    """0 deg when the shoulder line is across the image (front/back view), 90 when it points at the camera."""
    d = world[:, _I["left_shoulder"]] - world[:, _I["right_shoulder"]]
    d2 = world[:, _I["left_hip"]] - world[:, _I["right_hip"]]
    d = _nanmean2(d, d2)
    with np.errstate(invalid="ignore"):
        return np.degrees(np.arctan2(np.abs(d[:, 2]), np.abs(d[:, 0])))


#: The shoulders' width in the image over the torso's length (mid-shoulders to mid-hips) when they face the camera:
#: the median over 98 MediaPipe clips agrees with the 3D view on 92% of them (width / torso = 0.65 cos(yaw)).
SHOULDER_WIDTH_2D = 0.65


def _view_yaw_2d(img: np.ndarray) -> np.ndarray:
    """The view from 2D keypoints alone: the shoulders look narrower the more the body turns side on."""
    with np.errstate(invalid="ignore", divide="ignore"):
        width = np.linalg.norm(img[:, _I["left_shoulder"]] - img[:, _I["right_shoulder"]], axis=-1)
        torso = np.linalg.norm(_mid(img, "left_shoulder", "right_shoulder") - _mid(img, "left_hip", "right_hip"),
                               axis=-1)
        return np.degrees(np.arccos(np.clip(width / (SHOULDER_WIDTH_2D * torso), 0.0, 1.0)))


#: A limb segment longer than this many times the torso's largest size in the image (its length, the shoulders'
#: or the hips' width) means a collapsed torso (the estimate put shoulders and hips on top of each other), not a
#: body; a trunk further than this from upright (degrees) is upside down (no catalogue exercise goes there), and
#: so is a body whose feet are more than a torso above its head.
MAX_SEGMENT_TORSOS = 2.5
UPSIDE_DOWN_DEG = 150.0


_LIMB_A, _LIMB_B = np.array(_SEGMENTS[4:]).T
_SEEN_IDX = tuple((f"seen_{stem}", [_I[stem]] if stem == "nose" else [_I[f"left_{stem}"], _I[f"right_{stem}"]])
                  for stem in SEEN_STEMS)


def _evidence(lm: np.ndarray, img: np.ndarray, pts3: np.ndarray) -> dict[str, np.ndarray]:
    """``pose_ok``, ``depth`` and ``seen_<stem>`` (see the module docstring)."""
    vis = np.where(np.isfinite(lm[..., 0]) & np.isfinite(lm[..., 3]), lm[..., 3], 0.0)
    out = {name: vis[:, idx].max(axis=1) for name, idx in _SEEN_IDX}
    with np.errstate(invalid="ignore", divide="ignore"):
        sh, hp = _mid(img, "left_shoulder", "right_shoulder"), _mid(img, "left_hip", "right_hip")
        length = np.linalg.norm(sh - hp, axis=-1)
        width = np.fmax(np.linalg.norm(img[:, _I["left_shoulder"]] - img[:, _I["right_shoulder"]], axis=-1),
                        np.linalg.norm(img[:, _I["left_hip"]] - img[:, _I["right_hip"]], axis=-1))
        torso = np.fmax(length, width)
        limbs = np.linalg.norm(img[:, _LIMB_A] - img[:, _LIMB_B], axis=-1)
        limbs = np.where(np.isfinite(limbs), limbs, 0.0).max(axis=1)
        ok = np.isfinite(torso) & (torso > 1e-9) & (limbs <= MAX_SEGMENT_TORSOS * torso)
        if pts3.shape[-1] == 3:
            t3 = np.linalg.norm(_mid(pts3, "left_shoulder", "right_shoulder") - _mid(pts3, "left_hip", "right_hip"),
                                axis=-1)
            ok &= ~(t3 < MIN_TORSO_M)
        up = _tilt(_mid(pts3, "left_shoulder", "right_shoulder") - _mid(pts3, "left_hip", "right_hip"))
        ok &= ~(up > UPSIDE_DOWN_DEG)
        # the feet more than a torso above the head in the image: upside down whatever the trunk does
        ok &= ~(_mid(img, "left_ankle", "right_ankle")[:, 1] - img[:, _I["nose"], 1] > length)
    out["pose_ok"] = ok.astype(np.float64)
    out["depth"] = (np.isfinite(pts3[..., 0]).any(axis=1) if pts3.shape[-1] == 3 else np.zeros(len(img), bool)
                    ).astype(np.float64)
    return out


#: Frame shapes (width / height) a video usually has: portrait phone, 4:3, square, landscape.
ASPECTS: tuple[float, ...] = (9 / 16, 3 / 4, 1.0, 4 / 3, 16 / 9)


def estimate_aspect(landmarks: np.ndarray) -> float:
    """The frame's width / height for normalised 2D keypoints given without the frame's size (a keypoint file):
    the shape, among `ASPECTS`, under which the body's segments keep the most constant length as they turn
    (their median spread of log length over the frames). On 100 clips of known shape it is right for 86."""
    xy = np.asarray(landmarks, dtype=np.float64)[..., :2]
    a, b = np.array(_SEGMENTS).T
    d = xy[:, a] - xy[:, b]  # (T, segments, 2)
    best, best_cost = 1.0, np.inf
    for scale in np.exp(np.linspace(np.log(0.3), np.log(3.0), 61)):
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            logs = np.log(np.hypot(scale * d[..., 0], d[..., 1]))
            logs = np.where(np.isfinite(logs), logs, np.nan)
            enough = np.isfinite(logs).sum(axis=0) > 5
            if not enough.any():
                return 1.0
            cost = float(np.nanmedian(np.nanstd(logs[:, enough], axis=0)))
        if cost < best_cost:
            best, best_cost = float(scale), cost
    return min(ASPECTS, key=lambda x: abs(np.log(x) - np.log(best)))


def signal_size(seq: PoseSequence, track_id: int | None = None) -> tuple[float, float]:
    """The frame's ``(width, height)`` for the signals: the source's, else (2D keypoints with no depth and no
    size) estimated from the skeleton (`estimate_aspect`), as angles in the image depend on it."""
    w, h = seq.source.get("width"), seq.source.get("height")
    if (w and h) or np.isfinite(seq.subject_world(track_id)).any():
        return image_size(seq)
    return estimate_aspect(seq.subject_landmarks(track_id)), 1.0


def sequence_signals(seq: PoseSequence, *, track_id: int | None = None) -> dict[str, np.ndarray]:
    """`signal_arrays` for one person of a sequence (default: the subject); frame size from `signal_size`."""
    width, height = signal_size(seq, track_id)
    return signal_arrays(seq.subject_landmarks(track_id), seq.subject_world(track_id), width=width, height=height)


#: Median visibility below which the camera does not see a keypoint over a sequence.
SEEN_VISIBILITY = 0.5


def hidden_signals(seq: PoseSequence, *, track_id: int | None = None, min_visibility: float = SEEN_VISIBILITY
                   ) -> frozenset[str]:
    """The signals of joints the camera does not see in this sequence (their values are MediaPipe's guesses).

    A keypoint is unseen when its median visibility over the frames the person is detected in is below
    ``min_visibility`` (the knees behind the body in a push-up filmed head-on). A bilateral signal is hidden when
    neither side is seen; a left-minus-right one when neither side is. Hidden signals still follow a movement
    well enough to count it, but are no evidence that a joint stays still.
    """
    lm = seq.subject_landmarks(track_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        hidden = ~(np.nanmedian(lm[..., 3], axis=0) >= min_visibility)
    rows = np.flatnonzero(np.isfinite(lm[..., 0]).any(axis=1))[:8]  # a few frames the person is seen in
    if not hidden.any() or not len(rows):
        return frozenset()
    width, height = signal_size(seq, track_id)
    world = seq.subject_world(track_id)[rows]
    seen = signal_arrays(lm[rows], world, width=width, height=height, hidden=hidden)
    every = signal_arrays(lm[rows], world, width=width, height=height)

    def unseen(name: str) -> bool:
        return not any(np.isfinite(seen[k]).any() for k in {name, name.removesuffix("_diff")})

    return frozenset(k for k, v in every.items() if np.isfinite(v).any() and unseen(k))


def frame_signals(landmarks_k5: np.ndarray, world_k3: np.ndarray | None = None, *, width: float = 1.0,
                  height: float = 1.0) -> dict[str, float]:
    """The signals of a single frame (live use)."""
    w = None if world_k3 is None else np.asarray(world_k3)[None]
    arrays = signal_arrays(np.asarray(landmarks_k5)[None], w, width=width, height=height)
    return {k: float(v[0]) for k, v in arrays.items()}

