"""The fall report (pydantic, versioned; JSON schema in ``schemas/fall_report.schema.json``).

Schema changes bump `SCHEMA_VERSION` and regenerate the file with ``python -m posecoach.reports.fall_report``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from posecoach.reports.model import ReportModel, SequenceReport, write_schemas

SCHEMA_VERSION = "1.2"


class FallEventItem(ReportModel):
    index: int = Field(description="1-based")
    start_s: float = Field(description="the fall's start: where the fall probability began to rise")
    end_s: float = Field(description="when the person was up again, or the last frame when they were not")
    confidence: float = Field(description="highest smoothed fall probability during the event, 0-1")
    alert_s: float = Field(description="when the alert fired (the live detector raises it on this frame)")
    impact_s: float = Field(description="the fastest drop of the hips: the body hitting the ground")
    lying_s: float = Field(description="time on the ground, impact to getting up (or to the end)")
    recovered: bool = Field(description="the person got up (or the event was released while seen) before the end")
    outcome: Literal["down", "lost", "got_up"] = Field(
        "down", description="what became of the person: still down at the end, not seen since the fall (the pose "
        "was lost: never taken as recovered), or got up")
    seen_s: float | None = Field(None, description="the last time the person was seen during the event")
    confirmed: bool = Field(True, description="false: the video or stream ended while the drop waited for "
                            "confirmation (the body had not come back up); alerted at the end, unconfirmed")
    start_frame: int
    alert_frame: int
    impact_frame: int
    end_frame: int


class DetectorInfo(ReportModel):
    model: str = Field(description="fall model name: estimator, training data, settings hash")
    features: list[str]
    threshold: float = Field(description="smoothed probability that raises an alert (with the body low)")
    smoothing_s: float = Field(description="sliding-average window of the per-frame probability")


class FallReport(SequenceReport):
    """Falls found in one video or pose sequence."""

    schema_version: str = SCHEMA_VERSION
    detector: DetectorInfo
    fall_detected: bool
    events: list[FallEventItem] = []
    times_s: list[float] = Field([], description="time of every frame, seconds from the first")
    probabilities: list[float] = Field([], description="per-frame fall probability of the model, 0-1")
    smoothed: list[float] = Field([], description="per-frame probability after the sliding average")


def json_schemas() -> dict[str, dict[str, Any]]:
    return {"fall_report": FallReport.model_json_schema()}


if __name__ == "__main__":  # pragma: no cover - regenerates the documented schema
    write_schemas(json_schemas(), Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas"))
