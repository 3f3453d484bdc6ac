"""Issue 26, "say when the input or the choice is doubtful": the wrong exercise named, a truncated or partly
unreadable video, the person lost for part of the clip, a low-confidence pose: each a warning with its reason in
the report (and printed by the CLI), without changing what is counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posecoach.analysis import count_repetitions
from posecoach.analysis.pipeline import analyze_sequence
from posecoach.core.sequence import PoseSequence
from posecoach.io import VideoReader
from posecoach.pose.engine import load_sequence
from tests.conftest import data_file
from tests.integration.test_cli_analyze import cli
from tests.synthetic import stick_squat_pose

CURLS = "misc_exercise_clips/wissem/bicep_curls.mp4"
FPS, T = 20.0, 80


def _depth(t: int) -> float:
    for start, end in ((5, 20), (30, 45), (55, 70)):
        if start <= t <= end:
            return float(np.sin(np.pi * (t - start) / (end - start)) ** 2)
    return 0.0


def squats(visibility: float = 0.99, lost: tuple[int, int] | None = None) -> PoseSequence:
    arr = np.stack([stick_squat_pose(_depth(t)) for t in range(T)]).astype(np.float32)
    if arr.shape[-1] > 3:
        arr[..., 3] = np.minimum(arr[..., 3], visibility)
    if lost is not None:
        arr[lost[0]:lost[1] + 1] = 0.0  # all-zero rows: nobody detected
    return PoseSequence.from_landmarks(arr, fps=FPS, source={"width": 480, "height": 360})


@pytest.fixture(scope="module")
def curls() -> PoseSequence:
    return load_sequence(data_file(CURLS), model="lite", workers=1)


@pytest.mark.video
def test_curls_named_as_squats_get_a_wrong_exercise_warning(curls: PoseSequence, tmp_path: Path) -> None:
    report = analyze_sequence(curls, "squat")
    codes = [w.code for w in report.warnings]
    assert codes[:1] == ["wrong_exercise"], report.warnings
    assert "this looks like a biceps curl, not a squat" in report.warnings[0].message.lower()
    assert report.exercise.name == "squat"  # still analysed as named
    assert report.reps.count == count_repetitions(curls, "squat").count  # the count is not changed by the check
    assert not [w for w in analyze_sequence(curls, "bicep_curl").warnings if w.code == "wrong_exercise"]
    assert not [w for w in analyze_sequence(curls).warnings if w.code == "wrong_exercise"]
    saved = curls.save(tmp_path / "curls.npz")
    run = cli("analyze", saved, "-e", "squat")
    assert run.code == 0, run
    assert "warning: This looks like a biceps curl, not a squat" in run.stdout


def test_a_matching_exercise_gets_no_warning() -> None:
    report = analyze_sequence(squats(), "squat")
    assert report.warnings == []
    assert report.reps.count == 3


@pytest.mark.video
def test_a_truncated_video_is_reported_by_the_reader_and_in_the_report(tmp_path: Path) -> None:
    full = data_file(CURLS)
    cut = tmp_path / "cut.mp4"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with VideoReader(full) as reader:
        assert not reader.truncated and reader.info.declared_frames == len(reader)
    with VideoReader(cut) as reader:
        assert reader.truncated  # known at opening: the index declares frames whose data is missing
        assert reader.info.truncated and reader.info.declared_frames == 322 and len(reader) < 200
    seq = load_sequence(cut, model="lite", workers=1)
    report = analyze_sequence(seq)
    warning = next(w for w in report.warnings if w.code == "truncated_video")
    assert f"only {seq.num_frames} frames of the 322" in warning.message
    run = cli("analyze", cut, "-m", "lite", "--workers", "1")
    assert run.code == 0, run
    assert "warning: The video file is cut short or damaged" in run.stdout


def test_a_person_lost_for_part_of_the_clip_is_said() -> None:
    report = analyze_sequence(squats(lost=(40, 59)), "squat")
    lost = next(w for w in report.warnings if w.code == "person_lost")
    assert lost.frames == [(40, 59)]
    assert "25%" in lost.message and "1.0 s" in lost.message
    assert not [w for w in analyze_sequence(squats(lost=(40, 41)), "squat").warnings if w.code == "person_lost"]


def test_a_low_confidence_pose_is_said() -> None:
    report = analyze_sequence(squats(visibility=0.3), "squat")
    low = next(w for w in report.warnings if w.code == "low_confidence")
    assert "0.30" in low.message and low.frames == [(0, T - 1)]
    assert report.to_json().count('"low_confidence"') == 1  # in the JSON the CLI and the web page show


def test_frames_the_decoder_could_not_read_are_said() -> None:
    seq = squats()
    seq.source["truncated_at_frame"] = 60  # the engine read fewer frames than the file indexes
    codes = {w.code: w.message for w in analyze_sequence(seq, "squat").warnings}
    assert "could not be decoded" in codes["unreadable_frames"] and "60" in codes["unreadable_frames"]
