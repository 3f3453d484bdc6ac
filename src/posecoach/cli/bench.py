"""`posecoach bench`: PoseCoach's throughput against the naive loop on a clip (see posecoach.benchmark)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from posecoach.errors import InputError

console = Console(highlight=False)


def bench(
    video: Annotated[Path, typer.Argument(help="A video to measure on (a 720p clip of a person).")],
    model: Annotated[str, typer.Option("--model", "-m", help="lite, full or heavy.")] = "full",
    workers: Annotated[int | None, typer.Option(min=1, help="PoseCoach processes [default: cores].")] = None,
    variant: Annotated[list[str] | None, typer.Option(help="Run only these variants (repeatable).")] = None,
) -> None:
    """Frames/s, ratio to the naive loop, peak memory and landmark agreement, as a Markdown table."""
    from posecoach import benchmark
    from posecoach.io import VideoReader
    from posecoach.pose import models

    models.resolve(model)
    with VideoReader(video) as reader:  # fails early, with one line, on a bad clip
        info = reader.info
    chosen = tuple(variant) if variant else benchmark.VARIANTS
    unknown = set(chosen) - set(benchmark.VARIANTS)
    if unknown:
        raise InputError(f"unknown variant(s) {', '.join(sorted(unknown))}; "
                         f"choose from {', '.join(benchmark.VARIANTS)}")
    console.print(f"[dim]measuring {len(chosen)} variant(s) on {info.width}x{info.height}, "
                  f"{info.num_frames} frames...[/]")
    rows, diff = benchmark.measure(str(video), model, chosen, workers)
    console.print(benchmark.format_table(rows, diff, str(video), model))


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
