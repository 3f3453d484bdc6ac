"""What every versioned report shares: strict pydantic models that write themselves as JSON, and the schema files.

A report module defines its models on `ReportModel` and, for ``python -m`` regeneration of its documented
schemas, calls `write_schemas`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict


class ReportModel(BaseModel):
    """A report or a part of one: unknown fields are refused, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


def write_schemas(schemas: Mapping[str, dict[str, Any]], folder: Path) -> None:
    """Write ``{name: schema}`` as ``folder/<name>.schema.json``."""
    for name, schema in schemas.items():
        (folder / f"{name}.schema.json").write_text(json.dumps(schema, indent=2) + "\n")
