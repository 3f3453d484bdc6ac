"""Issue 26, CLI rows: --version, help that fits 100 columns without cut words, distinct batch row names, no silent
creation of missing output folders (--mkdir asks for it), a blank video said as such."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posecoach import __version__
from posecoach.cli.analyze import row_names
from posecoach.core.sequence import PoseSequence
from posecoach.io import VideoWriter
from tests.integration.test_cli_analyze import _depth, assert_one_line_error, cli
from tests.synthetic import stick_squat_pose

FPS, T = 20.0, 80


def posecoach(*args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    """The installed command as a user runs it (piped: not a terminal)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "POSECOACH_DEBUG", "TERMINAL_WIDTH")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run([sys.executable, "-m", "posecoach", *args], capture_output=True, text=True, timeout=120,
                          env=env, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def squats(tmp_path_factory: pytest.TempPathFactory) -> Path:
    arr = np.stack([stick_squat_pose(_depth(t)) for t in range(T)])
    seq = PoseSequence.from_landmarks(arr, fps=FPS, source={"width": 480, "height": 360})
    return seq.save(tmp_path_factory.mktemp("seq") / "squats.npz")


def test_version_prints_the_package_version() -> None:
    proc = posecoach("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"posecoach {__version__}"


def _commands() -> list[list[str]]:
    """Every command and sub-command, read from the root help (and each group's help)."""
    from posecoach.cli.app import _register, app

    _register()
    import typer.main

    root = typer.main.get_command(app)
    out: list[list[str]] = [[]]
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        out.append([name])
        out.extend([name, sub] for sub in getattr(cmd, "commands", {}))
    return out


@pytest.mark.parametrize("columns", [None, 100])
def test_every_help_fits_100_columns_without_cut_words(columns: int | None) -> None:
    """Piped (rich would use 80 columns and cut "left_knee,right_kn...") and in a 100-column terminal."""
    commands = _commands()
    assert ["reference", "add"] in commands and ["analyze"] in commands
    for command in commands:
        proc = posecoach(*command, "--help", columns=columns)
        assert proc.returncode == 0, (command, proc.stderr)
        for line in proc.stdout.splitlines():
            assert len(line) <= 100, (command, line)
            assert "…" not in line, (command, line)  # rich's cut
            assert not re.search(r"\s\.\.\.\w", line), (command, line)  # a help text that reads as cut off
    add = posecoach("reference", "add", "--help", columns=columns).stdout
    assert "left_knee, right_knee" in " ".join(add.split())


def test_batch_rows_have_distinct_names_in_a_narrow_terminal(tmp_path: Path, squats: Path) -> None:
    long = "squat_session_recorded_on_the_gym_floor_camera_"
    inputs = []
    for folder in ("monday", "tuesday"):
        (tmp_path / folder).mkdir()
        for k in (1, 2):
            target = tmp_path / folder / f"{long}{k}.npz"
            target.write_bytes(squats.read_bytes())
            inputs.append(target)
    names = row_names(inputs)
    assert names == [f"monday/{long}1.npz", f"monday/{long}2.npz", f"tuesday/{long}1.npz", f"tuesday/{long}2.npz"]
    assert row_names([Path("x/a.npz"), Path("x/a.npz")]) == ["x/a.npz", "x/a.npz #2"]  # given twice
    proc = posecoach("analyze", *map(str, inputs), "--json-dir", str(tmp_path / "reports"), columns=70)
    assert proc.returncode == 0, proc.stderr
    assert "…" not in proc.stdout  # before: every row read "squat_session_recor…"
    rows = [line for line in proc.stdout.splitlines() if line.startswith("│")]
    text = "".join(r.split("│")[1].strip() for r in rows)  # the input column, folded lines joined
    for name in names:
        assert name in text, (name, text)


def test_missing_output_folder_is_an_error_unless_mkdir(tmp_path: Path, squats: Path) -> None:
    target = tmp_path / "missing" / "dir" / "x.json"
    run = cli("analyze", squats, "--json", target)
    assert_one_line_error(run, "missing/dir does not exist", "--mkdir")
    assert not (tmp_path / "missing").exists()
    run = cli("analyze", squats, "--json", target, "--mkdir")
    assert run.code == 0, run
    assert json.loads(target.read_text())["reps"]["count"] == 3
    for args in (("falls", squats, "--json", tmp_path / "nope" / "f.json"),
                 ("analyze", squats, squats, "--json-dir", tmp_path / "nope" / "deeper")):
        assert_one_line_error(cli(*args), "does not exist", "--mkdir")
    assert not (tmp_path / "nope").exists()
    assert cli("analyze", squats, squats, "--json-dir", tmp_path / "reports").code == 0  # the named folder itself
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["squats-2.json", "squats.json"]


def test_a_blank_video_says_nobody_is_in_it(tmp_path: Path) -> None:
    path = tmp_path / "wall.mp4"
    with VideoWriter(path, 25.0) as writer:
        for _ in range(10):
            writer.write(np.full((240, 320, 3), 200, np.uint8))
    proc = posecoach("analyze", str(path), "-m", "lite", "--json", str(tmp_path / "wall.json"))
    assert proc.returncode == 0, proc.stderr
    assert "nobody in the video: not measurable" in proc.stdout
    assert "confidence 100%" not in proc.stdout and "recognised" not in proc.stdout
    report = json.loads((tmp_path / "wall.json").read_text())
    assert report["exercise"]["confidence"] == 0.0
    assert [w["code"] for w in report["warnings"]] == ["no_person"]


def test_an_error_naming_a_file_with_brackets_shows_the_name_whole(tmp_path: Path) -> None:
    """The error line is text, not rich markup: ``[1]`` in a file name is not swallowed as a style tag."""
    missing = tmp_path / "session[1] [bold].mp4"
    run = posecoach("analyze", str(missing))
    assert run.returncode != 0 and "Traceback" not in run.stderr
    assert "session[1] [bold].mp4" in run.stderr, run.stderr
