"""The comparison's side-by-side video on a real guide / attempt pair (the Compare page's pair): the guide's and the
attempt's own frames, aligned by the comparison, with the deviating joints in red; the stick-figure fallback for a
side without its video; frames streamed, never a whole video in memory; nothing written on failure."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from posecoach.analysis.compare import Matched
from posecoach.comparison import compare_detailed
from posecoach.core.sequence import PoseSequence
from posecoach.io import VideoReader
from posecoach.render.aligned_frames import IndexedFrames, video_for
from posecoach.render.comparison_video import NO_VIDEO, PANEL, RED, Side, SideBySide, render_side_by_side
from posecoach.reports.comparison_report import ComparisonReport
from tests.conftest import data_file

pytestmark = pytest.mark.video
GUIDE = "form/kaiakol/data/squat/correct/squat_correct_001.mp4"
ATTEMPT = "form/kaiakol/data/squat/incorrect/squat_incorrect_002.mp4"
Pair = tuple[ComparisonReport, Matched, PoseSequence, PoseSequence, Path, Path]


@pytest.fixture(scope="module")
def pair() -> Pair:
    """The real pair, compared as `posecoach compare guide.mp4 attempt.mp4` does."""
    guide, attempt = data_file(GUIDE), data_file(ATTEMPT)
    report, matched, ref, att = compare_detailed(guide, attempt, model="lite", workers=1)
    return report, matched, ref, att, guide, attempt


def _frames(path: Path) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        return [f.image for f in reader.frames()]


def real_content(panel: np.ndarray) -> bool:
    """A camera picture, not a stick figure on a plain background: contrast, texture almost everywhere (the plain
    background has none), and not mostly dark. Measured: real halves 0.38-0.48 textured, the stick figure 0.05."""
    grey = panel.astype(float).mean(axis=2)
    texture = (np.abs(np.diff(grey, axis=0))[:, :-1] + np.abs(np.diff(grey, axis=1))[:-1]) > 2
    return bool(panel.std() > 40 and texture.mean() > 0.25 and (panel.max(axis=2) < 40).mean() < 0.6)


def _is_red(pixel: np.ndarray, tolerance: int = 45) -> bool:
    return bool(np.all(np.abs(pixel.astype(int) - RED) <= tolerance))


def _shown(side: Side, source: np.ndarray) -> np.ndarray:
    """What a side shows of a source frame: its crop, fitted into its box."""
    (cx, cy, cw, ch), (_, _, w, h) = side.crop, side.box
    return cv2.resize(source[cy : cy + ch, cx : cx + cw], (w, h), interpolation=cv2.INTER_AREA).astype(float)


def test_both_real_videos_side_by_side_aligned(pair: Pair, tmp_path: Path) -> None:
    report, matched, ref, att, guide, attempt = pair
    out = render_side_by_side(
        ref, att, report, matched, tmp_path / "side.mp4", reference_video=guide, attempt_video=attempt
    )
    frames = _frames(out)
    assert len(frames) == att.num_frames
    drawer = SideBySide(ref, att, report, matched, reference_video=guide, attempt_video=attempt)
    width = drawer.width
    assert frames[0].shape == (PANEL, 2 * width, 3) and PANEL * 9 / 16 <= width < 854  # cropped to the people
    guide_src, attempt_src = _frames(guide), _frames(attempt)
    for i in (0, len(frames) // 2, len(frames) - 1):
        assert real_content(frames[i][:, :width]) and real_content(frames[i][:, width:])
        g = int(matched.guide_frame[i])
        # each half is the source frame the alignment names: the attempt's i, the guide's matched frame g
        for side, half, want, other in (
            (drawer.attempt_side, frames[i][:, width:], attempt_src[i], attempt_src[(i + 24) % len(attempt_src)]),
            (drawer.guide, frames[i][:, :width], guide_src[g], guide_src[(g + 24) % len(guide_src)]),
        ):
            x, y, w, h = side.box
            rows = slice(max(y, 60), min(y + h, PANEL - 40))  # below the caption strip, above the key
            shown = half[rows, x : x + w].astype(float)
            error = np.abs(shown - _shown(side, want)[rows.start - y : rows.stop - y]).mean()
            assert error < 12
            assert error < np.abs(shown - _shown(side, other)[rows.start - y : rows.stop - y]).mean()
    for side in (drawer.guide, drawer.attempt_side):  # each person fills most of their panel's height
        pts = np.where(side.shown[..., None], side.px, np.nan)
        assert np.nanmedian(np.nanmax(pts[..., 1], axis=1) - np.nanmin(pts[..., 1], axis=1)) > 0.6 * PANEL
    drawer.close()


def test_deviating_joints_are_red_on_the_attempt(pair: Pair, tmp_path: Path) -> None:
    report, matched, ref, att, guide, attempt = pair
    drawer = SideBySide(ref, att, report, matched, reference_video=guide, attempt_video=attempt)
    flagged = [i for i in range(att.num_frames) if drawer.highlighted(i)]
    assert flagged, "the incorrect squat deviates from the guide somewhere"
    out = render_side_by_side(
        ref, att, report, matched, tmp_path / "side.mp4", reference_video=guide, attempt_video=attempt
    )
    frames = _frames(out)
    attempt_src = _frames(attempt)
    x, y, _, _ = drawer.attempt_side.box
    checked = 0
    for i in flagged[::4]:
        for j in drawer.highlighted(i):
            px, py = (round(float(v)) for v in drawer.attempt_side.px[i, drawer.attempt_kp[j]])
            if not (0 <= px < drawer.width and 60 <= py < PANEL - 30):
                continue
            assert _is_red(drawer.frame(i)[py, drawer.width + px], tolerance=0)  # as drawn
            assert _is_red(frames[i][py, drawer.width + px])  # and as encoded
            source = _shown(drawer.attempt_side, attempt_src[i])[py - y, px - x]
            assert not _is_red(source)  # the red is the highlight, not the clip's own colour
            checked += 1
    assert checked >= 3
    steady = [i for i in range(att.num_frames) if not drawer.highlighted(i)]
    for i in steady[:3]:  # a frame without deviation shows no highlight where the joints are
        pts = drawer.attempt_side.px[i, 11:]
        for px, py in pts[np.isfinite(pts).all(axis=1)].round().astype(int):
            if 0 <= px < drawer.width and 0 <= py < PANEL:
                assert not _is_red(drawer.frame(i)[py, drawer.width + px], tolerance=0)
    drawer.close()


def test_a_side_without_video_is_a_stick_figure_and_says_so(pair: Pair, tmp_path: Path) -> None:
    report, matched, ref, att, _, attempt = pair
    drawer = SideBySide(ref, att, report, matched, attempt_video=attempt)
    assert drawer.guide.note == NO_VIDEO and drawer.attempt_side.note == ""
    image = drawer.frame(10)
    left = image[80 : PANEL - 40, : drawer.width]
    assert (left == 24).all(axis=2).mean() > 0.9  # the plain background, with the skeleton on it
    assert ((left != 24).any(axis=2)).sum() > 300  # ... which is drawn
    assert not real_content(image[:, : drawer.width]) and real_content(image[:, drawer.width :])
    drawer.close()
    # a video that is not the one the poses came from (49 guide poses, a 47-frame video) is not shown either
    wrong = SideBySide(ref, att, report, matched, reference_video=attempt, attempt_video=attempt)
    assert wrong.guide.frames is None and "does not match" in wrong.guide.note
    wrong.close()
    out = render_side_by_side(ref, att, report, matched, tmp_path / "plain.mp4")  # no video at all: square panels
    first = _frames(out)[0]
    assert first.shape[:2] == (PANEL, 2 * PANEL)


def test_the_guide_is_mirrored_when_the_attempt_was_matched_mirrored(pair: Pair) -> None:
    report, matched, ref, att, guide, _ = pair
    plain = SideBySide(ref, att, report, replace(matched, mirrored=False), reference_video=guide)
    mirrored = SideBySide(ref, att, report, replace(matched, mirrored=True), reference_video=guide)
    assert np.array_equal(mirrored.guide.image(5, plain.width), plain.guide.image(5, plain.width)[:, ::-1])
    a, b = plain.guide.px[5, 23], mirrored.guide.px[5, 23]  # left hip
    assert b[0] == pytest.approx(plain.width - a[0]) and b[1] == pytest.approx(a[1])
    plain.close()
    mirrored.close()


_PEAK_GROWTH = """
import os, sys, threading, time
from posecoach.comparison import compare_detailed
from posecoach.core.sequence import PoseSequence
from posecoach.io import VideoReader
from posecoach.render.comparison_video import render_side_by_side

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

ref, att = PoseSequence.load(sys.argv[1]), PoseSequence.load(sys.argv[2])
report, matched, ref, att = compare_detailed(ref, att)
before, peak, done = rss(), [0], threading.Event()

def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)

sampler = threading.Thread(target=sample)
sampler.start()
if sys.argv[6] == "render":
    render_side_by_side(ref, att, report, matched, sys.argv[5], reference_video=sys.argv[3], attempt_video=sys.argv[4])
elif sys.argv[6] == "plain":  # the same without videos: the encoder's and the libraries' own memory
    render_side_by_side(ref, att, report, matched, sys.argv[5])
else:  # what loading the videos whole would cost, to show that the measure sees it
    with VideoReader(sys.argv[3]) as g, VideoReader(sys.argv[4]) as a:
        held = [f.image for f in g.frames()] + [f.image for f in a.frames()]
done.set()
sampler.join()
print(max(peak[0], rss()) - before)
"""


def test_frames_are_streamed_not_loaded(pair: Pair, tmp_path: Path) -> None:
    """The memory the videos add to the render (peak resident memory sampled every 2 ms in a fresh process, against
    the same render without them) stays far below the two videos decoded whole."""
    _, _, ref, att, guide, attempt = pair
    args = [
        str(ref.save(tmp_path / "g.npz")),
        str(att.save(tmp_path / "a.npz")),
        str(guide),
        str(attempt),
        str(tmp_path / "side.mp4"),
    ]

    def growth(mode: str) -> int:
        run = subprocess.run(
            [sys.executable, "-c", _PEAK_GROWTH, *args, mode], capture_output=True, text=True, timeout=300, check=True
        )
        return int(run.stdout.split()[-1])

    whole = (ref.num_frames + att.num_frames) * 1280 * 720 * 3  # 265 MB of RGB frames
    loaded, rendered, plain = growth("load"), growth("render"), growth("plain")
    assert loaded > 0.9 * whole  # the measure sees whole videos held in memory (measured: 294 MB)
    # the videos add their two decoders and a frame each (measured: 93 MB with them, 46 MB without)
    assert rendered - plain < 0.25 * whole, (rendered, plain, whole)
    assert len(_frames(tmp_path / "side.mp4")) == att.num_frames


def test_indexed_frames_decode_on_and_seek_back() -> None:
    path = data_file(GUIDE)
    frames = _frames(path)
    with IndexedFrames(path) as source:
        for i in range(0, 12):
            assert np.array_equal(source.get(i), frames[i])
        assert source.seeks == 1  # forward: decoded on, one pass
        for i in (30, 30, 31, 3, 4):  # back to 3 (the next repetition starting again): one more seek
            assert np.array_equal(source.get(i), frames[i])
        assert source.seeks == 2
        assert source.get(len(frames)) is None and source.get(-1) is None


def test_failed_render_leaves_nothing(pair: Pair, tmp_path: Path) -> None:
    report, matched, ref, att, guide, attempt = pair

    def stop(done: int, total: int) -> None:
        if done > 10:
            raise RuntimeError("cancelled")

    out = tmp_path / "side.mp4"
    with pytest.raises(RuntimeError):
        render_side_by_side(ref, att, report, matched, out, reference_video=guide, attempt_video=attempt, progress=stop)
    assert list(tmp_path.iterdir()) == []  # no half-written video, no temporary file


def test_video_for_an_input(pair: Pair, tmp_path: Path) -> None:
    _, _, ref, _, guide, _ = pair
    assert video_for(guide) == guide
    saved = ref.save(tmp_path / "guide.npz")
    assert video_for(saved, PoseSequence.load(saved).source) == guide  # the video the poses were made from
    assert video_for("squat-guide", {"path": str(tmp_path / "gone.mp4")}) is None
    assert video_for(saved, {}) is None


def test_cli_writes_the_real_frames(pair: Pair, tmp_path: Path) -> None:
    """`posecoach compare guide.mp4 attempt.npz -o side.mp4`: the guide's video as given, the attempt's as its saved
    poses recorded it; a library guide whose video is gone falls back to its stick figure."""
    from tests.integration.test_cli_analyze import cli

    _, _, ref, att, guide, _ = pair
    saved = att.save(tmp_path / "attempt.npz")
    run = cli("compare", guide, saved, "-o", tmp_path / "side.mp4", "--model", "lite")
    assert run.code == 0, run
    first = _frames(tmp_path / "side.mp4")[0]
    width = first.shape[1] // 2
    assert real_content(first[:, :width]) and real_content(first[:, width:])
    gone = replace(ref, source={**ref.source, "path": str(tmp_path / "moved.mp4")})
    lib = tmp_path / "lib"
    assert cli("reference", "add", "sq", gone.save(tmp_path / "guide.npz"), "--library", lib).code == 0
    assert cli("compare", "sq", saved, "--library", lib, "-o", tmp_path / "lib.mp4").code == 0
    first = _frames(tmp_path / "lib.mp4")[0]
    assert not real_content(first[:, :width]) and real_content(first[:, width:])
