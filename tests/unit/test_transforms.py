"""The count-invariance transformations (`benchmarks/transforms.py`) and their benchmark's tables
(`benchmarks/bench_invariance.py`), on synthetic sequences."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_invariance
import transforms
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, COCO17_TO_BLAZEPOSE33
from tests.synthetic import make_exercise, stick_squat_pose


@pytest.fixture(scope="module")
def squats() -> PoseSequence:
    """Three side-view squats at 30 fps with about 10 % of the frames missing in short bursts."""
    return make_exercise("squat", reps=3, dropout=0.1, seed=1)


def _seen(seq: PoseSequence) -> np.ndarray:
    return np.isfinite(seq.subject_landmarks()[..., 0]).any(axis=1)


def test_every_transformation_hands_in_one_person(squats: PoseSequence) -> None:
    assert transforms.BASELINE in transforms.TRANSFORMS
    for name, fn in transforms.TRANSFORMS.items():
        out = fn(squats)
        assert out.num_people == 1 and out.subject == 0, name
        assert out.skeleton == BLAZEPOSE_33 and out.source == {}, name
        assert np.isnan(out.world).all(), name  # world landmarks are never handed in
        assert np.all((out.landmarks[..., 4] == 1) | np.isnan(out.landmarks[..., 4])), name


def test_identity_keeps_the_landmarks_and_the_missing_frames(squats: PoseSequence) -> None:
    out = transforms.identity_from_landmarks(squats)
    assert np.array_equal(out.subject_landmarks()[..., :4], squats.subject_landmarks()[..., :4], equal_nan=True)
    assert np.array_equal(out.timestamps, squats.timestamps) and out.fps == squats.fps
    assert np.array_equal(_seen(out), _seen(squats)) and not _seen(squats).all()


def test_box_spans_zero_to_one_on_every_detected_frame(squats: PoseSequence) -> None:
    out = transforms.box(squats)
    lm, seen = out.subject_landmarks(), _seen(out)
    assert np.array_equal(seen, _seen(squats))
    for c in (0, 1):
        v = lm[seen, :, c]
        assert np.all((v >= 0) & (v <= 1))
        assert np.allclose(np.nanmin(v, axis=1), 0.0) and np.allclose(np.nanmax(v, axis=1), 1.0)
    # z and visibility are kept; the shape within the frame is only shifted and scaled
    assert np.allclose(lm[seen, :, 2:4], squats.subject_landmarks()[seen, :, 2:4])
    x0 = squats.subject_landmarks()[seen, :, 0]
    ratio = (x0[:, 1] - x0[:, 0]) / (x0[:, 2] - x0[:, 0])
    assert np.allclose((lm[seen, 1, 0] - lm[seen, 0, 0]) / (lm[seen, 2, 0] - lm[seen, 0, 0]), ratio, atol=1e-3)


def test_world_hands_in_the_world_landmarks(squats: PoseSequence) -> None:
    out = transforms.world(squats)
    seen = _seen(out)
    assert np.array_equal(seen, np.isfinite(squats.subject_world()[..., 0]).any(axis=1))
    assert np.allclose(out.subject_landmarks()[seen, :, :3], squats.subject_world()[seen])


def test_coco17_keeps_the_coco_points_only(squats: PoseSequence) -> None:
    out = transforms.coco17(squats)
    lm, src, seen = out.subject_landmarks(), squats.subject_landmarks(), _seen(squats)
    others = np.setdiff1d(np.arange(33), COCO17_TO_BLAZEPOSE33)
    assert len(others) == 16 and np.isnan(lm[:, others]).all()
    assert np.array_equal(lm[seen][:, COCO17_TO_BLAZEPOSE33, :2], src[seen][:, COCO17_TO_BLAZEPOSE33, :2])
    assert np.isnan(lm[~seen]).all()


def test_coco17_score_is_read_as_visibility(squats: PoseSequence) -> None:
    out, seen = transforms.coco17(squats), _seen(squats)
    got = out.subject_landmarks()[seen][:, COCO17_TO_BLAZEPOSE33, 3]
    assert np.allclose(got, squats.subject_landmarks()[seen][:, COCO17_TO_BLAZEPOSE33, 3])


def test_fps15_keeps_every_other_frame_of_30_fps(squats: PoseSequence) -> None:
    out = transforms.fps15(squats)
    assert out.num_frames == (squats.num_frames + 1) // 2 and out.fps == 15.0
    assert np.array_equal(out.timestamps, squats.timestamps[::2])
    assert np.array_equal(out.subject_landmarks()[..., :2], squats.subject_landmarks()[::2, :, :2], equal_nan=True)


def test_fps15_of_other_rates_follows_a_15_hz_grid() -> None:
    ts = np.arange(100) / 25.0
    keep = transforms.resample_indices(ts, 15.0)
    assert len(keep) == int(ts[-1] * 15) + 1 and np.all(np.diff(keep) >= 1)
    assert np.all(np.abs(ts[keep] - np.arange(len(keep)) / 15.0) <= 0.5 / 25.0 + 1e-9)
    slow = np.arange(40) / 10.0
    assert np.array_equal(transforms.resample_indices(slow, 15.0), np.arange(40))  # never upsampled
    seq = PoseSequence.from_landmarks(np.tile(stick_squat_pose(0.0), (40, 1, 1)), fps=10.0)
    assert transforms.fps15(seq).fps == 10.0 and transforms.fps15(seq).num_frames == 40


def test_drop_is_deterministic_and_keeps_about_ninety_percent(squats: PoseSequence) -> None:
    a, b = transforms.drop(squats), transforms.drop(squats)
    assert a.equals(b)
    assert a.num_frames == squats.num_frames - round(0.1 * squats.num_frames) and a.fps == squats.fps
    kept = np.searchsorted(squats.timestamps, a.timestamps)
    assert np.array_equal(squats.timestamps[kept], a.timestamps)  # the original timestamps, in order
    assert np.array_equal(a.subject_landmarks()[..., :2], squats.subject_landmarks()[kept, :, :2], equal_nan=True)
    assert np.any(np.diff(kept) > 1)  # frames in the middle are gone, not only the end
    other = transforms.drop_frames(squats, seed=7)
    assert not np.array_equal(other.timestamps, a.timestamps)


def _linear(n: int = 30) -> PoseSequence:
    """A stick figure moving at constant speed across the frame and down."""
    pose = stick_squat_pose(0.3)
    arr = np.tile(pose, (n, 1, 1))
    arr[..., 0] += 0.004 * np.arange(n)[:, None]
    arr[..., 1] += 0.002 * np.arange(n)[:, None]
    arr[..., 2] = 0.01 * np.arange(n)[:, None] - 0.1  # z moves too; never all zero with visibility 1
    return PoseSequence.from_landmarks(arr, fps=30.0)


def test_avg5_leaves_linear_motion_unchanged_in_the_middle() -> None:
    seq = _linear()
    out = transforms.avg5(seq).subject_landmarks()
    src = seq.subject_landmarks()
    assert np.allclose(out[2:-2, :, :4], src[2:-2, :, :4], atol=1e-6)
    assert not np.allclose(out[0, :, 0], src[0, :, 0], atol=1e-4)  # the ends average a shorter window


def test_avg5_is_nan_aware_and_smooths() -> None:
    v = np.array([0.0, 10.0, np.nan, 30.0, 40.0, 50.0, 60.0])[:, None]
    got = transforms.moving_average(v, 5)[:, 0]
    assert np.isnan(got[2])  # a missing frame stays missing
    assert got[3] == pytest.approx((10 + 30 + 40 + 50) / 4)  # the missing neighbour is left out
    assert got[0] == pytest.approx((0 + 10) / 2) and got[6] == pytest.approx((40 + 50 + 60) / 3)
    noise = np.random.default_rng(0).normal(size=(500, 2))
    assert transforms.moving_average(noise, 5).std() < 0.6 * noise.std()
    with pytest.raises(ValueError, match="odd"):
        transforms.moving_average(v, 4)


def test_mirror_swaps_sides_and_twice_is_the_identity(squats: PoseSequence) -> None:
    once = transforms.mirror(squats)
    lm, src = once.subject_landmarks(), squats.subject_landmarks()
    lw, rw = BLAZEPOSE_33.index("left_wrist"), BLAZEPOSE_33.index("right_wrist")
    seen = _seen(squats)
    assert np.allclose(lm[seen, lw, 0], 1 - src[seen, rw, 0]) and np.allclose(lm[seen, lw, 1], src[seen, rw, 1])
    twice = transforms.mirror(transforms.mirror(squats))
    base = transforms.identity_from_landmarks(squats)
    assert np.allclose(twice.landmarks, base.landmarks, atol=1e-6, equal_nan=True)


def test_the_benchmark_compares_each_transformation_with_the_baseline() -> None:
    base = transforms.BASELINE
    rows = [{"dataset": "d", "clip": "reps/d/videos/a.mp4", "exercise": "squat", "true": 5,
             "counts": {"native": 5, base: 5, "box": 6, "fps15": 8}, "counts_given": {},
             "confidence": {"native": 0.9, base: 0.9, "box": 0.9, "fps15": 0.3}},
            {"dataset": "d", "clip": "reps/d/videos/b.mp4", "exercise": None, "true": 3,
             "counts": {"native": 3, base: 3, "box": None, "fps15": 3}, "counts_given": {},
             "confidence": {"native": 0.8, base: 0.8, "box": None, "fps15": 0.8}}]
    lines = [line.strip("| ").split(" | ") for line in bench_invariance.summary(rows, ["box", "fps15"]).splitlines()]
    cells = {c[0]: c for c in lines[2:]}
    # clips, within one, failing but reported unreliable (confidence under 0.5: '?'), largest |diff|, failing
    assert cells["native"][1:] == ["2", "2", "0", "0", "-"]
    assert cells["box"][1:] == ["2", "1", "0", "1", "b.mp4: 3 -> error"]
    assert cells["fps15"][1:] == ["2", "1", "1", "3", "a.mp4: 5 -> 8 ?"]
    detail = bench_invariance.details(rows, ["box", "fps15"])
    assert "| 8 * |" in detail and "| err |" in detail and "| 6 |" in detail
    assert bench_invariance.holds(4, 5) and not bench_invariance.holds(4, 6) and not bench_invariance.holds(None, 4)


def test_transformations_are_chosen_by_name() -> None:
    every = bench_invariance.parse_transforms(None)
    assert transforms.BASELINE not in every and set(every) == set(transforms.TRANSFORMS) - {transforms.BASELINE}
    assert list(bench_invariance.parse_transforms("mirror, box")) == ["mirror", "box"]
    with pytest.raises(ValueError, match="unknown transformation"):
        bench_invariance.parse_transforms("box,flip")
