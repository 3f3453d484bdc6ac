"""Reports as CSV tables for spreadsheets: an analysis per repetition, falls and postures per frame.

Each function returns the CSV text (header row first); the service stores it as a job's ``csv`` result.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from posecoach.reports.analysis_report import AnalysisReport
from posecoach.reports.fall_report import FallReport
from posecoach.reports.posture_report import PostureReport


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _num(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def reps_csv(report: AnalysisReport) -> str:
    """One row per repetition: timing, range of motion and the form errors found in it.

    The range is the report's (degrees, or centimetres estimated: ``rom_estimated``); ``lowering_s`` and
    ``lifting_s`` come from the exercise's phases (``eccentric_s`` / ``concentric_s`` are kept, deprecated)."""
    header = ["rep", "start_s", "turn_s", "end_s", "duration_s", "eccentric_s", "concentric_s", "rom", "rom_unit",
              "view", "errors", "error_rules", "lowering_s", "lifting_s", "phases", "rom_estimated"]
    rows = ([r.index, _num(r.start_s), _num(r.turn_s), _num(r.end_s), _num(r.duration_s), _num(r.eccentric_s),
             _num(r.concentric_s), _num(r.rom), r.rom_unit, r.view, len(r.errors), ";".join(e.rule for e in r.errors),
             _num(r.lowering_s), _num(r.lifting_s), ";".join(f"{ph.name} ({ph.direction})" for ph in r.phases),
             int(r.rom_estimated)]
            for r in report.reps.items)
    return _csv(header, rows)


def falls_csv(report: FallReport) -> str:
    """One row per frame: the fall probability, its smoothed value and the fall event (1-based) it is part of."""
    event = [0] * report.frames
    for e in report.events:
        for i in range(max(e.start_frame, 0), min(e.end_frame + 1, report.frames)):
            event[i] = e.index
    rows = ([i, _num(t), _num(p), _num(sm), event[i] or ""]
            for i, (t, p, sm) in enumerate(zip(report.times_s, report.probabilities, report.smoothed, strict=False)))
    return _csv(["frame", "time_s", "probability", "smoothed", "fall"], rows)


def postures_csv(report: PostureReport) -> str:
    """One row per frame: the steady posture, the raw per-frame one and each posture's probability."""
    classes = report.classifier.classes
    rows = ([f.frame, _num(f.time_s), f.posture, f.raw, *(_num(f.probabilities.get(c)) for c in classes)]
            for f in report.per_frame)
    return _csv(["frame", "time_s", "posture", "raw", *(f"p_{c}" for c in classes)], rows)
