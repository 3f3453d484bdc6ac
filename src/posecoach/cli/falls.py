"""`posecoach falls VIDEO [--json out.json] [-o overlay.mp4] [--plot p.png]`: fall events and probabilities.

    posecoach falls hallway.mp4 --json falls.json --plot falls.png -o falls.mp4
    posecoach falls poses.npz --threshold 0.8
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from posecoach.cli.analyze import check_input
from posecoach.cli.common import MAKE_FOLDERS, MKDIR_HELP, MODEL_HELP, out_folders
from posecoach.errors import InputError

out = Console(highlight=False, soft_wrap=True)


def falls(
    input: Annotated[Path, typer.Argument(help="A video or a saved pose sequence (.npz).", show_default=False)],
    json_out: Annotated[Path | None, typer.Option("--json", help="The report as JSON (events and per-frame "
                                                  "probabilities).")] = None,
    overlay: Annotated[Path | None, typer.Option("--output", "-o", help="Overlay video (.mp4): skeleton, fall "
                                                 "probability bar, a banner while a fall is active.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Chart of the fall probability over time with the "
                                              "events marked (.png, .svg or .pdf).")] = None,
    threshold: Annotated[float, typer.Option(min=0.05, max=0.99, help="Smoothed probability that raises an "
                                             "alert.")] = 0.7,
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "full",
    mkdir: Annotated[bool, typer.Option("--mkdir", help=MKDIR_HELP)] = False,
) -> None:
    """Detect falls: events (start, alert, impact, time lying, outcome: got up, still down or not seen since the
    fall) and the per-frame fall probability."""
    from posecoach.solutions.falls import FallDetection

    for target in (json_out, overlay, plot):
        if target is not None and input.exists() and target.resolve() == input.resolve():
            raise InputError(f"{target} is the input: give the output another name")
    if overlay is not None and input.suffix.lower() == ".npz":
        raise InputError("-o/--output draws on the video: give the video, not a saved pose sequence")
    if overlay is not None and overlay.suffix.lower() != ".mp4":
        raise InputError(f"-o/--output {overlay}: the overlay is an .mp4 video")
    MAKE_FOLDERS.set(mkdir)
    out_folders(json_out, overlay, plot)
    check_input(input)
    result = FallDetection(threshold=threshold, model=model, workers=1).run(input)
    report = result.report
    written = result.save(json=json_out, plot=plot, overlay=overlay)  # folders checked (or made) up front
    n = len(report.events)
    found = f"[bold red]{n} fall{'' if n == 1 else 's'}[/]" if n else "no fall"
    out.print(f"[bold]{escape(str(input))}[/]: {report.frames} frames, {report.duration_s:.1f} s; {found}")
    if n:
        from posecoach.analysis.falls.events import OUTCOME_TEXT, UNCONFIRMED_TEXT

        table = Table("#", "start", "alert", "impact", "end", "lying", "outcome", "confidence")
        for e in report.events:
            table.add_row(str(e.index), f"{e.start_s:.2f} s", f"{e.alert_s:.2f} s", f"{e.impact_s:.2f} s",
                          f"{e.end_s:.2f} s", f"{e.lying_s:.1f} s", OUTCOME_TEXT[e.outcome]
                          + (f" (last seen {e.seen_s:.2f} s)" if e.outcome == "lost" and e.seen_s is not None else "")
                          + ("" if e.confirmed else UNCONFIRMED_TEXT),
                          f"{e.confidence:.2f}")
        out.print(table, soft_wrap=False)
    for path in written:
        out.print(f"  wrote {escape(str(path))}")


def register(app: typer.Typer) -> None:
    app.command("falls")(falls)
