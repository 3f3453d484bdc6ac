"""Fall detection across skeletons, units and sources: the same real fall as 33 landmarks and as 17 COCO keypoints,
pixels or normalised coordinates; the readers of the real fall sets; event-level scoring; the shipped model and
its card. Real data is read from ../shared/data at run time."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

import posecoach
from posecoach.analysis.falls import datasets as ds
from posecoach.analysis.falls import default_model, detect_sequence
from posecoach.analysis.falls.features import FEATURES, sequence_features
from posecoach.analysis.falls.model import SHIPPED, FallModel, shipped_model
from posecoach.analysis.falls.validation import outcome, summarise
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import blazepose33_to_coco17
from posecoach.falls_datasets import read_upfall
from tests.conftest import DATA, data_file

CARD = SHIPPED.with_suffix(".md")


@pytest.fixture(scope="module")
def model() -> FallModel:
    return default_model()


def _as_coco17(seq: PoseSequence, scale: tuple[float, float] = (1.0, 1.0), **kw: object) -> PoseSequence:
    """The 17 COCO keypoints of a BlazePose sequence (x, y, score), optionally in other units."""
    lm = np.nan_to_num(seq.subject_landmarks()[..., [0, 1, 3]]) * np.array([*scale, 1.0])
    return PoseSequence.from_landmarks(blazepose33_to_coco17(lm), fps=seq.fps, **kw)  # type: ignore[arg-type]


def _le2i(tool: str, name: str, **kw: bool) -> ds.Labelled:
    return next(i for i in ds.le2i(DATA, tool, **kw) if i.name == name)


@pytest.mark.parametrize("clip", ["Coffee_room_01_video_10", "Home_01_video_12"])
def test_the_same_real_fall_as_33_and_as_17_keypoints_gives_the_same_event(model: FallModel, clip: str) -> None:
    """A real Le2i fall posed by MediaPipe (its 25 NTU joints placed in the 33 BlazePose slots), given as 33
    landmarks and as the 17 COCO keypoints among them, normalised or in pixels without the frame size."""
    item = _le2i("ntu25", clip)
    seq33 = item.sequence
    as17 = _as_coco17(seq33, source=seq33.source)
    pixels17 = _as_coco17(seq33, (320.0, 240.0))
    events = [detect_sequence(s, model).events for s in (seq33, as17, pixels17)]
    assert len(events[0]) == 1, "the fall is detected from 33 landmarks"
    onset = item.onset / 25.0  # type: ignore[operator]
    assert -1.0 < events[0][0].alert_s - onset < 1.5
    for other in events[1:]:
        assert len(other) == len(events[0])
        assert abs(other[0].alert_s - events[0][0].alert_s) <= 0.3


def test_the_same_le2i_falls_from_two_pose_tools_give_the_same_events(model: FallModel) -> None:
    """YOLOv8-pose COCO-17 and MediaPipe (NTU-25) keypoints of the same clips: the same falls found."""
    falls = [i for i in ds.le2i(DATA, "coco17") if i.fall]
    coco = {i.name: i for i in falls[::6]}  # 12 clips from the four scenes (the full set: bench_falls.py)
    ntu = {i.name: i for i in ds.le2i(DATA, "ntu25") if i.name in coco}
    same = 0
    for name, item in coco.items():
        a = [e.alert_s for e in detect_sequence(item.sequence, model).events]
        b = [e.alert_s for e in detect_sequence(ntu[name].sequence, model).events]
        same += len(a) == len(b) and all(abs(x - y) <= 0.5 for x, y in zip(a, b, strict=True))
    assert same >= 0.8 * len(coco), (same, len(coco))


def test_coco17_input_in_normalised_coordinates_has_features_and_probability(model: FallModel) -> None:
    """The bug of issue 23: 17 keypoints, normalised, no frame size -> every feature was NaN, probability 0."""
    seq33 = _le2i("ntu25", "Coffee_room_01_video_10").sequence
    bare = _as_coco17(seq33)  # no source metadata at all
    X = sequence_features(bare)
    assert np.isfinite(X).all(axis=1).mean() > 0.9
    np.testing.assert_allclose(X, sequence_features(_as_coco17(seq33, (320, 320))), atol=1e-3, equal_nan=True)
    assert model.predict_proba(X).max() > 0.7


def test_features_read_only_the_joints_every_skeleton_has() -> None:
    seq33, _ = read_upfall(data_file("falls/upfall_3dskel/csv/SUBJECT2/C1S10A3T1.csv"))
    lm = np.nan_to_num(seq33.subject_landmarks()[..., :4])
    rng = np.random.default_rng(0)
    other = lm.copy()
    keep = [0, 11, 12, 23, 24, 25, 26, 27, 28]  # nose, shoulders, hips, knees, ankles
    drop = [i for i in range(33) if i not in keep]
    other[:, drop, :2] += rng.normal(0, 0.2, (len(other), len(drop), 2))  # hands, feet, face move wildly
    a = sequence_features(PoseSequence.from_landmarks(lm, fps=seq33.fps))
    b = sequence_features(PoseSequence.from_landmarks(other, fps=seq33.fps))
    np.testing.assert_allclose(a, b, equal_nan=True)
    headless = lm.copy()
    headless[:, 0] = 0.0  # no nose: the eyes and ears stand in
    assert np.isfinite(sequence_features(PoseSequence.from_landmarks(headless, fps=seq33.fps))).all(axis=1).mean() > 0.9


def test_le2i_keypoints_read_from_both_tools_with_official_frames() -> None:
    coco = {i.name: i for i in ds.le2i(DATA, "coco17")}
    ntu = {i.name: i for i in ds.le2i(DATA, "ntu25")}
    assert len(coco) == 97 and len(ntu) == 99
    a, b = coco["Coffee_room_01_video_10"], ntu["Coffee_room_01_video_10"]
    assert a.fall and a.onset == b.onset == 210 and a.sequence.fps == 25.0
    assert a.labels[a.onset] == 1 and a.labels[a.onset - 1] == 0 and (a.labels == -1).any()
    # both tools put the hips of the same person at about the same place (NTU joints mapped to the right slots)
    ha = a.sequence.subject_landmarks()[:, [23, 24], :2].mean(axis=1)  # NaN where a hip is missing
    hb = b.sequence.subject_landmarks()[:, [23, 24], :2].mean(axis=1)
    both = np.isfinite(ha).all(axis=1) & np.isfinite(hb).all(axis=1)
    assert both.mean() > 0.8 and np.median(np.abs(ha[both] - hb[both])) < 0.05
    assert sum(not i.fall for i in coco.values()) == 25 and sum(not i.fall for i in ntu.values()) == 27


def test_upfall_frames_are_not_in_time_order() -> None:
    """Why UP-Fall is left out: standing and lying frames interleave (the hips jump a torso length in 1/18 s)."""
    seq, _ = read_upfall(data_file("falls/upfall_3dskel/csv/SUBJECT1/C1S1A1T1.csv"))
    assert ds.time_order_breaks(seq) >= 4
    urfd = ds.load("urfd")
    assert np.median([ds.time_order_breaks(i.sequence) for i in urfd]) <= 1
    assert "upfall" not in ds.SOURCES


def test_event_scoring_counts_caught_falls_false_alarms_and_non_fall_time() -> None:
    seq = PoseSequence.from_landmarks(np.full((101, 17, 2), 0.5), fps=10.0)
    fall = ds.Labelled("le2i_coco17", "x", seq, True, np.zeros(101, np.int8), onset=50, window_end=80)
    assert outcome(fall, [4.2]) == outcome(fall, [4.2])
    o = outcome(fall, [1.0, 4.5, 6.0, 9.5])  # before the fall, caught (0.5 s early), again inside, after the window
    assert o.caught and o.delay_s == pytest.approx(-0.5) and o.false_alarms == 2 and o.negative_s == pytest.approx(4)
    assert not outcome(fall, [3.5]).caught  # more than 1 s early
    quiet = ds.Labelled("le2i_coco17", "y", seq, False, np.zeros(101, np.int8))
    s = summarise("le2i_coco17", [o, outcome(quiet, [2.0])])
    assert (s.falls, s.caught, s.false_alarms, s.non_falls) == (1, 1, 3, 1)
    assert s.negative_h == pytest.approx(14 / 3600) and s.row()[2] == "1.000 (1/1)"


def test_the_shipped_model_is_committed_loads_without_data_and_matches_its_card(monkeypatch: pytest.MonkeyPatch,
                                                                              ) -> None:
    monkeypatch.setenv("POSECOACH_DATA", "/nonexistent")
    monkeypatch.setattr(ds, "data_root", lambda: (_ for _ in ()).throw(AssertionError("reads data")))
    model = shipped_model()
    assert model.name.startswith("hgb-real-") and tuple(model.features) == FEATURES
    assert set(model.trained_on_) == set(ds.SOURCES) and model.sklearn_version_
    assert not list(SHIPPED.parent.glob("*.pkl")), "the shipped model is the skops file, no pickle"
    card = CARD.read_text()
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() in card, "model card names another file: update it"
    assert model.name in card
    assert re.search(r"research", card, re.I) and "--synthetic-only" in card
    lock = (Path(__file__).resolve().parents[2] / "requirements.lock").read_text()
    assert f"scikit-learn=={model.sklearn_version_}" in lock


def test_a_broken_shipped_file_falls_back_to_the_synthetic_model(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from posecoach.analysis.falls import model as model_module

    bad = tmp_path / "fall-model.zip"
    bad.write_bytes(b"PK\x03\x04 cut short")
    monkeypatch.setattr(model_module, "SHIPPED", bad)
    monkeypatch.setattr(model_module, "_LOADED", {})

    class Stub:
        def save(self, path: Path) -> None:
            raise OSError("read-only")

    sentinel = Stub()
    monkeypatch.setattr(model_module, "train_model", lambda config=None, items=None: sentinel)
    monkeypatch.setattr(model_module, "cache_dir", lambda: tmp_path / "cache")
    with pytest.warns(UserWarning, match="synthetic-only"):
        assert model_module.default_model() is sentinel


def test_le2i_daily_activity_clips_raise_no_alert(model: FallModel) -> None:
    quiet = [i for i in ds.le2i(DATA, "coco17") if not i.fall]
    alerts = {i.name: [e.alert_s for e in detect_sequence(i.sequence, model).events] for i in quiet}
    assert not any(alerts.values()), {k: v for k, v in alerts.items() if v}


@pytest.mark.slow
def test_leave_le2i_out_still_catches_most_le2i_falls_from_both_tools() -> None:
    """Honest held-out check: a model that never saw Le2i (nor MD4FD's Le2i windows). Without the video negatives,
    whose poses take an hour to estimate without a pose cache. Measured 2026-12-07: COCO-17 58/72 with 1 false
    alarm, NTU-25 58/72 with 3; before unconfirmed falls (a drop pending when the clip ends) were reported,
    57/72 with 1 and 56/72 with 2: three more falls caught for one more alarm (Home_01 video 8 goes down again at
    its end after getting up). With the video negatives (the shipped recipe) the Le2i false alarms stay 1 per
    tool (`bench_falls.py`)."""
    from dataclasses import replace

    from posecoach.analysis.falls.model import SHIPPED_CONFIG
    from posecoach.analysis.falls.validation import leave_one_dataset_out

    config = replace(SHIPPED_CONFIG, sources=tuple(s for s in ds.SOURCES if not s.startswith("videos_")))
    res = leave_one_dataset_out(config, groups=["le2i"], log=lambda _: None)
    for source in ("le2i_coco17", "le2i_ntu25"):
        s = summarise(source, res[source])
        assert s.sensitivity is not None and s.sensitivity >= 0.7, s.row()
        assert s.false_alarms <= 3, s.row()


def test_detect_falls_accepts_coco17_sequences(model: FallModel) -> None:
    item = _le2i("coco17", "Coffee_room_01_video_10", normalise=False)  # pixels, as YOLO gives them
    rep = posecoach.detect_falls(item.sequence, model=model)
    assert rep.fall_detected and abs(rep.events[0].alert_s - item.onset / 25.0) < 1.5  # type: ignore[operator]


@pytest.mark.parametrize("name", ["Coffee_room_01_video_10", "Home_01_video_11"])
def test_ntu25_arrays_go_through_from_landmarks_as_the_dataset_reader_takes_them(model: FallModel, name: str) -> None:
    """The evaluation hands MediaPipe-mapped-to-NTU-25 keypoints to `PoseSequence.from_landmarks` (pixels, with or
    without their third column, whose values track depth, not confidence): the same events as the reader's
    sequence."""
    folder = DATA / "falls" / "le2i_keypoints" / "ntu25_mediapipe"
    kp, third = np.load(folder / f"{name}_keypoints.npy"), np.load(folder / f"{name}_confs.npy")
    want = [e.alert_frame for e in detect_sequence(ds.le2i_sequence(kp, third, normalise=False), model).events]
    for arr in (kp, np.concatenate([kp, third[..., None]], axis=-1)):
        seq = PoseSequence.from_landmarks(arr, fps=25.0)
        assert seq.num_frames == len(kp) and np.isfinite(seq.subject_landmarks()[:, 23, 0]).any()
        assert [e.alert_frame for e in detect_sequence(seq, model).events] == want
    assert want  # both clips are falls the model catches


def test_a_drop_from_sitting_or_lying_alerts_but_sitting_still_does_not() -> None:
    """Le2i's falls off a sofa start from a low body (head little above the hips for seconds): the upright-before
    gate alone missed them; a fast drop of the hips (`DROP_FROM_LOW` torso lengths) lets them alert."""
    from posecoach.analysis.falls.events import DROP_FROM_LOW, fall_events

    f = {name: i for i, name in enumerate(FEATURES)}
    X = np.zeros((40, len(FEATURES)))
    X[:, f["head_above_hip"]], X[:, f["trunk_deg"]] = 0.5, 10.0  # sitting low, seen from above
    X[:, f["upright_before"]], X[:, f["trunk_min_3s"]], X[:, f["low_share"]] = 0.7, 5.0, 1.0
    t, p = np.arange(40) / 10.0, np.full(40, 0.95)
    assert fall_events(t, p, X) == []  # high probability, but already low and nothing dropped
    X[20:, f["hip_drop"]] = DROP_FROM_LOW + 0.2
    assert [e.alert_frame for e in fall_events(t, p, X)] == [20]
