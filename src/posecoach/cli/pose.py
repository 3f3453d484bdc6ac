"""`posecoach pose`: poses for a video, an image or a folder of them; overlay, JSON, CSV and NPZ out."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from posecoach.cli.common import MAKE_FOLDERS, MODEL_HELP, make_folder, progress_bar, stage
from posecoach.core.sequence import PoseSequence
from posecoach.errors import InputError

console = Console(stderr=True, highlight=False)


def _target(option: Path | None, src: Path, many: bool, suffix: str) -> Path | None:
    """Where an output goes: the path given, or ``<dir>/<input stem><suffix>`` for several inputs."""
    if option is None:
        return None
    if many or option.is_dir():
        make_folder(option, output_itself=True)
        return option / f"{src.stem}{suffix}"
    make_folder(option.parent)
    return option


def pose(
    input: Annotated[Path, typer.Argument(help="A video, an image, or a folder of them.", show_default=False)],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Overlay video (.mp4), or image for an "
                                                "image input; a folder for several inputs.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Landmarks as JSON.")] = None,
    csv_out: Annotated[Path | None, typer.Option("--csv", help="Landmarks as CSV, one row per frame.")] = None,
    npz_out: Annotated[Path | None, typer.Option("--npz", help="Lossless PoseSequence (.npz).")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "full",
    max_people: Annotated[int, typer.Option(min=1, max=10, help="People to track per frame.")] = 2,
    workers: Annotated[int | None, typer.Option(min=1, help="Processes for long videos [default: cores].")] = None,
    smooth: Annotated[bool, typer.Option(help="Fill short dropouts and smooth jitter (raw values kept).")] = True,
    angles: Annotated[bool, typer.Option(help="Draw joint-angle labels on the overlay.")] = True,
    all_people: Annotated[bool, typer.Option(help="CSV: one row per frame and person, not only the subject.")]
    = False,
    mkdir: Annotated[bool, typer.Option("--mkdir", help="Create missing output folders (without it, a missing "
                                        "folder is an error).")] = False,
) -> None:
    """Estimate poses: skeleton overlay, JSON/CSV/NPZ landmarks and a summary."""
    from posecoach.io import is_image, list_inputs, read_image
    from posecoach.pose.engine import PoseEngine
    from posecoach.render.overlay_video import render_image, render_overlay

    MAKE_FOLDERS.set(mkdir)
    inputs = list_inputs(input)
    many = len(inputs) > 1 or input.is_dir()
    for opt in (output, json_out, csv_out, npz_out):  # missing folders fail now, not after the poses
        if inputs and opt is not None:
            _target(opt, inputs[0], many, "")
    with PoseEngine(model, max_people=max_people, workers=workers, smooth=smooth) as engine:
        for src in inputs:
            image_input = is_image(src)
            overlay = _target(output, src, many, ".png" if image_input else ".mp4")
            if overlay is not None and image_input and overlay.suffix.lower() not in (".png", ".jpg", ".jpeg"):
                raise InputError(f"{src} is an image: give the overlay an image name (.png or .jpg), not {overlay}")
            started = time.perf_counter()
            with progress_bar() as bar:
                seq = engine.process(src, progress=stage(bar, f"poses  {src.name}"))
                elapsed = time.perf_counter() - started
                written: list[Path] = []
                if overlay is not None and seq.num_frames:
                    if image_input:
                        written.append(render_image(read_image(src), seq, overlay, show_angles=angles))
                    else:
                        update = stage(bar, f"overlay {src.name}", seq.num_frames)
                        written.append(render_overlay(src, seq, overlay, workers=workers, show_angles=angles,
                                                      progress=update, pool=engine.pool()))
            for opt, suffix, write in ((json_out, ".json", seq.to_json), (npz_out, ".npz", seq.save)):
                target = _target(opt, src, many, suffix)
                if target is not None:
                    written.append(write(target))
            target = _target(csv_out, src, many, ".csv")
            if target is not None:
                written.append(seq.to_csv(target, all_people=all_people))
            _summary(src, seq, elapsed, written)


def _summary(src: Path, seq: PoseSequence, elapsed: float, written: list[Path]) -> None:
    out = Console(highlight=False, soft_wrap=True)
    if not seq.num_people:
        out.print(f"[yellow]{src}: no person found in {seq.num_frames} frame(s)[/]; wrote an empty result")
    else:
        rate = seq.detection_rate()
        extra = f", {seq.num_people - 1} other person(s)" if seq.num_people > 1 else ""
        out.print(f"[bold]{src}[/]: {seq.num_frames} frames, {seq.duration:.1f} s; subject #{seq.subject} "
                  f"detected in {rate:.0%} of frames{extra}; {seq.num_frames / max(elapsed, 1e-6):.1f} frames/s")
    declared = seq.source.get("declared_frames")
    if "truncated_at_frame" in seq.source or seq.source.get("truncated"):
        of = f" of the {declared} it declares" if declared else ""
        out.print(f"[yellow]warning:[/] {src} is cut short or damaged; read {seq.num_frames} frames{of}")
    for path in written:
        out.print(f"  wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("pose")(pose)
