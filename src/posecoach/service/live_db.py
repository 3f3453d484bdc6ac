"""Finished live sessions (the Live page's sets), kept as History entries next to the uploaded analyses
(``live_sessions``, migration 0009): what the live coach decided when the user stopped (exercise, count and how
sure it is, form issues per repetition, tempo), the set's target, how long it lasted."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from posecoach.service.db import Base, Database, User, new_id, utcnow


class LiveRecord(Base):
    """One finished live set of a user: saved when the set ends (the socket's ``finish``)."""

    __tablename__ = "live_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    exercise: Mapped[str | None] = mapped_column(String(64), nullable=True)  # catalogue name; None: not known
    title: Mapped[str] = mapped_column(String(100))
    rep_count: Mapped[int] = mapped_column(Integer)
    rep_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    error_count: Mapped[int] = mapped_column(Integer)
    hold_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    target: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the repetitions the user aimed at
    duration_s: Mapped[float] = mapped_column(Float)
    reps: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{index, start_s, end_s, duration_s, errors}]
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    def rep_items(self) -> list[dict[str, Any]]:
        return list(json.loads(self.reps or "[]"))


@dataclass(frozen=True)
class Finished:
    """A live set's outcome as the socket's summary gives it (`posecoach.service.live.LiveSession.finish`)."""

    exercise: str | None
    title: str
    count: int
    count_confidence: float | None
    hold_s: float | None
    target: int | None
    duration_s: float
    reps: list[dict[str, Any]]


def save(db: Database, user: User, done: Finished) -> LiveRecord:
    """Store a finished live set of ``user``; the stored row."""
    now = utcnow()
    row = LiveRecord(id=new_id(), owner_id=user.id, exercise=done.exercise, title=done.title[:100],
                     rep_count=done.count, rep_confidence=done.count_confidence,
                     error_count=sum(len(r.get("errors", ())) for r in done.reps), hold_s=done.hold_s,
                     target=done.target, duration_s=round(done.duration_s, 2), reps=json.dumps(done.reps),
                     started_at=now - timedelta(seconds=done.duration_s), finished_at=now)
    with db.session() as s:
        s.add(row)
    return row


def records(db: Database, owner_id: str) -> list[LiveRecord]:
    """The live sets of ``owner_id``, newest first (the caller checked it may read them)."""
    with db.session() as s:
        return list(s.scalars(select(LiveRecord).where(LiveRecord.owner_id == owner_id)
                              .order_by(LiveRecord.finished_at.desc())).all())


def record(db: Database, user: User, record_id: str) -> LiveRecord | None:
    """One live set ``user`` may read (theirs, a patient's who accepted, anyone's for an admin); None otherwise."""
    with db.session() as s:
        row = s.get(LiveRecord, record_id)
        if row is None:
            return None
        owners = db.visible_owners(s, user)
        return row if owners is None or row.owner_id in owners else None


def delete(db: Database, user: User, record_id: str, address: str | None = None) -> bool:
    """Delete one of ``user``'s own live sets (audited); False when they have none of that id."""
    from posecoach.service import audit

    with db.session() as s:
        row = s.get(LiveRecord, record_id)
        if row is None or row.owner_id != user.id:
            return False
        audit.record(s, audit.DELETE, actor=user, subject=user, object_type="live_session", object_id=row.id,
                     address=address)
        s.delete(row)
    return True
