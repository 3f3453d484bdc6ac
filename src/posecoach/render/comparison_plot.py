"""A chart of the aligned joint-angle curves: the attempt against the guide frame it was matched with.

Drawn with matplotlib's object API on an Agg canvas (no pyplot); written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from posecoach.analysis.compare import Matched
from posecoach.analysis.compare.features import SCORED_ANGLES
from posecoach.core.atomic import atomic_path
from posecoach.reports.comparison_report import ComparisonReport

_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def plotted_joints(report: ComparisonReport, limit: int = 4) -> list[str]:
    """The joints named in the deviations first, then the most weighted ones."""
    names = [d.joint for d in report.deviations]
    names += [j.name for j in sorted(report.joints, key=lambda j: -j.weight) if j.score is not None]
    return list(dict.fromkeys(names))[:limit]


def plot_comparison(report: ComparisonReport, matched: Matched, times: np.ndarray, out: str | Path,
                    joints: list[str] | None = None) -> Path:
    """Write the chart (PNG, or SVG / PDF by suffix) of ``joints`` (default `plotted_joints`) over the attempt's
    ``times`` (seconds); returns its path."""
    from matplotlib.figure import Figure

    out = Path(out)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot write a chart to {out.name}: name it .png, .svg or .pdf")
    names = joints or plotted_joints(report)
    t = np.asarray(times, dtype=float) - float(times[0]) if len(times) else np.zeros(0)
    fig = Figure(figsize=(11, 1.2 + 2.0 * max(len(names), 1)), dpi=100, layout="constrained")
    axes = fig.subplots(max(len(names), 1), 1, sharex=True, squeeze=False)[:, 0]
    scores = {j.name: j.score for j in report.joints}
    for ax, name in zip(axes, names, strict=False):
        j = SCORED_ANGLES.index(name)
        ax.plot(t, matched.guide_angles[matched.guide_frame, j], color="#2ca02c", lw=1.6, label="guide (aligned)")
        ax.plot(t, matched.attempt_angles[:, j], color="#1f77b4", lw=1.3, label="attempt")
        s = scores.get(name)
        ax.set_ylabel(f"{name.replace('_', ' ')}\n(deg)", fontsize=8)
        ax.set_title(f"{name.replace('_', ' ')}: {s:.0f}/100" if s is not None else name, fontsize=9, loc="left")
        for r in report.reps:
            ax.axvspan(r.start_s, r.end_s, color="0.92" if r.index % 2 else "0.85", zorder=0)
    axes[0].legend(loc="upper right", fontsize=8, frameon=False)
    axes[-1].set_xlabel("attempt time (s)")
    score = f"{report.score:.0f}/100" if report.score is not None else "n/a"
    fig.suptitle(f"Attempt against the guide: score {score}" + (" (mirrored)" if matched.mirrored else ""),
                 fontsize=11)
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt)
    return out
