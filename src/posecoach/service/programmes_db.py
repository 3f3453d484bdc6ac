"""Home exercise programmes (issue 28, migration 0012): the tables and their queries, every read scoped to the caller.

A clinician prescribes a programme of guides (from the reference library) to a patient who accepted their care;
an edit makes a new version and keeps the old ones. Who reads a programme: its patient; its clinician while the
patient's care link is accepted; an admin. Only its clinician (with the link) edits it; only its patient records
sessions. Anyone else gets "not found", as for an id that does not exist; users are named, never shown by id.

The figures (today's session, adherence, attention) are `adherence`'s pure functions of what is loaded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from posecoach.service import adherence
from posecoach.service.db import ACCEPTED, Base, CareLink, Database, ReferenceGuide, User, new_id, utcnow
from posecoach.service.library_db import shared_owners


class NotFound(LookupError):
    """No such programme, patient or session (or none the caller may see): 404."""


class Refused(PermissionError):
    """The caller sees it but may not do this (not a clinician, not the patient, not its clinician): 403."""


class Invalid(ValueError):
    """The request names what does not fit (a guide the patient cannot see, an unknown exercise): 422."""


class Conflict(ValueError):
    """Edited meanwhile (the version sent is not the current one), or a client id reused: 409."""


class Programme(Base):
    __tablename__ = "programmes"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    clinician_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, nullable=True
    )  # None: the clinician's account was deleted
    patient_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the current version's number
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ProgrammeVersion(Base):
    __tablename__ = "programme_versions"
    __table_args__ = (UniqueConstraint("programme_id", "version", name="uq_programme_versions_version"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    author: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the clinician's username then
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ProgrammeItem(Base):
    __tablename__ = "programme_items"
    __table_args__ = (UniqueConstraint("version_id", "item_key", name="uq_programme_items_key"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    version_id: Mapped[str] = mapped_column(ForeignKey("programme_versions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    item_key: Mapped[str] = mapped_column(String(32))  # the same exercise across versions
    guide_id: Mapped[str] = mapped_column(String(32))  # no foreign key: the guide may be deleted since
    guide_name: Mapped[str] = mapped_column(String(64))  # its name when prescribed
    sets: Mapped[int] = mapped_column(Integer)
    reps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    hold_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    rest_s: Mapped[int] = mapped_column(Integer)
    per_week: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")


class ProgrammeSession(Base):
    __tablename__ = "programme_sessions"
    __table_args__ = (UniqueConstraint("patient_id", "client_id", name="uq_programme_sessions_client"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    programme_id: Mapped[str] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"), index=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))  # made by the browser: an upload sent twice is stored once
    version: Mapped[int] = mapped_column(Integer)  # the version the patient followed
    day: Mapped[date] = mapped_column(Date)  # the patient's calendar date
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime] = mapped_column(DateTime)
    complete: Mapped[bool] = mapped_column(Boolean)
    pain: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0-10
    difficulty: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-5
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SessionExercise(Base):
    __tablename__ = "programme_session_exercises"
    __table_args__ = (UniqueConstraint("session_id", "item_key", name="uq_programme_session_exercises_item"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("programme_sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # as uploaded
    item_key: Mapped[str] = mapped_column(String(32))
    sets_done: Mapped[int] = mapped_column(Integer)
    reps_done: Mapped[int] = mapped_column(Integer)
    scores: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of per-repetition scores, 0-100
    rom_deg: Mapped[float | None] = mapped_column(Float, nullable=True)


# what the routes get --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ItemSpec:
    """An exercise as the clinician sends it; ``key`` keeps an exercise of the version before (None: a new one)."""

    guide_id: str
    sets: int
    reps: int | None
    hold_s: float | None
    rest_s: int
    per_week: int
    notes: str = ""
    key: str | None = None


@dataclass(frozen=True)
class View:
    """A programme as one version has it (the current one unless asked), with the names of both sides."""

    id: str
    clinician: str | None
    patient: str
    patient_id: str  # for the audit of reads; never shown
    current_version: int
    version: int
    title: str
    start_date: date
    end_date: date | None
    author: str | None
    items: tuple[adherence.Item, ...]
    created_at: datetime
    updated_at: datetime
    version_created_at: datetime


# access --------------------------------------------------------------------------------------------------------
def linked(s: Session, clinician_id: str | None, patient_id: str) -> bool:
    if clinician_id is None:
        return False
    link = select(CareLink.id).where(
        CareLink.clinician_id == clinician_id, CareLink.patient_id == patient_id, CareLink.state == ACCEPTED
    )
    return s.scalar(link) is not None


def readable(s: Session, user: User, programme_id: str) -> Programme:
    p = s.get(Programme, programme_id)
    if p is None or not (
        user.role == "admin"
        or p.patient_id == user.id
        or (p.clinician_id == user.id and linked(s, user.id, p.patient_id))
    ):
        raise NotFound("no such programme")
    return p


def _editable(s: Session, user: User, programme_id: str) -> Programme:
    p = readable(s, user, programme_id)
    if p.clinician_id != user.id:
        raise Refused("only the clinician who prescribed this programme edits it")
    return p


def _patient(s: Session, clinician: User, name: str) -> User:
    if clinician.role != "clinician":
        raise Refused("only a clinician prescribes programmes")
    found = s.scalars(select(User).where(User.name == name)).first()
    if found is None or not linked(s, clinician.id, found.id):
        raise NotFound(f"no patient named {name!r} who accepted your care")
    return found


def _name(s: Session, user_id: str | None) -> str | None:
    return s.scalar(select(User.name).where(User.id == user_id)) if user_id else None


# programmes and versions ----------------------------------------------------------------------------------------
def _items(
    s: Session, db: Database, clinician: User, patient: User, specs: list[ItemSpec], known: set[str]
) -> list[tuple[ItemSpec, str, str]]:
    """Check each exercise's guide (both sides must see it) and key; (spec, key, guide name)."""
    if not specs:
        raise Invalid("a programme needs at least one exercise")
    mine, theirs = shared_owners(s, db, clinician), shared_owners(s, db, patient)
    out, keys = [], set()
    for n, spec in enumerate(specs, 1):
        guide = s.get(ReferenceGuide, spec.guide_id)
        if guide is None or (mine is not None and guide.owner_id not in mine):
            raise Invalid(f"exercise {n}: no such guide in your library")
        if theirs is not None and guide.owner_id not in theirs:
            raise Invalid(f"exercise {n}: the patient cannot see the guide {guide.name!r} (it is another patient's)")
        if spec.key is not None and spec.key not in known:
            raise Invalid(f"exercise {n}: {spec.key!r} is no exercise of this programme")
        key = spec.key or new_id()
        if key in keys:
            raise Invalid(f"exercise {n}: the same exercise twice")
        keys.add(key)
        out.append((spec, key, guide.name))
    return out


def _add_version(
    s: Session,
    p: Programme,
    number: int,
    author: User,
    title: str,
    start: date,
    end: date | None,
    items: list[tuple[ItemSpec, str, str]],
) -> None:
    if end is not None and end < start:
        raise Invalid("the end date is before the start date")
    version = ProgrammeVersion(
        id=new_id(),
        programme_id=p.id,
        version=number,
        title=title,
        start_date=start,
        end_date=end,
        author=author.name,
        created_at=utcnow(),
    )
    s.add(version)
    s.flush()
    s.add_all(
        ProgrammeItem(
            id=new_id(),
            version_id=version.id,
            position=i,
            item_key=key,
            guide_id=spec.guide_id,
            guide_name=name,
            sets=spec.sets,
            reps=spec.reps,
            hold_s=spec.hold_s,
            rest_s=spec.rest_s,
            per_week=spec.per_week,
            notes=spec.notes,
        )
        for i, (spec, key, name) in enumerate(items)
    )
    p.version, p.updated_at = number, version.created_at


def create(
    db: Database, clinician: User, patient_name: str, title: str, start: date, end: date | None, specs: list[ItemSpec]
) -> View:
    """A new programme (version 1) for a patient who accepted ``clinician``'s care."""
    with db.session() as s:
        patient = _patient(s, clinician, patient_name)
        items = _items(s, db, clinician, patient, specs, set())
        p = Programme(
            id=new_id(),
            clinician_id=clinician.id,
            patient_id=patient.id,
            version=1,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
        s.add(p)
        s.flush()
        _add_version(s, p, 1, clinician, title, start, end, items)
        s.flush()
        return view(s, p)


def edit(
    db: Database,
    clinician: User,
    programme_id: str,
    title: str,
    start: date,
    end: date | None,
    specs: list[ItemSpec],
    expected_version: int | None = None,
) -> View:
    """A new version of a programme; the old ones are kept. `Conflict` when ``expected_version`` is not current."""
    with db.session() as s:
        p = _editable(s, clinician, programme_id)
        if expected_version is not None and expected_version != p.version:
            raise Conflict(
                f"the programme was edited meanwhile: version {p.version} is current, not {expected_version}; reload it"
            )
        patient = s.get(User, p.patient_id)
        assert patient is not None  # the foreign key deletes the programme with its patient
        known = set(
            s.scalars(
                select(ProgrammeItem.item_key).join(ProgrammeVersion).where(ProgrammeVersion.programme_id == p.id)
            ).all()
        )
        items = _items(s, db, clinician, patient, specs, known)
        try:
            _add_version(s, p, p.version + 1, clinician, title, start, end, items)
            s.flush()
        except IntegrityError:  # two edits of the same version at once: one wins
            raise Conflict("the programme was edited meanwhile; reload it") from None
        return view(s, p)


def version_row(s: Session, p: Programme, number: int) -> ProgrammeVersion:
    row = s.scalars(
        select(ProgrammeVersion).where(ProgrammeVersion.programme_id == p.id, ProgrammeVersion.version == number)
    ).first()
    if row is None:
        raise NotFound(f"no version {number} of this programme")
    return row


def item_rows(s: Session, version_id: str) -> tuple[adherence.Item, ...]:
    rows = s.scalars(
        select(ProgrammeItem).where(ProgrammeItem.version_id == version_id).order_by(ProgrammeItem.position)
    ).all()
    return tuple(
        adherence.Item(r.item_key, r.guide_id, r.guide_name, r.sets, r.reps, r.hold_s, r.rest_s, r.per_week, r.notes)
        for r in rows
    )


def view(s: Session, p: Programme, number: int | None = None) -> View:
    v = version_row(s, p, number or p.version)
    return View(
        p.id,
        _name(s, p.clinician_id),
        _name(s, p.patient_id) or "",
        p.patient_id,
        p.version,
        v.version,
        v.title,
        v.start_date,
        v.end_date,
        v.author,
        item_rows(s, v.id),
        p.created_at,
        p.updated_at,
        v.created_at,
    )


def programme(db: Database, user: User, programme_id: str, number: int | None = None) -> View:
    with db.session() as s:
        return view(s, readable(s, user, programme_id), number)


def versions(db: Database, user: User, programme_id: str) -> list[View]:
    """Every version of a programme, newest first."""
    with db.session() as s:
        p = readable(s, user, programme_id)
        numbers = s.scalars(
            select(ProgrammeVersion.version)
            .where(ProgrammeVersion.programme_id == p.id)
            .order_by(ProgrammeVersion.version.desc())
        ).all()
        return [view(s, p, n) for n in numbers]


def programmes(db: Database, user: User, patient_name: str | None = None) -> list[View]:
    """The programmes ``user`` reads (a patient's own; a clinician's, of the patients linked now; all for an admin),
    optionally only one patient's, newest first."""
    with db.session() as s:
        query = select(Programme)
        if user.role == "clinician":
            linked = select(CareLink.patient_id).where(CareLink.clinician_id == user.id, CareLink.state == ACCEPTED)
            query = query.where(
                (Programme.patient_id == user.id)
                | ((Programme.clinician_id == user.id) & Programme.patient_id.in_(linked))
            )
        elif user.role != "admin":
            query = query.where(Programme.patient_id == user.id)
        if patient_name is not None:
            query = query.join(User, User.id == Programme.patient_id).where(User.name == patient_name)
        rows = s.scalars(query.order_by(Programme.updated_at.desc(), Programme.id)).all()
        return [view(s, p) for p in rows]
