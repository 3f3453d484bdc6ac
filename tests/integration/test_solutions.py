"""The four solutions (issue 27.2): one contract, ``run(source) -> Result`` on a path, an array or a sequence,
``Result.save``, and ``live()`` sessions with one ``update(landmarks, t, world=None)``; on real clips, each gives
the report its shortcut gives, and a live session streamed frame by frame ends where the offline run does."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import posecoach
from posecoach.analysis.compare import Guide
from posecoach.analysis.falls import datasets as ds
from posecoach.analysis.posture import PostureClassifier
from posecoach.analysis.posture.pipeline import classify_postures
from posecoach.core.sequence import PoseSequence
from posecoach.errors import InputError
from posecoach.io.landmark_files import read_ui_prmd
from posecoach.solutions import (
    Comparison,
    ExerciseAnalysis,
    FallDetection,
    LiveSession,
    LiveUpdate,
    PostureClassification,
    Result,
    load_source,
)
from tests.conftest import DATA, data_file
from tests.synthetic import make_exercise

SQUAT = "misc_exercise_clips/rjsong/squat.mp4"  # 900 frames, 13 deep squats, front view
UI_PRMD = "form/ui_prmd_kinect/Segmented Movements/Kinect"


def _dump(report: object) -> dict[str, object]:
    return json.loads(report.to_json())  # type: ignore[attr-defined]


def _array(seq: PoseSequence) -> np.ndarray:
    return np.nan_to_num(seq.subject_landmarks()[..., :4])


def _stream(session: LiveSession, seq: PoseSequence, world: bool = True) -> tuple[list[LiveUpdate], LiveUpdate]:
    lm = seq.subject_landmarks()
    wd = seq.subject_world() if world and seq.world is not None else None
    updates = [session.update(lm[i], float(seq.timestamps[i]), None if wd is None else wd[i])
               for i in range(seq.num_frames)]
    return updates, session.finish()


@pytest.fixture(scope="module")
def squat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """The squat clip run from its video (poses estimated once) and its poses saved as .npz."""
    result = ExerciseAnalysis().run(data_file(SQUAT))
    npz = tmp_path_factory.mktemp("solutions") / "squat.npz"
    result.sequence.save(npz)
    return result, npz


@pytest.fixture(scope="module")
def fall() -> PoseSequence:
    """A real Le2i fall (posed by MediaPipe, 25 NTU joints in the BlazePose slots)."""
    return next(i for i in ds.le2i(DATA, "ntu25") if i.name == "Coffee_room_01_video_10").sequence


def _rep(movement: str, subject: int, episode: int) -> PoseSequence:
    name = f"{movement}_s{subject:02d}_e{episode:02d}_positions.txt.gz"
    return read_ui_prmd(data_file(f"{UI_PRMD}/Positions/{name}"),
                        data_file(f"{UI_PRMD}/Angles/{name.replace('_positions', '_angles')}"))


@pytest.fixture(scope="module")
def guided() -> tuple[PoseSequence, PoseSequence]:
    """A guide's deep squat (one repetition) and another person's five, recorded one after the other."""
    parts = [_rep("m01", 2, e) for e in range(1, 6)]
    lm, world = np.concatenate([p.landmarks for p in parts]), np.concatenate([p.world for p in parts])
    return _rep("m01", 1, 1), PoseSequence(lm, world, np.arange(len(lm)) / parts[0].fps, parts[0].fps)


@pytest.fixture(scope="module")
def classifier() -> PostureClassifier:
    seqs, labels = [], []
    for seed, view in ((0, "side"), (1, "diagonal")):
        seq = make_exercise("squat", reps=3, period_s=2.0, fps=30.0, view=view, seed=seed)
        phase = (1 - np.cos(2 * np.pi * np.arange(seq.num_frames) / 60.0)) / 2
        seqs.append(seq)
        labels.append(np.where(phase > 0.7, "down", np.where(phase < 0.3, "up", "")))
    return PostureClassifier(model="logreg").fit(seqs, labels, groups=["a", "b"])


def test_exercise_analysis_on_a_video_a_saved_file_an_array_and_a_sequence_is_the_shortcut(
        squat: tuple[Result, Path]) -> None:
    from_video, npz = squat
    seq = from_video.sequence
    assert from_video.source == data_file(SQUAT) and from_video.report.reps.count == 13
    assert _dump(from_video.report) == _dump(posecoach.analyze(seq))  # what the video gave, from its poses
    assert _dump(ExerciseAnalysis().run(npz).report) == _dump(posecoach.analyze(npz))
    assert _dump(ExerciseAnalysis("squat").run(seq).report) == _dump(posecoach.analyze(seq, "squat"))
    array = _array(seq)
    on_array = ExerciseAnalysis().run(array, fps=seq.fps)
    assert on_array.source is None and on_array.sequence.num_frames == seq.num_frames
    assert _dump(on_array.report) == _dump(posecoach.analyze(PoseSequence.from_landmarks(array, fps=seq.fps)))
    assert on_array.report.reps.count == 13


def test_exercise_result_saves_json_csv_chart_and_overlay(squat: tuple[Result, Path], tmp_path: Path) -> None:
    result, npz = squat
    out = {"json": tmp_path / "a.json", "csv": tmp_path / "a.csv", "plot": tmp_path / "a.png",
           "overlay": tmp_path / "a.mp4"}
    assert result.save(**out) == list(out.values())
    assert json.loads(out["json"].read_text()) == _dump(result.report)
    rows = out["csv"].read_text().splitlines()
    assert rows[0].startswith("rep,start_s") and len(rows) == 1 + 13
    assert out["plot"].stat().st_size > 10_000 and out["overlay"].stat().st_size > 100_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "a.json", "a.mp4", "a.png"]  # no temporaries
    from_poses = ExerciseAnalysis().run(result.sequence)  # a sequence: drawn on the video its poses came from
    assert from_poses.source is None and from_poses.video() == Path(str(result.sequence.source["path"]))
    from_npz = ExerciseAnalysis().run(npz)
    with pytest.raises(InputError, match="overlay draws on the video"):
        from_npz.save(overlay=tmp_path / "b.mp4")
    with pytest.raises(InputError, match="is the input"):
        from_npz.save(json=npz)


def test_the_live_exercise_session_ends_with_the_offline_count(squat: tuple[Result, Path]) -> None:
    result, _ = squat
    seq = result.sequence
    updates, final = _stream(ExerciseAnalysis().live(width=seq.source["width"], height=seq.source["height"]), seq)
    assert final.count == result.report.reps.count == 13
    assert final.state.exercise == result.report.exercise.name == "squat"
    assert [u.count for u in updates] == sorted(u.count for u in updates)  # the count shown never goes down
    assert updates[-1].t == final.t == float(seq.timestamps[-1]) and final.text == "Squat: 13"


def test_fall_detection_on_a_file_an_array_and_a_sequence_is_the_shortcut(fall: PoseSequence,
                                                                           tmp_path: Path) -> None:
    npz = fall.save(tmp_path / "fall.npz")
    on_seq = FallDetection().run(fall)
    assert [e.alert_frame for e in on_seq.report.events] == [218]
    assert _dump(on_seq.report) == _dump(posecoach.detect_falls(fall))
    assert _dump(FallDetection().run(npz).report) == _dump(posecoach.detect_falls(npz))
    assert FallDetection().run(npz).report.input == str(npz)
    array = _array(fall)
    on_array = FallDetection().run(array, fps=fall.fps)
    assert _dump(on_array.report) == _dump(posecoach.detect_falls(PoseSequence.from_landmarks(array, fps=fall.fps)))
    strict = FallDetection(threshold=0.95).run(fall).report
    assert _dump(strict) == _dump(posecoach.detect_falls(fall, threshold=0.95))
    assert on_seq.save(json=tmp_path / "f.json", csv=tmp_path / "f.csv", plot=tmp_path / "f.svg")
    assert len((tmp_path / "f.csv").read_text().splitlines()) == 1 + fall.num_frames
    assert json.loads((tmp_path / "f.json").read_text()) == _dump(on_seq.report)


def test_the_live_fall_session_alerts_on_the_offline_event(fall: PoseSequence) -> None:
    offline = FallDetection().run(fall).report
    fired: list[int] = []
    session = FallDetection().live(fps=fall.fps, width=fall.source["width"], height=fall.source["height"],
                                   on_alert=lambda e: fired.append(e.alert_frame))
    updates, final = _stream(session, fall, world=False)
    alerts = [i for i, u in enumerate(updates) if u.alert]
    assert alerts == fired == [e.alert_frame for e in offline.events] == [218]
    assert [e.alert_frame for e in final.state.events] == [218] and final.state.events[0].outcome == "down"
    np.testing.assert_allclose([u.state.probability for u in updates], offline.smoothed, atol=2e-4)
    assert updates[218].text == "still down" and final.count is None


def test_comparison_on_a_file_an_array_and_a_sequence_is_the_shortcut(guided: tuple[PoseSequence, PoseSequence],
                                                                      tmp_path: Path) -> None:
    guide_seq, attempt = guided
    guide = Guide(name="g", reps=1)
    result = Comparison(guide_seq, guide=guide).run(attempt)
    assert _dump(result.report) == _dump(posecoach.compare(guide_seq, attempt, guide=guide))
    assert len(result.report.reps) == 5 and result.reference_sequence is guide_seq and result.matched is not None
    npz = attempt.save(tmp_path / "attempt.npz")
    assert _dump(Comparison(guide_seq, guide=guide).run(npz).report) == _dump(
        posecoach.compare(guide_seq, npz, guide=guide))
    array = _array(attempt)
    on_array = Comparison(guide_seq, mirror=False).run(array, fps=attempt.fps)
    assert _dump(on_array.report) == _dump(posecoach.compare(
        guide_seq, PoseSequence.from_landmarks(array, fps=attempt.fps), mirror=False))
    written = result.save(json=tmp_path / "c.json", plot=tmp_path / "c.png", overlay=tmp_path / "c.mp4")
    assert all(p.stat().st_size > 0 for p in written) and len(written) == 3
    with pytest.raises(InputError, match="no CSV table"):
        result.save(csv=tmp_path / "c.csv")


def test_the_live_comparison_session_scores_the_offline_repetitions(
        guided: tuple[PoseSequence, PoseSequence]) -> None:
    guide_seq, attempt = guided
    solution = Comparison(guide_seq, guide=Guide(name="g", reps=1))
    offline = solution.run(attempt).report
    updates, final = _stream(solution.live(), attempt)
    assert final.count == len(final.state.scored) == len(offline.reps) == 5
    live_scores = [r.score for r in final.state.scored]
    offline_scores = [r.score for r in offline.reps]
    assert all(s is not None for s in live_scores + offline_scores)
    np.testing.assert_allclose(live_scores, offline_scores, atol=1.0)  # the same repetitions, matched alone
    assert abs(float(np.mean(live_scores)) - float(np.mean(offline_scores))) <= 0.5  # type: ignore[arg-type]
    assert sum(len(u.state.new) for u in updates) >= 3  # scored while the set went on


def test_posture_classification_on_a_file_an_array_and_a_sequence_is_the_classifier(
        classifier: PostureClassifier, squat: tuple[Result, Path], tmp_path: Path) -> None:
    seq = squat[0].sequence
    solution = PostureClassification(classifier, count=("up", "down"))
    result = solution.run(seq)
    expected = classify_postures(seq, classifier, smoothing=solution.smoothing, count=("up", "down"))
    assert _dump(result.report) == _dump(expected)
    # a contract test, not an accuracy one: the classifier learnt synthetic side views, the clip is a front view
    assert result.report.repetitions is not None and result.report.repetitions.count > 0
    on_npz = solution.run(squat[1]).report
    assert on_npz.input == str(squat[1]) and on_npz.repetitions == result.report.repetitions
    on_array = solution.run(_array(seq), fps=seq.fps).report  # no frame size: the proportions of a square frame
    assert _dump(on_array) == _dump(classify_postures(PoseSequence.from_landmarks(_array(seq), fps=seq.fps),
                                                      classifier, smoothing=solution.smoothing, count=("up", "down")))
    model_file = classifier.save(tmp_path / "squat.posture")
    from_file = PostureClassification(model_file, count=("up", "down")).run(seq).report
    assert from_file.repetitions == result.report.repetitions and from_file.classifier.path == str(model_file)
    written = result.save(json=tmp_path / "p.json", csv=tmp_path / "p.csv", plot=tmp_path / "p.png")
    assert [p.name for p in written] == ["p.json", "p.csv", "p.png"]
    with pytest.raises(InputError, match="no overlay"):
        result.save(overlay=tmp_path / "p.mp4")


def test_the_live_posture_session_ends_with_the_offline_count(classifier: PostureClassifier,
                                                              squat: tuple[Result, Path]) -> None:
    seq = squat[0].sequence
    solution = PostureClassification(classifier, count=("up", "down"))
    offline = solution.run(seq).report
    _, final = _stream(solution.live(width=seq.source["width"], height=seq.source["height"]), seq)
    assert offline.repetitions is not None
    assert final.count == final.state.count == offline.repetitions.count
    assert final.state.posture == offline.per_frame[-1].posture


def test_one_loader_for_the_three_kinds_and_one_error_for_anything_else(fall: PoseSequence, tmp_path: Path) -> None:
    assert load_source(fall) is fall
    assert load_source(_array(fall), fps=25.0).num_frames == fall.num_frames
    for bad in (42, [[0.0]], {"frames": []}):
        with pytest.raises(InputError, match=r"give a path .* a \(T, K, C\) landmark array or a PoseSequence"):
            FallDetection().run(bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"must be \(T, K, C\)"):
        ExerciseAnalysis().run(np.zeros((10, 33)))
    with pytest.raises(InputError, match="no such file"):
        ExerciseAnalysis().run(tmp_path / "missing.npz")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="not a video"):
        load_source(tmp_path / "notes.txt")
    with pytest.raises(InputError, match="is a folder"):
        load_source(tmp_path)


def test_every_live_session_takes_the_same_update(classifier: PostureClassifier,
                                                  guided: tuple[PoseSequence, PoseSequence]) -> None:
    guide_seq, attempt = guided
    sessions = [ExerciseAnalysis().live(), Comparison(guide_seq).live(), FallDetection().live(fps=30.0),
                PostureClassification(classifier).live()]
    lm, world = attempt.subject_landmarks()[0], attempt.subject_world()[0]
    for session in sessions:
        assert isinstance(session, LiveSession)
        for i, frame in enumerate((lm, None, lm[:, :3])):  # landmarks, nobody, (x, y, z) only
            update = session.update(frame, 0.1 * i, world=world if frame is not None else None)
            assert isinstance(update, LiveUpdate) and update.t == pytest.approx(0.1 * i)
            assert isinstance(update.text, str) and update.text and isinstance(update.alert, bool)
        assert isinstance(session.finish(), LiveUpdate)
