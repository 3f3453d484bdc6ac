"""Posture classifiers: embedding invariances, fit inputs, save/load, smoothing, transitions; synthetic and real."""

from __future__ import annotations

import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops
import skops.io
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks
from sklearn.utils.validation import check_is_fitted

import posecoach
from posecoach.analysis.posture.embedding import FeatureSpec, embed, frame_points, mirror_points, normalise
from posecoach.analysis.posture.evaluation import cross_validate, scores
from posecoach.analysis.posture.inputs import item_points
from posecoach.analysis.posture.models import calibrate, cv_splits, expected_calibration_error, fit_temperature
from posecoach.analysis.posture.pipeline import LivePostures, classify_postures
from posecoach.core.sequence import PoseSequence
from posecoach.errors import InputError
from posecoach.posture import (
    UNKNOWN,
    PostureClassifier,
    PostureSmoother,
    SmoothingParams,
    TransitionCounter,
    count_transitions,
    smooth_postures,
    transition_counts,
)
from posecoach.posture_dataset import read_keypoint_table
from tests.conftest import data_file
from tests.synthetic import make_exercise

MLKIT = "poses/mlkit_fitness/android/vision-quickstart/app/src/main/assets/pose/fitness_pose_samples.csv"
PERIOD_S, FPS = 2.0, 30.0
V1 = Path(__file__).parents[1] / "posture_v1"  # model files of format 1.0 and what they predicted


def squat_labels(seq: PoseSequence, reps: int) -> np.ndarray:
    """'down' near the bottom of each synthetic squat, 'up' near standing, unlabelled in between."""
    m = round(PERIOD_S * FPS)
    phase = np.zeros(seq.num_frames)
    phase[: reps * m] = (1 - np.cos(2 * np.pi * np.arange(reps * m) / m)) / 2
    return np.where(phase > 0.7, "down", np.where(phase < 0.3, "up", ""))


@pytest.fixture(scope="module")
def squats() -> list[tuple[PoseSequence, np.ndarray]]:
    out = []
    for seed, view, mirrored in ((0, "side", False), (1, "diagonal", True), (2, 70.0, False)):
        seq = make_exercise("squat", reps=3, period_s=PERIOD_S, fps=FPS, view=view, mirrored=mirrored, seed=seed)
        out.append((seq, squat_labels(seq, 3)))
    return out


@pytest.fixture(scope="module")
def trained(squats: list[tuple[PoseSequence, np.ndarray]]) -> PostureClassifier:
    return PostureClassifier(model="logreg").fit([s for s, _ in squats[:2]], [lab for _, lab in squats[:2]],
                                                 groups=["a", "b"])


def test_the_embedding_ignores_position_scale_and_rotation_in_the_image() -> None:
    seq = make_exercise("squat", reps=1, view="side", jitter=0.0)
    pts = frame_points(seq.subject_landmarks()[::10, :, :3] * np.array([1280, 720, 1280]))
    a = math.radians(25)
    rot = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    moved = (pts @ rot.T) * 2.5 + np.array([300.0, -40.0, 7.0])
    spec = FeatureSpec(orientation=False)
    assert np.allclose(embed(pts, spec), embed(moved, spec), atol=1e-9)
    torso = normalise(pts, spec)[:, [11, 12]].mean(1) - normalise(pts, spec)[:, [23, 24]].mean(1)
    assert np.allclose(torso[:, 0], 0, atol=1e-9) and np.all(torso[:, 1] < 0)  # the torso points up (-y)
    with_orientation = FeatureSpec()
    assert not np.allclose(embed(pts, with_orientation)[:, -2:], embed(moved, with_orientation)[:, -2:])
    torso3d = FeatureSpec(frame="torso3d", use_z=True)
    assert np.allclose(embed(pts * 3.0, torso3d), embed(pts, torso3d))
    with pytest.raises(ValueError, match="needs z"):
        FeatureSpec(frame="torso3d")


def test_mirroring_swaps_the_sides() -> None:
    seq = make_exercise("lunge", reps=1, view="front", jitter=0.0)
    pts = frame_points(seq.subject_landmarks()[::7, :, :3])
    assert np.allclose(mirror_points(mirror_points(pts)), pts, equal_nan=True)
    spec = FeatureSpec()
    names = spec.names
    a, b = embed(pts, spec), embed(mirror_points(pts), spec)
    for side in ("knee", "hip", "elbow"):
        assert np.allclose(a[:, names.index(f"angle.left_{side}")], b[:, names.index(f"angle.right_{side}")])
    assert not np.allclose(a[:, names.index("angle.left_knee")], a[:, names.index("angle.right_knee")])


def test_a_squat_classifier_trained_on_two_people_reads_a_third_from_another_view(
        trained: PostureClassifier, squats: list[tuple[PoseSequence, np.ndarray]]) -> None:
    seq, labels = squats[2]
    pred = trained.predict(seq)
    proba = trained.predict_proba(seq)
    assert trained.classes_ == ["down", "up"] and proba.shape == (seq.num_frames, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    labelled = labels != ""
    assert np.mean(pred[labelled] == labels[labelled]) >= 0.95
    report = classify_postures(seq, trained, smoothing=SmoothingParams(), count=("up", "down"))
    assert report.repetitions is not None and report.repetitions.count == 3
    bottoms = [round(PERIOD_S * FPS * (k + 0.5)) for k in range(3)]
    for rep, bottom in zip(report.repetitions.items, bottoms, strict=True):
        assert rep.start_frame < bottom and abs(rep.turn_frame - bottom) < 20 and rep.end_frame > bottom
    assert report.per_frame[bottoms[0]].posture == "down" and report.per_frame[0].posture == "up"
    assert sum(report.time_per_posture_s.values()) == pytest.approx(seq.duration, abs=1e-6)
    changes = [(t.from_posture, t.to_posture, t.count) for t in report.transitions]
    assert changes == [("up", "down", 3), ("down", "up", 3)]  # every change counted, the reps' and any other
    live = LivePostures(trained, count=("up", "down"), width=1280, height=720)
    states = [live.update(lm, float(t)) for lm, t in zip(seq.subject_landmarks(), seq.timestamps, strict=True)]
    assert states == [f.posture for f in report.per_frame] and live.count == 3


def test_fit_takes_sequences_frames_and_mixtures(squats: list[tuple[PoseSequence, np.ndarray]]) -> None:
    (seq, labels), (seq2, labels2) = squats[0], squats[1]
    frames = seq2.subject_landmarks()[:, :, :4] * np.array([1280, 720, 1280, 1])  # (N, 33, 4) pixel frames
    keep = labels2 != ""
    clf = PostureClassifier(model="knn").fit([seq, frames[keep]], [labels, labels2[keep]], groups=["a", "b"])
    assert clf.training_["groups"] == 2 and clf.training_["frames"] == int(np.sum(labels != "") + keep.sum())
    assert clf.training == clf.training_ and clf.selection == clf.selection_  # the names callers used before
    single = PostureClassifier(model="logreg").fit(frames[keep], labels2[keep])  # one array, frames independent
    assert single.training_["groups"] == keep.sum() and single.selection_.folds == 5
    assert single.predict(frames[keep][0]).shape == (1,)
    gap = frames.copy()
    gap[5] = 0.0  # no detection in frame 5
    assert single.predict(gap)[5] == UNKNOWN and np.all(np.isnan(single.predict_proba(gap)[5]))
    ids = np.where(labels2[keep] == "down", 10, 2)  # integer class ids: predict answers in kind
    by_id = PostureClassifier(model="logreg").fit([frames[keep]], [list(ids)], groups=["b"])
    assert by_id.classes_ == ["2", "10"] and by_id.integer_labels_
    assert by_id.predict(frames[keep]).dtype == np.int64 and set(by_id.predict(gap).tolist()) <= {2, 10, -1}
    assert by_id.predict(gap)[5] == -1 and np.mean(by_id.predict(frames[keep]) == ids) > 0.95
    with pytest.raises(ValueError, match="2 postures"):
        PostureClassifier().fit(seq, "up")
    with pytest.raises(ValueError, match="frame"):
        PostureClassifier().fit(seq, labels[:-3])
    with pytest.raises(ValueError, match="one labels entry per item"):
        PostureClassifier().fit([seq, seq2], [labels])
    with pytest.raises(RuntimeError, match="not trained"):
        PostureClassifier().predict(seq)
    with pytest.raises(NotFittedError, match="not trained"):  # scikit-learn's exception too
        PostureClassifier().predict_proba(seq)


def test_the_classifier_is_a_scikit_learn_estimator(squats: list[tuple[PoseSequence, np.ndarray]]) -> None:
    """The constructor only stores parameters (get/set_params, clone); fit checks them and the data."""
    for name in ("no_attributes_set_in_init", "parameters_default_constructible", "get_params_invariance",
                 "set_params", "estimator_cloneable", "estimator_repr", "do_not_raise_errors_in_init_or_set_params"):
        getattr(estimator_checks, f"check_{name}")("PostureClassifier", PostureClassifier())
    spec = FeatureSpec(mirror=False)
    clf = PostureClassifier(model="knn", spec=spec, folds=3)
    assert clf.get_params() == {"model": "knn", "spec": spec, "folds": 3}
    assert repr(clf) == "PostureClassifier(folds=3, model='knn', spec=FeatureSpec(mirror=False))"
    copy = clone(clf.set_params(model="logreg"))
    assert copy.get_params() == {"model": "logreg", "spec": spec, "folds": 3} and copy is not clf
    (seq, labels), (seq2, labels2) = squats[0], squats[1]
    fitted = copy.fit([seq, seq2], [labels, labels2], groups=["a", "b"])
    check_is_fitted(fitted)
    assert fitted.spec_ == spec and isinstance(fitted.pipeline_, Pipeline) and fitted.selection_.kind == "logreg"
    assert list(fitted.pipeline_.named_steps) == ["constant", "scale", "fill", "model"]
    with pytest.raises(NotFittedError):
        check_is_fitted(clone(fitted))  # a clone has the parameters, not the fitted state
    pts, keep = item_points(seq), labels != ""
    accuracy = fitted.score(pts[keep], labels[keep])  # ClassifierMixin's: accuracy of predict
    assert accuracy == np.mean(fitted.predict(pts[keep]) == labels[keep]) and accuracy > 0.9
    for bad, message in (({"model": "svm"}, "unknown posture model 'svm'"), ({"folds": 1}, "folds >= 2, got 1"),
                         ({"folds": 2.5}, "folds >= 2, got 2.5"), ({"spec": "image"}, "spec must be a FeatureSpec")):
        with pytest.raises(ValueError, match=message):
            PostureClassifier(**bad).fit(seq, labels)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"landmark frames or one \(33, 3\|4\) frame, got shape \(20, 6\)$"):
        PostureClassifier().fit(np.zeros((20, 6)), ["up", "down"] * 10)  # a feature matrix is not keypoints


def test_folds_keep_groups_apart_and_independent_frames_are_plainly_stratified() -> None:
    y = np.array([0, 1] * 30)
    groups = np.repeat(np.arange(12), 5).astype(str)
    splits = cv_splits(y, groups, 5)
    assert len(splits) == 5
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    single = cv_splits(y, np.arange(60).astype(str), 5)
    plain = list(StratifiedKFold(n_splits=5).split(np.zeros(60), y))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(single, plain, strict=True))
    assert cv_splits(y, np.zeros(60).astype(str), 5) == []  # one group: nothing to hold out


@pytest.mark.parametrize("model", ["logreg", "knn"])
def test_save_and_load_give_identical_predictions(model: str, tmp_path: Path,
                                                  squats: list[tuple[PoseSequence, np.ndarray]]) -> None:
    clf = PostureClassifier(model=model, spec=FeatureSpec(frame="torso3d", use_z=True)).fit(
        [s for s, _ in squats[:2]], [lab for _, lab in squats[:2]], groups=["a", "b"])
    path = clf.save(tmp_path / "squat.posture")
    back = PostureClassifier.load(path)
    test = squats[2][0]
    assert np.array_equal(back.predict_proba(test), clf.predict_proba(test))
    assert np.array_equal(back.predict(test), clf.predict(test))
    assert back.spec_ == clf.spec_ == clf.spec and back.classes_ == clf.classes_ and back.selection_ == clf.selection_
    assert back.integer_labels_ is False and back.training_ == clf.training_
    assert back.get_params() == clf.get_params() | {"folds": 2}  # the folds it used: one per group
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("posture_model.json"))
        assert zf.namelist() == ["posture_model.json", "pipeline.skops"]
    assert meta["format"] == "posecoach-posture-model" and meta["format_version"] == "2.0"
    assert meta["posecoach_version"] == posecoach.__version__ and meta["skops_version"] == skops.__version__
    assert meta["model"]["kind"] == model and FeatureSpec.from_dict(meta["features"]) == clf.spec
    assert meta["skeleton"]["name"] == "blazepose33" and meta["feature_names"] == clf.spec.names
    assert [p.name for p in tmp_path.iterdir()] == ["squat.posture"]  # no temporaries left


def _rewrite(path: Path, out: Path, entries: dict[str, bytes] | None = None, **changes: object) -> Path:
    """A copy of a model file with ``changes`` in its JSON and ``entries`` replaced."""
    with zipfile.ZipFile(path) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(files["posture_model.json"])
    meta.update(changes)
    files |= {"posture_model.json": json.dumps(meta).encode()} | (entries or {})
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out


def test_newer_or_damaged_model_files_are_refused_clearly(tmp_path: Path, trained: PostureClassifier) -> None:
    path = trained.save(tmp_path / "m.posture")
    minor = PostureClassifier.load(_rewrite(path, tmp_path / "minor.posture", format_version="2.7"))
    assert minor.classes_ == trained.classes_
    with pytest.raises(InputError, match=r"newer PoseCoach.*format 3\.0"):
        PostureClassifier.load(_rewrite(path, tmp_path / "new.posture", format_version="3.0"))
    foreign = {"pipeline.skops": skops.io.dumps(FeatureSpec())}  # a type a posture model never holds
    with pytest.raises(InputError, match=r"refused.*posecoach\.analysis\.posture\.embedding\.FeatureSpec"):
        PostureClassifier.load(_rewrite(path, tmp_path / "foreign.posture", foreign))
    with pytest.raises(InputError, match=r"unreadable model.*train the model again"):
        PostureClassifier.load(_rewrite(path, tmp_path / "cut.posture", {"pipeline.skops": b"PK\x03\x04 cut"}))
    with pytest.raises(InputError, match="not a posture model"):
        PostureClassifier.load(_rewrite(path, tmp_path / "other.posture", format="something-else"))
    (tmp_path / "junk.posture").write_text("hello")
    with pytest.raises(InputError, match=r"junk\.posture: not a posture model"):
        PostureClassifier.load(tmp_path / "junk.posture")
    with pytest.raises(InputError, match="no such"):
        PostureClassifier.load(tmp_path / "missing.posture")


def test_files_of_the_previous_format_predict_as_they_did(tmp_path: Path) -> None:
    """Format 1.0 files (arrays, no skops) written by PoseCoach before this format, with what they predicted."""
    expected = np.load(V1 / "expected.npz")
    for model in ("logreg", "knn"):
        clf = PostureClassifier.load(V1 / f"squat_{model}.posture")
        proba = clf.predict_proba(expected["points"])
        np.testing.assert_allclose(proba, expected[f"proba_{model}"], rtol=0, atol=1e-12)  # NaN rows too
        assert np.isnan(proba[3]).all() and not np.isnan(np.delete(proba, 3, axis=0)).any()
        assert clf.selection_.kind == model and clf.classes_ == ["down", "up"] and clf.training_["frames"] == 38
        again = PostureClassifier.load(clf.save(tmp_path / f"{model}.posture"))  # saved anew: the current format
        assert np.array_equal(again.predict_proba(expected["points"]), proba, equal_nan=True)
    with zipfile.ZipFile(V1 / "squat_logreg.posture") as zf:
        arrays = zf.read("arrays.npz")
    short = _rewrite(V1 / "squat_logreg.posture", tmp_path / "short.posture", feature_names=["x"],
                     features=FeatureSpec(angles=()).to_dict(), entries={"arrays.npz": arrays})
    with pytest.raises(InputError, match="59 feature columns, its specification names 50"):
        PostureClassifier.load(short)


def test_hysteresis_keeps_a_posture_through_flicker_and_gaps() -> None:
    t = np.arange(14) / 10.0
    p_down = np.array([0.1, 0.2, 0.9, 0.1, 0.55, 0.45, 0.55, 0.9, 0.95, np.nan, 0.95, 0.3, 0.1, 0.1])
    proba = np.stack([p_down, 1 - p_down], axis=1)
    _, raw = smooth_postures(proba, t, ["down", "up"], SmoothingParams(tau_s=0.0))
    assert list(raw) == ["up", "up", "down", "up", "up", "up", "up", "down", "down", "down", "down", "up", "up", "up"]
    smoothed, states = smooth_postures(proba, t, ["down", "up"], SmoothingParams(tau_s=0.2))
    assert list(states[:7]) == ["up"] * 7 and states[7] == "down"  # the one-frame spike is ignored
    assert states[9] == "down" and np.allclose(smoothed[9], smoothed[8])  # no pose: the state holds
    assert np.isclose(smoothed[1, 0], 0.1 + (1 - math.exp(-0.5)) * 0.1)
    live = PostureSmoother(["down", "up"], SmoothingParams(tau_s=0.2))
    assert [live.update(p, float(ti)) for p, ti in zip(proba, t, strict=True)] == list(states)
    with pytest.raises(ValueError, match="exit <= enter"):
        SmoothingParams(enter=0.4, exit=0.6)


def test_repetitions_are_first_second_first_cycles() -> None:
    states = ["", "up", "up", "down", "", "down", "side", "up", "down", "up", "down"]
    reps = count_transitions(states, "up", "down")
    assert [(r.start_frame, r.turn_frame, r.end_frame) for r in reps] == [(2, 3, 7), (7, 8, 9)]
    counter = TransitionCounter("up", "down")
    done = [counter.update(i, s) for i, s in enumerate(states)]
    assert counter.count == 2 and done[7] == reps[0] and done[10] is None
    assert count_transitions(["down", "up", "up"], "up", "down") == []
    with pytest.raises(ValueError):
        TransitionCounter("up", "up")


def test_every_change_of_posture_is_counted() -> None:
    states = ["", "up", "up", "down", "", "down", "side", "up", "down", "up", "", "up", "down"]
    assert transition_counts(states) == {("up", "down"): 3, ("down", "side"): 1, ("side", "up"): 1, ("down", "up"): 1}
    assert list(transition_counts(states)) == [("up", "down"), ("down", "side"), ("side", "up"), ("down", "up")]
    assert transition_counts(["", "", "up"]) == {} and transition_counts([]) == {}


def test_cross_validation_scores_each_held_out_group(squats: list[tuple[PoseSequence, np.ndarray]]) -> None:
    clf = PostureClassifier(model="logreg").fit([s for s, _ in squats], [lab for _, lab in squats],
                                                groups=["ann", "bob", "cy"])
    per_group = clf.selection_.per_group
    assert sorted(per_group) == ["ann", "bob", "cy"] and clf.training_["cv_per_group"] == per_group
    for (_, labels), name in zip(squats, ["ann", "bob", "cy"], strict=True):
        score = per_group[name]
        assert score["frames"] == np.sum(labels != "") and score["accuracy"] == score["correct"] / score["frames"]
    frames = sum(g["frames"] for g in per_group.values())
    chosen = [c for c in clf.selection_.scores if c.get("chosen")]
    assert chosen[0]["accuracy"] == pytest.approx(sum(g["correct"] for g in per_group.values()) / frames)


def test_temperature_scaling_calibrates_overconfident_probabilities() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    right = rng.random(2000) < 0.75  # 75 % right, but claims 99 %
    pred = np.where(right, y, 1 - y)
    proba = np.full((2000, 2), 0.01)
    proba[np.arange(2000), pred] = 0.99
    t = fit_temperature(proba, y)
    assert t > 1.5
    assert expected_calibration_error(calibrate(proba, t), y) < 0.05 < expected_calibration_error(proba, y)
    assert np.array_equal(calibrate(proba, t).argmax(1), proba.argmax(1))


def test_scores_count_the_confusion_matrix() -> None:
    s = scores(["a", "a", "b", "b", "b"], ["a", "b", "b", "b", "a"])
    assert s["labels"] == ["a", "b"] and s["confusion"] == [[1, 1], [1, 2]]
    assert s["accuracy"] == pytest.approx(0.6)
    assert [c["recall"] for c in s["per_class"]] == pytest.approx([0.5, 2 / 3])


def test_ml_kit_samples_held_out_by_video() -> None:
    """Real frames: a model that never saw a video still names push-up / squat, up / down."""
    rows = read_keypoint_table(data_file(MLKIT))
    pts = frame_points(np.stack([r.points for r in rows]))
    labels = np.array([r.label for r in rows])
    groups = np.array([r.name.split("__")[1] if r.name.startswith("frame__") else "screenshots" for r in rows])
    cv = cross_validate(pts, labels, groups, folds=3, make=lambda: PostureClassifier(model="logreg", folds=3))
    assert cv.folds == 3 and cv.classes == ["pushups_down", "pushups_up", "squats_down", "squats_up"]
    assert np.mean(cv.predicted == labels) >= 0.95


def test_yoga_recordings_of_unseen_participants() -> None:
    """Real recordings: trained on three participants, the fourth's tree and goddess recordings are named."""
    def load(asana: str, person: str, view: str = "") -> tuple[np.ndarray, str]:
        rows = read_keypoint_table(data_file(f"poses/yoga_multiview/{asana}/{person}{view}.csv.gz"))
        assert {r.label for r in rows} == {asana}
        return frame_points(np.stack([r.points for r in rows])), asana

    train = [load(a, p, v) for a in ("tree", "goddess") for p in ("P2", "P3", "P4") for v in ("", " (3)")]
    clf = PostureClassifier(model="knn").fit([x for x, _ in train], [a for _, a in train],
                                             groups=[f"P{i // 2 % 3}" for i in range(len(train))])
    for asana in ("tree", "goddess"):
        pts, _ = load(asana, "P1", " (2)")
        report = classify_postures(PoseSequence.from_landmarks(pts, fps=30.0), clf, per_frame=False)
        assert report.overall == asana and report.overall_probabilities[asana] > 0.5
        assert report.per_frame == [] and report.segments[-1].posture == asana
        held = clf.predict(pts[len(pts) // 2:])
        assert np.mean(held == asana) >= 0.8


def test_schema_files_match_the_report_models() -> None:
    from posecoach.reports.posture_report import json_schemas

    root = Path(__file__).resolve().parents[2] / "schemas"
    for name, schema in json_schemas().items():
        on_disk = json.loads((root / f"{name}.schema.json").read_text())
        assert on_disk == schema, "regenerate with: python -m posecoach.reports.posture_report schemas"
