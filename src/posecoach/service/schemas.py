"""The API's request and response bodies (pydantic), one place for the OpenAPI schema at ``/docs``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

Role = Literal["user", "clinician", "admin"]
JobState = Literal["queued", "running", "done", "failed", "cancelled"]
# The database keeps naive UTC (MySQL stores no zone); answers say so (RFC 3339 date-time with the zone).
Time = Annotated[datetime, AfterValidator(lambda t: t if t.tzinfo else t.replace(tzinfo=UTC))]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Health(BaseModel):
    status: Literal["ok"]
    version: str


class Readiness(BaseModel):
    ready: bool
    database: bool
    storage: bool
    jobs: bool
    jobs_in_progress: int


class UserOut(_Out):
    id: str
    name: str
    role: Role
    created_at: Time


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$")
    role: Role = "user"
    password: str | None = Field(None, max_length=1024, description="The account's password (at least "
                                 "POSECOACH_PASSWORD_MIN_LENGTH characters); none: it signs in with its key only "
                                 "until one is set")


class SignIn(BaseModel):
    """A person signs in with a username and password, plus the one-time code when the account has them on.
    An API key signs in too (the session then has the key's scopes)."""

    username: str | None = Field(None, min_length=1, max_length=100)
    password: str | None = Field(None, min_length=1, max_length=1024)
    totp: str | None = Field(None, max_length=16, description="The 6-digit one-time code (accounts with TOTP on)")
    api_key: str | None = Field(None, min_length=1, max_length=200, description="An API key (pc_...) instead")

    @model_validator(mode="after")
    def _credentials(self) -> SignIn:
        if self.api_key is None and (self.username is None or self.password is None):
            raise ValueError("give a username and a password")
        return self


class NewUserOut(_Out):
    """An account just made, as its creator sees it: by name (no other user's id is ever shown)."""

    name: str
    role: Role
    created_at: Time


class NewUser(BaseModel):
    user: NewUserOut
    api_key: str = Field(description="Shown once: only its hash is stored.")


UserName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$")]
LinkState = Literal["pending", "accepted"]


class CareInvite(BaseModel):
    """A clinician's invitation to a patient, named by username (never by id)."""

    model_config = ConfigDict(extra="forbid")
    patient: UserName = Field(description="the patient's username")


class CareLinkOut(BaseModel):
    """A care link as both sides see it: ``pending`` until the patient accepts; only ``accepted`` gives the
    clinician access to the patient's videos, results and history."""

    id: str = Field(description="the link's own id (not a user's)")
    clinician: str = Field(description="the clinician's username")
    patient: str = Field(description="the patient's username")
    state: LinkState
    created_at: Time
    accepted_at: Time | None


class PatientOut(BaseModel):
    """A user whose data you may read: by name; ``since`` when they accepted your care (none for an admin)."""

    name: str
    role: Role
    since: Time | None


class VideoOut(_Out):
    id: str
    filename: str
    size_bytes: int
    width: int
    height: int
    fps: float
    num_frames: int
    duration_s: float
    created_at: Time


class ExerciseOut(BaseModel):
    name: str
    title: str
    kind: Literal["reps", "hold"]
    aliases: list[str]
    rules: list[str] = Field(description="Titles of the form rules judged on each repetition.")


class _JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    video_id: str = Field(min_length=1, max_length=32)


class PoseJob(_JobCreate):
    """Poses only: the PoseSequence (.npz), landmarks CSV, skeleton overlay video."""

    kind: Literal["pose"]


class AnalyzeJob(_JobCreate):
    """Exercise analysis: report, per-repetition CSV, signals plot, overlay video with counter and errors."""

    kind: Literal["analyze"] = "analyze"
    exercise: str | None = Field(None, max_length=64, description="Catalogue name or alias; none: recognised.")


class CompareJob(_JobCreate):
    """Comparison with a guide of the reference library: report with scores, plot, side-by-side video."""

    kind: Literal["compare"]
    reference_id: str = Field(min_length=1, max_length=32, description="A reference you can see.")
    mirror: bool | None = Field(None, description="null: also try the other side; true / false: force it.")


class FallsJob(_JobCreate):
    """Fall detection: report with events, probability plot, per-frame CSV."""

    kind: Literal["falls"]
    threshold: float = Field(0.7, ge=0.05, le=0.99, description="Smoothed probability that raises an alert.")


class PostureJob(_JobCreate):
    """Postures per frame with one of your (or your clinician's) posture models: report, CSV, plot."""

    kind: Literal["posture"]
    model_id: str = Field(min_length=1, max_length=32)
    count: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(
        None, min_length=2, max_length=2, description="Count repetitions FIRST -> SECOND -> FIRST, e.g. [up, down].")
    smooth: bool = Field(True, description="Smooth the per-frame postures (moving average + hysteresis).")


def _job_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        kind = value.get("kind", "analyze")  # the first API version had analyses only
        return kind if isinstance(kind, str) else None
    return getattr(value, "kind", None)


JobCreate = Annotated[Annotated[PoseJob, Tag("pose")] | Annotated[AnalyzeJob, Tag("analyze")]
                      | Annotated[CompareJob, Tag("compare")] | Annotated[FallsJob, Tag("falls")]
                      | Annotated[PostureJob, Tag("posture")], Discriminator(_job_kind)]


class JobOut(_Out):
    id: str
    video_id: str
    kind: str
    state: JobState
    progress: float = Field(ge=0.0, le=1.0)
    error: str | None
    attempts: int
    created_at: Time
    started_at: Time | None
    finished_at: Time | None


class HistoryItem(BaseModel):
    job_id: str = Field(description="the job; for kind ``live``, the live session's id (``/v1/live-sessions/{id}``)")
    video_id: str | None = Field(description="the video analysed; None for a live session")
    kind: str = Field(description="the job's kind (analyze, compare, falls, ...), or ``live``: a live set")
    source: Literal["upload", "live"] = Field("upload", description="an uploaded video's job, or a live set")
    file_name: str | None = Field(None, description="the uploaded video's file name; None for a live set")
    duration_s: float | None = Field(None, description="the video's or the live set's length in seconds")
    target: int | None = Field(None, description="the repetitions a live set aimed at (its target), if set")
    finished_at: Time | None
    exercise: str | None = Field(description="the exercise analysed, the guide compared with, or the posture model")
    rep_count: int | None
    rep_confidence: float | None = Field(None, description="how far the repetition count can be trusted, 0-1 (under "
                                         "0.5: unsure; analyze)")
    error_count: int | None = Field(description="form errors found (analyze)")
    score: float | None = Field(description="0-100 similarity to the guide (compare)")
    fall_count: int | None = Field(description="falls detected (falls)")
    rom: float | None = Field(None, description="typical range of motion of one repetition (the median), in "
                              "rom_unit (analyze; None for older analyses and live sets)")
    rom_unit: Literal["deg", "cm"] | None = Field(None, description="deg, or cm estimated from the pose")


ResultKind = Literal["report", "poses", "overlay", "side_by_side", "plot", "csv", "series"]
LibraryState = Literal["queued", "running", "ready", "failed", "cancelled"]
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class ResultOut(BaseModel):
    kind: ResultKind
    media_type: str
    url: str


class ReferenceCreate(BaseModel):
    """A guide for the reference library, made from one of your videos (as a job of kind ``reference``)."""

    model_config = ConfigDict(extra="forbid")
    video_id: str = Field(min_length=1, max_length=32)
    name: str = Field(pattern=NAME, description="letters, digits, '_', '-', '.'; up to 64 characters")
    description: str = Field("", max_length=2000)
    joints: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=32,
                                                                description="joints that matter")
    reps: int | None = Field(None, ge=1, le=1000, description="repetitions the guide shows")
    target_reps: int | None = Field(None, ge=1, le=1000, description="repetitions the patient should do")
    hold_s: float | None = Field(None, ge=0, le=3600, description="seconds to hold the end position")


class _Made(BaseModel):
    id: str
    owner: str = Field(description="the owner's username")
    name: str
    job_id: str | None
    state: LibraryState
    error: str | None
    created_at: Time


class ReferenceOut(_Made):
    video_id: str | None
    description: str
    joints: list[str]
    reps: int | None
    target_reps: int | None
    hold_s: float | None
    frames: int | None
    duration_s: float | None


class LabelledRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start_s: float = Field(ge=0, le=86400)
    end_s: float = Field(ge=0, le=86400)
    label: str = Field(pattern=NAME, description="the posture shown from start_s to end_s")

    @model_validator(mode="after")
    def _ordered(self) -> LabelledRange:
        if self.end_s <= self.start_s:
            raise ValueError(f"the range ends ({self.end_s:g} s) before it starts ({self.start_s:g} s)")
        return self


class TrainingVideo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    video_id: str = Field(min_length=1, max_length=32)
    ranges: list[LabelledRange] = Field(min_length=1, max_length=500)


class PostureModelCreate(BaseModel):
    """A posture classifier trained on labelled time ranges of your videos (as a job of kind ``posture_train``)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=NAME)
    videos: list[TrainingVideo] = Field(min_length=1, max_length=50)
    algorithm: Literal["auto", "logreg", "knn"] = Field("auto", description="auto: cross-validation chooses")


class PostureModelOut(_Made):
    classes: list[str]
    algorithm: str | None
    cv_accuracy: float | None
    frames: int | None


class Problem(BaseModel):
    detail: str


class Invalid(BaseModel):
    """A 422: the reason as text, or (a request not matching its schema) FastAPI's list of field errors."""

    detail: str | list[dict[str, Any]]
