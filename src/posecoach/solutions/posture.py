"""Posture classification: `PostureClassification` (a trained `PostureClassifier` run on a video or sequence,
or live). `posecoach.posture.PostureClassifier` stays the way to train and save one."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.analysis.posture import LivePostures, PostureClassifier, SmoothingParams
from posecoach.analysis.posture.pipeline import classify_postures
from posecoach.reports.posture_report import PostureReport
from posecoach.reports.tables import postures_csv
from posecoach.solutions.base import (
    LiveSession,
    LiveUpdate,
    Result,
    Source,
    load_source,
    nobody_if_none,
    source_path,
)


@dataclass
class PostureResult(Result[PostureReport]):
    """A `PostureReport` with its sequence; CSV: the posture and probabilities per frame; chart: the
    probabilities, postures and repetitions over time. No overlay video."""

    def csv(self) -> str:
        return postures_csv(self.report)

    def plot(self, out: Path) -> Path:
        from posecoach.render.posture_plot import plot_postures

        return plot_postures(self.report, out)


class PostureClassification:
    """Postures per frame (smoothed), the time in each, and the repetitions between two postures.

    ``classifier``: a fitted `PostureClassifier` or the path of one saved (``posecoach posture train``);
    ``smoothing``: the smoothing's parameters (default `SmoothingParams()`), ``smooth=False`` for the raw
    per-frame postures (offline only: a live session always smooths); ``count=(first, second)`` counts
    ``first -> second -> first``; ``model``: the pose model for videos; ``model_path``: the classifier's file as
    the report names it (default: ``classifier`` when it is a path); ``engine_options`` go to the pose engine.
    """

    def __init__(self, classifier: PostureClassifier | str | os.PathLike[str], *,
                 smoothing: SmoothingParams | None = None, smooth: bool = True,
                 count: tuple[str, str] | None = None, per_frame: bool = True, model: str = "full",
                 model_path: str | None = None, **engine_options: Any) -> None:
        if isinstance(classifier, PostureClassifier):
            self.classifier, self.model_path = classifier, model_path
        else:
            self.classifier, self.model_path = PostureClassifier.load(classifier), model_path or str(classifier)
        self.smoothing = smoothing or SmoothingParams()
        self.smooth, self.count, self.per_frame, self.model = smooth, count, per_frame, model
        self.engine_options = engine_options

    def run(self, source: Source, *, fps: float = 30.0) -> PostureResult:
        """Postures in ``source``: a path, a ``(T, K, C)`` landmark array (at ``fps``) or a `PoseSequence`."""
        seq = load_source(source, model=self.model, fps=fps, **self.engine_options)
        report = classify_postures(seq, self.classifier, smoothing=self.smoothing if self.smooth else None,
                                   count=self.count, per_frame=self.per_frame, model_path=self.model_path)
        path = source_path(source)
        if path is not None:
            report.input = str(path)
        return PostureResult(report, seq, path)

    def live(self, *, width: float = 1.0, height: float = 1.0) -> PostureSession:
        """A live session (`LivePostures`) for frames of ``width`` x ``height`` pixels."""
        return PostureSession(LivePostures(self.classifier, smoothing=self.smoothing, count=self.count,
                                           width=width, height=height))


@dataclass(frozen=True)
class PostureState:
    """The steady ``posture`` after a frame ("" while none) and the repetitions counted so far."""

    posture: str
    count: int


class PostureSession(LiveSession[PostureState]):
    """`LivePostures` as a session (``world`` is not used)."""

    def __init__(self, postures: LivePostures) -> None:
        self.postures = postures
        self._state = PostureState("", 0)
        self._t = 0.0

    def update(self, landmarks: np.ndarray | None, t: float, world: np.ndarray | None = None,
               ) -> LiveUpdate[PostureState]:
        posture = self.postures.update(nobody_if_none(landmarks)[:, :4], t)
        self._state, self._t = PostureState(posture, self.postures.count), float(t)
        return self.finish()

    def finish(self) -> LiveUpdate[PostureState]:
        s = self._state
        return LiveUpdate(self._t, s, s.posture or "no posture", False, s.count)
