"""The audit log (migration 0007): who read or changed which patient's data, and who signed in.

One row per event, written with one INSERT by `record`: a clinician reading a linked patient's videos, results
or history; deletions (a video, a job and its results, a guide, an account); care-link changes; sign-ins (made
by the sign-in routes, successful or not). A row names its actor and the patient whose data it is about
(``subject``) by id *and* by the name they had then, so the log still reads after an account is deleted: the
audit log is kept when accounts go (no foreign keys), it is the record of what happened to them.

The admin reads every event (`GET /v1/audit`), a user the events about their own data (`GET /v1/me/audit`):
who of their clinicians read what, and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import DateTime, String, insert, literal, or_, select
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, Session, mapped_column

from posecoach.service.db import Base, new_id, utcnow

if TYPE_CHECKING:
    from collections.abc import Iterable

    from posecoach.service.db import Database, User

# The actions the service records (a free string column: a new action needs no migration).
READ = "read"  # someone other than the owner read a patient's data (object_type says what)
DELETE = "delete"  # a video, job, guide or account was deleted
CARE_INVITE, CARE_ACCEPT, CARE_END = "care.invite", "care.accept", "care.end"
SIGN_IN, SIGN_IN_FAILED, SIGN_OUT = "sign_in", "sign_in.failed", "sign_out"
RETENTION = "retention"  # the sweep deleted a video older than POSECOACH_RETENTION_DAYS


AT = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")  # MySQL's DATETIME keeps whole seconds


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(AT, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    actor_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    subject_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # whose data
    subject_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    object_type: Mapped[str | None] = mapped_column(String(32), nullable=True)  # video, job, result, guide, user...
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str | None] = mapped_column(String(255), nullable=True)
    address: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the client's IP address


def _clip(value: str | None, n: int) -> str | None:
    """At most ``n`` characters of printable text (a name typed at a sign-in form may be anything)."""
    if value is None:
        return None
    return "".join(c if c.isprintable() else "?" for c in str(value))[:n]


def record(db: Database | Session, action: str, *, actor: User | None = None, actor_name: str | None = None,
           subject: User | None = None, subject_id: str | None = None, subject_name: str | None = None,
           object_type: str | None = None, object_id: str | None = None, detail: str | None = None,
           address: str | None = None) -> None:
    """Write one audit event (one INSERT). ``db``: the `Database` (its own transaction) or an open `Session`
    (the event commits with the change it records).

    ``actor``: who did it (None for the service itself, e.g. the retention sweep); ``actor_name`` alone for a
    failed sign-in to a name that may not exist. ``subject``/``subject_id``: the patient whose data it is about.
    Sign-ins: ``record(db, audit.SIGN_IN, actor=user, address=ip)``, ``record(db, audit.SIGN_IN_FAILED,
    actor_name=typed_name, address=ip, detail="wrong password")``."""
    if subject is not None:
        subject_id, subject_name = subject.id, subject.name
    event = AuditEvent(id=new_id(), at=utcnow(), action=_clip(action, 32) or "?",
                       actor_id=actor.id if actor else None,
                       actor_name=_clip(actor.name if actor else actor_name, 100),
                       subject_id=subject_id, subject_name=_clip(subject_name, 100),
                       object_type=_clip(object_type, 32), object_id=_clip(object_id, 64),
                       detail=_clip(detail, 255), address=_clip(address, 64))
    if isinstance(db, Session):
        db.add(event)
        return
    with db.session() as s:
        s.add(event)


def record_read(db: Database, reader: User, owner_ids: str | Iterable[str], object_type: str,
                object_id: str | None = None, address: str | None = None, detail: str | None = None) -> None:
    """Record that ``reader`` read data of other users (a clinician reading a patient's, an admin a user's): one
    INSERT ... SELECT per owner, the owner's name taken from their row; one's own data is not recorded."""
    owners = {owner_ids} if isinstance(owner_ids, str) else set(owner_ids)
    owners.discard(reader.id)
    if not owners:
        return
    from posecoach.service.db import User

    columns = ["id", "at", "action", "actor_id", "actor_name", "subject_id", "subject_name", "object_type",
               "object_id", "address", "detail"]
    with db.session() as s:
        for owner_id in sorted(owners):
            row = select(literal(new_id(), String(32)), literal(utcnow(), AT), literal(READ, String(32)),
                         literal(reader.id, String(32)), literal(_clip(reader.name, 100), String(100)),
                         User.id, User.name, literal(_clip(object_type, 32), String(32)),
                         literal(_clip(object_id, 64), String(64)), literal(_clip(address, 64), String(64)),
                         literal(_clip(detail, 255), String(255))).where(User.id == owner_id)
            s.execute(insert(AuditEvent).from_select(columns, row))


def origin(request: Any) -> dict[str, str | None]:
    """``address`` and ``detail`` of an HTTP request for `record` / `record_read`: the client's address and the
    method and path asked for."""
    client = getattr(request, "client", None)
    return {"address": client.host if client else None, "detail": f"{request.method} {request.url.path}"}


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    next_before: str | None  # pass as ``before`` for the next (older) page; None: no more


def events(db: Database, *, involving: str | None = None, name: str | None = None, action: str | None = None,
           since: datetime | None = None, until: datetime | None = None, before: str | None = None,
           limit: int = 50) -> Page:
    """Events newest first, filtered; paged by ``before`` (the id of the last event of the previous page).

    ``involving``: a user id, as the actor or the subject (a user's own view); ``name``: a username, as the actor
    or the subject (the admin's filter; it finds the events of deleted accounts too)."""
    with db.session() as s:
        query = select(AuditEvent)
        if involving is not None:
            query = query.where(or_(AuditEvent.subject_id == involving, AuditEvent.actor_id == involving))
        if name is not None:
            query = query.where(or_(AuditEvent.subject_name == name, AuditEvent.actor_name == name))
        if action:
            query = query.where(AuditEvent.action == action)
        if since is not None:
            query = query.where(AuditEvent.at >= since)
        if until is not None:
            query = query.where(AuditEvent.at < until)
        if before:
            last = s.get(AuditEvent, before)
            if last is not None:
                query = query.where((AuditEvent.at < last.at)
                                    | ((AuditEvent.at == last.at) & (AuditEvent.id < last.id)))
        rows = list(s.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if more and rows else None)
