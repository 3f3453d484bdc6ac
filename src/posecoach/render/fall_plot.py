"""A chart of a `FallReport`: the per-frame fall probability (raw and smoothed) over time, the alert
threshold, and each fall event as a band from start to end with its alert and impact marked.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no global state); written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posecoach.core.atomic import atomic_path
from posecoach.reports.fall_report import FallReport

_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def plot_falls(report: FallReport, out: str | Path) -> Path:
    """Write the chart (PNG, or SVG / PDF by ``out``'s suffix) and return its path."""
    from matplotlib.figure import Figure

    out = Path(out)
    t = np.array(report.times_s, dtype=float)
    fig = Figure(figsize=(11, 3.8), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.plot(t, report.probabilities, color="0.65", lw=0.9, label="per frame")
    ax.plot(t, report.smoothed, color="#d62728", lw=1.6, label=f"smoothed ({report.detector.smoothing_s:g} s)")
    ax.axhline(report.detector.threshold, color="0.4", lw=0.8, ls="--", label="alert threshold")
    for ev in report.events:
        ax.axvspan(ev.start_s, ev.end_s, color="#ff7f0e", alpha=0.18, lw=0)
        ax.axvline(ev.alert_s, color="#d62728", lw=1.0, ls=":")
        ax.text(ev.alert_s, 1.03, f"fall {ev.index} ({ev.confidence:.2f})", fontsize=8, color="#d62728")
        ax.plot([ev.impact_s], [report.detector.threshold], marker="v", color="k", ms=6)
    n = len(report.events)
    ax.set_title(f"{report.input or 'sequence'}: {n} fall{'' if n == 1 else 's'}", fontsize=10)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("fall probability")
    ax.set_ylim(-0.02, 1.12)
    if len(t):
        ax.set_xlim(float(t[0]), float(t[-1]))
    else:
        ax.text(0.5, 0.5, "no frames", transform=ax.transAxes, ha="center", color="0.5")
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.grid(True, alpha=0.25)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=_FORMATS.get(out.suffix.lower(), "png"))
    return out
