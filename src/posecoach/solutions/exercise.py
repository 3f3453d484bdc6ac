"""Exercise analysis: `ExerciseAnalysis` (run on a video or sequence, or live) and `analyze`
(`posecoach.analyze`, its shortcut)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.analysis.live import LiveCoach, LiveState
from posecoach.analysis.pipeline import analyze_sequence
from posecoach.core.sequence import PoseSequence
from posecoach.pose.engine import ProgressFn
from posecoach.reports.analysis_report import AnalysisReport
from posecoach.reports.tables import reps_csv
from posecoach.solutions.base import LiveSession, LiveUpdate, Result, Source, load_source, source_path


@dataclass
class ExerciseResult(Result[AnalysisReport]):
    """An `AnalysisReport` with its sequence; CSV: one row per repetition; chart: signals, repetitions and
    errors; overlay: the video with the rep counter and form errors."""

    def csv(self) -> str:
        return reps_csv(self.report)

    def plot(self, out: Path) -> Path:
        from posecoach.features.signals import sequence_signals
        from posecoach.render.analysis_plot import plot_analysis

        seq = self.sequence
        return plot_analysis(self.report, sequence_signals(seq) if seq.num_people else {}, seq.timestamps, out)

    def overlay(self, out: Path, **options: Any) -> Path:
        """``options``: `render_analysis_overlay`'s (``workers``, ``progress``, ``pool``...)."""
        from posecoach.render.analysis_overlay import render_analysis_overlay

        return render_analysis_overlay(self.video(), self.sequence, self.report, out, **options)


class ExerciseAnalysis:
    """The exercise, repetitions (or hold time) and form errors per repetition.

    ``exercise``: a catalogue name or alias; None or ``"auto"`` recognises it. ``model``: the pose model (lite,
    full, heavy) for a video or image; ``progress(done, total)`` and ``engine_options`` go to the pose engine.
    """

    def __init__(self, exercise: str | None = None, *, model: str = "full", progress: ProgressFn | None = None,
                 **engine_options: Any) -> None:
        self.exercise, self.model, self.progress = exercise, model, progress
        self.engine_options = engine_options

    def run(self, source: Source, *, fps: float = 30.0) -> ExerciseResult:
        """Analyse ``source``: a path, a ``(T, K, C)`` landmark array (at ``fps``) or a `PoseSequence`."""
        seq = load_source(source, model=self.model, fps=fps, progress=self.progress, **self.engine_options)
        return ExerciseResult(analyze_sequence(seq, self.exercise), seq, source_path(source))

    def live(self, *, width: float = 1.0, height: float = 1.0) -> ExerciseSession:
        """A live session (`LiveCoach`); ``width`` / ``height``: the frames' size in pixels."""
        return ExerciseSession(LiveCoach(self.exercise, width=width, height=height))


def _text(state: LiveState) -> str:
    if state.hold_s is not None:
        return f"{state.title}: held {state.hold_s:.1f} s"
    return f"{state.title}: {state.shown}"


class ExerciseSession(LiveSession[LiveState]):
    """`LiveCoach` as a session: ``state`` is its `LiveState`, ``count`` the count to show (``shown``; at the end,
    the count decided on the whole session), ``alert`` a form error seen in a repetition that ended on this
    frame."""

    def __init__(self, coach: LiveCoach) -> None:
        self.coach = coach
        self._cues: tuple[tuple[str, int], ...] = ()
        self._t = 0.0

    def update(self, landmarks: np.ndarray | None, t: float, world: np.ndarray | None = None,
               ) -> LiveUpdate[LiveState]:
        state = self.coach.update(landmarks, world, t)
        cues = tuple((c.rule, c.rep) for c in state.cues)
        alert = bool(cues) and cues != self._cues
        self._cues, self._t = cues, float(t)
        return LiveUpdate(float(t), state, _text(state), alert, state.shown)

    def finish(self) -> LiveUpdate[LiveState]:
        self.coach.check_rhythm(final=True)
        state = self.coach.state()
        return LiveUpdate(self._t, state, f"{state.title}: {state.count}", False, state.count)


def analyze(path_or_sequence: str | Path | PoseSequence, exercise: str | None = None, *, model: str = "full",
            progress: ProgressFn | None = None, **engine_options: Any) -> AnalysisReport:
    """Analyse an exercise video (or a pose sequence): exercise, repetitions, per-rep form errors; the report of
    `ExerciseAnalysis.run`.

    ``exercise``: a catalogue name or alias; None or ``"auto"`` recognises it.
    """
    return ExerciseAnalysis(exercise, model=model, progress=progress, **engine_options).run(path_or_sequence).report
