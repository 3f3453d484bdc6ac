"""A chart of a `PostureReport`: each posture's (smoothed) probability over time, the steady posture as coloured
bands, and the repetitions counted between two postures.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global state); written atomically. Needs the
report's per-frame data (``per_frame=True``, the default of `classify_postures`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posecoach.core.atomic import atomic_path
from posecoach.reports.posture_report import PostureReport

_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
            "#17becf")
_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def plot_postures(report: PostureReport, out: str | Path) -> Path:
    """Write the chart (PNG, or SVG / PDF by ``out``'s suffix) and return its path."""
    from matplotlib.figure import Figure

    out = Path(out)
    classes = report.classifier.classes
    colour = {c: _COLOURS[i % len(_COLOURS)] for i, c in enumerate(classes)}
    t = np.array([f.time_s for f in report.per_frame], dtype=float)
    fig = Figure(figsize=(11, 4.2), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    for c in classes:
        p = np.array([f.probabilities.get(c, np.nan) for f in report.per_frame], dtype=float)
        ax.plot(t, p, color=colour[c], lw=1.4, label=c, zorder=3)
    step = 1.0 / report.fps if report.fps else 0.0
    for seg in report.segments:
        ax.axvspan(seg.start_s, seg.end_s + step, ymin=0.0, ymax=0.06, color=colour[seg.posture], lw=0, alpha=0.9)
    if report.repetitions is not None:
        for rep in report.repetitions.items:
            ax.axvline(rep.end_s, color="0.3", lw=0.8, ls=":", zorder=2)
            ax.text(rep.end_s, 1.02, str(rep.index), ha="center", va="bottom", fontsize=7, color="0.3")
    for level, name in ((report.smoothing.get("enter"), "enter"), (report.smoothing.get("exit"), "exit")):
        if level is not None:
            ax.axhline(level, color="0.6", lw=0.7, ls="--", zorder=1)
            ax.text(t[-1] if len(t) else 0.0, level, f" {name}", va="center", fontsize=7, color="0.5")
    reps = f", {report.repetitions.count} repetitions" if report.repetitions is not None else ""
    ax.set_title(f"{report.input or 'sequence'}: {report.overall or 'no pose'}{reps}", fontsize=10)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("probability" + (" (smoothed)" if report.smoothing else ""))
    ax.set_ylim(-0.02, 1.08)
    if len(t):
        ax.set_xlim(float(t[0]), float(t[-1]) + step)
    else:
        ax.text(0.5, 0.5, "no frames", transform=ax.transAxes, ha="center", color="0.5")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(6, max(1, len(classes))), fontsize=8,
              frameon=False)
    ax.grid(True, alpha=0.25)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=_FORMATS.get(out.suffix.lower(), "png"))
    return out
