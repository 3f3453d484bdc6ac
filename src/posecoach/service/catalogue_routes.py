"""The exercise catalogue as the web app and API clients see it: names, titles, kinds and form rules."""

from __future__ import annotations

from fastapi import APIRouter

from posecoach.service import schemas
from posecoach.service.routes import Caller

router = APIRouter(tags=["exercises"])


@router.get("/v1/exercises", response_model=list[schemas.ExerciseOut])
def list_exercises(user: Caller) -> list[schemas.ExerciseOut]:
    """Every catalogue exercise (what `exercise` in an analysis job or the live camera accepts, besides auto)."""
    from posecoach.analysis.exercises import catalogue

    return [schemas.ExerciseOut(name=ex.name, title=ex.title, kind=ex.kind, aliases=list(ex.aliases),
                                rules=[r.title for r in ex.rules])
            for ex in sorted(catalogue().values(), key=lambda e: e.title)]
