"""`compare` at the edge: a guide and an attempt given as sequences, saved sequences (.npz), videos or (the guide)
a library name, into `posecoach.analysis.compare.compare_sequences`."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from posecoach.analysis.compare import Guide, Matched, match_sequences
from posecoach.analysis.compare.guide import NAME_PATTERN
from posecoach.core.sequence import PoseSequence
from posecoach.errors import InputError
from posecoach.references import ReferenceLibrary
from posecoach.reports.comparison_report import ComparisonReport

Input = str | Path | PoseSequence


def load_input(value: Input, *, model: str = "full", **engine_options: Any) -> PoseSequence:
    """A sequence from a `PoseSequence`, a saved ``.npz`` or a video / image (poses estimated)."""
    from posecoach.pose.engine import load_sequence

    if isinstance(value, PoseSequence):
        return value
    path = Path(value)
    if path.is_dir():
        raise InputError(f"{path} is a folder: give a video or a saved pose sequence (.npz)")
    if path.suffix.lower() == ".npz":
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        if not zipfile.is_zipfile(path):
            raise InputError(f"{path}: not a saved pose sequence (the file is not an .npz archive)")
    try:
        return load_sequence(path, model=model, **engine_options)
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: {exc}") from None


def load_reference(value: Input, *, library: str | Path | None = None, model: str = "full",
                   **engine_options: Any) -> tuple[PoseSequence, Guide | None]:
    """The guide's sequence and description: a file (no description) or a library name."""
    if isinstance(value, PoseSequence):
        return value, None
    text = str(value)
    if not Path(text).exists() and re.match(NAME_PATTERN, text) and Path(text).suffix.lower() not in (
            ".npz", ".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"):
        ref = ReferenceLibrary(library).get(text)
        return ref.sequence, ref.guide
    return load_input(value, model=model, **engine_options), None


def compare(reference: Input, attempt: Input, *, library: str | Path | None = None, guide: Guide | None = None,
            mirror: bool | None = None, band: float | None = None, model: str = "full",
            **engine_options: Any) -> ComparisonReport:
    """Compare ``attempt`` with ``reference``; see `compare_detailed`."""
    return compare_detailed(reference, attempt, library=library, guide=guide, mirror=mirror, band=band,
                            model=model, **engine_options)[0]


def compare_detailed(reference: Input, attempt: Input, *, library: str | Path | None = None,
                     guide: Guide | None = None, mirror: bool | None = None, band: float | None = None,
                     model: str = "full", **engine_options: Any,
                     ) -> tuple[ComparisonReport, Matched, PoseSequence, PoseSequence]:
    """Compare ``attempt`` with ``reference`` (a library name, a video, a saved sequence or a `PoseSequence`).

    ``guide`` overrides the library's description (joints that matter, repetitions); ``mirror``: None tries both
    sides, True / False forces it; ``band``: DTW band as a share of the longer sequence (default 0.2).
    """
    ref_seq, stored = load_reference(reference, library=library, model=model, **engine_options)
    att_seq = load_input(attempt, model=model, **engine_options)
    options: dict[str, Any] = {} if band is None else {"band": band}
    report, matched = match_sequences(ref_seq, att_seq, guide=guide or stored, mirror=mirror, **options)
    return report, matched, ref_seq, att_seq
