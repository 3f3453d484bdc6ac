"""`posecoach compare` (an attempt against a guide) and `posecoach reference add | list | show | remove` (the
library of guides)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from posecoach.cli.common import MAKE_FOLDERS, MKDIR_HELP, MODEL_HELP, make_folder, progress_bar
from posecoach.errors import InputError

if TYPE_CHECKING:
    from posecoach.reports.comparison_report import ComparisonReport

LIBRARY_HELP = "Library folder (default: $POSECOACH_HOME/references or ~/.local/share/posecoach/references)."
reference_app = typer.Typer(help="The library of guide movements: add, list, show, remove.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)


def _check_model(model: str) -> None:
    from posecoach.pose import models

    if model not in models.MODEL_NAMES:
        raise InputError(f"unknown pose model {model!r}; choose one of: {', '.join(models.MODEL_NAMES)}")


def compare(
    reference: Annotated[str, typer.Argument(help="The guide: a library name, a video or a saved sequence (.npz).",
                                             show_default=False)],
    attempt: Annotated[Path, typer.Argument(help="The attempt: a video or a saved sequence (.npz).",
                                            show_default=False)],
    json_out: Annotated[Path | None, typer.Option("--json", help="The report as JSON.")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Side-by-side video (.mp4): the aligned "
                                                "guide's frames beside the attempt's, joints off in red.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Aligned joint-angle curves (.png, .svg, .pdf).")] = None,
    mirror: Annotated[str, typer.Option(help="auto: also try the movement on the other side; yes / no: force.")
                      ] = "auto",
    library: Annotated[Path | None, typer.Option(help=LIBRARY_HELP)] = None,
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "full",
    mkdir: Annotated[bool, typer.Option("--mkdir", help=MKDIR_HELP)] = False,
) -> None:
    """Compare a movement with a guide: a 0-100 score overall, per joint, repetition and phase, and what to change."""
    from posecoach.solutions.comparison import Comparison

    MAKE_FOLDERS.set(mkdir)
    _check_model(model)
    modes = {"auto": None, "yes": True, "no": False}
    if mirror not in modes:
        raise InputError(f"--mirror must be auto, yes or no, not {mirror!r}")
    if output is not None and output.suffix.lower() not in (".mp4", ".m4v", ".mov", ".mkv"):
        raise InputError(f"cannot write a video to {output.name}: name it .mp4")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise InputError(f"cannot write a chart to {plot.name}: name it .png, .svg or .pdf")
    for target in (json_out, output, plot):
        if target is not None:
            if target.resolve() in (attempt.resolve(), Path(reference).resolve()):
                raise InputError(f"{target} is an input: give the output another name")
            make_folder(target.parent)
    with progress_bar() as bar:
        bar.add_task("comparing", total=None, rate="")
        result = Comparison(reference, library=library, mirror=modes[mirror], model=model).run(attempt)
    written = result.save(json=json_out, plot=plot, overlay=output)  # the side by side on their real frames
    _summary(result.report, written)


def _summary(report: ComparisonReport, written: list[Path]) -> None:
    for line in report.summary:
        out.print(escape(line))
    table = Table("joint", "score", "mean diff", "weight")
    for j in sorted(report.joints, key=lambda j: -j.weight):
        if j.score is not None:
            table.add_row(j.name + (" *" if j.key else ""), f"{j.score:.0f}", f"{j.mean_diff_deg:+.0f}°",
                          f"{j.weight:.0%}")
    out.print(table, soft_wrap=False)
    if report.reps:
        reps = Table("rep", "start", "end", "score", "tempo")
        for r in report.reps:
            reps.add_row(str(r.index), f"{r.start_s:.1f} s", f"{r.end_s:.1f} s",
                         "-" if r.score is None else f"{r.score:.0f}", f"{r.tempo_ratio:.2f}x")
        out.print(reps, soft_wrap=False)
    for p in written:
        out.print(f"  wrote {escape(str(p))}")


@reference_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Library name (letters, digits, '_', '-', '.').", show_default=False)],
    source: Annotated[Path, typer.Argument(help="The guide video or saved sequence (.npz).", show_default=False)],
    description: Annotated[str, typer.Option(help="What the exercise is, for the patient.")] = "",
    joints: Annotated[str, typer.Option(help="Joints that matter, comma-separated (e.g. left_knee, right_knee).")
                      ] = "",
    reps: Annotated[int | None, typer.Option(min=1, help="Repetitions the guide shows (1: one to repeat).")] = None,
    target_reps: Annotated[int | None, typer.Option(min=1, help="Repetitions the patient should do.")] = None,
    hold: Annotated[float | None, typer.Option(min=0, help="Seconds to hold the end position.")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a guide of that name.")] = False,
    library: Annotated[Path | None, typer.Option(help=LIBRARY_HELP)] = None,
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "full",
) -> None:
    """Process a guide video once and store it with its description."""
    from posecoach.comparison import load_input
    from posecoach.references import ReferenceLibrary, make_guide

    _check_model(model)
    guide = make_guide(name, description=description, joints=[j.strip() for j in joints.split(",") if j.strip()],
                       reps=reps, target_reps=target_reps, hold_s=hold)
    lib = ReferenceLibrary(library)
    if name in lib and not overwrite:
        raise InputError(f"a guide called {name!r} is already in {lib.root} (use --overwrite to replace it)")
    with progress_bar() as bar:
        bar.add_task(f"poses   {source.name}", total=None, rate="")
        seq = load_input(source, model=model)
    lib.add(guide, seq, overwrite=overwrite)
    out.print(f"added {escape(name)} ({seq.num_frames} frames, {seq.duration:.1f} s) to {escape(str(lib.root))}")


@reference_app.command("list")
def list_(library: Annotated[Path | None, typer.Option(help=LIBRARY_HELP)] = None) -> None:
    """The guides in the library."""
    from posecoach.references import ReferenceLibrary

    lib = ReferenceLibrary(library)
    names = lib.names()
    if not names:
        out.print(f"no guides in {escape(str(lib.root))}")
        return
    table = Table("name", "reps", "joints", "description")
    for n in names:
        g = lib.guide(n)
        table.add_row(escape(n), str(g.reps or "-"), ", ".join(g.joints) or "-", escape(g.description))
    out.print(table, soft_wrap=False)


@reference_app.command("show")
def show(name: Annotated[str, typer.Argument(show_default=False)],
         library: Annotated[Path | None, typer.Option(help=LIBRARY_HELP)] = None) -> None:
    """A guide's description and sequence (as JSON)."""
    import json

    from posecoach.references import ReferenceLibrary

    ref = ReferenceLibrary(library).get(name)
    seq = ref.sequence
    info = {**ref.guide.model_dump(), "frames": seq.num_frames, "fps": round(seq.fps, 4),
            "duration_s": round(seq.duration, 3), "source": seq.source.get("path")}
    typer.echo(json.dumps(info, indent=2))


@reference_app.command("remove")
def remove(name: Annotated[str, typer.Argument(show_default=False)],
           library: Annotated[Path | None, typer.Option(help=LIBRARY_HELP)] = None) -> None:
    """Remove a guide from the library."""
    from posecoach.references import ReferenceLibrary

    ReferenceLibrary(library).remove(name)
    out.print(f"removed {escape(name)}")


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
    app.add_typer(reference_app, name="reference")
