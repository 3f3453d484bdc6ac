"""Issue 26, "every number means one thing everywhere": the overlay, chart, table, JSON and web series show the same
value for the same frame (one function: `posecoach.features.display`); ranges in degrees or estimated centimetres,
never torso lengths; phases named and directed by the exercise's data; the plank overlay's hold timer; the fall
overlay's probability never "-0.00"."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest

from posecoach.analysis.exercises import catalogue
from posecoach.analysis.pipeline import analyze_sequence
from posecoach.core.sequence import PoseSequence
from posecoach.features.signals import sequence_signals
from posecoach.pose.engine import load_sequence
from posecoach.render import overlay_video
from posecoach.render.analysis_overlay import AnalysisDecorator
from posecoach.render.analysis_plot import shown_series
from posecoach.render.analysis_series import analysis_series
from posecoach.render.fall_overlay import FallDecorator
from posecoach.render.overlay import OverlayRenderer
from posecoach.reports.analysis_report import AnalysisReport
from posecoach.reports.tables import reps_csv
from tests.conftest import data_file

CURLS = "misc_exercise_clips/wissem/bicep_curls.mp4"
PLANK = "form/kaiakol/data/plank/correct/plank_correct_001.mp4"


@pytest.fixture(scope="module")
def curls() -> tuple[Path, PoseSequence]:
    path = data_file(CURLS)
    return path, load_sequence(path, model="lite", workers=1)


@pytest.mark.video
def test_the_overlay_draws_the_angles_the_chart_and_table_show(curls: tuple[Path, PoseSequence],
                                                              monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Before: the overlay measured 2D image angles (27 degrees at the top of a curl) while the chart and the
    table used the 3D signals (about 75): now every frame's labels are the signals' values."""
    path, seq = curls
    drawn: dict[int, dict[str, float]] = {}
    real_draw = OverlayRenderer.draw

    def spy(self: OverlayRenderer, image: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        drawn[len(drawn)] = dict(kwargs.get("angles") or {})  # type: ignore[call-overload]
        return real_draw(self, image, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(OverlayRenderer, "draw", spy)
    part = seq.frames(0, 40)
    seg = overlay_video.plan_segments(40, 1, overlap=0, min_frames=1000)[0]
    overlay_video.render_segment(str(path), part, seg, str(tmp_path / "part.mp4"), True)
    signals = sequence_signals(seq)
    assert len(drawn) == 40
    for i, labels in drawn.items():
        assert labels, i
        assert labels["left_elbow"] == pytest.approx(float(signals["elbow_left"][i]))
        assert labels["right_elbow"] == pytest.approx(float(signals["elbow_right"][i]))
        assert labels["trunk_lean"] == pytest.approx(float(signals["trunk_incline"][i]))
    # the same frame through the chart's path (the web page's series and the PNG draw `shown_series`)
    report = analyze_sequence(seq)
    series = json.loads(analysis_series(report, signals, seq.timestamps))
    for s in series["series"]:
        if s["unit"] == "deg":
            values = np.asarray([np.nan if v is None else v for v in s["values"]])
            np.testing.assert_allclose(values, np.round(signals[s["name"]], 3), atol=1e-3)


def test_the_renderer_draws_the_values_it_is_given() -> None:
    people = np.full((1, 33, 5), np.nan, np.float32)
    for k, (x, y) in enumerate(np.linspace([0.3, 0.2], [0.7, 0.9], 33)):
        people[0, k] = (x, y, 0.0, 0.99, 0.99)
    image = np.zeros((360, 480, 3), np.uint8)

    def draw(**kw: object) -> np.ndarray:
        return OverlayRenderer().draw(image.copy(), people, [0], 0, **kw)  # type: ignore[arg-type]

    given = draw(angles={"left_elbow": 75.0})
    assert np.array_equal(given, OverlayRenderer(angles_fn=lambda *a, **k: {"left_elbow": 75.0}).draw(
        image.copy(), people, [0], 0))
    assert not np.array_equal(given, draw(angles={"left_elbow": 27.0}))


@pytest.mark.video
def test_ranges_are_degrees_or_estimated_centimetres_and_match_the_chart(curls: tuple[Path, PoseSequence]) -> None:
    """Before: a range of "0.69 torso" and a chart of negative "torso lengths"."""
    _, seq = curls
    report = analyze_sequence(seq, "bicep_curl")
    signals = sequence_signals(seq)
    assert report.reps.count >= 3
    assert report.input.torso_measured and 0.3 < (report.input.torso_m or 0) < 0.8
    sig = report.reps.signal
    assert sig is not None
    shown = shown_series(report, sig, signals[sig])
    for r in report.reps.items:
        assert r.rom_unit in ("deg", "cm") and r.rom_signal == sig
        assert r.rom_estimated == (r.rom_unit == "cm")
        seg = shown[r.start_frame:r.end_frame + 1]
        assert r.rom == pytest.approx(float(np.nanmax(seg) - np.nanmin(seg)), abs=2e-3)  # table == chart
    assert report.reps.items[0].rom_unit == "cm" and 10 < report.reps.items[0].rom < 120  # wrists rise tens of cm
    series = json.loads(analysis_series(report, signals, seq.timestamps))
    units = {s["unit"] for s in series["series"]}
    assert "torso" not in units and units <= {"deg", "cm"}
    for s in series["series"]:
        if s["unit"] == "cm":
            assert min(v for v in s["values"] if v is not None) >= 0  # no negative lengths on a chart
    assert "torso" not in reps_csv(report)


def test_phases_come_from_the_exercises_data() -> None:
    for ex in catalogue().values():
        text = (Path(__file__).parents[2] / "src/posecoach/analysis/exercises/catalogue" / f"{ex.name}.toml")
        assert "away_direction" in tomllib.loads(text.read_text())["phases"], ex.name  # stated, not guessed
    expect = {"bicep_curl": "lifting", "pull_up": "lifting", "glute_bridge": "lifting", "squat": "lowering",
              "push_up": "lowering"}
    for name, away in expect.items():
        assert catalogue()[name].phases.away_direction == away, name


@pytest.mark.video
def test_a_curls_lifting_phase_is_not_called_eccentric(curls: tuple[Path, PoseSequence]) -> None:
    """Before: `eccentric_s` was start-to-turn, the lifting part of a curl, pull-up or bridge."""
    _, seq = curls
    report = analyze_sequence(seq, "bicep_curl")
    for r in report.reps.items:
        (up, down) = r.phases
        assert (up.name, up.direction, down.name, down.direction) == ("curling up", "lifting", "lowering", "lowering")
        assert r.lifting_s == pytest.approx(r.turn_s - r.start_s, abs=2e-3)
        assert r.lowering_s == pytest.approx(r.end_s - r.turn_s, abs=2e-3)
        assert r.eccentric_s == r.lowering_s and r.concentric_s == r.lifting_s  # deprecated, now right
    header, first = reps_csv(report).splitlines()[:2]
    row = dict(zip(header.split(","), first.split(","), strict=True))
    assert row["phases"] == "curling up (lifting);lowering (lowering)"


@pytest.mark.video
def test_the_plank_overlay_shows_a_hold_timer() -> None:
    seq = load_sequence(data_file(PLANK), model="lite", workers=1)
    report = analyze_sequence(seq, "plank")
    hold = report.hold
    assert hold is not None and hold.start_frame is not None and hold.end_frame is not None and hold.seconds > 1
    deco = AnalysisDecorator(report, seq.skeleton)
    assert deco.held_at(hold.start_frame) == 0.0
    assert deco.held_at(hold.end_frame) == pytest.approx(hold.seconds, abs=0.05)
    mid = (hold.start_frame + hold.end_frame) // 2
    assert 0 < deco.held_at(mid) < hold.seconds  # type: ignore[operator]
    image = np.zeros((720, 1280, 3), np.uint8)
    a = deco(image.copy(), hold.start_frame, OverlayRenderer())
    b = deco(image.copy(), hold.end_frame, OverlayRenderer())
    assert not np.array_equal(a, b)  # the timer's text changes as the hold goes on


def test_the_fall_overlay_never_shows_a_negative_probability() -> None:
    def deco(p: float) -> FallDecorator:
        d = FallDecorator.__new__(FallDecorator)
        d.smoothed, d.times, d.alerts = [p], [0.0], []
        return d

    image = np.zeros((240, 320, 3), np.uint8)
    zero = deco(0.0)(image.copy(), 0, OverlayRenderer())
    assert np.array_equal(deco(-0.0001)(image.copy(), 0, OverlayRenderer()), zero)  # before: "fall p=-0.00"
    assert np.array_equal(deco(-0.0)(image.copy(), 0, OverlayRenderer()), zero)
    assert np.array_equal(deco(1.3)(image.copy(), 0, OverlayRenderer()), deco(1.0)(image.copy(), 0,
                                                                                  OverlayRenderer()))


def test_report_schema_adds_and_keeps_fields() -> None:
    props = AnalysisReport.model_json_schema()["$defs"]["RepItem"]["properties"]
    for kept in ("eccentric_s", "concentric_s", "rom", "rom_unit", "start_frame", "end_frame", "errors"):
        assert kept in props
    assert "deprecated" in props["eccentric_s"]["description"]
    assert AnalysisReport.model_fields["schema_version"].default == "1.1"
