"""Fall detection: synthetic generator, window features, state machine, detector (offline = live), report, CLI;
synthetic falls and hard negatives, and real keypoint sequences from ../shared/data read at run time."""

from __future__ import annotations

import csv
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest

import posecoach
from posecoach.analysis.falls import LiveFallDetector, default_model, detect_sequence, webhook_hook
from posecoach.analysis.falls.events import FallStateMachine, ProbabilitySmoother, fall_events, smooth
from posecoach.analysis.falls.features import FEATURES, sequence_features
from posecoach.analysis.falls.model import FallModel
from posecoach.analysis.falls.synthetic import make_clip, make_clips
from posecoach.cli.app import main
from posecoach.core.sequence import PoseSequence
from posecoach.errors import InputError
from posecoach.falls_datasets import read_md4fd, read_upfall, read_urfd_alphapose
from posecoach.reports.fall_report import FallReport
from tests.conftest import data_file

F = {f: i for i, f in enumerate(FEATURES)}


@pytest.fixture(scope="module")
def model() -> FallModel:
    return default_model()


def _clip(kind_fall: bool, seed: int) -> tuple[PoseSequence, np.ndarray]:
    c = make_clip(np.random.default_rng(seed), kind_fall, fps=30.0)
    return c.sequence, c.labels


# --- synthetic data ---------------------------------------------------------------------------------------------

def test_synthetic_clips_are_deterministic_and_labelled_only_when_falling() -> None:
    a, b = make_clips(12, seed=3), make_clips(12, seed=3)
    for x, y in zip(a, b, strict=True):
        assert x.kind == y.kind and x.sequence.equals(y.sequence)
        assert bool(x.labels.any()) == x.fall
    assert any(c.fall for c in a) and any(not c.fall for c in a)


def test_synthetic_fall_ends_low_and_lying() -> None:
    seq, labels = _clip(True, 11)
    X = sequence_features(seq)
    first = int(np.argmax(labels))
    before, after = X[max(0, first - 40)], X[min(len(X) - 1, first + 45)]
    assert before[F["head_above_hip"]] > after[F["head_above_hip"]] + 0.4  # head came down to hip level


# --- features ---------------------------------------------------------------------------------------------------

def test_features_are_causal() -> None:
    seq, _ = _clip(True, 5)
    full = sequence_features(seq)
    part = sequence_features(seq.frames(0, 90))
    np.testing.assert_allclose(part, full[:90], equal_nan=True, atol=1e-9)


def test_features_do_not_depend_on_body_size_in_the_image() -> None:
    seq, _ = _clip(False, 8)
    lm = seq.subject_landmarks()[..., :4].copy()
    small = lm.copy()
    small[..., :2] = 0.5 + (lm[..., :2] - 0.5) * 0.5
    a = sequence_features(PoseSequence.from_landmarks(np.nan_to_num(lm), fps=seq.fps, source=seq.source))
    b = sequence_features(PoseSequence.from_landmarks(np.nan_to_num(small), fps=seq.fps, source=seq.source))
    for name in ("trunk_deg", "head_above_hip", "hip_drop", "trunk_min_3s"):
        np.testing.assert_allclose(a[:, F[name]], b[:, F[name]], atol=1e-3, equal_nan=True)


def test_features_bridge_short_gaps_and_give_nan_when_nobody_is_there() -> None:
    seq, _ = _clip(False, 2)
    lm = np.nan_to_num(seq.subject_landmarks()[..., :4])
    lm[60:63] = 0.0  # 0.1 s lost: bridged
    lm[100:160] = 0.0  # 2 s without the person: unknown after the 0.5 s bridge
    X = sequence_features(PoseSequence.from_landmarks(lm, fps=30.0, source=seq.source))
    assert np.isfinite(X[61:63, F["trunk_deg"]]).all()
    assert np.isnan(X[120:160]).all()
    empty = sequence_features(PoseSequence.empty(10))
    assert empty.shape == (10, len(FEATURES)) and np.isnan(empty).all()


# --- smoothing and events ---------------------------------------------------------------------------------------

def test_probability_smoother_is_a_trailing_mean() -> None:
    t = np.arange(10) / 10.0
    p = np.array([0, 0, 0, 1, 1, 1, 1, 0, 0, 0], dtype=float)
    s = smooth(t, p, window_s=0.25)
    assert s[3] == pytest.approx(1 / 3) and s[5] == pytest.approx(1.0) and s[7] == pytest.approx(2 / 3)
    assert ProbabilitySmoother(0.3).update(0.0, 0.4) == pytest.approx(0.4)


def _posture_rows(n: int, above: float, trunk: float) -> np.ndarray:
    X = np.full((n, len(FEATURES)), 0.0)
    X[:, F["head_above_hip"]], X[:, F["trunk_deg"]] = above, trunk
    X[:, F["upright_before"]], X[:, F["trunk_min_3s"]] = 1.4, 2.0
    return X


def test_state_machine_alerts_once_when_low_and_records_recovery() -> None:
    fps = 10
    X = np.concatenate([_posture_rows(20, 1.3, 3.0), _posture_rows(30, 0.1, 85.0), _posture_rows(20, 1.3, 3.0)])
    p = np.concatenate([np.zeros(18), np.linspace(0.3, 0.95, 4), np.full(28, 0.95), np.zeros(20)])
    t = np.arange(len(p)) / fps
    events = fall_events(t, p, X)
    assert len(events) == 1
    ev = events[0]
    assert ev.alert_frame == int(np.argmax(p >= 0.7)) and ev.start_frame == 18
    assert ev.recovered and ev.end_s == pytest.approx(t[50 + fps])  # upright for 1 s from frame 50
    assert ev.lying_s == pytest.approx(ev.end_s - ev.impact_s)


def test_state_machine_needs_a_low_body_and_an_upright_past() -> None:
    p = np.full(30, 0.95)
    t = np.arange(30) / 10.0
    assert fall_events(t, p, _posture_rows(30, 1.3, 3.0)) == []  # high probability but standing (a squat's top)
    lying_all_along = _posture_rows(30, 0.1, 85.0)
    lying_all_along[:, F["upright_before"]] = 0.2
    assert fall_events(t, p, lying_all_along) == []  # already down: a plank, lying in bed
    assert len(fall_events(t, p, _posture_rows(30, 0.1, 85.0))) == 1
    unrecovered = FallStateMachine()
    for i in range(30):
        unrecovered.update(i, t[i], 0.95, _posture_rows(1, 0.1, 85.0)[0])
    assert not unrecovered.events[0].recovered and unrecovered.events[0].end_frame == 29


def _dips(fps: int, n: int, bottom_s: float, above: float = 0.3) -> np.ndarray:
    """Standing, then ``n`` dips (head ``above`` torso lengths over the hips for ``bottom_s``), upright between."""
    up, down = _posture_rows(fps, 1.3, 3.0), _posture_rows(round(bottom_s * fps), above, 5.0)
    return np.concatenate([up] + [np.concatenate([down, up]) for _ in range(n)])


def _drop_at(X: np.ndarray, fps: int, hold_s: float) -> tuple[np.ndarray, np.ndarray]:
    """``X`` then a drop held low for ``hold_s`` and back up; probability high from the drop on."""
    X = np.concatenate([X, _posture_rows(round(hold_s * fps), 0.1, 80.0), _posture_rows(2 * fps, 1.3, 3.0)])
    p = np.zeros(len(X))
    p[len(X) - round(hold_s * fps) - 2 * fps:] = 0.95
    return X, p


def test_after_repeated_dips_a_drop_alerts_only_if_the_body_stays_down() -> None:
    from posecoach.analysis.falls.events import CONFIRM_S

    fps = 10
    reps = _dips(fps, 3, 0.6)
    X, p = _drop_at(reps, fps, 0.8)  # one more squat-like bottom, back up within CONFIRM_S
    assert fall_events(np.arange(len(p)) / fps, p, X) == []
    X, p = _drop_at(reps, fps, CONFIRM_S + 1.0)  # stays down: a fall during exercise, confirmed
    events = fall_events(np.arange(len(p)) / fps, p, X)
    drop = len(reps)
    assert len(events) == 1 and events[0].alert_frame == drop + round(CONFIRM_S * fps)
    assert events[0].start_frame <= drop  # the start is the drop's, not the confirmation's
    X, p = _drop_at(_dips(fps, 1, 0.6), fps, 0.8)  # one earlier dip (a stumble) is not exercise: alerts at once
    assert [e.alert_frame for e in fall_events(np.arange(len(p)) / fps, p, X)] == [len(_dips(fps, 1, 0.6))]


def test_a_recent_upside_down_skeleton_needs_the_drop_confirmed() -> None:
    fps = 10
    flipped = np.concatenate([_posture_rows(10, -0.6, 160.0), _posture_rows(10, 1.3, 3.0)])  # a pose flip
    X, p = _drop_at(flipped, fps, 0.8)
    assert fall_events(np.arange(len(p)) / fps, p, X) == []  # back up: a push-up's bottom after the flip
    X, p = _drop_at(flipped, fps, 3.0)
    assert len(fall_events(np.arange(len(p)) / fps, p, X)) == 1
    glitch = np.concatenate([_posture_rows(10, 1.3, 3.0), _posture_rows(1, -0.6, 160.0), _posture_rows(10, 1.3, 3.0)])
    X, p = _drop_at(glitch, fps, 0.8)  # one upside-down frame is noise, not a flip: the drop alerts at once
    assert [e.alert_frame for e in fall_events(np.arange(len(p)) / fps, p, X)] == [len(glitch)]


def test_a_one_frame_upright_glitch_does_not_dismiss_a_pending_drop() -> None:
    from posecoach.analysis.falls.events import CONFIRM_S

    fps = 10
    reps = _dips(fps, 3, 0.6)
    X, p = _drop_at(reps, fps, CONFIRM_S + 1.0)
    X[len(reps) + 5] = _posture_rows(1, 1.3, 3.0)[0]  # the pose estimate jumps up for one frame while lying
    assert [e.alert_frame for e in fall_events(np.arange(len(p)) / fps, p, X)] == [len(reps) + round(CONFIRM_S * fps)]


# --- detector ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [21, 22, 23])
def test_synthetic_falls_are_detected_soon_after_they_start(model: FallModel, seed: int) -> None:
    seq, labels = _clip(True, seed)
    rep = detect_sequence(seq, model)
    assert rep.fall_detected
    first_label_s = float(seq.timestamps[int(np.argmax(labels))])
    assert abs(rep.events[0].alert_s - first_label_s) < 1.5


def test_synthetic_hard_negatives_stay_quiet(model: FallModel) -> None:
    rng = np.random.default_rng(99)
    alarms = [c.kind for c in (make_clip(rng, False) for _ in range(40)) if detect_sequence(c.sequence, model).events]
    assert len(alarms) <= 1, alarms


def test_live_detector_matches_offline_and_calls_the_hook(model: FallModel) -> None:
    seq, _ = _clip(True, 31)
    offline = detect_sequence(seq, model)
    fired: list[int] = []
    live = LiveFallDetector(model, fps=seq.fps, width=seq.source["width"], height=seq.source["height"],
                            on_alert=lambda e: fired.append(e.alert_frame))
    lm = seq.subject_landmarks()
    smoothed = [live.update(lm[i], float(seq.timestamps[i])) for i in range(seq.num_frames)]
    np.testing.assert_allclose(smoothed, offline.smoothed, atol=2e-4)
    assert fired == [e.alert_frame for e in offline.events] and fired


def test_a_fall_after_squats_is_held_until_the_body_stays_down_live_as_offline(model: FallModel) -> None:
    from posecoach.analysis.falls.events import CONFIRM_S
    from posecoach.analysis.falls.synthetic import STAND, film_scenario

    bottom = {**STAND, "h": 0.5, "thigh": 95.0, "knee": 170.0, "pitch": 35.0}
    keys = [(0.0, STAND)] + [k for i in range(3) for k in ((2.4 * i + 1.2, bottom), (2.4 * i + 2.4, STAND))]
    drop = keys[-1][0] + 1.5  # three squats, then a sideways fall, lying still
    lying = {**STAND, "h": 0.13, "roll": 88.0, "thigh_roll": -80.0, "arm": 60.0}
    keys += [(drop, STAND), (drop + 0.7, lying), (drop + 6.0, lying)]
    seq = film_scenario(keys, np.random.default_rng(2), 30.0, end=drop + 6.5)
    offline = detect_sequence(seq, model)
    assert len(offline.events) == 1
    ev = offline.events[0]
    assert drop + CONFIRM_S <= ev.alert_s <= drop + CONFIRM_S + 1.0 and drop <= ev.start_s <= drop + 0.7
    live = LiveFallDetector(model, fps=seq.fps, width=seq.source["width"], height=seq.source["height"])
    lm = seq.subject_landmarks()
    for i in range(seq.num_frames):
        live.update(lm[i], float(seq.timestamps[i]))
    assert [e.alert_frame for e in live.events] == [ev.alert_frame]


def test_webhook_hook_posts_the_event_as_json(model: FallModel) -> None:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    seq, _ = _clip(True, 31)
    ev = detect_sequence(seq, model).events[0]
    from posecoach.analysis.falls.events import FallEvent

    hook = webhook_hook(f"http://127.0.0.1:{server.server_port}/alert", extra={"camera": "hall"})
    hook(FallEvent(ev.start_frame, ev.alert_frame, ev.impact_frame, ev.end_frame, ev.start_s, ev.alert_s,
                   ev.impact_s, ev.end_s, ev.confidence, ev.recovered))
    thread.join(5)
    server.server_close()
    assert received and received[0]["event"] == "fall" and received[0]["camera"] == "hall"
    assert received[0]["alert_s"] == pytest.approx(ev.alert_s)


def test_detect_falls_public_api_report(model: FallModel) -> None:
    seq, _ = _clip(True, 21)
    rep = posecoach.detect_falls(seq, model=model)
    assert isinstance(rep, FallReport)
    data = json.loads(rep.to_json())
    assert len(data["probabilities"]) == seq.num_frames == len(data["times_s"])
    e = data["events"][0]
    assert e["start_s"] <= e["alert_s"] <= e["end_s"] and 0.0 <= e["confidence"] <= 1.0
    assert FallReport.model_validate_json(rep.to_json()) == rep


# --- real keypoint data -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def urfd() -> dict[str, tuple[PoseSequence, np.ndarray]]:
    return read_urfd_alphapose(data_file("falls/urfd_pose_alphapose_mynameisphp/pose_urfd_3classes.csv"),
                               data_file("falls/urfd_labels/urfall-cam0-falls.csv"))


def test_real_urfd_reader_aligns_frames_and_official_labels(urfd: dict[str, tuple[PoseSequence, np.ndarray]]) -> None:
    assert len(urfd) == 30
    seq, labels = urfd["fall-01"]
    assert len(labels) == seq.num_frames and 0 < labels.sum() < len(labels)
    assert labels[0] == 0 and labels[-1] == 1  # standing first, on the ground at the end


def test_real_urfd_falls_are_mostly_detected_soon_after_the_labelled_fall_begins(
        model: FallModel, urfd: dict[str, tuple[PoseSequence, np.ndarray]]) -> None:
    delays = []
    for seq, labels in urfd.values():
        rep = detect_sequence(seq, model)
        if rep.fall_detected:
            delays.append(rep.events[0].alert_s - float(seq.timestamps[int(np.argmax(labels))]))
    assert len(delays) >= 0.6 * len(urfd)  # 13-joint AlphaPose poses: a harder input than MediaPipe's
    assert -0.5 <= float(np.median(delays)) <= 1.5


def test_real_upfall_sequence_reads_and_detects(model: FallModel) -> None:
    seq, labels = read_upfall(data_file("falls/upfall_3dskel/csv/SUBJECT1/C1S1A1T1.csv"))
    assert seq.num_frames == len(labels) == 100 and labels[0] == 0 and labels[-1] == 1
    rep = detect_sequence(seq, model)
    assert len(rep.probabilities) == 100


def test_real_md4fd_daily_activity_windows_raise_no_alert(model: FallModel) -> None:
    windows = read_md4fd(data_file("falls/md4fd/le2i_home_02.json.xz"))
    adl = [seq for seq, fall in windows if not fall]
    assert len(adl) > 20 and all(seq.num_frames == 90 for seq in adl)
    assert sum(bool(detect_sequence(seq, model).events) for seq in adl) == 0


# --- CLI --------------------------------------------------------------------------------------------------------

def test_cli_falls_writes_json_and_plot(tmp_path: Path, model: FallModel, capsys: pytest.CaptureFixture[str]) -> None:
    seq, _ = _clip(True, 22)
    npz = seq.save(tmp_path / "fall.npz")
    code = main(["falls", str(npz), "--json", str(tmp_path / "out" / "f.json"), "--plot", str(tmp_path / "f.png"),
                 "--mkdir"])  # out/ is made on request only (issue 26)
    assert code == 0
    rep = FallReport.model_validate_json((tmp_path / "out" / "f.json").read_text())
    assert rep.fall_detected and rep.frames == seq.num_frames
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert "1 fall" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["falls", "missing.mp4"], "no such file"),
    (["falls", "{npz}", "-o", "{tmp}/o.mp4"], "not a saved pose sequence"),
    (["falls", "{txt}"], "not a video"),
])
def test_cli_falls_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                         message: str) -> None:
    seq, _ = _clip(False, 1)
    npz = seq.save(tmp_path / "s.npz")
    (tmp_path / "notes.txt").write_text("hello")
    argv = [a.format(npz=npz, tmp=tmp_path, txt=tmp_path / "notes.txt") for a in args]
    assert main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert message in err.replace("\n", " ") and "Traceback" not in err
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.slow
def test_cli_falls_on_a_real_fall_video(tmp_path: Path) -> None:
    video = data_file("falls/gmdcsa24/Subject 1/Fall/13.mp4")
    assert main(["falls", str(video), "--json", str(tmp_path / "f.json"), "-o", str(tmp_path / "f.mp4")]) == 0
    rep = FallReport.model_validate_json((tmp_path / "f.json").read_text())
    assert rep.fall_detected and rep.events[0].alert_s - 0.4 <= 1.5  # labelled start 0.4 s (labels.csv)
    assert (tmp_path / "f.mp4").stat().st_size > 10_000


def _labelled_start(clip: str) -> float:
    with open(data_file("falls/gmdcsa24/labels.csv"), newline="") as f:
        return next(float(r["fall_start_s"]) for r in csv.DictReader(f) if r["path"] == clip)


@pytest.mark.slow
@pytest.mark.parametrize("clip", [
    pytest.param("Subject 1/Fall/14.mp4", marks=pytest.mark.xfail(strict=True, reason=(
        "missed by the model trained on real falls (issue 23: GMDCSA24 5/6 caught, never trained on; a backward "
        "fall whose ankles are out of the picture)"))),
    "Subject 2/Fall/12.mp4", "Subject 2/Fall/13.mp4"])
def test_real_falls_alert_within_1_5_s_of_the_labelled_start(model: FallModel, clip: str) -> None:
    start = _labelled_start(clip)  # Subject 2/Fall/13 stumbles (a dip and back up) before it falls
    rep = posecoach.detect_falls(data_file(f"falls/gmdcsa24/{clip}"), model=model)
    alerts = [e.alert_s for e in rep.events if e.alert_s >= start - 1.0]
    assert alerts and alerts[0] - start <= 1.5, (start, alerts)


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["misc_exercise_clips/rjsong/squat.mp4",  # deep front-view squats
                                  "misc_exercise_clips/rjsong/pushups-front2.mp4"])  # starts upside down
def test_real_exercise_clips_raise_no_fall_alert(model: FallModel, clip: str) -> None:
    rep = posecoach.detect_falls(data_file(clip), model=model)
    assert rep.events == [], [e.alert_s for e in rep.events]


def test_training_is_deterministic_and_the_train_command_saves_a_loadable_model(tmp_path: Path) -> None:
    from posecoach.analysis.falls.model import TrainConfig, train_model
    from posecoach.analysis.falls.train import main as train_main

    config = TrainConfig(clips=40, max_iter=15)
    a, b = train_model(config), train_model(config)
    X = sequence_features(_clip(True, 4)[0])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.training_frames == b.training_frames > 0
    train_main(["--synthetic-only", "--out", str(tmp_path / "m.zip"), "--clips", "30", "--max-iter", "10"])
    loaded = FallModel.load(tmp_path / "m.zip")  # the skops format (tests/integration/test_fall_model.py)
    assert loaded.config_.clips == 30 and loaded.predict_proba(X).shape == (len(X),)
    assert loaded.get_params()["max_iter"] == 10 and zipfile.is_zipfile(tmp_path / "m.zip")
    (tmp_path / "bad.zip").write_bytes(b"not a model")
    with pytest.raises(InputError, match="not a fall model"):
        FallModel.load(tmp_path / "bad.zip")
