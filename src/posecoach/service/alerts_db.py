"""The fall alert log and each user's alert destination (migration 0010).

Every fall alert is kept (`FallAlert`): an uploaded video's falls job records one row per event when the job
finishes (in the job's own transaction, so a job stored twice records its alerts once); a live camera session
records one row when an alert fires and updates it when what became of the person changes. A row says when it
fired, where (the clip's file name and job, or the live session), the event's time in the clip, the outcome
(``down``, ``lost``: not seen since the fall, ``got_up``), confirmed or not, who acknowledged it, and its delivery
to the owner's webhook (`AlertDestination`; `alerts_outbox` sends it): ``none`` (no destination when it fired),
``pending``, ``sending``, ``sent`` or ``failed``.

Reads are scoped like every other row (`Database.visible_owners`): one's own alerts, a clinician's patients' who
accepted the care link, everyone's for an admin; anyone else's alert is simply not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, UniqueConstraint, select, update
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, Session, mapped_column

from posecoach.service.db import Base, Database, User, new_id, utcnow

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

AT = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
UPLOAD, LIVE = "upload", "live"
NONE, PENDING, SENDING, SENT, FAILED = "none", "pending", "sending", "sent", "failed"
OUTCOME_TEXT = {"down": "still down", "lost": "not seen since the fall", "got_up": "got up"}


class FallAlert(Base):
    __tablename__ = "fall_alerts"
    __table_args__ = (UniqueConstraint("job_id", "event_index", name="uq_fall_alerts_job_event"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # upload or live
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), nullable=True)
    live_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the live session's id (no row)
    source_name: Mapped[str] = mapped_column(String(255))  # the clip's file name, or "Live camera"
    event_index: Mapped[int] = mapped_column(Integer)  # 1-based, in the clip or session
    alert_s: Mapped[float] = mapped_column(Float)  # when the alert fired, seconds into the clip or session
    impact_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))  # down, lost, got_up
    confirmed: Mapped[bool] = mapped_column(Boolean)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(AT, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(AT, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(AT, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    acknowledged_by_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ack_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    delivery: Mapped[str] = mapped_column(String(16), index=True)
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    delivery_next_at: Mapped[datetime | None] = mapped_column(AT, nullable=True)  # next try; or when taken
    delivered_at: Mapped[datetime | None] = mapped_column(AT, nullable=True)
    delivered_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)  # fall, fall_update
    delivery_error: Mapped[str | None] = mapped_column(String(255), nullable=True)

    @property
    def outcome_text(self) -> str:
        text = OUTCOME_TEXT.get(self.outcome, self.outcome)
        return text if self.confirmed else f"{text} (unconfirmed)"


class AlertDestination(Base):
    __tablename__ = "alert_destinations"
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    webhook_url: Mapped[str] = mapped_column(String(2048))
    updated_at: Mapped[datetime] = mapped_column(AT, default=utcnow)


@dataclass(frozen=True)
class Fired:
    """One fall event as an alert records it (from a `FallEvent` or a fall report's event item)."""

    index: int
    alert_s: float
    impact_s: float | None
    outcome: str
    confirmed: bool
    confidence: float | None

    @classmethod
    def of(cls, index: int, event: Any) -> Fired:
        def num(v: Any) -> float | None:
            return None if v is None or v != v else round(float(v), 3)  # NaN: unknown

        return cls(index=index, alert_s=num(event.alert_s) or 0.0, impact_s=num(event.impact_s),
                   outcome=str(getattr(event, "outcome", "down") or "down"),
                   confirmed=bool(getattr(event, "confirmed", True)), confidence=num(event.confidence))


# destinations ----------------------------------------------------------------------------------------------------
def destination(db: Database | Session, user_id: str) -> str | None:
    """``user_id``'s webhook URL, None when they set none."""
    if isinstance(db, Session):
        return db.scalar(select(AlertDestination.webhook_url).where(AlertDestination.user_id == user_id))
    with db.session() as s:
        return destination(s, user_id)


def destination_row(db: Database, user: User) -> AlertDestination | None:
    with db.session() as s:
        return s.get(AlertDestination, user.id)


def set_destination(db: Database, user: User, url: str) -> AlertDestination:
    """Set (or replace) ``user``'s webhook URL (validated by the caller: `alerts_schemas.webhook_refusal`)."""
    with db.session() as s:
        row = s.get(AlertDestination, user.id)
        if row is None:
            row = AlertDestination(user_id=user.id, webhook_url=url, updated_at=utcnow())
            s.add(row)
        else:
            row.webhook_url, row.updated_at = url, utcnow()
        return row


def remove_destination(db: Database, user: User) -> bool:
    """Remove ``user``'s destination; alerts waiting to be sent to it are not sent (delivery ``none``)."""
    with db.session() as s:
        row = s.get(AlertDestination, user.id)
        if row is None:
            return False
        s.delete(row)
        s.execute(update(FallAlert).where(FallAlert.owner_id == user.id, FallAlert.delivery == PENDING)
                  .values(delivery=NONE, delivery_next_at=None))
        return True


# recording -------------------------------------------------------------------------------------------------------
def _row(s: Session, owner_id: str, fired: Fired, **where: Any) -> FallAlert:
    now = utcnow()
    wanted = destination(s, owner_id) is not None
    return FallAlert(id=new_id(), owner_id=owner_id, event_index=fired.index, alert_s=fired.alert_s,
                     impact_s=fired.impact_s, outcome=fired.outcome, confirmed=fired.confirmed,
                     confidence=fired.confidence, created_at=now, updated_at=now,
                     delivery=PENDING if wanted else NONE, delivery_attempts=0,
                     delivery_next_at=now if wanted else None, **where)


def job_recorder(owner_id: str, job_id: str, file_name: str, events: Iterable[Any]) -> Callable[[Session], None]:
    """What a falls job runs in its finishing transaction (`work.Work.finish`): one alert per event."""
    items = [Fired.of(i + 1, e) for i, e in enumerate(events)]

    def record(s: Session) -> None:
        for fired in items:
            s.add(_row(s, owner_id, fired, source=UPLOAD, job_id=job_id, source_name=file_name[:255]))

    return record


def record_live(db: Database, owner_id: str, live_id: str, fired: Fired) -> str:
    """A live session's alert fired: recorded; its id."""
    with db.session() as s:
        row = _row(s, owner_id, fired, source=LIVE, live_id=live_id, source_name="Live camera")
        s.add(row)
        return row.id


def update_live(db: Database, alert_id: str, fired: Fired) -> None:
    """What became of the person changed (or the session ended): the alert says so, and is sent again (as an
    update) when its owner has a destination."""
    with db.session() as s:
        row = s.get(FallAlert, alert_id)
        if row is None:
            return
        row.outcome, row.confirmed, row.updated_at = fired.outcome, fired.confirmed, utcnow()
        if row.delivery != NONE and destination(s, row.owner_id) is not None:  # sending: sent again after
            row.delivery, row.delivery_next_at, row.delivery_attempts = PENDING, utcnow(), 0


# reading and acknowledging ---------------------------------------------------------------------------------------
def alerts(db: Database, user: User, owner_id: str | None = None, open_only: bool = False,
           limit: int = 200) -> list[tuple[FallAlert, str]]:
    """The alerts ``user`` may read (own, accepted patients', everyone's for an admin), newest first, each with
    its owner's name; ``owner_id``: only that owner's (the caller checked it may read them)."""
    with db.session() as s:
        query = select(FallAlert, User.name).join(User, User.id == FallAlert.owner_id)
        if owner_id is not None:
            query = query.where(FallAlert.owner_id == owner_id)
        owners = db.visible_owners(s, user)
        if owners is not None:
            query = query.where(FallAlert.owner_id.in_(owners))
        if open_only:
            query = query.where(FallAlert.acknowledged_at.is_(None))
        query = query.order_by(FallAlert.created_at.desc(), FallAlert.id).limit(limit)
        return [(a, name) for a, name in s.execute(query).all()]


def alert(db: Database, user: User, alert_id: str) -> tuple[FallAlert, str] | None:
    """One alert ``user`` may read, with its owner's name; None otherwise (as for one that does not exist)."""
    with db.session() as s:
        found = s.execute(select(FallAlert, User.name).join(User, User.id == FallAlert.owner_id)
                          .where(FallAlert.id == alert_id)).first()
        if found is None:
            return None
        owners = db.visible_owners(s, user)
        return (found[0], found[1]) if owners is None or found[0].owner_id in owners else None


class AlreadyAcknowledged(Exception):
    """The alert was acknowledged before (by whom and when: the message)."""


def acknowledge(db: Database, user: User, alert_id: str, note: str | None = None) -> tuple[FallAlert, str] | None:
    """``user`` acknowledges an alert they may read (theirs, or a patient's who accepted their care); None when
    they may not; `AlreadyAcknowledged` when someone did already."""
    if alert(db, user, alert_id) is None:
        return None
    now = utcnow()
    with db.session() as s:
        done = s.execute(update(FallAlert).where(FallAlert.id == alert_id, FallAlert.acknowledged_at.is_(None))
                         .values(acknowledged_at=now, acknowledged_by=user.id, acknowledged_by_name=user.name[:100],
                                 ack_note=(note or None) and note[:500])).rowcount == 1
    found = alert(db, user, alert_id)
    if found is None:  # deleted meanwhile
        return None
    if not done:
        row = found[0]
        when = row.acknowledged_at.strftime("%Y-%m-%d %H:%M UTC") if row.acknowledged_at else "earlier"
        raise AlreadyAcknowledged(f"this alert was acknowledged already, by {row.acknowledged_by_name or 'someone'} "
                                  f"at {when}")
    return found
