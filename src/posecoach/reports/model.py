"""What every versioned report shares: strict pydantic models that write themselves as JSON, and the schema files.

A report module defines its models on `ReportModel` and, for ``python -m`` regeneration of its documented
schemas, calls `write_schemas`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from posecoach.core.version import __version__

if TYPE_CHECKING:
    from posecoach.core.sequence import PoseSequence


class ReportModel(BaseModel):
    """A report or a part of one: unknown fields are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


class SequenceReport(ReportModel):
    """A report on one pose sequence: which input, how long, which pose model (the fields every such report starts
    with; each report class sets its own ``schema_version``)."""

    schema_version: str
    posecoach_version: str
    input: str | None = None
    frames: int
    fps: float
    duration_s: float
    pose_model: str | None = Field(None, description="pose model (lite / full / heavy), when known")
    pose_model_sha256: str | None = None

    @staticmethod
    def header(seq: PoseSequence) -> dict[str, Any]:
        """These fields for ``seq`` (from its ``source``), as keyword arguments of a report."""
        src = seq.source or {}
        return {"posecoach_version": __version__, "input": src.get("input") or src.get("path"),
                "frames": seq.num_frames, "fps": seq.fps, "duration_s": seq.duration, "pose_model": src.get("model"),
                "pose_model_sha256": src.get("model_sha256")}


def write_schemas(schemas: Mapping[str, dict[str, Any]], folder: Path) -> None:
    """Write ``{name: schema}`` as ``folder/<name>.schema.json``."""
    for name, schema in schemas.items():
        (folder / f"{name}.schema.json").write_text(json.dumps(schema, indent=2) + "\n")
