"""Posture reports (pydantic, versioned; JSON schemas in ``schemas/``).

* `PostureReport`: a trained classifier run over one video or sequence (``posecoach posture predict``): per-frame
  postures and probabilities, the steady postures as segments, and repetitions counted as transitions;
* `PostureEvaluation`: accuracy of a classifier on labelled frames (``posecoach posture evaluate`` and
  ``train``): overall, per class, confusion matrix, and the cross-validated model choice.

Schema changes bump `SCHEMA_VERSION` and regenerate the files with ``python -m posecoach.reports.posture_report``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import Field

from posecoach.reports.model import ReportModel, SequenceReport, write_schemas

SCHEMA_VERSION = "1.1"  # 1.1: transitions


class ClassifierInfo(ReportModel):
    path: str | None = Field(None, description="the model file, when there was one")
    model: str = Field(description="logreg or knn")
    params: dict[str, Any]
    classes: list[str]
    cv_accuracy: float | None = Field(None, description="grouped cross-validated accuracy of the chosen model")
    temperature: float = Field(description="probability calibration (temperature scaling); 1 = none")


class PostureFrame(ReportModel):
    frame: int
    time_s: float
    posture: str = Field(description="steady (smoothed) posture; '' before the first or without a pose")
    raw: str = Field(description="the per-frame most likely posture; '' without a pose")
    probabilities: dict[str, float] = Field(description="calibrated, smoothed probabilities; empty without a pose")


class Segment(ReportModel):
    posture: str
    start_frame: int
    end_frame: int = Field(description="inclusive")
    start_s: float
    end_s: float


class TransitionRep(ReportModel):
    index: int = Field(description="1-based")
    start_frame: int
    turn_frame: int
    end_frame: int
    start_s: float
    turn_s: float
    end_s: float


class TransitionCount(ReportModel):
    from_posture: str = Field(description="the steady posture before the change")
    to_posture: str = Field(description="the steady posture after it")
    count: int = Field(description="how often the posture changed so")


class Repetitions(ReportModel):
    first: str
    second: str
    count: int
    items: list[TransitionRep] = []


class PostureReport(SequenceReport):
    """Postures found in one video or pose sequence."""

    schema_version: str = SCHEMA_VERSION
    classifier: ClassifierInfo
    smoothing: dict[str, float] = Field(description="tau_s, enter, exit, reset_s; empty when not smoothed")
    overall: str = Field("", description="the posture of the whole sequence: highest mean probability over the "
                         "frames with a pose ('' when there are none)")
    overall_probabilities: dict[str, float] = {}
    time_per_posture_s: dict[str, float] = {}
    segments: list[Segment] = []
    transitions: list[TransitionCount] = Field([], description="every change of steady posture, counted (frames "
                                               "without a pose skipped), in order of first occurrence")
    repetitions: Repetitions | None = None
    per_frame: list[PostureFrame] = []


class ClassScore(ReportModel):
    label: str
    frames: int
    correct: int
    recall: float
    precision: float | None


class CandidateScore(ReportModel):
    model: str
    params: dict[str, Any]
    accuracy: float
    log_loss: float
    chosen: bool = False
    ece: float | None = Field(None, description="expected calibration error before temperature scaling")
    calibrated_ece: float | None = None
    calibrated_log_loss: float | None = None


class PostureEvaluation(ReportModel):
    """Accuracy on labelled frames: of a saved model on a dataset, or grouped cross-validation of training."""

    schema_version: str = SCHEMA_VERSION
    posecoach_version: str
    dataset: str
    method: str = Field(description="'model' (a saved model tested) or 'grouped-cv' (trained and tested per fold)")
    folds: int | None = None
    frames: int
    groups: int
    accuracy: float
    per_class: list[ClassScore]
    labels: list[str]
    confusion: list[list[int]] = Field(description="rows: true label, columns: predicted, in the order of labels")
    classifier: ClassifierInfo | None = None
    candidates: list[CandidateScore] = []


def json_schemas() -> dict[str, dict[str, Any]]:
    return {"posture_report": PostureReport.model_json_schema(),
            "posture_evaluation": PostureEvaluation.model_json_schema()}


if __name__ == "__main__":  # pragma: no cover - regenerates the documented schemas
    write_schemas(json_schemas(), Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas"))
