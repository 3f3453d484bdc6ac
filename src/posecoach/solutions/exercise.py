"""Exercise analysis of a video or pose sequence: `analyze` (`posecoach.analyze`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posecoach.analysis.pipeline import analyze_sequence
from posecoach.core.sequence import PoseSequence
from posecoach.pose.engine import ProgressFn, load_sequence
from posecoach.reports.analysis_report import AnalysisReport


def analyze(path_or_sequence: str | Path | PoseSequence, exercise: str | None = None, *, model: str = "full",
            progress: ProgressFn | None = None, **engine_options: Any) -> AnalysisReport:
    """Analyse an exercise video (or a pose sequence): exercise, repetitions, per-rep form errors.

    ``exercise``: a catalogue name or alias; None or ``"auto"`` recognises it.
    """
    seq = load_sequence(path_or_sequence, model=model, progress=progress, **engine_options)
    return analyze_sequence(seq, exercise)
