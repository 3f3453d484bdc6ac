"""The whole-body rhythm (`analysis/periodicity.py`) and how it checks a count (`analysis/counting.py`)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from posecoach.analysis.counting import (
    Candidates,
    RhythmCheck,
    agree,
    body_rhythm,
    count_repetitions,
    hold_contradicted,
    reconcile,
)
from posecoach.analysis.periodicity import (
    WHOLE_BODY,
    Periodicity,
    body_embedding,
    estimate_period,
    whole_body_count,
)
from posecoach.analysis.recognition import Recognition
from posecoach.analysis.reps import Rep, RepResult
from posecoach.core.sequence import PoseSequence
from tests.conftest import data_file
from tests.synthetic import make_exercise

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import transforms

REPS = 5


def _squat(**kw: object) -> PoseSequence:
    return make_exercise("squat", reps=REPS, **kw)  # type: ignore[arg-type]


def test_embedding_ignores_per_frame_axis_scaling() -> None:
    """Box normalisation (and any zoom, shift or aspect ratio) is a per-frame affine map of x and y: the
    embedding is the same."""
    seq = _squat()
    lm = seq.subject_landmarks()
    scale = np.linspace(0.5, 2.0, len(lm))[:, None]
    warped = lm.copy()
    warped[..., 0] = lm[..., 0] * scale + 0.3
    warped[..., 1] = lm[..., 1] * 0.4 - 0.1
    a, b = body_embedding(lm), body_embedding(warped)
    assert np.allclose(a, b, atol=1e-4, equal_nan=True)


@pytest.mark.parametrize("name", ["identity_from_landmarks", "box", "coco17", "avg5", "drop", "fps15", "mirror"])
def test_synthetic_count_holds_under_every_transformation(name: str) -> None:
    seq = transforms.TRANSFORMS[name](_squat())
    body = body_rhythm(seq)
    assert body.count == REPS and body.rhythmic and body.confidence > 0.8, body


def _acf(peaks: dict[int, float], n: int = 124) -> np.ndarray:
    """An autocorrelation with these peaks (lag: height), each one sample wide, zero between them."""
    acf = np.zeros(n)
    for lag, height in peaks.items():
        acf[lag] = height
    return acf


def test_the_period_is_the_fundamental_when_the_highest_peak_is_its_harmonic() -> None:
    """5-frame averaging lowers a squat set's peak (lag 17) under 0.85 of its double's (35): still its period."""
    lag, strength = estimate_period(_acf({17: 0.49, 35: 0.60, 52: 0.39, 70: 0.2}), 29.0)
    assert round(lag) == 17 and strength == pytest.approx(0.49)
    # an earlier peak as low that is not a whole fraction of the highest one is not the period
    assert round(estimate_period(_acf({22: 0.49, 35: 0.60}), 29.0)[0]) == 35
    # nor is a fundamental much lower than its harmonic
    assert round(estimate_period(_acf({17: 0.40, 35: 0.60}), 29.0)[0]) == 35


def test_an_alternating_movement_counts_one_repetition_per_side() -> None:
    body = body_rhythm(make_exercise("lunge", reps=REPS))
    assert body.alternating and body.count == REPS


def test_a_symmetric_movement_is_not_alternating() -> None:
    body = body_rhythm(make_exercise("pull_up", reps=REPS))
    assert not body.alternating and body.count == REPS


def test_standing_still_is_not_measurable() -> None:
    seq = _squat()
    still = np.repeat(seq.subject_landmarks()[:1], seq.num_frames, axis=0)
    body = whole_body_count(still, seq.timestamps)
    assert body.count == 0 and body.confidence <= 0.3 and not body.rhythmic


def test_nobody_is_not_measurable() -> None:
    seq = PoseSequence.from_landmarks(np.zeros((60, 33, 4), dtype=np.float32), fps=30.0)
    res = count_repetitions(seq)
    assert res.count == 0 and res.confidence == 0.0 and "not measurable" in res.note


def _result(count: int, signal: str = "knee") -> RepResult:
    return RepResult(count=count, reps=[], signal=signal, exercise="squat", method="exercise")


def _cycle(i: int) -> Rep:
    return Rep(i + 1, 60 * i, 60 * i + 30, 60 * i + 60, 2.0 * i, 2.0 * i + 1, 2.0 * i + 2, 1.0, WHOLE_BODY)


def _rhythm(count: int, confidence: float = 0.9, period: float = 2.0, half: float = 0.0) -> Periodicity:
    cycles = tuple(_cycle(i) for i in range(count))
    return Periodicity(count, cycles, period, confidence, 1.0, confidence, half_similarity=half)


def test_reconcile_keeps_an_agreeing_count_and_overrides_a_wrong_guess() -> None:
    kept = reconcile(_result(4), _rhythm(3), given=False, confidence=0.7)
    assert kept.count == 4 and kept.method == "exercise" and kept.confidence == 0.9
    long = reconcile(_result(6), _rhythm(5), given=False, confidence=0.7)  # the exercise's conventions stand
    assert long.count == 6 and long.method == "exercise"
    check = RhythmCheck(rhythm_from=5)  # unless asked: a long set reports the rhythm's count
    long = reconcile(_result(6), _rhythm(5), given=False, confidence=0.7, check=check)
    assert long.count == 5 and long.method == "whole_body" and long.exercise == "squat"
    named = reconcile(_result(6), _rhythm(5), given=True)  # named: the exercise's conventions stand
    assert named.count == 6 and named.method == "exercise"
    wrong = reconcile(_result(97, "elbow_diff"), _rhythm(5), given=False, confidence=0.7)
    assert wrong.method == "whole_body" and wrong.rhythm == 5 and "disagrees" in wrong.note


def test_reconcile_keeps_a_named_exercise_but_marks_it_unsure() -> None:
    named = reconcile(_result(20), _rhythm(5), given=True)
    assert named.count == 20 and named.confidence < 0.5 and "suggests 5" in named.note


def test_reconcile_counts_per_side_on_an_alternating_signal_only() -> None:
    """Twice the rhythm on a left-right signal counts each side, where the body half a period later looks like
    itself again (two steps per cycle); not where it is anti-phase (a symmetric movement) or on a plain signal."""
    assert reconcile(_result(10, "knee_diff"), _rhythm(5, half=0.6), given=False).count == 10
    assert reconcile(_result(10, "knee_diff"), _rhythm(5, half=-0.5), given=False).method == "whole_body"
    assert reconcile(_result(10, "knee"), _rhythm(5, half=0.6), given=False).method == "whole_body"
    strict = RhythmCheck(per_side=False)
    assert reconcile(_result(10, "knee_diff"), _rhythm(5, half=0.6), given=False, check=strict).method == "whole_body"


def test_reconcile_rejects_one_signal_cycling_without_a_rhythm() -> None:
    none = Periodicity(1, (_cycle(0),), float("nan"), 0.0, 0.0, 0.3, "no rhythm")
    res = reconcile(_result(7, "elbow"), none, given=False, confidence=0.6)
    assert res.count == 1 and res.confidence < 0.5
    assert reconcile(_result(2, "hip"), none, given=False, confidence=0.6).count == 2  # within reach: kept


def test_a_recognised_hold_gives_way_to_a_clear_rhythm() -> None:
    """Jump rope smoothed over 5 frames looked like a wall sit (recognised at 0.21) and was reported as 0
    repetitions with confidence 1: a recognised hold that the whole body's clear rhythm contradicts is no hold;
    a still body (no rhythm) keeps the hold, as sure as its recognition; a named hold stays but is marked unsure."""
    wall_sit = Recognition("wall_sit", 0.21, {"wall_sit": 0.26})
    assert hold_contradicted(_rhythm(84, confidence=0.6), wall_sit)
    assert not hold_contradicted(_rhythm(84, confidence=0.3), wall_sit)  # too weak a rhythm to overrule
    assert not hold_contradicted(_rhythm(84, confidence=0.6), None)  # named: the caller knows
    still = Periodicity(0, (), float("nan"), 0.0, 0.0, 0.3, "no rhythm")
    plank = Candidates.held("plank", still, Recognition("plank", 0.8, {"plank": 0.9})).decide()
    assert (plank.count, plank.method, plank.confidence, plank.note) == (0, "hold", 0.8, "")
    unsure = Candidates.held("plank", still, Recognition("plank", 0.3, {"plank": 0.35})).decide()
    assert unsure.confidence == 0.3 and "low confidence" in unsure.note
    named = Candidates.held("plank", _rhythm(12), None).decide()
    assert named.count == 0 and named.confidence < 0.5 and "suggests 12" in named.note


def test_a_count_too_fast_for_the_frame_rate_is_reported_unsure() -> None:
    """Speed-rope steps (7 a second) filmed at 15 fps leave two frames per step: whatever count is chosen, it is
    reported unreliable and says why; the same rhythm at 30 fps keeps its confidence, and so does a cycle that
    does not repeat at half its period (one repetition per period)."""
    def fast(rate: float, half: float = 0.6) -> Periodicity:
        return dataclasses.replace(_rhythm(100, confidence=0.8, period=0.28, half=half), rate=rate)

    at15 = reconcile(_result(200, "knee_diff"), fast(15.0), given=False)
    assert at15.count == 200 and at15.confidence < 0.5 and "too fast for the frame rate" in at15.note
    assert "15 fps" in at15.note and fast(15.0).samples_per_rep(0.3) == pytest.approx(2.1)
    at30 = reconcile(_result(200, "knee_diff"), fast(30.0), given=False)
    assert at30.count == 200 and at30.confidence == 1.0 and at30.note == ""
    whole = reconcile(_result(100), fast(15.0, half=0.0), given=False)  # 4.2 frames a repetition
    assert whole.confidence >= 0.5
    assert reconcile(_result(4), _rhythm(3), given=False, confidence=0.7).confidence == 0.9  # no rate: unchanged
    # an alternating rhythm's period is already one step (half the body's cycle): 0.23 s at 15 fps = 3.45 frames
    steps = dataclasses.replace(fast(15.0), period_s=0.23, alternating=True)
    assert steps.samples_per_rep(0.3) == pytest.approx(3.45)
    assert reconcile(_result(100, "knee_diff"), steps, given=False).confidence >= 0.5


def test_agree() -> None:
    assert agree(5, 6) and agree(20, 24) and not agree(5, 8) and not agree(20, 26)


@pytest.fixture(scope="module")
def monkey_bars() -> PoseSequence:
    """A real QUVA clip: 4 swings along monkey bars (poses estimated here)."""
    from posecoach.pose.engine import estimate_poses

    return estimate_poses(data_file("reps/quva/videos/041_monkey_bars.mp4"))


@pytest.mark.parametrize("name", ["box", "coco17", "avg5", "drop", "fps15", "mirror"])
def test_real_clip_count_holds_under_transformations(monkey_bars: PoseSequence, name: str) -> None:
    base = body_rhythm(transforms.TRANSFORMS["identity_from_landmarks"](monkey_bars))
    assert base.count == 4
    moved = body_rhythm(transforms.TRANSFORMS[name](monkey_bars))
    assert abs(moved.count - base.count) <= 1, (name, moved)


@pytest.mark.video
def test_a_fast_squat_set_keeps_its_period_when_averaged() -> None:
    """QUVA 023_fitness: 7 fast squats (0.6 s each). A 5-frame average lowered the autocorrelation at the squat's
    period below 0.85 of the peak at twice it, and the rhythm counted 3; the harmonic rule keeps 7."""
    from posecoach.pose.engine import estimate_poses

    seq = estimate_poses(data_file("reps/quva/videos/023_fitness.mp4"))
    plain, smoothed = transforms.TRANSFORMS["identity_from_landmarks"](seq), transforms.TRANSFORMS["avg5"](seq)
    base, averaged = body_rhythm(plain), body_rhythm(smoothed)
    assert base.count == 7 and abs(averaged.count - base.count) <= 1, averaged
    # ... and the count reported holds: the rhythm no longer overrides the squat's count with half of it
    assert abs(count_repetitions(smoothed).count - count_repetitions(plain).count) <= 1
