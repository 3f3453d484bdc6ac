"""The pose engine on real clips from ../shared/data, and on synthetic edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posecoach.features.angles import joint_angles
from posecoach.io import VideoReader, VideoWriter
from posecoach.pose.engine import ZOOM, PoseEngine, SegmentResult, crop_box, stitch, uncrop
from tests.conftest import data_file

pytestmark = pytest.mark.video


@pytest.fixture(scope="module")
def squat_seq(squat_side_clip: Path):
    with PoseEngine("full") as engine:
        return engine.process(squat_side_clip)


def test_side_view_squat_landmarks_and_knee_angle(squat_seq) -> None:
    seq = squat_seq
    assert seq.num_frames == 49 and seq.fps == pytest.approx(30.0)
    assert seq.source["width"] == 1280 and seq.source["height"] == 720
    assert seq.source["model"] == "full" and len(seq.source["model_sha256"]) == 64
    assert seq.detection_rate() >= 0.9
    assert seq.raw_landmarks is not None and not np.array_equal(seq.raw_landmarks, seq.landmarks, equal_nan=True)
    for world in (False, True):
        angles = joint_angles(seq, world=world)
        knee = np.fmin(angles["left_knee"], angles["right_knee"])
        assert np.nanmin(knee) < 110, f"the squat bottom should bend the knee (world={world})"
        assert np.nanmax(knee) > 150, f"standing should straighten the knee (world={world})"
        assert np.nanmin(knee) >= 0 and np.nanmax(knee) <= 180


def test_same_video_gives_the_same_result_twice(squat_side_clip: Path, squat_seq) -> None:
    with PoseEngine("full") as engine:
        again = engine.process(squat_side_clip)
    np.testing.assert_array_equal(again.landmarks, squat_seq.landmarks)
    np.testing.assert_array_equal(again.world, squat_seq.world)


def test_variable_frame_rate_timestamps_are_kept(tmp_path: Path, squat_side_clip: Path) -> None:
    times = np.cumsum(np.r_[0.0, np.tile([1 / 30, 1 / 15, 1 / 60], 10)])[:25]
    vfr = tmp_path / "vfr.mp4"
    with VideoReader(squat_side_clip) as reader, VideoWriter(vfr, 30.0) as writer:
        for frame, t in zip(reader.frames(0, 25), times, strict=False):
            writer.write(frame.image, time=float(t))
    with PoseEngine("lite") as engine:
        seq = engine.process(vfr)
    np.testing.assert_allclose(seq.timestamps, times, atol=2e-3)
    assert seq.detection_rate() >= 0.9


def test_video_without_a_person_gives_an_empty_result(tmp_path: Path) -> None:
    path = tmp_path / "empty_room.mp4"
    rng = np.random.default_rng(0)
    with VideoWriter(path, 25.0) as writer:
        for _ in range(20):
            writer.write(rng.integers(90, 110, (240, 320, 3), dtype=np.uint8))
    with PoseEngine("lite") as engine:
        seq = engine.process(path)
    assert seq.num_frames == 20 and seq.num_people == 0 and seq.subject is None


def test_uncrop_maps_a_crop_back_to_the_whole_frame() -> None:
    box = crop_box(ZOOM, 1280, 720)
    assert box == (213, 120, 1067, 600)
    lm = np.zeros((1, 33, 5), np.float32)
    lm[0, :, :2] = [0.5, 0.5]  # the crop's centre ...
    lm[0, 1, :3] = [0.0, 1.0, 0.3]  # ... and its bottom-left corner, with a depth
    out = uncrop(lm, box, 1280, 720)
    assert out[0, 0, :2] == pytest.approx([640 / 1280, 360 / 720])
    assert out[0, 1, :3] == pytest.approx([213 / 1280, 600 / 720, 0.3 * (1067 - 213) / 1280])
    assert np.array_equal(out[..., 3:], lm[..., 3:])  # visibility and presence unchanged


def test_someone_small_and_far_away_is_found_by_zooming_in(tmp_path: Path) -> None:
    """QUVA's backlit barbell clip: nobody in the whole 720p frame, the lifter in its centre."""
    clip = tmp_path / "far.mp4"
    with VideoReader(data_file("reps/quva/videos/029_bar_lift.mp4")) as reader, VideoWriter(clip, 30.0) as writer:
        for frame in reader.frames(0, 45):
            writer.write(frame.image)
    with PoseEngine("full", zoom=False) as engine:
        assert engine.process(clip).num_people == 0
    with PoseEngine("full") as engine:
        seq = engine.process(clip)
    assert seq.detection_rate() >= 0.9 and seq.source["zoom"] == pytest.approx(list(ZOOM), abs=1e-3)
    x, y = seq.subject_landmarks()[..., 0], seq.subject_landmarks()[..., 1]
    assert 0.3 < np.nanmedian(x) < 0.7 and 0.2 < np.nanmedian(y) < 0.8  # back in whole-frame units


def test_parallel_segments_match_a_single_pass() -> None:
    clip = data_file("misc_exercise_clips/rjsong/squat.mp4")  # 900 frames, 720p
    with PoseEngine("lite", workers=1, smooth=False) as engine:
        single = engine.process(clip)
    with PoseEngine("lite", workers=2, smooth=False, min_segment_frames=300) as engine:
        split = engine.process(clip)
    with VideoReader(clip) as reader:
        assert split.num_frames == single.num_frames == len(reader) == 900
    assert split.num_people == single.num_people
    assert split.detection_rate() == pytest.approx(single.detection_rate(), abs=0.02)
    a, b = single.subject_landmarks()[..., :2], split.subject_landmarks()[..., :2]
    px = np.nanmean(np.linalg.norm((a - b) * [1280, 720], axis=-1))
    assert px < 3.0, f"segments differ from one pass by {px:.2f} px on average"


def test_stitch_matches_tracks_across_the_boundary() -> None:
    rng = np.random.default_rng(3)
    people = rng.uniform(0.2, 0.8, (2, 33, 5)).astype(np.float32)
    people[..., 3] = 1.0
    people[1, :, 0] += 0.5  # far apart
    frames = np.repeat(people[None], 30, axis=0)
    first = SegmentResult(0, frames[:20], np.zeros((20, 2, 33, 3), np.float32), np.array([0, 1]))
    second_lm = frames[15:][:, ::-1]  # the second segment found them in the other order
    second = SegmentResult(15, second_lm, np.zeros((15, 2, 33, 3), np.float32), np.array([0, 1]))
    lm, _, ids = stitch([first, second], [0, 20], aspect=1.0)
    assert lm.shape == (30, 2, 33, 5) and ids.tolist() == [0, 1]
    np.testing.assert_array_equal(lm[25], people)


SLOW_CLIPS = [
    "misc_exercise_clips/rjsong/squat2.mp4",  # 720p front view, 43 s
    "falls/phone_falls/videos/Fall01.mp4",  # portrait phone clip
    "misc_exercise_clips/wissem/squat.mp4",  # 60 fps
    "reps/workouttracker/videos/push-ups/push-up_1.mp4",  # floor exercise
]


@pytest.mark.slow
@pytest.mark.parametrize("clip", SLOW_CLIPS)
def test_real_clips_end_to_end(clip: str) -> None:
    path = data_file(clip)
    with VideoReader(path) as reader:
        n, info = len(reader), reader.info
    with PoseEngine("full") as engine:
        seq = engine.process(path)
    assert seq.num_frames == n
    assert np.all(np.diff(seq.timestamps) > 0)
    assert seq.fps == pytest.approx(info.fps)
    assert seq.detection_rate() >= 0.9, f"subject found in {seq.detection_rate():.0%} of frames"
    lm = seq.subject_landmarks()
    inside = np.nanmean((lm[..., 0] > -0.05) & (lm[..., 0] < 1.05) & (lm[..., 1] > -0.05) & (lm[..., 1] < 1.05))
    assert inside > 0.9


def test_the_subject_is_followed_although_a_bystander_was_found_first(tmp_path: Path) -> None:
    """A jump-rope contest in a crowded gym: MediaPipe first locks on to a man at the left edge, and once it tracks
    someone it looks for nobody else; the periodic scan notices the girl jumping in the middle and tracks her too,
    so she (most prominent) becomes the subject instead of being missed until the video's second half."""
    clip = tmp_path / "gym.mp4"
    with VideoReader(data_file("reps/jump_rope/videos/us_3.mp4")) as reader, VideoWriter(clip, 30.0) as writer:
        for frame in reader.frames(0, 300):
            writer.write(frame.image)
    with PoseEngine("full", workers=1) as engine:
        seq = engine.process(clip)
    lm = seq.subject_landmarks()
    seen = np.isfinite(lm[..., 0]).any(axis=-1)
    assert seen[150:].mean() >= 0.8, f"subject seen in {seen[150:].mean():.0%} of the last 150 frames"
    assert 0.35 < np.nanmedian(lm[150:, :, 0]) < 0.75  # the jumper in the middle, not the man at x = 0.07


def test_someone_hidden_behind_another_person_at_the_start_is_found_early() -> None:
    """kaiakol squat 012 (57 frames): the squatter stands behind her coach in the first frames, so the first scan
    finds only him; the scans at a quarter of the interval over the start find her, and she is tracked too."""
    clip = data_file("form/kaiakol/data/squat/correct/squat_correct_012.mp4")
    with PoseEngine("full", workers=1) as engine:
        seq = engine.process(clip)
    seen = np.isfinite(seq.landmarks[..., 0]).any(axis=-1)  # (T, P)
    x = np.nanmedian(seq.landmarks[..., 0], axis=(0, 2))  # each track's median x
    squatter = [p for p in range(seq.num_people) if x[p] > 0.45]
    assert squatter and seen[:, squatter[0]].mean() >= 0.6, f"tracks at x={x}, seen {seen.mean(axis=0)}"
