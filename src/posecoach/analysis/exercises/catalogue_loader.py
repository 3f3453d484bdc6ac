"""Loading the catalogue: every ``catalogue/*.toml`` file (plus any in ``$POSECOACH_EXERCISES``) is one exercise."""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import ValidationError

from posecoach.analysis.exercises.schema import Exercise
from posecoach.errors import InputError

CATALOGUE_DIR = Path(__file__).with_name("catalogue")


def load_exercise(path: str | Path) -> Exercise:
    """Read and validate one definition file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Exercise.model_validate({"name": path.stem, **data})
    except (tomllib.TOMLDecodeError, ValidationError) as e:
        raise InputError(f"bad exercise definition {path}: {e}") from e


def _dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("POSECOACH_EXERCISES", "").split(os.pathsep) if p]
    return [CATALOGUE_DIR, *extra]


@lru_cache(maxsize=4)
def _load(dirs: tuple[Path, ...]) -> dict[str, Exercise]:
    out: dict[str, Exercise] = {}
    for d in dirs:
        for f in sorted(d.glob("*.toml")):
            ex = load_exercise(f)
            out[ex.name] = ex
    return out


def catalogue() -> dict[str, Exercise]:
    """``{name: Exercise}`` for every known exercise."""
    return dict(_load(tuple(_dirs())))


def get_exercise(name: str) -> Exercise:
    """An exercise by name or alias (case, spaces and dashes ignored); InputError when unknown."""
    exercises = catalogue()
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    for ex in exercises.values():
        if key == ex.name or key in {a.lower().replace("-", "_").replace(" ", "_") for a in ex.aliases}:
            return ex
    raise InputError(f"unknown exercise {name!r}; known: {', '.join(sorted(exercises))}")
