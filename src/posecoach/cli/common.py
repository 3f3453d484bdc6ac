"""What the commands share: the model option's help, progress bars, and output folders and files.

Output folders: a missing one is an error unless the command got ``--mkdir`` (`MAKE_FOLDERS`); every text file is
written atomically (`posecoach.solutions.base.write_text`, what `Result.save` writes with).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from posecoach.errors import InputError

console = Console(stderr=True, highlight=False)
MODEL_HELP = "Pose model: lite (fastest), full (default) or heavy (most accurate, ~3x slower)."

#: Whether the running command may create missing output folders (its ``--mkdir`` option).
MAKE_FOLDERS: ContextVar[bool] = ContextVar("posecoach_mkdir", default=False)
MKDIR_HELP = "Create missing output folders (without it, a missing folder is an error)."


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=console, transient=True,
                    disable=not console.is_terminal)


def stage(bar: Progress, description: str, total: int | None = None) -> Callable[[int, int], None]:
    """A new bar on ``bar`` and the ``progress(done, total)`` callback that advances it with a frames/s rate."""
    task = bar.add_task(description, total=total, rate="")
    t0 = time.perf_counter()

    def update(done: int, total: int) -> None:
        fps = done / max(time.perf_counter() - t0, 1e-6)
        bar.update(task, completed=done, total=total, rate=f"{fps:5.1f} frames/s")

    return update


def make_folder(folder: Path, *, output_itself: bool = False) -> None:
    """Make sure ``folder`` exists. A missing one is an InputError unless the command got ``--mkdir``;
    ``output_itself``: the folder is the output the user named (``--json-dir``), made when its parent exists."""
    if folder.is_dir():
        return
    if folder.exists():
        raise InputError(f"{folder} is not a folder")
    if not MAKE_FOLDERS.get() and not (output_itself and folder.parent.is_dir()):
        raise InputError(f"the folder {folder} does not exist: create it, or add --mkdir")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None


def out_folders(*targets: Path | None) -> None:
    """Check (or, with --mkdir, create) the folders of the given output files up front, before any work."""
    for target in targets:
        if target is not None:
            make_folder(target.parent)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (its folder must exist, or --mkdir); an OSError becomes one line."""
    from posecoach.solutions.base import write_text as write_atomically  # not at start-up: it loads the solutions

    make_folder(path.parent)
    return write_atomically(path, text)
