"""Request and response bodies of the posture-model routes beyond the library's (`posture_routes`): a model's
training videos with their held-out accuracy, adding a video to a model, running a model on a video."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from posecoach.service.schemas import LabelledRange


class HeldOut(BaseModel):
    frames: int = Field(description="labelled frames with a pose")
    correct: int = Field(description="those the model trained without this video named right")
    accuracy: float | None = Field(description="correct / frames")


class ModelVideoOut(BaseModel):
    video_id: str
    filename: str | None = Field(description="the video's file name; None when you cannot see the video (deleted)")
    ranges: list[LabelledRange]
    labels: list[str] = Field(description="the postures labelled in this video")
    labelled_frames: int | None = Field(description="frames inside the ranges (None: trained before this was kept)")
    held_out: HeldOut | None = Field(
        description="accuracy on this video of the models cross-validation trained "
        "without it; None when not cross-validated"
    )


class ModelVideosOut(BaseModel):
    model_id: str
    job_id: str | None = Field(description="the training job that made the current model file")
    method: str = Field(
        description="how the accuracy was measured: leave-one-video-out, folds of whole videos, "
        "held-out ranges of one video, or not cross-validated"
    )
    folds: int | None
    cv_accuracy: float | None = Field(description="over all held-out frames")
    videos: list[ModelVideoOut]


class ModelVideoAdd(BaseModel):
    """One more labelled video for a model's training set: the model is trained again on all its videos."""

    model_config = ConfigDict(extra="forbid")
    video_id: str = Field(min_length=1, max_length=32)
    ranges: list[LabelledRange] = Field(min_length=1, max_length=500)


class PostureRunCreate(BaseModel):
    """Run a posture model on one of your videos: a job of kind ``posture``."""

    model_config = ConfigDict(extra="forbid")
    video_id: str = Field(min_length=1, max_length=32)
    count: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None,
        min_length=2,
        max_length=2,
        description="Also count repetitions FIRST -> SECOND -> FIRST, e.g. [up, down].",
    )
    smooth: bool = Field(True, description="Smooth the per-frame postures (moving average + hysteresis).")
