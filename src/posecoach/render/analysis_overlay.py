"""The analysis overlay video: the skeleton overlay plus a live repetition counter and the form errors.

On every frame a panel in the top-right corner shows the exercise, the repetitions completed so far (a
repetition counts from its end frame on) and, during a repetition, its number. While a form rule is broken (on
the frames of the error's ranges) the bones touching the error's joints are drawn red and thicker, and the
error's cue is written along the bottom of the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from posecoach.core.parallel import WorkerPool
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, Skeleton
from posecoach.render.overlay import RGB, OverlayRenderer
from posecoach.render.overlay_video import FrameDecorator, render_overlay
from posecoach.reports.analysis_report import AnalysisReport, FormError

FAULT: RGB = (235, 30, 30)
CUE_COLORS: dict[str, RGB] = {"error": (255, 95, 95), "warning": (255, 175, 60), "info": (235, 235, 235)}
PANEL_TEXT: RGB = (255, 255, 255)
COUNT_TEXT: RGB = (255, 210, 0)
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_FONT = cv2.FONT_HERSHEY_SIMPLEX


class _Fault(NamedTuple):
    ranges: tuple[tuple[int, int], ...]  # inclusive frame ranges
    bones: tuple[tuple[int, int], ...]
    cue: str
    severity: str


def joint_indices(joints: Iterable[str], skeleton: Skeleton = BLAZEPOSE_33) -> set[int]:
    """Keypoint indices named by ``joints``: a stem (``"knee"``) means both sides, a full name itself."""
    names = skeleton.names
    out: set[int] = set()
    for j in joints:
        wanted = [j] if j.startswith(("left_", "right_")) else [j, f"left_{j}", f"right_{j}"]
        out.update(names.index(n) for n in wanted if n in names)
    return out


def fault_bones(joints: Iterable[str], skeleton: Skeleton = BLAZEPOSE_33) -> tuple[tuple[int, int], ...]:
    """The bones of ``skeleton`` touching any of ``joints``."""
    idx = joint_indices(joints, skeleton)
    return tuple((a, b) for a, b in skeleton.edges if a in idx or b in idx)


def report_errors(report: AnalysisReport) -> list[FormError]:
    """Every form error of the report: those of each repetition, then those of the hold."""
    errors = [e for rep in report.reps.items for e in rep.errors]
    if report.hold is not None:
        errors.extend(report.hold.errors)
    return errors


def _fit(text: str, width: int, scale: float, weight: int) -> str:
    """``text`` cut (with "...") to fit ``width`` pixels."""
    if cv2.getTextSize(text, _FONT, scale, weight)[0][0] <= width:
        return text
    while text and cv2.getTextSize(text + "...", _FONT, scale, weight)[0][0] > width:
        text = text[:-1]
    return text.rstrip() + "..."


class AnalysisDecorator(FrameDecorator):
    """Draws the repetition counter and the broken rules of an `AnalysisReport` (picklable plain data)."""

    def __init__(self, report: AnalysisReport, skeleton: Skeleton = BLAZEPOSE_33) -> None:
        self.title = report.exercise.title
        self.counting = report.exercise.kind != "hold"
        self.reps: tuple[tuple[int, int, int], ...] = tuple(
            sorted((r.start_frame, r.end_frame, r.index) for r in report.reps.items))
        self.ends = np.sort(np.array([r.end_frame for r in report.reps.items], dtype=np.int64))
        self.faults = tuple(
            _Fault(tuple((int(a), int(b)) for a, b in e.frames), fault_bones(e.joints, skeleton), e.cue, e.severity)
            for e in sorted(report_errors(report), key=lambda e: _SEVERITY_RANK.get(e.severity, 3)))
        total = max([len(self.ends), *(r[2] for r in self.reps)])
        self._widest = (self.title, self._count_text(total), f"rep {total}")
        hold = report.hold
        self.hold: tuple[int, int, float, float] | None = None  # start, end frame; start, end second
        if not self.counting and hold is not None and hold.start_frame is not None and hold.end_frame is not None:
            self.hold = (hold.start_frame, hold.end_frame, hold.start_s or 0.0, hold.end_s or 0.0)
            self._widest = (self.title, self._hold_text(hold.seconds), "")

    # ------------------------------------------------------------------ what is true at a frame
    def count_at(self, frame_index: int) -> int:
        """Repetitions completed by ``frame_index`` (a repetition counts from its end frame on)."""
        return int(np.searchsorted(self.ends, frame_index, side="right"))

    def held_at(self, frame_index: int) -> float | None:
        """Seconds the hold has been kept by ``frame_index`` (0 before it starts, its full time after it
        ends); None when the report has no hold. The last frame of the hold reads the report's seconds."""
        if self.hold is None:
            return None
        start, end, t0, t1 = self.hold
        if frame_index <= start or end <= start:
            return 0.0 if frame_index <= start else t1 - t0
        return (min(frame_index, end) - start) / (end - start) * (t1 - t0)

    def rep_at(self, frame_index: int) -> int | None:
        """The number of the repetition under way at ``frame_index`` (start to end frame), if any."""
        for start, end, index in self.reps:
            if start <= frame_index <= end:
                return index
        return None

    def faults_at(self, frame_index: int) -> list[_Fault]:
        """The errors whose frame ranges hold ``frame_index``, most severe first."""
        return [f for f in self.faults if any(a <= frame_index <= b for a, b in f.ranges)]

    def bone_colors(self, frame_index: int) -> Mapping[tuple[int, int], RGB] | None:
        bones = {bone: FAULT for f in self.faults_at(frame_index) for bone in f.bones}
        return bones or None

    # ------------------------------------------------------------------ drawing
    @staticmethod
    def _hold_text(seconds: float) -> str:
        return f"hold {seconds:.1f} s"

    @staticmethod
    def _count_text(n: int) -> str:
        return f"{n} rep" if n == 1 else f"{n} reps"

    def __call__(self, image: np.ndarray, frame_index: int, renderer: OverlayRenderer) -> np.ndarray:
        h, w = image.shape[:2]
        short = min(h, w)
        scale, weight = max(0.4, short / 1000), max(1, round(short / 600))
        self._panel(image, frame_index, scale, weight)
        faults = self.faults_at(frame_index)
        if faults:
            self._cue(image, faults[0], scale, weight)
        return image

    def _panel(self, image: np.ndarray, frame_index: int, scale: float, weight: int) -> None:
        h, w = image.shape[:2]
        big, big_weight = scale * 1.6, weight + 1
        lines: list[tuple[str, float, int, RGB]] = [(self.title, scale, weight, PANEL_TEXT)]
        if self.counting:
            lines.append((self._count_text(self.count_at(frame_index)), big, big_weight, COUNT_TEXT))
            rep = self.rep_at(frame_index)
            lines.append((f"rep {rep}" if rep is not None else "", scale, weight, PANEL_TEXT))
        elif (held := self.held_at(frame_index)) is not None:
            lines.append((self._hold_text(held), big, big_weight, COUNT_TEXT))
        styles = [(scale, weight), (big, big_weight), (scale, weight)][:len(lines)]
        sizes = [cv2.getTextSize(t, _FONT, s, wt) for t, (s, wt) in zip(self._widest, styles, strict=False)]
        widths = [sz[0][0] for sz in sizes] + [cv2.getTextSize(t, _FONT, s, wt)[0][0] for t, s, wt, _ in lines]
        pad = max(3, round(6 * scale))
        box_w = min(w, max(widths) + 2 * pad)
        heights = [sz[0][1] + sz[1] for sz in sizes]
        box_h = min(h, sum(heights) + pad * (len(lines) + 1))
        x0, y0 = max(0, w - box_w - pad), pad
        roi = image[y0:y0 + box_h, x0:x0 + box_w]
        np.multiply(roi, 0.3, out=roi, casting="unsafe")
        y = y0 + pad
        for (text, s, wt, colour), (_, base), hgt in zip(lines, sizes, heights, strict=True):
            if text:
                text = _fit(text, box_w - 2 * pad, s, wt)
                cv2.putText(image, text, (x0 + pad, y + hgt - base), _FONT, s, colour, wt, cv2.LINE_AA)
            y += hgt + pad

    def _cue(self, image: np.ndarray, fault: _Fault, scale: float, weight: int) -> None:
        h, w = image.shape[:2]
        pad = max(3, round(6 * scale))
        text = _fit(fault.cue, w - 4 * pad, scale, weight)
        (tw, th), base = cv2.getTextSize(text, _FONT, scale, weight)
        x0, y1 = max(0, (w - tw) // 2 - pad), h - pad
        y0 = max(0, y1 - th - base - 2 * pad)
        roi = image[y0:y1, x0:min(w, x0 + tw + 2 * pad)]
        np.multiply(roi, 0.3, out=roi, casting="unsafe")
        colour = CUE_COLORS.get(fault.severity, CUE_COLORS["info"])
        cv2.putText(image, text, (x0 + pad, y0 + pad + th), _FONT, scale, colour, weight, cv2.LINE_AA)


def render_analysis_overlay(
    video: str | Path, seq: PoseSequence, report: AnalysisReport, out: str | Path, *,
    workers: int | None = None, progress: Callable[[int, int], None] | None = None, show_angles: bool = True,
    min_segment_frames: int = 300, pool: WorkerPool | None = None,
) -> Path:
    """Write ``out`` (H.264 mp4): `render_overlay`'s skeleton video with the report's counter and errors.

    Frame numbers in ``report`` are frames of ``video`` (and of ``seq``). ``progress(done, total)`` as in
    `render_overlay`; ``pool`` reuses worker processes.
    """
    return render_overlay(video, seq, out, workers=workers, show_angles=show_angles,
                          min_segment_frames=min_segment_frames, progress=progress, pool=pool,
                          decorator=AnalysisDecorator(report, seq.skeleton))
