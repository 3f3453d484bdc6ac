"""`Guide`: what a clinic says about a guide (reference) movement, stored with its pose sequence in the library."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from posecoach.analysis.compare.features import SCORED_ANGLES

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class Guide(BaseModel):
    """A guide movement's description: its name, the joints that matter, the target repetitions and holds."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="library name: letters, digits, '_', '-', '.'; up to 64 characters")
    description: str = ""
    joints: list[str] = Field(default_factory=list, description=f"joints that matter, of: {', '.join(SCORED_ANGLES)}")
    reps: int | None = Field(None, ge=1, description="repetitions the guide shows (1: one repetition to repeat)")
    target_reps: int | None = Field(None, ge=1, description="repetitions the patient should do")
    hold_s: float | None = Field(None, ge=0, description="seconds to hold the end position")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(NAME_PATTERN, v):
            raise ValueError(f"{v!r} is not a valid guide name (letters, digits, '_', '-', '.'; up to 64)")
        return v

    @field_validator("joints")
    @classmethod
    def _joints(cls, v: list[str]) -> list[str]:
        unknown = [j for j in v if j not in SCORED_ANGLES]
        if unknown:
            raise ValueError(f"unknown joint(s) {', '.join(unknown)}; known: {', '.join(SCORED_ANGLES)}")
        return list(dict.fromkeys(v))
