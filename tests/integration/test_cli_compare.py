"""`posecoach compare` and `posecoach reference add | list | show | remove` on saved synthetic sequences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from posecoach.analysis.compare import degrade
from posecoach.io import VideoReader
from posecoach.references import ReferenceLibrary, default_root
from tests.integration.test_cli_analyze import assert_one_line_error, cli
from tests.synthetic import make_exercise


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("compare")
    guide = make_exercise("squat", reps=1, period_s=2.0, view="side", seed=1)
    attempt = degrade.restricted(make_exercise("squat", reps=2, period_s=2.5, view="front", seed=2), "left_knee", 30)
    out = {"guide": guide.save(d / "guide.npz"), "attempt": attempt.save(d / "attempt.npz"), "dir": d}
    (d / "broken.npz").write_text("not a zip")
    return out


def test_library_add_list_show_remove(files: dict[str, Path], tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    run = cli("reference", "add", "squat1", files["guide"], "--library", lib, "--description", "one slow squat",
              "--joints", "left_knee,right_knee", "--reps", "1", "--hold", "1.5")
    assert run.code == 0, run
    assert sorted(p.name for p in lib.iterdir()) == ["squat1.json", "squat1.npz"]
    assert "squat1" in cli("reference", "list", "--library", lib).stdout
    shown = json.loads(cli("reference", "show", "squat1", "--library", lib).stdout)
    assert shown["joints"] == ["left_knee", "right_knee"] and shown["reps"] == 1 and shown["hold_s"] == 1.5
    assert shown["frames"] == 61
    assert_one_line_error(cli("reference", "add", "squat1", files["guide"], "--library", lib), "already")
    assert cli("reference", "remove", "squat1", "--library", lib).code == 0
    assert ReferenceLibrary(lib).names() == []
    assert_one_line_error(cli("reference", "show", "squat1", "--library", lib), "no guide called 'squat1'")


def test_library_rejects_bad_names_and_joints(files: dict[str, Path], tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert_one_line_error(cli("reference", "add", "../x", files["guide"], "--library", lib), "not a valid guide name")
    assert_one_line_error(cli("reference", "add", "x", files["guide"], "--library", lib, "--joints", "tail"),
                          "unknown joint(s) tail")
    assert_one_line_error(cli("reference", "add", "x", files["dir"] / "broken.npz", "--library", lib), "not an .npz")
    assert not lib.exists() or not any(lib.iterdir())  # nothing half-written


def test_default_library_folder_follows_posecoach_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("POSECOACH_HOME", str(tmp_path))
    assert default_root() == tmp_path / "references"
    monkeypatch.delenv("POSECOACH_HOME")
    assert default_root() == Path("~/.local/share/posecoach/references").expanduser()


def test_compare_writes_json_and_chart(files: dict[str, Path], tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert cli("reference", "add", "squat1", files["guide"], "--library", lib, "--reps", "1").code == 0
    out = tmp_path / "out"
    run = cli("compare", "squat1", files["attempt"], "--library", lib, "--json", out / "r.json",
              "--plot", out / "angles.png", "--mkdir")
    assert run.code == 0, run
    report = json.loads((out / "r.json").read_text())
    assert 0 <= report["score"] <= 100 and report["reference"]["name"] == "squat1"
    assert [r["index"] for r in report["reps"]] == [1, 2]
    assert report["deviations"][0]["joint"] == "left_knee"
    assert "Left knee bends" in run.stdout
    assert (out / "angles.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_compare_writes_side_by_side_video(files: dict[str, Path], tmp_path: Path) -> None:
    run = cli("compare", files["guide"], files["attempt"], "-o", tmp_path / "side.mp4")
    assert run.code == 0, run
    with VideoReader(tmp_path / "side.mp4") as video:
        frames = list(video.frames())
    assert len(frames) == 2 * 75 + 1 and frames[0].image.shape[1] == 2 * frames[0].image.shape[0]
    right = np.asarray([f.image[:, frames[0].image.shape[1] // 2:] for f in frames])
    red = (right[..., 0].astype(int) > 190) & (right[..., 1] < 90) & (right[..., 2] < 90)
    assert red.any()  # the deviating knee drawn in red
    left = np.asarray([f.image[:, : frames[0].image.shape[1] // 2] for f in frames])
    assert not ((left[..., 0].astype(int) > 190) & (left[..., 1] < 90) & (left[..., 2] < 90)).any()


def test_compare_errors_are_one_line(files: dict[str, Path], tmp_path: Path) -> None:
    assert_one_line_error(cli("compare", files["guide"], tmp_path / "missing.npz"), "no such file")
    assert_one_line_error(cli("compare", files["guide"], files["dir"] / "broken.npz"), "not an .npz")
    assert_one_line_error(cli("compare", files["guide"], files["attempt"], "--mirror", "maybe"), "--mirror")
    assert_one_line_error(cli("compare", files["guide"], files["attempt"], "-o", tmp_path / "x.gif"), ".mp4")
    assert_one_line_error(cli("compare", "nosuchguide", files["attempt"], "--library", tmp_path / "empty"),
                          "no guide called 'nosuchguide'")
    assert not list(tmp_path.glob("*.json"))
