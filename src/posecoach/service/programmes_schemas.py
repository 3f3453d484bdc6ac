"""Request and response bodies of the programme routes (`programmes_routes`): programmes and their versions,
today's session, recorded sessions, adherence and the clinician's attention list. Users are named, never by id."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from posecoach.service.schemas import Time, UserName

Id = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9a-f]{1,32}$")]
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)  # the dates a programme may name
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]


class ItemIn(BaseModel):
    """An exercise: a guide, how many sets of how many repetitions (or held for how many seconds), the rest
    between sets and how many times a week. ``id``: an exercise of the version before, to keep its history."""

    model_config = ConfigDict(extra="forbid")
    id: Id | None = Field(None, description="the exercise's id in the version before (none: a new exercise)")
    guide_id: Id = Field(description="a guide of the reference library both you and the patient see")
    sets: int = Field(ge=1, le=20)
    reps: int | None = Field(None, ge=1, le=200, description="repetitions per set (or hold_s)")
    hold_s: float | None = Field(None, gt=0, le=600, description="seconds held per set (or reps)")
    rest_s: int = Field(60, ge=0, le=900, description="rest between sets, seconds")
    per_week: int = Field(ge=1, le=7, description="sessions a week")
    notes: str = Field("", max_length=1000)

    @model_validator(mode="after")
    def _one_target(self) -> ItemIn:
        if (self.reps is None) == (self.hold_s is None):
            raise ValueError("give either reps (repetitions per set) or hold_s (seconds held), not both")
        return self


class ProgrammeEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    start_date: Day
    end_date: Day | None = None
    items: list[ItemIn] = Field(min_length=1, max_length=30)
    version: int | None = Field(None, ge=1, description="the version you edited: 409 if another edit came first")


class ProgrammeCreate(ProgrammeEdit):
    patient: UserName = Field(description="the patient's username (they must have accepted your care)")


class ItemOut(BaseModel):
    id: str = Field(description="the exercise's id, the same in every version that keeps it")
    guide_id: str
    guide_name: str
    sets: int
    reps: int | None
    hold_s: float | None
    rest_s: int
    per_week: int
    notes: str


class ProgrammeOut(BaseModel):
    id: str
    clinician: str | None = Field(description="the prescribing clinician's username (none: account deleted)")
    patient: str
    version: int = Field(description="the version shown")
    current_version: int
    title: str
    start_date: date
    end_date: date | None
    author: str | None = Field(description="who made this version")
    items: list[ItemOut]
    created_at: Time
    updated_at: Time
    version_created_at: Time


class DueOut(BaseModel):
    item: ItemOut
    due: bool
    done_today: bool
    done_this_week: int
    target_this_week: int
    reason: str = Field(description="why it is due or not, in words")


class TodayOut(BaseModel):
    programme_id: str
    title: str
    date: date
    due: list[DueOut]


class ExerciseDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    item_id: Id = Field(description="the exercise's id in the programme")
    sets_done: int = Field(ge=0, le=100)
    reps_done: int = Field(ge=0, le=10000, description="repetitions (or holds) done over all sets")
    scores: list[Annotated[float, Field(ge=0, le=100)]] = Field(
        default_factory=list, max_length=2000, description="per-repetition scores, 0-100"
    )
    rom_deg: float | None = Field(None, ge=0, le=360, description="range of motion, degrees")


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[\w.:-]+$",
        description="made by the client once per session: sending it again stores nothing new",
    )
    version: int | None = Field(None, ge=1, description="the programme version followed (none: the current one)")
    day: Day | None = Field(None, description="your calendar date of the session (none: the finishing time's, UTC)")
    started_at: Time
    finished_at: Time
    complete: bool
    pain: int | None = Field(None, ge=0, le=10, description="0 (none) to 10 (worst)")
    difficulty: int | None = Field(None, ge=1, le=5, description="1 (easy) to 5 (very hard)")
    exercises: list[ExerciseDoneIn] = Field(default_factory=list, max_length=30)

    @model_validator(mode="after")
    def _times(self) -> SessionIn:
        for t in (self.started_at, self.finished_at):
            if not FIRST_DAY.year <= t.year <= LAST_DAY.year:
                raise ValueError(f"a session's times are between the years {FIRST_DAY.year} and {LAST_DAY.year}")
        return self


class ExerciseDoneOut(BaseModel):
    item_id: str
    guide_name: str
    sets_done: int
    reps_done: int
    scores: list[float]
    mean_score: float | None
    rom_deg: float | None


class SessionOut(BaseModel):
    id: str
    client_id: str
    programme_id: str
    version: int
    day: date
    started_at: Time
    finished_at: Time
    complete: bool
    pain: int | None
    difficulty: int | None
    exercises: list[ExerciseDoneOut]
    created_at: Time


class WeekOut(BaseModel):
    start: date = Field(description="the week's Monday")
    prescribed: int = Field(description="session days the week prescribes")
    expected: int = Field(description="of those, expected by the date asked (all, for a past week)")
    done: int = Field(description="days with a session")
    complete: int = Field(description="sessions marked complete")


class PointOut(BaseModel):
    day: date
    session_id: str
    sets_done: int
    reps_done: int
    score: float | None = Field(description="the mean of the session's per-repetition scores")
    rom_deg: float | None


class ExerciseAdherenceOut(BaseModel):
    item: ItemOut
    current: bool = Field(description="in the current version (else: removed by an edit)")
    prescribed: int = Field(description="sessions expected to date")
    done: int = Field(description="days it was done")
    completion: float | None = Field(description="share of the sets expected to date that were done, 0-1")
    mean_score: float | None
    mean_rom_deg: float | None
    points: list[PointOut] = Field(description="score and range of motion per session, oldest first")


class AdherenceOut(BaseModel):
    programme_id: str
    title: str
    patient: str
    date: date
    weeks: list[WeekOut]
    prescribed: int = Field(description="session days expected to date")
    done: int
    rate: float | None = Field(description="done (at most each week's prescription) / expected to date, 0-1")
    missed_this_week: int
    exercises: list[ExerciseAdherenceOut]
    attention: list[str] = Field(description="why the patient needs attention, in words (none: all is well)")


class AttentionProgramme(BaseModel):
    id: str
    title: str
    missed_this_week: int
    reasons: list[str]


class AttentionOut(BaseModel):
    patient: str
    programmes: list[AttentionProgramme]
