"""The calibrated overall score: its scale (100 = the guide's own movement, 80 = a typical correct execution by
someone else), person invariance (body size, start posture), the fitted weights, and real correct against
incorrect rehab repetitions by another person."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from posecoach.analysis.compare import compare_sequences
from posecoach.analysis.compare.calibration import (
    CALIBRATION_FILE,
    FEATURES,
    TYPICAL_SCORE,
    Calibration,
    fit_calibration,
    load_calibration,
    score_meaning,
    shape_deviation,
)
from posecoach.core.sequence import PoseSequence
from posecoach.io.landmark_files import read_ui_prmd
from tests.conftest import data_file
from tests.synthetic import make_exercise


def test_score_scale_means_what_it_says() -> None:
    cal = Calibration(np.r_[1.0, np.zeros(len(FEATURES) - 1)], z_typical=2.0, shape_tolerance_deg=10.0,
                      shape_weight=0.5, shape_base_weight=0.0)
    x = np.zeros(len(FEATURES))
    assert cal.score(x) == 100.0 and cal.score(x, shape_deg=9.9) == 100.0  # within the shape tolerance
    assert replace(cal, shape_base_weight=0.01).score(x, shape_deg=9.9) < 100.0  # but never quite the guide
    assert cal.score(replace_first(x, 2.0)) == pytest.approx(TYPICAL_SCORE)  # as far as a typical correct one
    assert cal.score(replace_first(x, 4.0)) == pytest.approx(64.0)  # twice as far
    assert cal.score(x, shape_deg=14.0) == pytest.approx(TYPICAL_SCORE)  # 4 degrees beyond the tolerance x 0.5
    assert cal.score(replace_first(x, np.nan)) == 100.0  # unmeasured counts nothing
    assert score_meaning(85).startswith("as the guide") and score_meaning(30) == "unlike the guide"
    assert shape_deviation(100.0) == 0.0 and shape_deviation(100 * np.exp(-1)) == pytest.approx(30.0)


def replace_first(x: np.ndarray, value: float) -> np.ndarray:
    out = x.copy()
    out[0] = value
    return out


def test_fit_finds_the_separating_deviation_with_non_negative_weights() -> None:
    rng = np.random.default_rng(0)
    n = 400
    correct = np.arange(n) < n // 2
    # 140 columns of noise (the fit takes any number; as many as FEATURES had when this was written: with each
    # added noise column the one informative column weighs a little less against them)
    x = rng.uniform(0, 1, (n, 140))
    x[:, 3] += np.where(correct, 0.0, 1.0)  # only feature 3 tells incorrect from correct
    x[:, 5] -= np.where(correct, 0.0, 0.5)  # feature 5 is smaller when incorrect: it must not be rewarded
    cal = fit_calibration(x, correct, shape_deg=np.where(correct, 5.0, 30.0))
    assert np.all(cal.weights >= 0) and int(np.argmax(cal.weights)) == 3 and cal.weights[5] == 0
    assert 5.0 <= cal.shape_tolerance_deg <= 5.0 + 1e-9
    scores = np.array([cal.score(x[k]) for k in range(n)])
    assert np.median(scores[correct]) == pytest.approx(TYPICAL_SCORE, abs=1.0)
    pairs = scores[correct][:, None] > scores[~correct][None, :]
    assert pairs.mean() > 0.95 and np.median(scores[~correct]) < TYPICAL_SCORE - 8  # AUC, and clearly lower


def test_shipped_calibration_file() -> None:
    data = json.loads(CALIBRATION_FILE.read_text())
    assert set(data["weights"]) <= set(FEATURES) and all(v > 0 for v in data["weights"].values())
    cal = load_calibration()
    assert cal.z_typical > 0 and 5 < cal.shape_tolerance_deg < 60 and "UI-PRMD" in data["info"]["data"]


def _scaled(seq: PoseSequence, factor: float) -> PoseSequence:
    """The same movement by a person ``factor`` times as tall (world landmarks about the hips)."""
    return replace(seq, world=seq.world * factor, raw_world=None, raw_landmarks=None)


def test_a_taller_person_doing_the_same_movement_scores_100() -> None:
    guide = make_exercise("squat", reps=1, period_s=2.0, view="side", seed=1)
    assert compare_sequences(guide, _scaled(guide, 1.25), reps=False).score == 100.0


# ----------------------------------------------------------------------------------------------- real data
def _ui_prmd(movement: str, subject: int, correct: bool) -> PoseSequence:
    folder = "Segmented Movements" if correct else "Incorrect Segmented Movements"
    name = f"{movement}_s{subject:02d}_e01_positions{'' if correct else '_inc'}.txt.gz"
    root = f"form/ui_prmd_kinect/{folder}/Kinect"
    return read_ui_prmd(data_file(f"{root}/Positions/{name}"),
                        data_file(f"{root}/Angles/{name.replace('_positions', '_angles')}"))


@pytest.mark.video
@pytest.mark.parametrize("movement", ["m01", "m07", "m10"])
def test_another_persons_correct_repetition_beats_their_incorrect_one(movement: str) -> None:
    guide = _ui_prmd(movement, 1, True)
    for subject in (2, 3):
        good = compare_sequences(guide, _ui_prmd(movement, subject, True)).score
        bad = compare_sequences(guide, _ui_prmd(movement, subject, False)).score
        assert good is not None and bad is not None
        assert good > bad + 5 and good >= 65, (subject, good, bad)


@pytest.mark.video
def test_a_similar_but_different_movement_never_scores_100() -> None:
    abduction, scaption = (read_ui_prmd(data_file(f"rehab/ui_prmd/data/{m}_s01_e01_positions.txt"))
                           for m in ("m07", "m10"))
    score = compare_sequences(abduction, scaption).score
    assert score is not None and score < 99.5


def test_joints_that_matter_weigh_most() -> None:
    """A squat guide that names the knees and hips: arms held differently cost less than when it names none,
    while a restricted knee costs at least as much."""
    from posecoach.analysis.compare import Guide
    from posecoach.analysis.compare.calibration import KINDS, kind_factors
    from posecoach.analysis.compare.degrade import restricted

    legs = ["left_knee", "right_knee", "left_hip", "right_hip"]
    factors = dict(zip(KINDS, kind_factors(legs), strict=True))
    assert factors["knee"] == factors["ankle_y"] == factors["trunk_lean"] == 1.0 and factors["wrist_x"] < 1.0
    assert np.all(kind_factors([]) == 1.0)
    guide = make_exercise("squat", reps=1, period_s=2.0, view="side", seed=1)
    arms = restricted(restricted(guide, "left_elbow", 40), "right_shoulder", 40)
    knee = restricted(guide, "left_knee", 30)
    named = Guide(name="squat", joints=legs)
    plain_arms, named_arms = (compare_sequences(guide, arms, reps=False, guide=g).score for g in (None, named))
    plain_knee, named_knee = (compare_sequences(guide, knee, reps=False, guide=g).score for g in (None, named))
    assert plain_arms is not None and named_arms is not None and named_arms > plain_arms
    assert plain_knee is not None and named_knee is not None and named_knee <= plain_knee + 0.5


@pytest.mark.video
def test_ui_prmd_reader_finds_the_angles_in_the_release_layout() -> None:
    """The release keeps Positions/ and Angles/ side by side: the positions path alone is enough."""
    root = "form/ui_prmd_kinect/Incorrect Segmented Movements/Kinect"
    name = "m01_s01_e01_positions_inc.txt.gz"
    alone = read_ui_prmd(data_file(f"{root}/Positions/{name}"))
    given = read_ui_prmd(data_file(f"{root}/Positions/{name}"),
                         data_file(f"{root}/Angles/{name.replace('_positions', '_angles')}"))
    assert alone.num_frames == given.num_frames > 0
    assert np.allclose(np.nan_to_num(alone.world), np.nan_to_num(given.world))


def test_the_guides_most_moving_point_has_its_own_deviations() -> None:
    """`main_point` is the point coordinate that moves most in the guide (among the kinds related to the joints
    that matter, when named); an attempt that moves it less has a deficit there, and the guide itself none."""
    from posecoach.analysis.compare.calibration import CHANNELS, deviation_features, main_point

    rng = np.random.default_rng(3)
    t = np.linspace(0, np.pi, 60)
    ref = rng.normal(0, 0.5, (60, len(CHANNELS)))
    wrist, knee = CHANNELS.index("right_wrist_z"), CHANNELS.index("left_knee_y")
    ref[:, wrist] += 60 * np.sin(t)  # the wrist goes forward most
    ref[:, knee] += 30 * np.sin(t)
    ranges = np.percentile(ref, 95, axis=0) - np.percentile(ref, 5, axis=0)
    assert main_point(ranges) == wrist and main_point(ranges, ["left_knee"]) == knee
    idx = np.arange(60)
    names = [f"{d}/main_point" for d in ("excess", "deficit", "excursion", "overshoot", "undershoot")]
    cols = [FEATURES.index(n) for n in names]
    assert np.all(deviation_features(ref, ref, idx, idx)[cols] == 0.0)
    half = ref.copy()
    half[:, wrist] = ref[:, wrist] / 2  # the same movement, the wrist going half as far
    dev = dict(zip(names, deviation_features(ref, half, idx, idx)[cols], strict=True))
    assert dev["deficit/main_point"] > 0.4 and dev["undershoot/main_point"] > 0.4 and dev["excess/main_point"] == 0


def test_arm_channels_in_the_trunks_frame_follow_the_arm_not_the_trunk() -> None:
    """The wrists and elbows are also followed relative to the trunk (its frame in every frame): a whole upper
    body that leans with the arm fixed to it leaves them still, while the body-frame points move; words name it."""
    from posecoach.analysis.compare.calibration import CHANNELS, channel_matrix
    from posecoach.analysis.compare.features import sequence_features
    from posecoach.analysis.compare.feedback import range_words
    from posecoach.core.skeleton import BLAZEPOSE_33

    guide = make_exercise("squat", reps=1, period_s=2.0, view="side", seed=1)
    world = np.array(guide.world, dtype=np.float64)
    hips = world[:, 0, [BLAZEPOSE_33.index("left_hip"), BLAZEPOSE_33.index("right_hip")]].mean(axis=1)
    lean = np.radians(np.linspace(0, 40, len(world)))  # the upper body tips forward about the hips, arms fixed
    c, s = np.cos(lean)[:, None], np.sin(lean)[:, None]
    upper = [k for k, n in enumerate(BLAZEPOSE_33.names)
             if not any(part in n for part in ("hip", "knee", "ankle", "heel", "foot"))]
    rel = world[:, 0, upper] - hips[:, None]
    y, z = rel[..., 1], rel[..., 2]
    world[:, 0, upper, 1] = hips[:, None, 1] + c * y - s * z
    world[:, 0, upper, 2] = hips[:, None, 2] + s * y + c * z
    leaning = replace(guide, world=world.astype(np.float32), raw_world=None, raw_landmarks=None)
    base, leant = (channel_matrix(sequence_features(q)) for q in (guide, leaning))
    trunk = [k for k, n in enumerate(CHANNELS) if n.endswith(("_trunk_x", "_trunk_y", "_trunk_z"))]
    body = [CHANNELS.index(f"{side}_wrist_{a}") for side in ("left", "right") for a in "yz"]
    assert len(trunk) == 12 and np.allclose(base[:, trunk], leant[:, trunk], atol=1e-3)
    assert np.abs(base[:, body] - leant[:, body]).max() > 10  # per cent of the torso
    assert range_words("left_wrist_trunk_y", 30, 12) == ("the left wrist moves 12 % of the torso length up and "
                                                         "down relative to the trunk against the guide's 30 %")
