"""The PoseSequence data model: construction, selection, validation and lossless persistence."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from posecoach import COCO_17, PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, COCO17_TO_BLAZEPOSE33, blazepose33_to_coco17


def _random_landmarks(T: int = 12, C: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    arr = rng.uniform(0.05, 0.95, size=(T, 33, C)).astype(np.float32)
    return arr


def _two_people(T: int = 8) -> PoseSequence:
    rng = np.random.default_rng(1)
    lm = rng.uniform(0, 1, (T, 2, 33, 5)).astype(np.float32)
    lm[2:4, 1] = np.nan  # person 1 missing in frames 2-3
    wd = rng.normal(0, 0.5, (T, 2, 33, 3)).astype(np.float32)
    wd[2:4, 1] = np.nan
    return PoseSequence(landmarks=lm, world=wd, timestamps=np.arange(T) / 25.0, fps=25.0,
                        track_ids=np.array([4, 9]), subject=9, source={"path": "x.mp4", "width": 640})


def test_from_landmarks_marks_all_zero_frames_as_not_detected() -> None:
    arr = _random_landmarks()
    arr[[3, 7]] = 0.0
    seq = PoseSequence.from_landmarks(arr, fps=30)
    assert seq.num_frames == 12 and seq.num_people == 1
    assert seq.detected[:, 0].tolist() == [i not in (3, 7) for i in range(12)]
    assert np.isnan(seq.landmarks[3, 0]).all()
    np.testing.assert_array_equal(seq.landmarks[0, 0, :, :4], arr[0])
    assert np.all(seq.landmarks[0, 0, :, 4] == 1.0)  # presence: given keypoints are present
    np.testing.assert_allclose(seq.timestamps, np.arange(12) / 30)
    assert seq.detection_rate() == pytest.approx(10 / 12)


def test_from_landmarks_three_components_and_single_missing_keypoint() -> None:
    arr = _random_landmarks(C=3)
    arr[5, 20] = 0.0  # one keypoint missing, the frame still detected
    seq = PoseSequence.from_landmarks(arr, fps=10)
    assert seq.detected[5, 0]
    assert np.isnan(seq.landmarks[5, 0, 20]).all()
    assert np.all(seq.landmarks[~np.isnan(seq.landmarks[..., 0])][:, 3] == 1.0)


def test_from_landmarks_accepts_coco17() -> None:
    """x, y, score (COCO's layout, YOLO-pose's output): the score is the visibility, z is 0."""
    coco = np.random.default_rng(2).uniform(0.1, 0.9, (6, 17, 3)).astype(np.float32)
    seq = PoseSequence.from_landmarks(coco, fps=30)
    np.testing.assert_array_equal(seq.landmarks[:, 0, COCO17_TO_BLAZEPOSE33, :2], coco[..., :2])
    np.testing.assert_array_equal(seq.landmarks[:, 0, COCO17_TO_BLAZEPOSE33, 3], coco[..., 2])
    assert (seq.landmarks[:, 0, COCO17_TO_BLAZEPOSE33, 2] == 0).all()
    others = np.setdiff1d(np.arange(33), COCO17_TO_BLAZEPOSE33)
    assert np.isnan(seq.landmarks[:, 0, others]).all()
    np.testing.assert_array_equal(blazepose33_to_coco17(seq.landmarks[:, 0])[..., :2], coco[..., :2])
    four = np.concatenate([coco[..., :2], np.zeros((6, 17, 1), np.float32), coco[..., 2:]], axis=-1)
    np.testing.assert_array_equal(PoseSequence.from_landmarks(four).landmarks, seq.landmarks)  # x, y, z, visibility
    assert [BLAZEPOSE_33.names[i] for i in COCO17_TO_BLAZEPOSE33] == list(COCO_17.names)


@pytest.mark.parametrize("shape", [(5, 33), (5, 32, 3), (5, 33, 6), (5, 33, 2)])
def test_from_landmarks_rejects_bad_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"expected|need"):
        PoseSequence.from_landmarks(np.ones(shape, np.float32), fps=30)


def test_validation_errors() -> None:
    seq = _two_people()
    with pytest.raises(ValueError, match="increasing"):
        PoseSequence(landmarks=seq.landmarks, world=seq.world, timestamps=np.zeros(8), fps=25.0,
                     track_ids=seq.track_ids)
    with pytest.raises(ValueError, match="subject"):
        PoseSequence(landmarks=seq.landmarks, world=seq.world, timestamps=seq.timestamps, fps=25.0,
                     track_ids=seq.track_ids, subject=5)
    with pytest.raises(ValueError, match="unique"):
        PoseSequence(landmarks=seq.landmarks, world=seq.world, timestamps=seq.timestamps, fps=25.0,
                     track_ids=np.array([1, 1]))
    with pytest.raises(ValueError, match="fps"):
        PoseSequence(landmarks=seq.landmarks, world=seq.world, timestamps=seq.timestamps, fps=0.0,
                     track_ids=seq.track_ids)


def test_selection_by_person_and_frames() -> None:
    seq = _two_people()
    assert seq.subject_index == 1
    np.testing.assert_array_equal(seq.subject_landmarks(), seq.landmarks[:, 1])
    np.testing.assert_array_equal(seq.subject_world(4), seq.world[:, 0])
    one = seq.person(4)
    assert one.num_people == 1 and one.subject == 4 and one.track_ids.tolist() == [4]
    part = seq.frames(2, 6)
    assert part.num_frames == 4 and part.timestamps[0] == pytest.approx(2 / 25)
    assert not part.detected[:2, 1].any() and part.detected[:, 0].all()
    assert seq.frame_at(0.09) == 2
    with pytest.raises(KeyError):
        seq.person(77)


def test_npz_round_trip_is_lossless(tmp_path) -> None:
    seq = _two_people()
    seq.raw_landmarks = seq.landmarks + 0.001
    seq.raw_world = seq.world * 2
    path = seq.save(tmp_path / "seq.npz")
    back = PoseSequence.load(path)
    assert back.equals(seq)
    assert back.source == {"path": "x.mp4", "width": 640}
    assert not back.equals(_two_people(T=8).frames(0, 7))


def test_load_rejects_foreign_files(tmp_path) -> None:
    bad = tmp_path / "bad.npz"
    np.savez(bad, a=np.zeros(3))
    with pytest.raises(ValueError, match="cannot read pose sequence"):
        PoseSequence.load(bad)


def test_json_export_matches_arrays(tmp_path) -> None:
    seq = _two_people()
    data = json.loads(seq.to_json(tmp_path / "seq.json").read_text())
    assert data["format"] == "posecoach.pose_sequence" and data["num_frames"] == 8
    assert data["landmark_names"][25] == "left_knee"
    assert [len(f["people"]) for f in data["frames"]] == [2, 2, 1, 1, 2, 2, 2, 2]
    person = data["frames"][3]["people"][0]
    assert person["track_id"] == 4
    np.testing.assert_allclose(person["landmarks"], seq.landmarks[3, 0], atol=1e-6)
    np.testing.assert_allclose(person["world"], seq.world[3, 0], atol=1e-6)


def test_csv_export_one_row_per_frame(tmp_path) -> None:
    seq = _two_people()
    with open(seq.to_csv(tmp_path / "seq.csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    assert rows[0]["left_knee_x"] == f"{seq.landmarks[0, 1, 25, 0]:.6g}"
    assert rows[2]["track_id"] == "9" and rows[2]["nose_x"] == ""  # subject missing in frame 2
    assert float(rows[5]["right_hip_world_z"]) == pytest.approx(seq.world[5, 1, 24, 2], abs=1e-5)
    with open(seq.to_csv(tmp_path / "all.csv", all_people=True), newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 14  # 8 + 6 frames with person 4


def test_empty_sequence_and_failed_write_leaves_nothing(tmp_path) -> None:
    empty = PoseSequence.empty(5, fps=30)
    assert empty.num_people == 0 and empty.subject is None and empty.detection_rate() == 0.0
    assert empty.subject_landmarks().shape == (5, 33, 5)
    back = PoseSequence.load(empty.save(tmp_path / "e.npz"))
    assert back.equals(empty)
    with pytest.raises(FileNotFoundError):
        empty.to_json(tmp_path / "missing_dir" / "e.json")
    assert list(tmp_path.iterdir()) == [tmp_path / "e.npz"]


def test_from_landmarks_reads_ntu25_joints_and_a_third_column_as_score_or_depth() -> None:
    """NTU RGB+D's 25 joints (as tools that map MediaPipe to NTU give them): head, shoulders, elbows, wrists, hips,
    knees and ankles land in their BlazePose slots. A third column within 0-1 is a score (visibility); one that
    leaves 0-1 is depth, and the joints given are seen."""
    from posecoach.core.skeleton import BLAZEPOSE_33, NTU25_TO_BLAZEPOSE33

    rng = np.random.default_rng(0)
    xy = rng.uniform(10, 300, size=(4, 25, 2)).astype(np.float32)
    score = rng.uniform(0.2, 0.9, size=(4, 25, 1)).astype(np.float32)
    seq = PoseSequence.from_landmarks(np.concatenate([xy, score], axis=-1), fps=25.0)
    lm = seq.subject_landmarks()
    for ntu, bp in NTU25_TO_BLAZEPOSE33.items():
        assert np.allclose(lm[:, bp, :2], xy[:, ntu]) and np.allclose(lm[:, bp, 3], score[:, ntu, 0])
    assert BLAZEPOSE_33.index("left_hip") in NTU25_TO_BLAZEPOSE33.values()
    assert np.isnan(lm[:, BLAZEPOSE_33.index("left_heel"), 0]).all()  # no NTU counterpart
    depth = score - 0.6  # -0.4 .. 0.3: not a score
    seq = PoseSequence.from_landmarks(np.concatenate([xy, depth], axis=-1), fps=25.0)
    lm = seq.subject_landmarks()
    assert np.allclose(lm[:, 23, 2], depth[:, 12, 0]) and np.allclose(lm[:, 23, 3], 1.0)
    with pytest.raises(ValueError, match="NTU"):
        PoseSequence.from_landmarks(np.zeros((4, 24, 3)), fps=25.0)
