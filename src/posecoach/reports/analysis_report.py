"""`AnalysisReport`: the versioned result of analysing one exercise video (pydantic; JSON schema in ``schemas/``).

Schema changes bump `SCHEMA_VERSION` (major for breaking changes) and regenerate the schema file with
``python -m posecoach.reports.analysis_report > schemas/analysis_report.schema.json``.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from posecoach.reports.model import ReportModel

SCHEMA_VERSION = "1.1"  # 1.1: warnings, rep phases by direction, ranges in deg / estimated cm

Severity = Literal["info", "warning", "error"]
FrameRange = tuple[int, int]


class InputInfo(ReportModel):
    path: str | None = Field(None, description="the analysed file, when there was one")
    frames: int
    fps: float
    duration_s: float
    width: int | None = None
    height: int | None = None
    detection_rate: float = Field(description="share of frames in which the subject was found")
    torso_m: float | None = Field(None, description="torso length (m) that turns lengths into estimated "
                                  "centimetres: measured in the 3D pose, else a typical adult's (torso_measured)")
    torso_measured: bool = False


class ModelInfo(ReportModel):
    name: str | None = Field(None, description="pose model (lite / full / heavy), when known")
    sha256: str | None = None


class Candidate(ReportModel):
    name: str
    score: float = Field(description="0-1 match of the sequence to the exercise's profile")


class ExerciseInfo(ReportModel):
    name: str = Field(description="catalogue name, or 'other' when no catalogue exercise matches")
    title: str
    kind: Literal["reps", "hold", "unknown"]
    given: bool = Field(description="true when the caller named the exercise, false when recognised")
    confidence: float = Field(ge=0, le=1)
    candidates: list[Candidate] = []
    view: Literal["front", "diagonal", "side", "unknown"] = Field(description="camera view of the subject")


class FormError(ReportModel):
    rule: str
    title: str
    severity: Severity
    cue: str = Field(description="plain-language advice")
    value: float = Field(description="the measured aggregate (signal units)")
    limit: float
    frames: list[FrameRange] = Field(description="inclusive frame ranges in which the rule is broken")
    joints: list[str] = []


class RepPhase(ReportModel):
    name: str = Field(description="the exercise's own name for this part, e.g. 'curling up'")
    direction: Literal["lowering", "lifting", "other"] = Field(
        description="lowering (against gravity, eccentric), lifting (concentric) or other (sideways, unknown)")
    start_s: float
    end_s: float
    duration_s: float


class RepItem(ReportModel):
    index: int = Field(description="1-based")
    start_frame: int
    turn_frame: int
    end_frame: int
    start_s: float
    turn_s: float
    end_s: float
    duration_s: float
    eccentric_s: float = Field(description="deprecated (use phases / lowering_s): the lowering phase's time when "
                               "the exercise says which part lowers, else start to turning point")
    concentric_s: float = Field(description="deprecated (use phases / lifting_s): the lifting phase's time when "
                                "the exercise says which part lifts, else turning point back to rest")
    phases: list[RepPhase] = Field([], description="the repetition's two parts, named by the exercise")
    lowering_s: float | None = Field(None, description="time of the lowering part, when the exercise has one")
    lifting_s: float | None = Field(None, description="time of the lifting part, when the exercise has one")
    rom: float = Field(description="range of motion of the counting signal as shown everywhere: degrees, or "
                       "centimetres estimated from the pose (rom_estimated); a whole-body count: the cycle's range "
                       "as a multiple of the set's typical cycle, unit 'x typical'")
    rom_unit: str = Field(description="deg, cm or 'x typical'")
    rom_estimated: bool = Field(False, description="the range is an estimate (centimetres from the torso length)")
    rom_signal: str | None = Field(None, description="the signal the range is measured on")
    view: Literal["front", "diagonal", "side", "unknown"]
    errors: list[FormError] = []
    experimental: list[FormError] = Field([], description="broken rules the catalogue marks experimental (not yet "
                                        "supported by labelled executions): shown apart, not as cues")


class Reps(ReportModel):
    count: int
    signal: str | None = Field(description="the signal the repetitions were counted on")
    items: list[RepItem] = []
    partial: int = Field(0, description="movements that started a repetition but did not reach full range")
    confidence: float = Field(1.0, ge=0, le=1, description="how far the count can be trusted, 0-1")
    reliable: bool = Field(True, description="confidence at least 0.5; otherwise read the note")
    method: str = Field("exercise", description="how it was counted: exercise (its signals), whole_body (the "
                        "body's rhythm), excursions (large movements one by one), signals, hold or none")
    note: str | None = Field(None, description="why the count is unsure or not measurable")
    rhythm: int | None = Field(None, description="the whole body's rhythm count, when measured (a cross-check)")


class Hold(ReportModel):
    seconds: float = Field(description="longest time the hold position was kept")
    start_s: float | None = None
    end_s: float | None = None
    start_frame: int | None = None
    end_frame: int | None = None
    errors: list[FormError] = []
    experimental: list[FormError] = Field([], description="broken rules the catalogue marks experimental (not yet "
                                        "supported by labelled executions): shown apart, not as cues")


class RuleSummary(ReportModel):
    id: str
    title: str
    severity: Severity
    status: Literal["judged", "not_measurable"]
    reason: str | None = Field(None, description="why a rule could not be judged, e.g. the camera view")
    reps_broken: list[int] = []
    experimental: bool = Field(False, description="the rule is not yet supported by labelled executions")


class ReportWarning(ReportModel):
    code: Literal["wrong_exercise", "truncated_video", "unreadable_frames", "person_lost", "low_confidence",
                  "no_person"]
    message: str = Field(description="plain-language warning with its reason")
    frames: list[FrameRange] = Field([], description="inclusive frame ranges concerned, when known")


class AnalysisReport(ReportModel):
    """Everything PoseCoach found in one exercise video."""

    schema_version: str = SCHEMA_VERSION
    posecoach_version: str
    input: InputInfo
    model: ModelInfo
    exercise: ExerciseInfo
    reps: Reps
    hold: Hold | None = None
    rules: list[RuleSummary] = []
    summary: list[str] = Field(default_factory=list, description="plain-language findings, most important first")
    warnings: list[ReportWarning] = Field(default_factory=list, description="why the input or the chosen exercise "
                                          "is doubtful (each with its reason); empty when nothing is")

    def error_count(self) -> int:
        """Form errors found: over all repetitions, or in the hold."""
        return sum(len(r.errors) for r in self.reps.items) + (len(self.hold.errors) if self.hold else 0)


def json_schema() -> dict:
    return AnalysisReport.model_json_schema()


if __name__ == "__main__":  # pragma: no cover - regenerates the documented schema
    print(json.dumps(json_schema(), indent=2))
