"""The `posecoach` command line. Each command lives in its own module; this one wires them together and
turns every error a user can cause into one line on stderr and a non-zero exit."""

from __future__ import annotations

import logging
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from posecoach.cli.extras import SERVICE_HINT, missing_service_module
from posecoach.core.version import __version__
from posecoach.errors import PoseCoachError

app = typer.Typer(
    name="posecoach",
    help="PoseCoach: pose estimation, overlays and movement analysis from ordinary video.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True, highlight=False)
HELP_WIDTH = 100


def _version(value: bool) -> None:
    if value:
        typer.echo(f"posecoach {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """PoseCoach: pose estimation, overlays and movement analysis from ordinary video."""


def _register() -> None:
    from posecoach.cli import accounts, analyze, bench, compare, falls, models, pose, posture, serve, worker

    pose.register(app)
    analyze.register(app)
    app.add_typer(models.app, name="models")
    bench.register(app)
    compare.register(app)
    posture.register(app)
    serve.register(app)
    accounts.register(app)
    falls.register(app)
    worker.register(app)


def _fail(message: str, code: int = 1) -> int:
    """One line on stderr; the message is text, not markup (a file name like ``clip[1].mp4`` is shown whole)."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    return code


def main(argv: list[str] | None = None) -> int:
    """Entry point: returns the exit status (and exits with it when run as a script)."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's native logs
    if not os.environ.get("COLUMNS") and not sys.stdout.isatty():
        os.environ["COLUMNS"] = str(HELP_WIDTH)  # piped: help and tables 100 wide, not rich's 80 (cut words)
    logging.basicConfig(level=logging.DEBUG if os.environ.get("POSECOACH_DEBUG") else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    _register()
    try:  # standalone mode: usage errors print their own message and exit 2 via SystemExit
        app(args=argv, prog_name="posecoach")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        code = _fail("interrupted", 130)
    except PoseCoachError as exc:
        code = _fail(str(exc))
    except Exception as exc:  # a bug: still one line, the traceback only on request
        missing = missing_service_module(exc)  # serve, worker, users, keys on the core install
        if missing:
            code = _fail(f"{SERVICE_HINT} (no module named {missing!r})")
        elif os.environ.get("POSECOACH_DEBUG"):
            raise
        else:
            code = _fail(f"unexpected {type(exc).__name__}: {exc} (set POSECOACH_DEBUG=1 for the traceback)")
    return code


def run() -> None:
    sys.exit(main())
