"""analyze(), the report schema, form rules and recognition on real clips and small synthetic cases."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import posecoach
import posecoach.errors
from posecoach.analysis.exercises import get_exercise
from posecoach.analysis.form import judge_rule, window_frames
from posecoach.analysis.reps import Rep
from posecoach.features.view import classify_view
from posecoach.reports.analysis_report import AnalysisReport, json_schema
from tests.conftest import data_file

ROOT = Path(__file__).resolve().parents[2]


def test_schema_file_matches_the_model() -> None:
    on_disk = json.loads((ROOT / "schemas" / "analysis_report.schema.json").read_text())
    assert on_disk == json_schema(), "regenerate with: python -m posecoach.reports.analysis_report"


def test_views() -> None:
    assert [classify_view(a) for a in (5, 45, 85, float("nan"))] == ["front", "diagonal", "side", "unknown"]


def _rep(start: int, turn: int, end: int, rom: float = 80.0) -> Rep:
    return Rep(1, start, turn, end, start / 30, turn / 30, end / 30, rom, "knee")


def test_rule_is_not_measurable_from_the_wrong_view_and_reports_frames() -> None:
    depth = next(r for r in get_exercise("squat").rules if r.id == "depth")
    t = np.arange(60)
    knee = 170 - 80 * np.sin(np.pi * t / 59)
    hip_below = np.full(60, -0.6)  # hips stay well above the knees: too shallow
    signals = {"knee": knee, "hip_below_knee": hip_below}
    rep = _rep(0, 30, 59)
    first, last = window_frames(rep, depth.window, knee)
    assert first < 30 < last and (first, last) != (0, 59)
    side = judge_rule(depth, signals, first, last, "side")
    assert side.status == "broken" and side.frames == ((first, last),)
    front = judge_rule(depth, signals, first, last, "front")
    assert front.status == "not_measurable" and "front view" in (front.reason or "")
    deep = judge_rule(depth, {**signals, "hip_below_knee": np.full(60, 0.1)}, first, last, "side")
    assert deep.status == "ok"


def test_analyze_unknown_exercise_is_a_clear_error() -> None:
    seq = posecoach.PoseSequence.from_landmarks(np.zeros((10, 33, 4)), fps=30)
    with pytest.raises(posecoach.errors.InputError, match="unknown exercise"):
        posecoach.analyze(seq, "underwater basket weaving")


def test_analyze_nobody_found() -> None:
    seq = posecoach.PoseSequence.from_landmarks(np.zeros((30, 33, 4)), fps=30)
    report = posecoach.analyze(seq)
    assert report.reps.count == 0
    assert report.input.detection_rate == 0
    assert "Nobody" in report.summary[0]


@pytest.mark.video
def test_analyze_real_squat_clip_end_to_end() -> None:
    clip = data_file("misc_exercise_clips/wissem/squat.mp4")
    report = posecoach.analyze(clip, model="lite")
    assert isinstance(report, AnalysisReport)
    data = json.loads(report.to_json())
    assert data["exercise"]["name"] == "squat"
    assert data["reps"]["count"] >= 3
    items = data["reps"]["items"]
    assert all(i["start_frame"] < i["turn_frame"] < i["end_frame"] for i in items)
    assert all(a["end_frame"] <= b["start_frame"] for a, b in itertools.pairwise(items))
    assert data["model"]["sha256"] and data["input"]["frames"] > 0
    # Rules the view cannot judge are reported as such, not guessed.
    statuses = {r["id"]: r["status"] for r in data["rules"]}
    assert set(statuses) == {r.id for r in get_exercise("squat").rules}


@pytest.mark.video
def test_a_clip_that_opens_at_the_bottom_of_a_squat() -> None:
    from posecoach.analysis.counting import count_repetitions
    from posecoach.analysis.reps import CounterSettings
    from posecoach.pose.engine import PoseEngine

    with PoseEngine("full") as engine:  # WorkoutTracker squat_7: 2.3 s, opens squatting, stands up (labelled 1 rep)
        seq = engine.process(data_file("reps/workouttracker/videos/squats/squat_7.mp4"))
    # The 'return' convention (default settings) counts only repetitions seen leaving rest: this one began before.
    assert count_repetitions(seq, "squat", settings=CounterSettings()).count == 0
    res = count_repetitions(seq, "squat")  # the squat's own convention (cut_reps = "turn"): its bottom is in view
    assert res.count == 1
    rep = res.reps[0]
    assert rep.turn_s < 1.5 < rep.end_s  # the turn is while squatting at the start, the end after standing up
    assert rep.rom > 50  # degrees of knee (or hip) from the bottom to standing
