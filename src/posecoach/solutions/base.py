"""What the four solutions share: one loader for their input, the `Result` they return and the live session's
`LiveUpdate`.

* `load_source`: a path (video, image or saved ``.npz`` sequence), a ``(T, K, C)`` landmark array or a
  `PoseSequence` -> `PoseSequence`, with one `InputError` for anything else.
* `Result`: the report (each capability's report object, unchanged), the sequence it was made from, the input file
  when there was one, and `Result.save` (JSON, CSV, chart, overlay video) through the report and render code.
* `LiveSession` / `LiveUpdate`: ``update(landmarks, t, world=None)`` per frame, ``finish()`` at the end, the same
  for every capability.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from posecoach.core.atomic import atomic_path
from posecoach.core.sequence import PoseSequence
from posecoach.errors import InputError
from posecoach.pose.engine import ProgressFn, load_sequence

#: What `run` takes: a path, a landmark array or a sequence.
Source = str | os.PathLike[str] | np.ndarray | PoseSequence
SOURCE_KINDS = ("a path (a video, an image or a saved pose sequence .npz), a (T, K, C) landmark array "
                "or a PoseSequence")
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")


def load_source(source: Source, *, model: str = "full", fps: float = 30.0, progress: ProgressFn | None = None,
                **engine_options: Any) -> PoseSequence:
    """The `PoseSequence` of ``source``: itself, `PoseSequence.from_landmarks` of an array (``fps``), a saved
    ``.npz`` read, or poses estimated from a video or image (pose ``model``, ``engine_options``)."""
    if isinstance(source, PoseSequence):
        return source
    if isinstance(source, np.ndarray):
        if source.ndim != 3:
            raise InputError(f"a landmark array must be (T, K, C): frames, keypoints, coordinates; "
                             f"this one has shape {source.shape}")
        try:
            return PoseSequence.from_landmarks(source, fps=fps)
        except ValueError as exc:
            raise InputError(f"landmark array of shape {source.shape}: {exc}") from None
    if not isinstance(source, str | os.PathLike):
        raise InputError(f"cannot analyse a {type(source).__name__}: give {SOURCE_KINDS}")
    path = Path(source)
    if path.is_dir():
        raise InputError(f"{path} is a folder: give a video or a saved pose sequence (.npz)")
    if path.suffix.lower() == ".npz":
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        import zipfile

        if not zipfile.is_zipfile(path):
            raise InputError(f"{path}: not a saved pose sequence (the file is not an .npz archive)")
    try:
        return load_sequence(path, model=model, progress=progress, **engine_options)
    except (ValueError, OSError) as exc:
        raise InputError(str(exc) if str(path) in str(exc) else f"{path}: {exc}") from None


def source_path(source: object) -> Path | None:
    """The file ``source`` names (None for an array or a sequence)."""
    return Path(source) if isinstance(source, str | os.PathLike) else None


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (and a final newline when it has none) to ``path`` atomically: the file is either the new
    text or untouched. Its folder must exist; an OSError becomes an `InputError` of one line."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


class Report(Protocol):
    def to_json(self) -> str: ...


R = TypeVar("R", bound=Report)
S = TypeVar("S")


@dataclass
class Result(Generic[R]):
    """What `run` returns: ``report`` (the capability's report object), ``sequence`` (the poses it was made
    from) and ``source`` (the input file; None for an array or a sequence). `save` writes it."""

    report: R
    sequence: PoseSequence
    source: Path | None = None

    def save(self, json: str | os.PathLike[str] | None = None, csv: str | os.PathLike[str] | None = None,
             plot: str | os.PathLike[str] | None = None, overlay: str | os.PathLike[str] | None = None,
             ) -> list[Path]:
        """Write the report as JSON, its CSV table, its chart (.png, .svg or .pdf) and an overlay video (.mp4,
        drawn on the input video); each file atomically, by the report's and the renderers' own code (which say
        which names they take). The folders must exist. Returns the files written, in that order."""
        targets = [Path(t) for t in (json, csv, plot, overlay) if t is not None]
        for target in targets:
            if self.source is not None and target.resolve() == self.source.resolve():
                raise InputError(f"{target} is the input: give the output another name")
        written = []
        if json is not None:
            written.append(write_text(json, self.report.to_json()))
        if csv is not None:
            written.append(write_text(csv, self.csv()))
        if plot is not None:
            written.append(self.plot(Path(plot)))
        if overlay is not None:
            written.append(self.overlay(Path(overlay)))
        return written

    def csv(self) -> str:
        """The report as a CSV table (header row first)."""
        raise InputError(f"a {type(self.report).__name__} has no CSV table")

    def plot(self, out: Path) -> Path:
        """Draw the report's chart to ``out``."""
        raise InputError(f"a {type(self.report).__name__} has no chart")

    def overlay(self, out: Path, **options: Any) -> Path:
        """Draw the report on the input video, written to ``out``."""
        raise InputError(f"a {type(self.report).__name__} has no overlay video")

    def video(self) -> Path:
        """The video the overlay is drawn on: the input file, or (run on a `PoseSequence`) the video its poses
        were estimated from when that file exists; an InputError otherwise (a saved sequence, an image, an array)."""
        from posecoach.io import is_video

        if self.source is not None:
            if self.source.suffix.lower() != ".npz" and is_video(self.source):
                return self.source
            what = "a saved pose sequence" if self.source.suffix.lower() == ".npz" else "not a video"
        else:
            origin = self.sequence.source.get("path") if self.sequence.source else None
            if isinstance(origin, str) and origin and is_video(Path(origin)) and Path(origin).is_file():
                return Path(origin)
            what = "a sequence or an array without its video"
        raise InputError(f"the overlay draws on the video, and the input was {what}: run on the video instead")


@dataclass(frozen=True)
class LiveUpdate(Generic[S]):
    """What a live session says after a frame: ``t`` (seconds), ``state`` (the capability's own state object:
    `LiveState`, `GuidedState`, `FallState` or `PostureState`), a line of ``text`` for a screen, ``alert`` (this
    frame raised something to act on: a form error, a fall) and ``count`` (repetitions so far; None for falls)."""

    t: float
    state: S
    text: str = ""
    alert: bool = False
    count: int | None = None


class LiveSession(ABC, Generic[S]):
    """One stream of frames: ``update(landmarks, t, world=None)`` per frame, ``finish()`` when it ends.

    ``landmarks``: one frame's ``(33, 3|4|5)`` normalised landmarks of the subject (None, NaN or all zeros:
    nobody seen); ``t``: seconds, increasing; ``world``: ``(33, 3)`` metric landmarks when the pose model gives them.
    """

    @abstractmethod
    def update(self, landmarks: np.ndarray | None, t: float, world: np.ndarray | None = None) -> LiveUpdate[S]:
        """Take one frame."""

    @abstractmethod
    def finish(self) -> LiveUpdate[S]:
        """The stream ended: the final state, decided on the whole session where the capability does so."""


def nobody_if_none(landmarks: np.ndarray | None) -> np.ndarray:
    """``landmarks`` as an array; None (nobody seen) as a frame of NaN."""
    return np.full((33, 4), np.nan) if landmarks is None else np.asarray(landmarks, dtype=np.float64)
