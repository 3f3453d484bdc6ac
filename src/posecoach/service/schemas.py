"""The API's request and response bodies (pydantic), one place for the OpenAPI schema at ``/docs``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["user", "clinician", "admin"]
JobState = Literal["queued", "running", "done", "failed"]


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
    created_at: datetime


class UserCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@+-]+$")
    role: Role = "user"


class NewUser(BaseModel):
    user: UserOut
    api_key: str = Field(description="Shown once: only its hash is stored.")


class PatientLink(BaseModel):
    patient_id: str = Field(min_length=1, max_length=32)


class VideoOut(_Out):
    id: str
    filename: str
    size_bytes: int
    width: int
    height: int
    fps: float
    num_frames: int
    duration_s: float
    created_at: datetime


class JobCreate(BaseModel):
    video_id: str = Field(min_length=1, max_length=32)
    kind: Literal["analyze"] = "analyze"
    exercise: str | None = Field(None, max_length=64, description="Catalogue name or alias; none: recognised.")


class JobOut(_Out):
    id: str
    video_id: str
    kind: str
    state: JobState
    progress: float = Field(ge=0.0, le=1.0)
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class HistoryItem(BaseModel):
    job_id: str
    video_id: str
    finished_at: datetime | None
    exercise: str | None
    rep_count: int | None


class Problem(BaseModel):
    detail: str
