"""The reference library: guide movements processed once and stored by name (an edge: files on disk).

Each guide is two files in the library folder: ``<name>.npz`` (its pose sequence, lossless) and ``<name>.json``
(its `Guide`: description, joints that matter, repetitions, hold). The folder is ``$POSECOACH_HOME/references``
when ``POSECOACH_HOME`` is set, else ``~/.local/share/posecoach/references``; every function takes another.
Writes are atomic; a guide is listed only once both files are in place.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from posecoach.analysis.compare.guide import NAME_PATTERN, Guide
from posecoach.core.atomic import atomic_path
from posecoach.core.sequence import PoseSequence
from posecoach.errors import InputError


def default_root() -> Path:
    home = os.environ.get("POSECOACH_HOME")
    if home:
        return Path(home).expanduser() / "references"
    return Path("~/.local/share/posecoach/references").expanduser()


@dataclass(frozen=True)
class Reference:
    guide: Guide
    sequence: PoseSequence


def _validation_message(exc: ValidationError) -> str:
    return "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())


class ReferenceLibrary:
    """Guides stored by name in ``root`` (default: `default_root`)."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()

    def _paths(self, name: str) -> tuple[Path, Path]:
        if not re.match(NAME_PATTERN, name):
            raise InputError(f"{name!r} is not a guide name (letters, digits, '_', '-', '.'; up to 64 characters)")
        return self.root / f"{name}.npz", self.root / f"{name}.json"

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.stem for p in self.root.glob("*.json") if p.with_suffix(".npz").is_file())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and re.match(NAME_PATTERN, name) is not None and name in self.names()

    def add(self, guide: Guide, sequence: PoseSequence, *, overwrite: bool = False) -> Path:
        """Store ``sequence`` (its subject only) under ``guide.name``; returns the metadata file."""
        npz, meta = self._paths(guide.name)
        if meta.exists() and not overwrite:
            raise InputError(f"a guide called {guide.name!r} is already in {self.root} (remove it or overwrite it)")
        subject = guide_sequence(guide, sequence)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            subject.save(npz)  # atomic
            with atomic_path(meta) as tmp:
                tmp.write_text(guide.model_dump_json(indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write to the library {self.root}: {exc.strerror or exc}") from None
        return meta

    def guide(self, name: str) -> Guide:
        npz, meta = self._paths(name)
        if not meta.is_file() or not npz.is_file():
            known = ", ".join(self.names()) or "none"
            raise InputError(f"no guide called {name!r} in {self.root} (known: {known})")
        try:
            return Guide.model_validate(json.loads(meta.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise InputError(f"{meta}: not a guide description ({exc})") from None

    def get(self, name: str) -> Reference:
        guide = self.guide(name)
        npz, _ = self._paths(name)
        try:
            return Reference(guide, PoseSequence.load(npz))
        except (OSError, ValueError) as exc:
            raise InputError(f"{npz}: cannot load the guide's poses ({exc})") from None

    def remove(self, name: str) -> None:
        self.guide(name)  # fails with the known names when missing
        for p in self._paths(name):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


def guide_sequence(guide: Guide, sequence: PoseSequence) -> PoseSequence:
    """What a guide stores of ``sequence``: its subject only; an InputError when nobody is in it."""
    if not sequence.num_people or sequence.detection_rate() == 0:
        raise InputError(f"nobody was found in the guide for {guide.name!r}: nothing to store")
    return sequence.person()


def make_guide(name: str, **fields: object) -> Guide:
    """A `Guide`, with invalid fields as one `InputError` line."""
    try:
        return Guide(name=name, **fields)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise InputError(_validation_message(exc)) from None
