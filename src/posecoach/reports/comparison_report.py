"""`ComparisonReport`: how closely a movement followed a guide (pydantic; JSON schema in ``schemas/``).

Schema changes bump `SCHEMA_VERSION` (major for breaking changes) and regenerate the schema file with
``python -m posecoach.reports.comparison_report > schemas/comparison_report.schema.json``.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from posecoach.reports.analysis_report import ModelInfo
from posecoach.reports.model import ReportModel

SCHEMA_VERSION = "1.1"
Score = float


class SequenceInfo(ReportModel):
    name: str | None = Field(None, description="library name of the guide, when it came from the library")
    description: str | None = None
    path: str | None = Field(None, description="the file the poses came from, when known")
    frames: int
    fps: float
    duration_s: float
    detection_rate: float = Field(description="share of frames in which the subject was found")
    reps: int | None = Field(None, description="repetitions: the guide's (as stored, or counted) / the attempt's")


class AlignmentInfo(ReportModel):
    method: Literal["whole", "per_rep"] = Field(description="one alignment, or the guide's one repetition "
                                                "aligned with each of the attempt's")
    band_frames: int = Field(description="Sakoe-Chiba band of the DTW (frames from the diagonal)")
    mean_cost: float = Field(description="feature distance per matched frame (lower is closer)")
    mirrored: bool = Field(description="the attempt was compared mirrored (the movement done on the other side)")


class JointScore(ReportModel):
    name: str
    score: Score | None = Field(description="0-100; null when the joint was not seen")
    mean_abs_diff_deg: float | None
    mean_diff_deg: float | None = Field(description="attempt minus guide: + more open / raised / leaning")
    weight: float = Field(description="share of the shape score (joint angles and segment directions), the part of "
                          "the overall score that tells the movement's form")
    key: bool = Field(description="one of the guide's joints that matter")


class RepScore(ReportModel):
    index: int = Field(description="1-based")
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    duration_s: float
    guide_duration_s: float = Field(description="duration of the part of the guide it was matched with")
    tempo_ratio: float = Field(description="duration / guide duration (> 1: slower)")
    score: Score | None
    joints: dict[str, Score | None] = Field(default_factory=dict)


class PhaseScore(ReportModel):
    name: Literal["rest", "going", "turn", "returning"]
    label: str = Field(description="plain words, e.g. 'at the bottom'")
    score: Score | None
    share: float = Field(description="share of the guide's frames in this phase")


class Deviation(ReportModel):
    joint: str
    rep: int | None = Field(description="1-based repetition, null for the whole attempt")
    phase: str
    difference_deg: float = Field(description="attempt minus guide, degrees")
    text: str


class Tempo(ReportModel):
    guide_s: float = Field(description="duration of the guide (of its one repetition in per-rep mode)")
    attempt_s: float = Field(description="mean duration per repetition (or of the whole attempt)")
    ratio: float = Field(description="attempt / guide (> 1: slower)")
    text: str


class ComparisonReport(ReportModel):
    """How closely an attempt followed a guide movement."""

    schema_version: str = SCHEMA_VERSION
    posecoach_version: str
    reference: SequenceInfo
    attempt: SequenceInfo
    model: ModelInfo = Field(description="pose model of the attempt, when known")
    score: Score | None = Field(description="0-100 overall, calibrated on real executions: 100 only for the guide's "
                                "own movement, 80 as far from it as a typical correct execution by another person, "
                                "64 twice as far; null when nothing could be compared")
    alignment: AlignmentInfo
    joints: list[JointScore] = []
    reps: list[RepScore] = []
    phases: list[PhaseScore] = []
    deviations: list[Deviation] = Field(default_factory=list, description="largest first")
    tempo: Tempo | None = None
    summary: list[str] = Field(default_factory=list, description="plain-language findings, most important first")


def json_schema() -> dict:
    return ComparisonReport.model_json_schema()


if __name__ == "__main__":  # pragma: no cover - regenerates the documented schema
    print(json.dumps(json_schema(), indent=2))
