"""Joint angles (posecoach.features.angles): geometry, aspect correction, world frame, real squats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.features import ANGLE_DEFS, ANGLE_JOINT, ANGLE_NAMES, angle_at, frame_angles, joint_angles
from tests.conftest import DATA

SQUATS = DATA / "form" / "kaiakol" / "data" / "squat"
# The kaiakol .npy files hold 17 of MediaPipe's 33 landmarks as (x, y, visibility), in this order
# (kaiakol/computervision pose.py, Pose.PART_NAMES).
KAIAKOL_17 = (
    "nose", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)
IDX = BLAZEPOSE_33.index


def test_angle_at_basic_geometry() -> None:
    o = np.zeros(2)
    assert angle_at([1, 0], o, [0, 1]) == pytest.approx(90.0)
    assert angle_at([1, 0], o, [-1, 0]) == pytest.approx(180.0)
    assert angle_at([1, 0], o, [2, 0]) == pytest.approx(0.0)
    assert angle_at([1, 0], o, [np.cos(np.pi / 3), np.sin(np.pi / 3)]) == pytest.approx(60.0)
    # 3-4-5 triangle: the angle opposite the side 3 is asin(3/5)
    assert angle_at([0, 3], [4, 0], [0, 0]) == pytest.approx(np.degrees(np.arcsin(0.6)))
    assert angle_at([1, 0, 0], np.zeros(3), [0, 1, 1]) == pytest.approx(90.0)
    assert angle_at([1, 0, 0], np.zeros(3), [1, 1, 0]) == pytest.approx(45.0)
    assert angle_at([1, 1e-9], o, [-1, 0]) == pytest.approx(180.0)  # accurate near straight


def test_angle_at_vectorised_and_nan() -> None:
    a = np.array([[[1, 0], [1, 0]], [[0, 1], [np.nan, 0]]])
    c = np.array([[[0, 1], [-1, 0]], [[0, 1], [1, 1]]])
    out = angle_at(a, np.zeros(2), c)
    assert out.shape == (2, 2) and out.dtype == np.float64
    assert out[0].tolist() == pytest.approx([90.0, 180.0])
    assert out[1, 0] == pytest.approx(0.0) and np.isnan(out[1, 1])
    assert np.isnan(angle_at([1, 1], [1, 1], [0, 0]))  # zero-length vector


def _pose_px(points: dict[str, tuple[float, float]], width: float, height: float) -> np.ndarray:
    """A (33, 5) normalised landmark array from pixel positions of the named keypoints (others NaN)."""
    lm = np.full((33, 5), np.nan)
    for name, (x, y) in points.items():
        lm[IDX(name)] = (x / width, y / height, 0.0, 1.0, 1.0)
    return lm


STANDING_PX = {  # a person standing upright, facing the camera, arms hanging (y down, pixels)
    "nose": (640, 100), "left_ear": (660, 95), "right_ear": (620, 95),
    "left_shoulder": (700, 180), "right_shoulder": (580, 180), "left_elbow": (710, 300),
    "right_elbow": (570, 300), "left_wrist": (715, 420), "right_wrist": (565, 420),
    "left_hip": (680, 400), "right_hip": (600, 400), "left_knee": (680, 540), "right_knee": (600, 540),
    "left_ankle": (680, 680), "right_ankle": (600, 680),
}


def test_standing_pose() -> None:
    a = frame_angles(_pose_px(STANDING_PX, 1280, 720), width=1280, height=720)
    assert set(a) == set(ANGLE_NAMES)
    assert a["left_knee"] == pytest.approx(180.0) and a["right_knee"] == pytest.approx(180.0)
    assert a["left_hip"] == pytest.approx(180 - np.degrees(np.arctan(20 / 220)))
    assert a["trunk_lean"] == pytest.approx(0.0)
    assert a["neck"] == pytest.approx(0.0)
    assert 0 < a["left_shoulder"] < 15 and 150 < a["left_elbow"] <= 180


def test_aspect_correction_on_1280x720() -> None:
    # a right angle at the knee, both segments at 45 degrees in pixels
    px = dict(STANDING_PX, left_hip=(540, 400), left_knee=(740, 600), left_ankle=(540, 800))
    lm = _pose_px(px, 1280, 720)
    assert frame_angles(lm, width=1280, height=720)["left_knee"] == pytest.approx(90.0)
    squashed = frame_angles(lm, width=1, height=1)["left_knee"]  # treating normalised units as square
    assert abs(squashed - 90.0) > 20  # 58.7 degrees: the correction matters
    frames = np.repeat(lm[None, :, :4], 3, axis=0)
    seq = PoseSequence.from_landmarks(frames, source={"width": 1280, "height": 720})
    assert joint_angles(seq)["left_knee"] == pytest.approx([90.0] * 3)
    no_size = PoseSequence.from_landmarks(frames)  # no size known: square pixels assumed
    assert joint_angles(no_size)["left_knee"] == pytest.approx([squashed] * 3)


@pytest.mark.parametrize(("dx", "dy", "lean"), [(0, -300, 0.0), (300, 0, 90.0), (-300, 0, 90.0),
                                                (200, -200, 45.0), (0, 300, 180.0)])
def test_trunk_lean(dx: float, dy: float, lean: float) -> None:
    hx, hy = 640.0, 400.0
    px = dict(STANDING_PX, left_hip=(hx + 20, hy), right_hip=(hx - 20, hy),
              left_shoulder=(hx + dx + 30, hy + dy), right_shoulder=(hx + dx - 30, hy + dy))
    a = frame_angles(_pose_px(px, 1280, 720), width=1280, height=720, names=["trunk_lean"])
    assert a == {"trunk_lean": pytest.approx(lean)}


def test_neck_forward_head() -> None:
    # trunk upright; ears 30 degrees forward of the trunk line
    r = 80.0
    ear = (640 + r * np.sin(np.radians(30)), 180 - r * np.cos(np.radians(30)))
    px = dict(STANDING_PX, left_shoulder=(640, 180), right_shoulder=(640, 180), left_hip=(640, 400),
              right_hip=(640, 400), left_ear=ear, right_ear=ear)
    assert frame_angles(_pose_px(px, 1280, 720), width=1280, height=720)["neck"] == pytest.approx(30.0)


def _skeleton_3d() -> np.ndarray:
    """A (33, 3) world skeleton (metres, y down) with a bent left knee and a forward lean."""
    w = np.full((33, 3), np.nan)
    pts = {
        "left_hip": (0.1, 0.0, 0.0), "right_hip": (-0.1, 0.0, 0.0),
        "left_knee": (0.15, 0.35, -0.25), "right_knee": (-0.1, 0.45, 0.0),
        "left_ankle": (0.12, 0.75, 0.05), "right_ankle": (-0.1, 0.9, 0.0),
        "left_shoulder": (0.18, -0.45, -0.2), "right_shoulder": (-0.18, -0.45, -0.2),
        "left_elbow": (0.3, -0.2, -0.3), "right_elbow": (-0.3, -0.2, -0.2),
        "left_wrist": (0.35, 0.0, -0.5), "right_wrist": (-0.3, 0.05, -0.2),
        "left_ear": (0.07, -0.62, -0.3), "right_ear": (-0.07, -0.62, -0.3), "nose": (0, -0.6, -0.4),
    }
    for name, p in pts.items():
        w[IDX(name)] = p
    return w


def test_world_angles_invariant_to_rotation_about_vertical() -> None:
    w = _skeleton_3d()
    T = 12
    theta = np.linspace(0, 2 * np.pi, T, endpoint=False)
    rot = np.zeros((T, 3, 3))  # rotations about the y axis (vertical in MediaPipe world)
    rot[:, 0, 0] = rot[:, 2, 2] = np.cos(theta)
    rot[:, 0, 2], rot[:, 2, 0] = np.sin(theta), -np.sin(theta)
    rot[:, 1, 1] = 1.0
    world = np.einsum("tij,kj->tki", rot, w)
    lm = np.zeros((T, 33, 4))
    lm[:, :, :2] = 0.5 + 0.2 * np.nan_to_num(world[..., :2])
    lm[:, :, 3] = 1.0
    lm[:, np.isnan(w[:, 0])] = 0.0  # keypoints not in the skeleton are missing
    seq = PoseSequence.from_landmarks(lm, 30.0, world=world)
    ang = joint_angles(seq, world=True)
    expected = angle_at(w[IDX("left_hip")], w[IDX("left_knee")], w[IDX("left_ankle")])
    assert 60 < expected < 150
    assert np.allclose(ang["left_knee"], expected, atol=1e-4)  # float32 storage
    for name in ANGLE_NAMES:
        assert np.allclose(ang[name], ang[name][0], atol=1e-3), name
    mid_hip = w[[IDX("left_hip"), IDX("right_hip")]].mean(0)
    v = w[[IDX("left_shoulder"), IDX("right_shoulder")]].mean(0) - mid_hip
    assert ang["trunk_lean"][0] == pytest.approx(np.degrees(np.arccos(-v[1] / np.linalg.norm(v))), abs=1e-3)


def test_from_landmarks_min_visibility_names_and_frame_angles() -> None:
    rng = np.random.default_rng(0)
    T = 20
    lm = np.zeros((T, 33, 4))
    lm[:, :, :2] = rng.uniform(0.2, 0.8, (T, 33, 2))
    lm[:, :, 2] = rng.normal(0, 0.1, (T, 33))
    lm[:, :, 3] = 0.95
    lm[5, IDX("left_knee"), 3] = 0.2
    lm[7] = 0.0  # no detection
    seq = PoseSequence.from_landmarks(lm, 25.0, source={"width": 640, "height": 480})
    ang = joint_angles(seq)
    assert tuple(ang) == ANGLE_NAMES
    assert all(v.shape == (T,) and v.dtype == np.float64 for v in ang.values())
    assert np.isnan(ang["left_knee"][7]) and np.isfinite(ang["left_knee"][5])
    vis = joint_angles(seq, min_visibility=0.5, names=["left_knee", "right_knee"])
    assert list(vis) == ["left_knee", "right_knee"] and np.isnan(vis["left_knee"][5])
    assert np.isfinite(vis["right_knee"][5])
    assert np.array_equal(vis["right_knee"], ang["right_knee"], equal_nan=True)
    elbow = ang["left_elbow"][np.isfinite(ang["left_elbow"])]
    assert len(elbow) == T - 1 and np.all((elbow >= 0) & (elbow <= 180))
    one = frame_angles(seq.subject_landmarks()[3], width=640, height=480)
    assert one == pytest.approx({k: v[3] for k, v in ang.items()})
    with pytest.raises(KeyError, match="unknown angle"):
        joint_angles(seq, names=["left_knee", "spine_twist"])
    # world requested but absent -> NaN, not an error
    assert np.isnan(joint_angles(seq, world=True)["left_knee"]).all()


def test_definitions_and_label_joints() -> None:
    assert len(set(ANGLE_NAMES)) == len(ANGLE_NAMES) == 10
    assert set(ANGLE_JOINT) == set(ANGLE_NAMES)
    assert all(0 <= i < 33 for i in ANGLE_JOINT.values())
    assert ANGLE_JOINT["left_knee"] == IDX("left_knee") and ANGLE_JOINT["trunk_lean"] == IDX("left_hip")
    knee = next(d for d in ANGLE_DEFS if d.name == "right_knee")
    assert knee.indices == ((IDX("right_hip"),), (IDX("right_knee"),), (IDX("right_ankle"),))


def _kaiakol_sequence(path: Path) -> tuple[PoseSequence, np.ndarray]:
    raw = np.load(path)
    assert raw.ndim == 3 and raw.shape[1:] == (17, 3), f"unexpected layout {raw.shape} in {path}"
    lm = np.zeros((len(raw), 33, 4))  # all-zero keypoints are "missing" for from_landmarks
    idx = [IDX(n) for n in KAIAKOL_17]
    lm[:, idx, :2] = raw[..., :2]
    lm[:, idx, 3] = raw[..., 2]
    import av

    with av.open(str(SQUATS / path.parent.name / path.name.replace(".npy", ".mp4"))) as c:
        s = c.streams.video[0]
        size = {"width": s.width, "height": s.height}
        fps = float(s.average_rate)
    return PoseSequence.from_landmarks(lm, fps, source=size), raw


def test_real_squats_knee_angle_range() -> None:
    lm_dir = SQUATS / "landmarks" / "correct"
    assert lm_dir.is_dir(), (
        f"real squat landmarks not found at {lm_dir}: the shared data set (../shared/data next to the repo) "
        "is required for this test"
    )
    from posecoach.pose.smoothing import smooth_sequence

    for name in ("squat_correct_001", "squat_correct_002", "squat_correct_006", "squat_correct_009"):
        seq, raw = _kaiakol_sequence(lm_dir / f"{name}.npy")
        assert seq.source["width"] == 1280 and seq.source["height"] == 720
        side = "left" if raw[:, KAIAKOL_17.index("left_knee"), 2].mean() >= raw[:, 10, 2].mean() else "right"
        knee = joint_angles(seq)[f"{side}_knee"]
        assert np.isfinite(knee).all()
        assert knee.min() < 120 and knee.max() > 150, f"{name}: {side} knee {knee.min():.0f}-{knee.max():.0f}"
        assert knee.min() > 40, name  # a deep squat, not a tracking glitch
        smooth = joint_angles(smooth_sequence(seq))[f"{side}_knee"]
        assert abs(smooth.min() - knee.min()) < 10, name  # depth survives smoothing
        assert np.abs(np.diff(smooth, 2)).mean() < np.abs(np.diff(knee, 2)).mean(), name  # less jitter
