"""The analysis chart (PNG) and the analysis overlay video, on a synthetic squatting stick figure."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33 as S
from posecoach.features.signals import sequence_signals
from posecoach.io import VideoReader, VideoWriter
from posecoach.render.analysis_overlay import AnalysisDecorator, fault_bones, render_analysis_overlay
from posecoach.render.analysis_plot import default_signal_names, plot_analysis
from posecoach.reports.analysis_report import (
    AnalysisReport,
    ExerciseInfo,
    FormError,
    InputInfo,
    ModelInfo,
    RepItem,
    Reps,
)
from tests.synthetic import stick_squat_pose

T, FPS, W, H = 40, 20.0, 480, 360
REPS = ((2, 10, 17), (20, 28, 35))  # start, turn, end frames
ERROR_FRAMES = (24, 31)


def depth(t: int) -> float:
    """0 standing .. 1 at the bottom of a repetition."""
    for start, _, end in REPS:
        if start <= t <= end:
            return math.sin(math.pi * (t - start) / (end - start)) ** 2
    return 0.0


@pytest.fixture(scope="module")
def seq() -> PoseSequence:
    arr = np.stack([stick_squat_pose(depth(t)) for t in range(T)])
    return PoseSequence.from_landmarks(arr, fps=FPS, source={"width": W, "height": H})


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("src") / "plain.mp4"
    yy, xx = np.mgrid[0:H, 0:W]
    background = np.stack([40 + 40 * xx / W, 50 + 30 * yy / H, 60 + 0 * xx], axis=-1).astype(np.uint8)
    with VideoWriter(path, FPS) as writer:
        for _ in range(T):
            writer.write(background)
    return path


def make_report(*, reps: bool = True, error: bool = True) -> AnalysisReport:
    err = FormError(rule="knee_valgus", title="Knees cave in", severity="error", cue="Push your knees out",
                    value=12.0, limit=8.0, frames=[ERROR_FRAMES], joints=["knee"])
    items = [
        RepItem(index=k + 1, start_frame=s, turn_frame=m, end_frame=e, start_s=s / FPS, turn_s=m / FPS,
                end_s=e / FPS, duration_s=(e - s) / FPS, eccentric_s=(m - s) / FPS, concentric_s=(e - m) / FPS,
                rom=85.0, rom_unit="deg", view="side", errors=[err] if error and k == 1 else [])
        for k, (s, m, e) in enumerate(REPS)
    ] if reps else []
    return AnalysisReport(
        posecoach_version="test",
        input=InputInfo(frames=T, fps=FPS, duration_s=T / FPS, width=W, height=H, detection_rate=1.0),
        model=ModelInfo(name="lite"),
        exercise=ExerciseInfo(name="squat", title="Squat", kind="reps", given=True, confidence=1.0, view="side"),
        reps=Reps(count=len(items), signal="knee", items=items),
    )


# ---------------------------------------------------------------------------------------------- chart

def reddish(png: Path) -> int:
    img = cv2.imread(str(png)).astype(int)[..., ::-1]
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return int(((r > 200) & (r - g > 25) & (r - b > 25)).sum())


def test_plot_writes_a_png_with_the_errors_shaded(tmp_path: Path, seq: PoseSequence) -> None:
    signals = sequence_signals(seq)
    assert default_signal_names(make_report(), signals)[0] == "knee"
    out = plot_analysis(make_report(), signals, seq.timestamps, tmp_path / "chart.png")
    plain = plot_analysis(make_report(error=False), signals, seq.timestamps, tmp_path / "plain.png")
    assert out == tmp_path / "chart.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 300 and img.shape[1] > 800
    assert reddish(out) > reddish(plain) + 500  # the error's frames are shaded red
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.png", "plain.png"]  # no temporary files


def test_plot_without_reps_and_with_nan_signals(tmp_path: Path, seq: PoseSequence) -> None:
    report = make_report(reps=False)
    nan = {"knee": np.full(T, np.nan), "hip": np.full(T, np.nan), "hip_height": np.full(T, np.nan)}
    for name, signals in (("norep.png", sequence_signals(seq)), ("nan.png", nan), ("none.png", {})):
        out = plot_analysis(report, signals, seq.timestamps, tmp_path / name)
        assert out.read_bytes()[:4] == b"\x89PNG" and cv2.imread(str(out)) is not None
    out = plot_analysis(make_report(), nan, seq.timestamps, tmp_path / "nan_reps.png",
                        signal_names=["knee", "hip_height"])
    assert cv2.imread(str(out)) is not None


def test_plot_failure_leaves_no_file(tmp_path: Path, seq: PoseSequence, monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    def broken(self: Figure, fname: Path, **kw: object) -> None:
        Path(fname).write_bytes(b"\x89PNG half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plot_analysis(make_report(), sequence_signals(seq), seq.timestamps, tmp_path / "chart.png")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------- overlay

def test_decorator_counts_reps_and_finds_faults() -> None:
    deco = AnalysisDecorator(make_report())
    assert [deco.count_at(f) for f in (0, 16, 17, 34, 35, 39)] == [0, 0, 1, 1, 2, 2]
    assert [deco.rep_at(f) for f in (1, 2, 17, 18, 20)] == [None, 1, 1, None, 2]
    knee = {S.index(f"{s}_knee") for s in ("left", "right")}
    bones = fault_bones(["knee"])
    assert len(bones) == 4 and all(knee & {a, b} for a, b in bones)
    assert deco.bone_colors(ERROR_FRAMES[0] - 1) is None
    assert set(deco.bone_colors(ERROR_FRAMES[0]) or {}) == set(bones)
    assert [f.cue for f in deco.faults_at(ERROR_FRAMES[1])] == ["Push your knees out"]


def frames_of(path: Path) -> list[np.ndarray]:
    with VideoReader(path) as reader:
        return [f.image for f in reader.frames()]


def red_pixels(img: np.ndarray) -> int:
    body = img[int(0.4 * H):int(0.85 * H), int(0.3 * W):int(0.75 * W)].astype(int)  # hips to shins
    r, g, b = body[..., 0], body[..., 1], body[..., 2]
    return int(((r > 150) & (g < 90) & (b < 90)).sum())


def test_overlay_marks_faults_and_counts(tmp_path: Path, video: Path, seq: PoseSequence) -> None:
    seen: list[int] = []
    out = render_analysis_overlay(video, seq, make_report(), tmp_path / "analysis.mp4", workers=2,
                                  min_segment_frames=10, progress=lambda done, total: seen.append(done))
    plain = render_analysis_overlay(video, seq, make_report(error=False), tmp_path / "plain.mp4", workers=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["analysis.mp4", "plain.mp4"]
    assert seen and seen[-1] == T
    with VideoReader(out) as reader:
        assert len(reader) == T
    drawn, clean, source = frames_of(out), frames_of(plain), frames_of(video)
    assert len(drawn) == len(clean) == T

    inside, outside = (ERROR_FRAMES[0] + ERROR_FRAMES[1]) // 2, 10
    assert red_pixels(drawn[inside]) > red_pixels(clean[inside]) + 150  # the knees' bones are red
    assert abs(red_pixels(drawn[outside]) - red_pixels(clean[outside])) < 30
    bottom = slice(int(0.85 * H), H)  # the cue line
    cue = np.abs(drawn[inside][bottom].astype(int) - clean[inside][bottom].astype(int)).mean()
    assert cue > 3 * np.abs(drawn[outside][bottom].astype(int) - clean[outside][bottom].astype(int)).mean() + 1

    def panel(i: int) -> np.ndarray:
        return drawn[i][: H // 5, int(0.75 * W):].astype(int)

    end = REPS[0][2]
    assert np.abs(panel(end - 1) - source[end - 1][: H // 5, int(0.75 * W):]).mean() > 10  # a panel is drawn
    same = np.abs(panel(end - 2) - panel(end - 1)).mean()  # "0 reps", "rep 1" on both
    changed = np.abs(panel(end - 1) - panel(end)).mean()  # "0 reps" -> "1 rep"
    assert changed > 4 * same + 1
