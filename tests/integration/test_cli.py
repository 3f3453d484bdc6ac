"""The command line: real runs through `python -m posecoach`, and one clear line for every bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posecoach.io import VideoReader, VideoWriter


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("POSECOACH_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "posecoach", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env, stdin=subprocess.DEVNULL)


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _truncated_copy(src: Path, dst: Path, keep: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


@pytest.mark.video
def test_pose_writes_overlay_json_and_csv(tmp_path: Path, squat_side_clip: Path) -> None:
    proc = run("pose", str(squat_side_clip), "-o", str(tmp_path / "o" / "overlay.mp4"), "--json",
               str(tmp_path / "p.json"), "--csv", str(tmp_path / "p.csv"), "--model", "lite", "--mkdir")
    assert proc.returncode == 0, proc.stderr
    assert "49 frames" in proc.stdout and "subject #" in proc.stdout
    with VideoReader(tmp_path / "o" / "overlay.mp4") as reader:
        assert len(reader) == 49 and reader.info.codec == "h264"
        assert (reader.info.width, reader.info.height) == (1280, 720)
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["num_frames"] == 49 and data["source"]["model"] == "lite"
    assert sum(1 for f in data["frames"] if f["people"]) >= 45
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 50
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o", "p.csv", "p.json"]


@pytest.mark.video
def test_pose_on_an_image_and_a_folder(tmp_path: Path, squat_side_clip: Path) -> None:
    import cv2

    folder = tmp_path / "in"
    folder.mkdir()
    with VideoReader(squat_side_clip) as reader:
        frame = next(iter(reader.frames(0, 1))).image
    cv2.imwrite(str(folder / "a.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(folder / "b.jpg"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    proc = run("pose", str(folder), "-o", str(tmp_path / "out"), "--json", str(tmp_path / "json"), "-m", "lite")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png", "b.png"]
    one = json.loads((tmp_path / "json" / "a.json").read_text())
    assert one["num_frames"] == 1 and len(one["frames"][0]["people"]) >= 1
    bad = run("pose", str(folder / "a.png"), "-o", str(tmp_path / "x.mp4"))
    assert_one_line_error(bad, "image")
    assert not (tmp_path / "x.mp4").exists()


def test_video_without_a_person_succeeds_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "wall.mp4"
    with VideoWriter(path, 25.0) as writer:
        for _ in range(10):
            writer.write(np.full((240, 320, 3), 200, np.uint8))
    proc = run("pose", str(path), "--json", str(tmp_path / "wall.json"), "-m", "lite")
    assert proc.returncode == 0, proc.stderr
    assert "no person found" in proc.stdout
    assert json.loads((tmp_path / "wall.json").read_text())["track_ids"] == []


def test_bad_inputs_get_one_line_and_a_non_zero_exit(tmp_path: Path, squat_side_clip: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    truncated = _truncated_copy(squat_side_clip, tmp_path / "cut.mp4", 0.02)
    cases = {
        "missing": (tmp_path / "nope.mp4", "nope.mp4"),
        "text renamed .mp4": (text, "notes.mp4"),
        "zero-length": (empty, "empty.mp4"),
        "truncated": (truncated, "cut.mp4"),
    }
    for name, (path, needle) in cases.items():
        proc = run("pose", str(path), "-o", str(tmp_path / f"{name}.mp4"), "--json", str(tmp_path / f"{name}.json"))
        assert_one_line_error(proc, "error:", needle)
        assert not (tmp_path / f"{name}.mp4").exists() and not (tmp_path / f"{name}.json").exists()


def test_huge_and_empty_frames_are_refused(tmp_path: Path) -> None:
    import cv2

    wide = tmp_path / "wide.png"
    cv2.imwrite(str(wide), np.zeros((8, 16384, 3), np.uint8))
    assert_one_line_error(run("pose", str(wide)), "16384")
    zero = tmp_path / "zero.png"  # a PNG whose header says 0x0
    png = bytearray(Path(wide).read_bytes())
    png[16:24] = b"\x00" * 8
    zero.write_bytes(bytes(png))
    assert_one_line_error(run("pose", str(zero)), "zero.png")


def test_unsupported_codec_is_named(tmp_path: Path) -> None:
    """An AVI whose codec tag names no decoder FFmpeg has."""
    import av

    path = tmp_path / "odd.avi"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    data = path.read_bytes()
    for tag in (b"FMP4", b"fmp4", b"mp4v", b"MP4V"):
        data = data.replace(tag, b"QQQQ")
    path.write_bytes(data)
    assert_one_line_error(run("pose", str(path)), "odd.avi")


def test_models_command_and_usage_errors() -> None:
    proc = run("models", "verify")
    assert proc.returncode == 0, proc.stderr
    assert "full" in proc.stdout and "ok" in proc.stdout
    unknown = run("pose", "x.mp4", "--model", "huge")
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
    assert run("--help").returncode == 0
