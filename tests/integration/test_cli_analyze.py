"""`posecoach analyze`: saved pose sequences of a synthetic squatting figure, and one real clip end to end.

Runs the real entry point (`posecoach.cli.app.main`, which turns errors into one line) under typer's CliRunner.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
from typer.testing import CliRunner

from posecoach.cli.app import main
from posecoach.core.sequence import PoseSequence
from posecoach.io import VideoReader
from tests.conftest import data_file
from tests.synthetic import stick_squat_pose

FPS = 20.0
REPS = ((5, 20), (30, 45), (55, 70))  # start, end frame of each squat
T = 80


class Run(NamedTuple):
    code: int
    stdout: str
    stderr: str


def cli(*args: str | Path) -> Run:
    runner = CliRunner()
    with runner.isolation(env={"COLUMNS": "200", "POSECOACH_DEBUG": None}) as (out, err, _):
        code = main([str(a) for a in args])
        return Run(code, out.getvalue().decode(), err.getvalue().decode())


def assert_one_line_error(run: Run, *needles: str) -> None:
    assert run.code == 1, run
    assert "Traceback" not in run.stdout + run.stderr
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0], lines[0]


def _depth(t: int) -> float:
    for start, end in REPS:
        if start <= t <= end:
            return math.sin(math.pi * (t - start) / (end - start)) ** 2
    return 0.0


@pytest.fixture(scope="module")
def squats(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three squats saved as a pose sequence (.npz)."""
    arr = np.stack([stick_squat_pose(_depth(t)) for t in range(T)])
    seq = PoseSequence.from_landmarks(arr, fps=FPS, source={"width": 480, "height": 360})
    return seq.save(tmp_path_factory.mktemp("seq") / "squats.npz")


def test_one_sequence_gives_a_summary_a_json_report_and_a_plot(tmp_path: Path, squats: Path) -> None:
    report, plot = tmp_path / "out" / "report.json", tmp_path / "chart.png"
    run = cli("analyze", squats, "--json", report, "--plot", plot, "--mkdir")  # out/ is made on request
    assert run.code == 0, run
    data = json.loads(report.read_text())
    assert data["exercise"]["name"] == "squat" and data["exercise"]["given"] is False
    assert data["reps"]["count"] == 3 and len(data["reps"]["items"]) == 3
    for item, (start, end) in zip(data["reps"]["items"], REPS, strict=True):
        assert item["start_frame"] <= start + 5 and end - 3 <= item["end_frame"] <= end + 5
        assert isinstance(item["errors"], list)
    assert data["summary"][0] == "Squat: 3 repetitions (side view)."  # a flat side-view figure: seen in 2D
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Squat (recognised" in run.stdout and "3 repetitions" in run.stdout
    assert "│ 3   │" in run.stdout  # the third row of the reps table
    assert data["summary"][1] in run.stdout
    assert f"wrote {report}" in run.stdout and run.stderr == ""
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["chart.png", "out", "report.json"]  # no temporaries


def test_a_given_exercise_is_used_and_an_unknown_one_refused(tmp_path: Path, squats: Path) -> None:
    run = cli("analyze", squats, "-e", "Squats", "--json", tmp_path / "given.json")  # an alias
    assert run.code == 0, run
    data = json.loads((tmp_path / "given.json").read_text())
    assert data["exercise"]["given"] is True and data["exercise"]["name"] == "squat"
    bad = cli("analyze", squats, "--exercise", "handstand", "--json", tmp_path / "bad.json")
    assert_one_line_error(bad, "handstand", "squat", "push_up")
    assert not (tmp_path / "bad.json").exists()
    many = cli("analyze", squats, squats, "--exercise", "handstand", "--json-dir", tmp_path / "many")
    assert_one_line_error(many, "handstand")
    assert not (tmp_path / "many").exists()


def test_several_sequences_get_one_report_each(tmp_path: Path, squats: Path) -> None:
    other = tmp_path / "b" / "squats.npz"  # the same stem: its report gets a suffix
    other.parent.mkdir()
    other.write_bytes(squats.read_bytes())
    third = tmp_path / "third.npz"
    third.write_bytes(squats.read_bytes())
    out = tmp_path / "reports"
    run = cli("analyze", squats, other, third, "--json-dir", out, "-e", "squat", "--workers", "2")
    assert run.code == 0, run
    assert sorted(p.name for p in out.iterdir()) == ["squats-2.json", "squats.json", "third.json"]
    for name in ("squats.json", "squats-2.json", "third.json"):
        data = json.loads((out / name).read_text())
        assert data["reps"]["count"] == 3 and data["exercise"]["name"] == "squat"
    rows = [ln for ln in run.stdout.splitlines() if ".npz" in ln]
    assert len(rows) == 3 and all("squat" in r and "ok" in r for r in rows)
    assert "squats-2.json" in rows[1] and "third.json" in rows[2]


def test_a_failing_input_fails_its_row_only(tmp_path: Path, squats: Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_text("not a pose sequence")
    out = tmp_path / "reports"
    run = cli("analyze", tmp_path / "missing.npz", squats, junk, "--json-dir", out)
    assert_one_line_error(run, "2 of 3 inputs failed")
    assert sorted(p.name for p in out.iterdir()) == ["squats.json"]
    assert json.loads((out / "squats.json").read_text())["reps"]["count"] == 3
    rows = {ln.split("│")[1].strip(): ln for ln in run.stdout.splitlines() if ".npz" in ln}
    assert "failed" in rows["missing.npz"] and "no such file" in rows["missing.npz"]
    assert "not a saved pose sequence" in rows["junk.npz"] and "ok" in rows["squats.npz"]


def test_usage_errors_are_one_line_and_write_nothing(tmp_path: Path, squats: Path) -> None:
    overlay = tmp_path / "overlay.mp4"
    assert_one_line_error(cli("analyze", squats, "-o", overlay, "--json", tmp_path / "r.json"),
                          "squats.npz", "no video")
    assert_one_line_error(cli("analyze", tmp_path / "nope.mp4", "--json", tmp_path / "r.json"), "nope.mp4")
    assert_one_line_error(cli("analyze", squats, squats, "--json", tmp_path / "r.json", "--json-dir", tmp_path),
                          "--json", "--json-dir")
    assert_one_line_error(cli("analyze", squats, squats, "-o", overlay, "--plot", tmp_path / "p.png"),
                          "-o, --plot")
    assert_one_line_error(cli("analyze", squats, squats), "--json-dir")
    assert_one_line_error(cli("analyze", squats, "--model", "huge"), "huge")
    before = squats.read_bytes()
    assert_one_line_error(cli("analyze", squats, "--json", squats), "is the input")
    assert squats.read_bytes() == before
    assert list(tmp_path.iterdir()) == []
    usage = cli("analyze", squats, "--workers", "0")
    assert usage.code == 2 and "Traceback" not in usage.stderr


@pytest.mark.video
def test_a_real_clip_end_to_end(tmp_path: Path) -> None:
    clip = data_file("form/kaiakol/data/squat/correct/squat_correct_008.mp4")  # the shortest: 27 frames
    report, overlay = tmp_path / "r.json", tmp_path / "o.mp4"
    run = cli("analyze", clip, "--json", report, "-o", overlay, "-m", "lite")
    assert run.code == 0, run
    data = json.loads(report.read_text())
    assert data["reps"]["count"] >= 1 and data["input"]["frames"] == 27
    assert data["input"]["path"] == str(clip) and data["model"]["name"] == "lite"
    with VideoReader(overlay) as reader:
        assert len(reader) == 27
    assert "repetition" in run.stdout and f"wrote {overlay}" in run.stdout
