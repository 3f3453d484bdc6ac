"""A static chart of an analysis: the driving signals over time, the repetitions and where form rules broke.

Drawn with matplotlib's object API on an Agg canvas (no pyplot, no display, no global state), so it is safe
in worker threads and on servers. The file is written atomically.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.core.atomic import atomic_path
from posecoach.features.display import TYPICAL_TORSO_M, display_series, display_unit
from posecoach.render.analysis_overlay import report_errors
from posecoach.reports.analysis_report import AnalysisReport

#: Angle signals shown beside the counting signal when they move a lot.
RELATED_SIGNALS: tuple[str, ...] = ("knee", "hip", "elbow", "shoulder", "trunk_incline")
MIN_RELATED_RANGE = 15.0  # degrees
MAX_RELATED = 3
SEVERITY_COLORS: dict[str, str] = {"error": "#d62728", "warning": "#ff7f0e", "info": "#bcbd22"}
REP_COLORS = ("#1f77b4", "#2ca02c")
_HATCHES = ("", "//", "\\\\", "xx", "..", "--")
_UNIT_LABELS = {"deg": "angle (deg)", "cm": "cm above the lowest point (estimated)"}
_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def _span(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max() - finite.min()) if finite.size else 0.0


def shown_series(report: AnalysisReport, name: str, values: np.ndarray) -> np.ndarray:
    """``values`` of signal ``name`` as the chart (and the web page's chart) shows them: angles in degrees as
    they are; lengths in estimated centimetres above their lowest point in the clip (never below zero), so a
    repetition's height on the chart is the range the table gives."""
    values = np.asarray(values, dtype=float).reshape(-1)
    if display_unit(name) != "cm":
        return values
    cm = display_series(name, values, report.input.torso_m or TYPICAL_TORSO_M)
    finite = cm[np.isfinite(cm)]
    return cm - finite.min() if finite.size else cm


def default_signal_names(report: AnalysisReport, signals: Mapping[str, np.ndarray]) -> list[str]:
    """The counting signal, then up to `MAX_RELATED` angle signals that move at least `MIN_RELATED_RANGE`."""
    names = [report.reps.signal] if report.reps.signal and report.reps.signal in signals else []
    related = [(n, _span(np.asarray(signals[n], dtype=float))) for n in RELATED_SIGNALS
               if n in signals and n not in names]
    related = sorted((r for r in related if r[1] >= MIN_RELATED_RANGE), key=lambda r: -r[1])
    return names + [n for n, _ in related[:MAX_RELATED]]


def _title(report: AnalysisReport) -> str:
    ex = report.exercise
    if ex.kind == "hold" and report.hold is not None:
        what = f"hold {report.hold.seconds:.1f} s"
    else:
        n = report.reps.count
        what = f"{n} rep" if n == 1 else f"{n} reps"
        if report.reps.partial:
            what += f" (+{report.reps.partial} partial)"
    return f"{ex.title}: {what}, {ex.view} view"


class _Timeline:
    """Frame numbers to seconds (frame spans widened by half a frame each side)."""

    def __init__(self, times: np.ndarray) -> None:
        self.times = times
        steps = np.diff(times)
        steps = steps[np.isfinite(steps) & (steps > 0)]
        self.half = float(np.median(steps)) / 2 if steps.size else 0.5

    def at(self, frame: int) -> float:
        return float(self.times[int(np.clip(frame, 0, len(self.times) - 1))])

    def span(self, first: int, last: int) -> tuple[float, float]:
        return self.at(first) - self.half, self.at(last) + self.half


def _draw_reps(ax: Any, report: AnalysisReport, tl: _Timeline, counting: np.ndarray | None,
               counting_ax: Any) -> list[Any]:
    """Shade each repetition (number on top) and mark its turning point (on the counting signal too)."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    for k, rep in enumerate(report.reps.items):
        t0, t1 = tl.span(rep.start_frame, rep.end_frame)
        colour = REP_COLORS[k % len(REP_COLORS)]
        ax.axvspan(t0, t1, color=colour, alpha=0.08, lw=0, zorder=0)
        ax.text((t0 + t1) / 2, 0.98, str(rep.index), transform=ax.get_xaxis_transform(), ha="center", va="top",
                fontsize=9, fontweight="bold", color=colour)
        turn = tl.at(rep.turn_frame)
        ax.axvline(turn, color="0.35", lw=0.8, ls=":", zorder=1)
        if counting is not None and 0 <= rep.turn_frame < len(counting) and np.isfinite(counting[rep.turn_frame]):
            counting_ax.plot([turn], [counting[rep.turn_frame]], marker="v", color="0.15", ms=6, ls="none", zorder=4)
    if not report.reps.items:
        return []
    return [Patch(color=REP_COLORS[0], alpha=0.2, label="repetition"),
            Line2D([], [], color="0.35", lw=0.8, ls=":", marker="v", label="turning point")]


def _draw_errors(ax: Any, report: AnalysisReport, tl: _Timeline) -> list[Any]:
    """Shade the frames of each error (colour by severity, hatch per rule); one legend entry per rule."""
    from matplotlib.patches import Patch

    styles: dict[str, tuple[str, str]] = {}  # rule -> (colour, hatch)
    handles: list[Any] = []
    per_severity: dict[str, int] = {}
    for err in report_errors(report):
        if err.rule not in styles:
            colour = SEVERITY_COLORS.get(err.severity, SEVERITY_COLORS["info"])
            k = per_severity[err.severity] = per_severity.get(err.severity, -1) + 1
            styles[err.rule] = colour, _HATCHES[k % len(_HATCHES)]
            handles.append(Patch(facecolor=colour, alpha=0.3, hatch=styles[err.rule][1], edgecolor=colour,
                                 label=f"{err.title} ({err.severity})"))
        colour, hatch = styles[err.rule]
        for first, last in err.frames:
            t0, t1 = tl.span(first, last)
            ax.axvspan(t0, t1, facecolor=colour, alpha=0.22, hatch=hatch, edgecolor=colour, lw=0, zorder=0.5)
    return handles


def plot_analysis(report: AnalysisReport, signals: Mapping[str, np.ndarray], times: np.ndarray, out: str | Path,
                  *, signal_names: Sequence[str] | None = None) -> Path:
    """Write a chart of ``report`` (PNG, or SVG / PDF by ``out``'s suffix) and return its path.

    ``signals``: ``{name: (T,) array}`` (e.g. `sequence_signals`), ``times``: ``(T,)`` seconds of each frame.
    ``signal_names``: the signals to draw (default: `default_signal_names`). Degrees go on the left axis,
    lengths (estimated centimetres, `shown_series`) on the left too when there are no angles, else on a second
    axis on the right.
    """
    from matplotlib.figure import Figure

    out = Path(out)
    times = np.asarray(times, dtype=float).reshape(-1)
    names = list(signal_names) if signal_names is not None else default_signal_names(report, signals)
    names = [n for n in names if n in signals]
    series = {n: shown_series(report, n, signals[n])[:len(times)] for n in names}
    units = {n: display_unit(n) for n in names}

    fig = Figure(figsize=(11, 4.8), dpi=110, layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlabel("time (s)")
    ax.set_title(_title(report), fontsize=11)
    main_unit = "deg" if "deg" in units.values() or not units else "cm"
    axes = {main_unit: ax}
    if len(set(units.values())) > 1:
        axes["cm"] = ax.twinx()
    ax.set_ylabel(_UNIT_LABELS.get(main_unit, main_unit))
    if "cm" in axes and axes["cm"] is not ax:
        axes["cm"].set_ylabel(_UNIT_LABELS["cm"])

    handles: list[Any] = []
    colours = iter(["#000000", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"] * 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for n, values in series.items():
            target = axes[units[n]]
            is_counting = n == report.reps.signal
            label = f"{n} (counting)" if is_counting else n
            (line,) = target.plot(times[:len(values)], values, color=next(colours), lw=1.8 if is_counting else 1.1,
                                  ls="-" if units[n] == main_unit else "--", label=label, zorder=3)
            handles.append(line)
    if np.isfinite(times).any():
        ax.set_xlim(float(np.nanmin(times)), float(np.nanmax(times)) + 1e-6)
    if not series or not any(np.isfinite(v).any() for v in series.values()):
        ax.text(0.5, 0.5, "no signal to show", transform=ax.transAxes, ha="center", va="center", color="0.5")
    if len(times):
        tl = _Timeline(times)
        sig = report.reps.signal or ""
        counting = series.get(sig)
        counting_ax = axes[units[sig]] if counting is not None else ax
        handles += _draw_reps(ax, report, tl, counting, counting_ax)
        handles += _draw_errors(ax, report, tl)
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(4, len(handles)),
                  fontsize=8, frameon=False)
    ax.grid(True, alpha=0.25)
    fmt = _FORMATS.get(out.suffix.lower(), "png")
    with atomic_path(out) as tmp:
        fig.savefig(tmp, format=fmt)
    return out
