"""Comparison with a guide: `Comparison` (an attempt run against a guide, or followed live), the guide's loader
(`load_reference`: a file, an array, a sequence or a library name) and `compare` / `compare_detailed`
(`posecoach.compare`, its shortcut)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.analysis.compare import Guide, Matched, match_sequences
from posecoach.analysis.compare.guide import NAME_PATTERN
from posecoach.analysis.compare.streaming import GuidedCoach, GuidedState
from posecoach.core.sequence import PoseSequence
from posecoach.references import ReferenceLibrary
from posecoach.reports.comparison_report import ComparisonReport
from posecoach.solutions.base import VIDEO_SUFFIXES, LiveSession, LiveUpdate, Result, Source, load_source, source_path

Input = str | Path | PoseSequence


def load_reference(value: Source, *, library: str | Path | None = None, model: str = "full", fps: float = 30.0,
                   **engine_options: Any) -> tuple[PoseSequence, Guide | None]:
    """The guide's sequence and description: a file, an array or a sequence (no description) or a library name."""
    if isinstance(value, str | os.PathLike):
        text = str(value)
        if not Path(text).exists() and re.match(NAME_PATTERN, text) and Path(text).suffix.lower() not in (
                ".npz", *VIDEO_SUFFIXES):
            ref = ReferenceLibrary(library).get(text)
            return ref.sequence, ref.guide
    return load_source(value, model=model, fps=fps, **engine_options), None


@dataclass
class ComparisonResult(Result[ComparisonReport]):
    """A `ComparisonReport` with the attempt's sequence (``sequence``), the guide's (``reference_sequence``) and
    how their frames were matched (``matched``); chart: the aligned joint-angle curves; overlay: the guide's
    aligned frames beside the attempt's, joints off in red. No CSV table."""

    matched: Matched | None = None
    reference_sequence: PoseSequence | None = None
    reference: object = field(default=None, repr=False)  # the guide as given (a path names its video)

    def plot(self, out: Path) -> Path:
        from posecoach.render.comparison_plot import plot_comparison

        assert self.matched is not None
        return plot_comparison(self.report, self.matched, self.sequence.timestamps, out)

    def overlay(self, out: Path, **options: Any) -> Path:
        """Side by side, on the real frames when the inputs were videos (else drawn as sticks)."""
        from posecoach.render.aligned_frames import video_for
        from posecoach.render.comparison_video import render_side_by_side

        assert self.matched is not None and self.reference_sequence is not None
        ref, att = self.reference_sequence, self.sequence
        reference = self.reference if isinstance(self.reference, str | os.PathLike) else None
        return render_side_by_side(ref, att, self.report, self.matched, out,
                                   reference_video=video_for(reference, ref.source),
                                   attempt_video=video_for(self.source, att.source), **options)


class Comparison:
    """An attempt against a guide: a 0-100 score overall, per joint, repetition and phase, and what to change.

    ``reference``: the guide (a library name, a video, a saved sequence, an array or a `PoseSequence`);
    ``library``: the guide library's folder; ``guide`` overrides the library's description (joints that matter,
    repetitions); ``mirror``: None tries both sides, True / False forces it; ``band``: the DTW band as a share of
    the longer sequence (default 0.2); ``model``: the pose model for videos; ``engine_options`` go to the pose
    engine.
    """

    def __init__(self, reference: Source, *, library: str | Path | None = None, guide: Guide | None = None,
                 mirror: bool | None = None, band: float | None = None, model: str = "full",
                 **engine_options: Any) -> None:
        self.reference, self.library, self.guide = reference, library, guide
        self.mirror, self.band, self.model = mirror, band, model
        self.engine_options = engine_options

    def _reference(self, fps: float) -> tuple[PoseSequence, Guide | None]:
        seq, stored = load_reference(self.reference, library=self.library, model=self.model, fps=fps,
                                     **self.engine_options)
        return seq, self.guide or stored

    def run(self, source: Source, *, fps: float = 30.0) -> ComparisonResult:
        """Compare the attempt ``source`` (a path, a ``(T, K, C)`` landmark array at ``fps`` or a `PoseSequence`)
        with the guide."""
        ref_seq, guide = self._reference(fps)
        att_seq = load_source(source, model=self.model, fps=fps, **self.engine_options)
        options: dict[str, Any] = {} if self.band is None else {"band": self.band}
        report, matched = match_sequences(ref_seq, att_seq, guide=guide, mirror=self.mirror, **options)
        return ComparisonResult(report, att_seq, source_path(source), matched=matched, reference_sequence=ref_seq,
                                reference=self.reference)

    def live(self, *, exercise: str | None = None, width: float = 1.0, height: float = 1.0,
             fps: float = 30.0) -> ComparisonSession:
        """Follow the guide live (`GuidedCoach`): each repetition scored against the guide's when it ends.
        ``exercise``: the catalogue exercise the guide shows, None to recognise it."""
        ref_seq, guide = self._reference(fps)
        return ComparisonSession(GuidedCoach(ref_seq, guide, exercise=exercise, width=width, height=height))


def _text(state: GuidedState) -> str:
    coach = state.coach
    last = state.scored[-1] if state.scored else None
    score = f" · rep {last.index}: {last.score:.0f}" if last is not None and last.score is not None else ""
    return f"{coach.title}: {coach.shown}{score}"


class ComparisonSession(LiveSession[GuidedState]):
    """`GuidedCoach` as a session: ``state`` is its `GuidedState`, ``count`` the count shown (at the end, the
    count decided on the whole session), ``alert`` a repetition scored on this frame with a deviation to correct."""

    def __init__(self, coach: GuidedCoach) -> None:
        self.coach = coach
        self._t = 0.0

    def update(self, landmarks: np.ndarray | None, t: float, world: np.ndarray | None = None,
               ) -> LiveUpdate[GuidedState]:
        state = self.coach.update(landmarks, world, t)
        self._t = float(t)
        alert = any(fb.deviation is not None for fb in state.new)
        return LiveUpdate(self._t, state, _text(state), alert, state.coach.shown)

    def finish(self) -> LiveUpdate[GuidedState]:
        state = self.coach.finish()
        return LiveUpdate(self._t, state, _text(state), False, state.coach.count)


def compare(reference: Input, attempt: Input, *, library: str | Path | None = None, guide: Guide | None = None,
            mirror: bool | None = None, band: float | None = None, model: str = "full",
            **engine_options: Any) -> ComparisonReport:
    """Compare ``attempt`` with ``reference``; the report of `Comparison.run` (see `compare_detailed`)."""
    return compare_detailed(reference, attempt, library=library, guide=guide, mirror=mirror, band=band,
                            model=model, **engine_options)[0]


def compare_detailed(reference: Input, attempt: Input, *, library: str | Path | None = None,
                     guide: Guide | None = None, mirror: bool | None = None, band: float | None = None,
                     model: str = "full", **engine_options: Any,
                     ) -> tuple[ComparisonReport, Matched, PoseSequence, PoseSequence]:
    """Compare ``attempt`` with ``reference`` (a library name, a video, a saved sequence or a `PoseSequence`):
    the report, the matched frames and the two sequences (`Comparison.run`'s result as a tuple).

    ``guide`` overrides the library's description (joints that matter, repetitions); ``mirror``: None tries both
    sides, True / False forces it; ``band``: DTW band as a share of the longer sequence (default 0.2).
    """
    result = Comparison(reference, library=library, guide=guide, mirror=mirror, band=band, model=model,
                        **engine_options).run(attempt)
    assert result.matched is not None and result.reference_sequence is not None
    return result.report, result.matched, result.reference_sequence, result.sequence
