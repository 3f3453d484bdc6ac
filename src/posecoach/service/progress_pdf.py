"""A patient's progress report as PDF (issue 28): adherence to a home exercise programme over a period, with
charts (matplotlib) laid out by ReportLab: sessions per week against the prescription, the score and the range of
motion of each exercise over time, and the tables behind them (the figures of `posecoach.service.adherence`).

Pure but for the file it writes (atomically: a failed report leaves nothing behind).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from posecoach.core.atomic import atomic_path
from posecoach.service.adherence import Adherence, ExerciseAdherence, Session, Week

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CHART_WIDTH_CM, CHART_HEIGHT_CM = 16.0, 5.2


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last

    @property
    def text(self) -> str:
        return f"{self.first.isoformat()} to {self.last.isoformat()}"


def _fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    return "–" if value is None else f"{value:.{digits}f}{unit}"


def _chart(draw: Callable[[Axes], None]) -> io.BytesIO:
    """A matplotlib figure drawn by ``draw(ax)`` as a PNG in memory (the Agg backend: no display needed)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(CHART_WIDTH_CM / 2.54, CHART_HEIGHT_CM / 2.54), dpi=150, layout="constrained")
    ax = fig.add_subplot()
    draw(ax)
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    buf.seek(0)
    return buf


def _weeks_in(adh: Adherence, period: Period) -> list[Week]:
    """The weeks (Monday to Sunday) that overlap the period."""
    return [w for w in adh.weeks if period.first.toordinal() - 6 <= w.start.toordinal() <= period.last.toordinal()]


def _weeks_chart(adh: Adherence, period: Period) -> io.BytesIO | None:
    weeks = _weeks_in(adh, period)
    if not weeks:
        return None

    def draw(ax: Axes) -> None:
        x = range(len(weeks))
        ax.bar([i - 0.2 for i in x], [w.prescribed for w in weeks], 0.4, label="prescribed", color="#c7d2fe")
        ax.bar([i + 0.2 for i in x], [w.done for w in weeks], 0.4, label="done", color="#2563eb")
        ax.set_xticks(list(x), [w.start.strftime("%d %b") for w in weeks], fontsize=7)
        ax.set_ylabel("sessions")
        ax.set_title("Sessions per week (weeks starting on Monday)", fontsize=9)
        ax.legend(fontsize=7)
    return _chart(draw)


def _series_chart(exercises: Sequence[ExerciseAdherence], period: Period, what: str) -> io.BytesIO | None:
    """Score (``what`` = "score") or range of motion ("rom_deg") of each exercise over time, one line each."""
    series = {e.item.guide_name: [(p.day, getattr(p, what)) for p in e.points
                                  if p.day in period and getattr(p, what) is not None] for e in exercises}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None

    def draw(ax: Axes) -> None:
        for name, points in series.items():
            ax.plot([d for d, _ in points], [v for _, v in points], marker="o", label=name)
        if what == "score":
            ax.set_ylim(0, 100)
            ax.set_ylabel("score (0-100)")
            ax.set_title("Score against the guide per session (80 and more: as the guide)", fontsize=9)
        else:
            ax.set_ylabel("degrees")
            ax.set_title("Range of motion per session", fontsize=9)
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        days = [d for points in series.values() for d, _ in points]  # the sessions' days, at least a week shown
        pad = timedelta(days=max(1, (7 - (max(days) - min(days)).days + 1) // 2))
        ax.set_xlim(min(days) - pad, max(days) + pad)
        locator = AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        ax.tick_params(axis="x", labelsize=7)
        ax.legend(fontsize=7)
    return _chart(draw)


def write_progress_pdf(path: str | Path, *, patient: str, programme: str, period: Period, adherence: Adherence,
                       sessions: Sequence[Session], made_on: date, clinician: str | None = None) -> Path:
    """Write the progress report of ``patient`` on ``programme`` over ``period`` to ``path`` (atomically)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("FONTSIZE", (0, 0), (-1, -1), 8),
                       ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb"))])

    def table(rows: list[list[str]]) -> Table:
        t = Table(rows, repeatRows=1, hAlign="LEFT")
        t.setStyle(grid)
        return t

    in_period = sorted((s for s in sessions if s.day in period), key=lambda s: (s.day, s.order))
    rate = "–" if adherence.rate is None else f"{adherence.rate * 100:.0f} %"
    story: list[object] = [
        Paragraph(f"Progress report: {patient}", styles["Title"]),
        Paragraph(f"Programme: {programme}", styles["Heading2"]),
        Paragraph(f"Period: {period.text}. Made on {made_on.isoformat()} by PoseCoach"
                  + (f" for {clinician}" if clinician else "") + ".", styles["Normal"]),
        Spacer(1, 0.3 * cm),
        Paragraph(f"Sessions done: {adherence.done} of {adherence.prescribed} prescribed to date "
                  f"(adherence {rate}); {len(in_period)} session(s) recorded in the period.", styles["Normal"]),
        Spacer(1, 0.3 * cm),
    ]
    for chart in (_weeks_chart(adherence, period), _series_chart(adherence.exercises, period, "score"),
                  _series_chart(adherence.exercises, period, "rom_deg")):
        if chart is not None:
            story += [Image(chart, width=CHART_WIDTH_CM * cm, height=CHART_HEIGHT_CM * cm), Spacer(1, 0.2 * cm)]
    story += [Paragraph("Exercises", styles["Heading2"]), table(
        [["Exercise", "Prescribed", "Done", "Completion", "Mean score", "Mean range"]]
        + [[e.item.guide_name + ("" if e.current else " (no longer prescribed)"), str(e.prescribed), str(e.done),
            "–" if e.completion is None else f"{e.completion * 100:.0f} %", _fmt(e.mean_score),
            _fmt(e.mean_rom_deg, 0, " deg")] for e in adherence.exercises])]
    story += [Paragraph("Weeks", styles["Heading2"]), table(
        [["Week of", "Prescribed", "Expected to date", "Done", "Complete"]]
        + [[w.start.isoformat(), str(w.prescribed), str(w.expected), str(w.done), str(w.complete)]
           for w in _weeks_in(adherence, period)])]
    story += [Paragraph("Sessions", styles["Heading2"]), table(
        [["Day", "Complete", "Pain (0-10)", "Difficulty (1-5)", "Exercises done"]]
        + [[s.day.isoformat(), "yes" if s.complete else "incomplete", _fmt(s.pain), _fmt(s.difficulty),
            str(sum(1 for d in s.exercises if d.did))] for s in in_period]) if in_period
        else Paragraph("No session was recorded in this period.", styles["Normal"])]
    with atomic_path(path) as tmp:
        SimpleDocTemplate(str(tmp), pagesize=A4, title=f"Progress report: {patient}", author="PoseCoach",
                          leftMargin=2 * cm, rightMargin=2 * cm, topMargin=1.8 * cm, bottomMargin=1.8 * cm
                          ).build(story)
    return Path(path)
