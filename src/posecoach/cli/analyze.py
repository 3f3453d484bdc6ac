"""`posecoach analyze`: exercise, repetitions and form errors for one video (or saved pose sequence) or many.

One input: a summary on the terminal, the report as JSON (--json), an overlay video (-o) and a chart (--plot).
Several inputs: analysed in parallel (one process per core, each estimating poses with one worker), one JSON
report per input in --json-dir and one table row per input; a failing input fails its row only (exit status 1).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from posecoach.cli.common import (
    MAKE_FOLDERS,
    MKDIR_HELP,
    MODEL_HELP,
    make_folder,
    out_folders,
    progress_bar,
    stage,
    write_text,
)
from posecoach.errors import InputError, PoseCoachError

if TYPE_CHECKING:
    from posecoach.core.sequence import PoseSequence
    from posecoach.pose.engine import PoseEngine
    from posecoach.reports.analysis_report import AnalysisReport

ProgressFn = Callable[[int, int], None]
console = Console(stderr=True, highlight=False)
EXERCISE_HELP = "The exercise: a catalogue name or alias, or auto to recognise it."


@dataclass(frozen=True)
class Outcome:
    """One input's result as a worker sends it back: the report's JSON and its gist, or why it failed."""

    report_json: str | None = None
    exercise: str = ""
    amount: str = ""
    errors: int = 0
    failure: str | None = None
    warnings: int = 0


def _is_npz(path: Path) -> bool:
    return path.suffix.lower() == ".npz"


def _exercise_name(exercise: str) -> str | None:
    """None for auto, else the catalogue name (an InputError listing the known names when unknown)."""
    from posecoach.analysis.exercises import get_exercise

    return None if exercise.strip().lower() in ("auto", "") else get_exercise(exercise).name


def check_input(path: Path) -> None:
    """The commands' checks of an input file, before any work: it exists, is no folder, and is an .npz archive,
    a video or an image (an InputError saying which)."""
    from posecoach.io import is_image, is_video

    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path} is a folder: give the files in it (e.g. {path / '*.mp4'})")
    if _is_npz(path):
        if not zipfile.is_zipfile(path):
            raise InputError(f"{path}: not a saved pose sequence (the file is not an .npz archive)")
    elif not (is_video(path) or is_image(path)):
        raise InputError(f"{path}: not a video, an image or a saved pose sequence (.npz)")


def _sequence(path: Path, model: str, engine: PoseEngine | None = None, progress: ProgressFn | None = None,
              ) -> PoseSequence:
    """Poses of ``path``: a saved ``.npz`` sequence, or estimated (by ``engine``, else a one-worker engine)."""
    from posecoach.core.sequence import PoseSequence
    from posecoach.pose.engine import PoseEngine

    check_input(path)
    if _is_npz(path):
        try:
            return PoseSequence.load(path)
        except ValueError as exc:
            raise InputError(str(exc) if str(path) in str(exc) else f"{path}: {exc}") from None
    if engine is not None:
        return engine.process(path, progress)
    with PoseEngine(model, workers=1) as one:
        return one.process(path, progress)


def _amount(report: AnalysisReport) -> str:
    if report.hold is not None:
        return f"{report.hold.seconds:.1f} s"
    partial = f" (+{report.reps.partial} partial)" if report.reps.partial else ""
    return f"{report.reps.count}{partial}"


def _init_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: no tracebacks per worker
    os.environ.setdefault("GLOG_minloglevel", "2")


def analyze_one(path: str, exercise: str | None, model: str) -> Outcome:
    """Analyse one input in a worker process (poses with one worker); never raises."""
    from posecoach.solutions.exercise import ExerciseAnalysis

    try:
        report = ExerciseAnalysis(exercise).run(_sequence(Path(path), model)).report
    except PoseCoachError as exc:
        return Outcome(failure=str(exc))
    except Exception as exc:
        return Outcome(failure=f"unexpected {type(exc).__name__}: {exc}")
    return Outcome(report.to_json(), report.exercise.name, _amount(report), report.error_count(),
                   warnings=len(report.warnings))


def json_targets(inputs: list[Path], folder: Path) -> list[Path]:
    """``folder/<stem>.json`` per input; a stem seen before gets ``-2``, ``-3``... (case-insensitively)."""
    seen: set[str] = set()
    out = []
    for path in inputs:
        name, n = f"{path.stem}.json", 1
        while name.lower() in seen:
            n += 1
            name = f"{path.stem}-{n}.json"
        seen.add(name.lower())
        out.append(folder / name)
    return out


def row_names(inputs: list[Path]) -> list[str]:
    """A distinct label per input for the batch table: its file name, with as many parent folders as it takes
    to tell inputs of the same name apart (and a ``#n`` suffix for an input given twice)."""
    parts = [p.parts for p in inputs]
    labels = [p.name for p in inputs]
    for depth in range(2, max((len(x) for x in parts), default=1) + 1):
        clash = {n for n in labels if labels.count(n) > 1}
        if not clash:
            break
        labels = [str(Path(*x[-depth:])) if lab in clash else lab for lab, x in zip(labels, parts, strict=True)]
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} #{seen[lab]}")
    return out


def _collect(future: Future[Outcome], target: Path) -> Outcome:
    try:
        outcome = future.result()
    except BrokenProcessPool:
        return Outcome(failure="a worker process died (out of memory, or a crash in the pose model)")
    except Exception as exc:  # the result could not come back (pickling)
        return Outcome(failure=f"unexpected {type(exc).__name__}: {exc}")
    if outcome.report_json is not None:
        try:
            write_text(target, outcome.report_json)
        except InputError as exc:
            return replace(outcome, failure=str(exc))
    return outcome


def _terminate(pool: ProcessPoolExecutor) -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _batch(inputs: list[Path], json_dir: Path, exercise: str | None, model: str, workers: int | None) -> int:
    """Analyse every input in a process pool; print a table; return the number that failed."""
    from posecoach.core.parallel import default_workers

    targets = json_targets(inputs, json_dir)
    make_folder(json_dir, output_itself=True)
    outcomes: dict[int, Outcome] = {}
    pool = ProcessPoolExecutor(min(workers or default_workers(), len(inputs)), mp_context=mp.get_context("spawn"),
                               initializer=_init_worker)
    try:
        with progress_bar() as bar:
            task = bar.add_task(f"analysing {len(inputs)} inputs", total=len(inputs), rate="")
            futures = {pool.submit(analyze_one, str(p), exercise, model): i for i, p in enumerate(inputs)}
            for future in as_completed(futures):
                i = futures[future]
                outcomes[i] = _collect(future, targets[i])
                bar.advance(task)
    except BaseException:
        _terminate(pool)
        raise
    pool.shutdown()
    table = Table(Column("input", overflow="fold"), "exercise", "count", "errors",
                  Column("report", overflow="fold"), "status")  # fold, never cut: names stay distinct
    for i, name in enumerate(row_names(inputs)):
        o = outcomes[i]
        status = f"[red]failed:[/] {escape(o.failure)}" if o.failure else "[green]ok[/]"
        if o.warnings:
            status += f" [yellow]({o.warnings} warning{'' if o.warnings == 1 else 's'})[/]"
        table.add_row(escape(name), o.exercise or "-", o.amount or "-", "-" if o.failure else str(o.errors),
                      "-" if o.failure else escape(targets[i].name), status)
    out = Console(highlight=False)
    out.print(table)
    out.print(f"reports in {escape(str(json_dir))}", soft_wrap=True)
    return sum(1 for o in outcomes.values() if o.failure)


def _single(path: Path, exercise: str | None, model: str, workers: int | None, json_out: Path | None,
            json_dir: Path | None, overlay: Path | None, plot: Path | None) -> None:
    from posecoach.io import is_image
    from posecoach.pose.engine import PoseEngine
    from posecoach.solutions.exercise import ExerciseAnalysis

    if overlay is not None and _is_npz(path):
        raise InputError(f"{path} is a saved pose sequence: there is no video to draw the overlay (-o) on; "
                         "give the video instead")
    if overlay is not None and is_image(path):
        raise InputError(f"{path} is an image: the analysis overlay (-o) needs a video")
    for out in (json_out, overlay, plot):
        if out is not None and out.resolve() == path.resolve():
            raise InputError(f"{out} is the input: give the output another name")
    out_folders(json_out, overlay, plot)
    if json_dir is not None:
        make_folder(json_dir, output_itself=True)
    engine = None if _is_npz(path) else PoseEngine(model, workers=workers)
    written: list[Path] = []
    try:
        with progress_bar() as bar:
            seq = _sequence(path, model, engine, stage(bar, f"poses   {path.name}") if engine else None)
            result = ExerciseAnalysis(exercise).run(seq)  # poses estimated here, with the overlay's engine
            report = result.report
            written += result.save(json=json_out)
            if json_dir is not None:
                written.append(write_text(json_dir / f"{path.stem}.json", report.to_json()))
            written += result.save(plot=plot)
            if overlay is not None and engine is not None and seq.num_frames:
                update = stage(bar, f"overlay {path.name}", seq.num_frames)
                written.append(result.overlay(overlay, workers=workers, progress=update, pool=engine.pool()))
    finally:
        if engine is not None:
            engine.close()
    _summary(path, report, written)


def rom_text(rom: float, unit: str, estimated: bool) -> str:
    """A repetition's range as people read it: "80°", "about 35 cm (estimate)"; no internal units."""
    if unit == "deg":
        return f"{rom:.0f}°"
    if unit == "cm":
        return f"~{rom:.0f} cm (est.)" if estimated else f"{rom:.0f} cm"
    return "-"


def _summary(path: Path, report: AnalysisReport, written: list[Path]) -> None:
    out = Console(highlight=False, soft_wrap=True)
    ex = report.exercise
    if not report.input.detection_rate:
        out.print(f"[bold]{escape(str(path))}[/]: [yellow]nobody in the video: not measurable[/]")
    else:
        how = "given" if ex.given else f"recognised, confidence {ex.confidence:.0%}"
        out.print(f"[bold]{escape(str(path))}[/]: {escape(ex.title)} ({how}; {ex.view} view)")
    for w in report.warnings:
        out.print(f"[yellow]warning:[/] {escape(w.message)}")
    if report.hold is not None:
        out.print(f"held for {report.hold.seconds:.1f} s")
    elif report.input.detection_rate:
        sure = "" if report.reps.reliable else f" [yellow](unsure, confidence {report.reps.confidence:.0%})[/]"
        out.print(f"{_amount(report)} repetition{'' if report.reps.count == 1 else 's'}{sure}")
    if report.reps.items:
        table = Table("rep", "start", "end", "ROM", "errors")
        for r in report.reps.items:
            rom = rom_text(r.rom, r.rom_unit, r.rom_estimated)
            errors = ", ".join(f"{e.title} ({e.severity})" for e in r.errors) or "-"
            table.add_row(str(r.index), f"{r.start_s:.2f} s", f"{r.end_s:.2f} s", rom, escape(errors))
        out.print(table, soft_wrap=False)
    for line in report.summary:
        out.print(f"  {escape(line)}")
    for p in written:
        out.print(f"  wrote {escape(str(p))}")


def analyze(
    videos: Annotated[list[Path], typer.Argument(help="Videos, or saved pose sequences (.npz), to analyse.",
                                                 metavar="VIDEO", show_default=False)],
    exercise: Annotated[str, typer.Option("--exercise", "-e", help=EXERCISE_HELP)] = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="The report as JSON (one input).")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Overlay video (.mp4) with the rep counter "
                                                "and form errors (one video input).")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Chart of the signals, repetitions and errors "
                                              "(.png, .svg or .pdf; one input).")] = None,
    json_dir: Annotated[Path | None, typer.Option("--json-dir", help="Folder for one <name>.json report per "
                                                  "input (required with several inputs).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "full",
    workers: Annotated[int | None, typer.Option(min=1, help="Processes (default: one per core); with several "
                                                "inputs, how many are analysed at once.")] = None,
    mkdir: Annotated[bool, typer.Option("--mkdir", help=MKDIR_HELP)] = False,
) -> None:
    """Analyse exercise videos: the exercise, repetitions (or hold time) and form errors per repetition."""
    from posecoach.pose import models

    MAKE_FOLDERS.set(mkdir)
    if model not in models.MODEL_NAMES:
        raise InputError(f"unknown pose model {model!r}; choose one of: {', '.join(models.MODEL_NAMES)}")
    name = _exercise_name(exercise)
    if len(videos) > 1:
        given = [opt for opt, value in (("--json", json_out), ("-o", output), ("--plot", plot)) if value]
        if given:
            verb = "takes" if len(given) == 1 else "take"
            raise InputError(f"{', '.join(given)} {verb} one input only; with several inputs use --json-dir DIR")
        if json_dir is None:
            raise InputError("several inputs need --json-dir DIR for their reports")
    if not all(_is_npz(v) for v in videos):
        models.resolve(model)  # a missing or corrupt model fails once, up front
    if len(videos) == 1:
        _single(videos[0], name, model, workers, json_out, json_dir, output, plot)
        return
    assert json_dir is not None
    failed = _batch(videos, json_dir, name, model, workers)
    if failed:
        console.print(f"[bold red]error:[/] {failed} of {len(videos)} inputs failed", soft_wrap=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
