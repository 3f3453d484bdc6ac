"""Sessions of home exercise programmes (issue 28, migration 0012): the patient records what was done of each
exercise (sets, repetitions, per-repetition scores, range of motion) with pain and difficulty ratings; a client id
made by the browser makes an upload idempotent. Reads are scoped like `programmes_db` (whose tables these are), and
the figures are loaded here as `adherence` takes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from posecoach.service import adherence
from posecoach.service import programmes_db as pdb
from posecoach.service.db import ACCEPTED, CareLink, Database, User, new_id, utcnow
from posecoach.service.programmes_db import (
    Conflict,
    Invalid,
    Programme,
    ProgrammeItem,
    ProgrammeSession,
    ProgrammeVersion,
    Refused,
    SessionExercise,
    View,
)


@dataclass(frozen=True)
class DoneSpec:
    item_id: str
    sets_done: int
    reps_done: int
    scores: tuple[float, ...]
    rom_deg: float | None


@dataclass(frozen=True)
class SessionSpec:
    client_id: str
    started_at: datetime
    finished_at: datetime
    complete: bool
    pain: int | None
    difficulty: int | None
    exercises: tuple[DoneSpec, ...]
    version: int | None = None  # None: the current one
    day: date | None = None  # None: the finishing time's date (UTC)


@dataclass(frozen=True)
class SessionView:
    row: ProgrammeSession
    exercises: tuple[tuple[SessionExercise, str], ...]  # each with its guide's name


def naive_utc(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo else t


# sessions ------------------------------------------------------------------------------------------------------
def _session_view(s: Session, row: ProgrammeSession) -> SessionView:
    names = {
        k: n
        for k, n in s.execute(
            select(ProgrammeItem.item_key, ProgrammeItem.guide_name)
            .join(ProgrammeVersion)
            .where(ProgrammeVersion.programme_id == row.programme_id)
            .order_by(ProgrammeVersion.version)
        )
    }
    done = s.scalars(
        select(SessionExercise).where(SessionExercise.session_id == row.id).order_by(SessionExercise.position)
    ).all()
    return SessionView(row, tuple((d, names.get(d.item_key, "")) for d in done))


def record(db: Database, patient: User, programme_id: str, spec: SessionSpec) -> tuple[SessionView, bool]:
    """Store a session the patient did; (the stored session, True) or, for a client id sent before, (that one,
    False): an upload repeated after a lost connection is stored once."""
    with db.session() as s:
        p = pdb.readable(s, patient, programme_id)
        if p.patient_id != patient.id:
            raise Refused("only the programme's patient records its sessions")
        before = _by_client(s, patient, spec.client_id)
        if before is not None:
            if before.programme_id != p.id:
                raise Conflict("this client id names a session of another programme")
            return _session_view(s, before), False
        number = spec.version or _followed(s, p, {d.item_id for d in spec.exercises})
        keys = {i.key for i in pdb.item_rows(s, pdb.version_row(s, p, number).id)}
        unknown = [d.item_id for d in spec.exercises if d.item_id not in keys]
        if unknown:
            raise Invalid(f"no exercise {unknown[0]!r} in version {number} of this programme")
        if len({d.item_id for d in spec.exercises}) != len(spec.exercises):
            raise Invalid("an exercise is given twice")
        started, finished = naive_utc(spec.started_at), naive_utc(spec.finished_at)
        if finished < started:
            raise Invalid("the session finished before it started")
        row = ProgrammeSession(
            id=new_id(),
            programme_id=p.id,
            patient_id=patient.id,
            client_id=spec.client_id,
            version=number,
            day=spec.day or finished.date(),
            started_at=started,
            finished_at=finished,
            complete=spec.complete,
            pain=spec.pain,
            difficulty=spec.difficulty,
            created_at=utcnow(),
        )
    try:
        with db.session() as s:
            s.add(row)
            s.flush()
            s.add_all(
                SessionExercise(
                    id=new_id(),
                    session_id=row.id,
                    position=n,
                    item_key=d.item_id,
                    sets_done=d.sets_done,
                    reps_done=d.reps_done,
                    scores=json.dumps(list(d.scores)),
                    rom_deg=d.rom_deg,
                )
                for n, d in enumerate(spec.exercises)
            )
            s.flush()
            return _session_view(s, row), True
    except IntegrityError:  # the same upload twice at once: the other one stored it
        with db.session() as s:
            found = _by_client(s, patient, spec.client_id)
            if found is None or found.programme_id != p.id:
                raise Conflict("this client id names a session of another programme") from None
            return _session_view(s, found), False


def _followed(s: Session, p: Programme, keys: set[str]) -> int:
    """The version a session followed when the client does not say: the newest that has all its exercises (an
    upload held back by a lost connection may come after an edit); the current one when none has."""
    rows = s.scalars(
        select(ProgrammeVersion).where(ProgrammeVersion.programme_id == p.id).order_by(ProgrammeVersion.version.desc())
    ).all()
    for row in rows:
        if keys <= {i.key for i in pdb.item_rows(s, row.id)}:
            return row.version
    return p.version


def _by_client(s: Session, patient: User, client_id: str) -> ProgrammeSession | None:
    return s.scalars(
        select(ProgrammeSession).where(
            ProgrammeSession.patient_id == patient.id, ProgrammeSession.client_id == client_id
        )
    ).first()


def _session_rows(s: Session, programme_id: str) -> list[ProgrammeSession]:
    return list(
        s.scalars(
            select(ProgrammeSession)
            .where(ProgrammeSession.programme_id == programme_id)
            .order_by(ProgrammeSession.day, ProgrammeSession.finished_at, ProgrammeSession.id)
        ).all()
    )


def sessions(db: Database, user: User, programme_id: str) -> tuple[View, list[SessionView]]:
    """A programme and its sessions, oldest first."""
    with db.session() as s:
        p = pdb.readable(s, user, programme_id)
        return pdb.view(s, p), [_session_view(s, r) for r in _session_rows(s, p.id)]


def patient_sessions(db: Database, user: User, patient_name: str) -> list[tuple[View, SessionView]]:
    """Every session of a patient in the programmes ``user`` reads (the CSV export), oldest first."""
    found = pdb.programmes(db, user, patient_name)
    with db.session() as s:
        out = [(v, _session_view(s, r)) for v in found for r in _session_rows(s, v.id)]
    return sorted(out, key=lambda pair: (pair[1].row.day, pair[1].row.finished_at, pair[1].row.id))


# the figures ---------------------------------------------------------------------------------------------------
def figures(
    db: Database, user: User, programme_id: str
) -> tuple[View, list[adherence.Version], list[adherence.Session]]:
    """A programme with its versions and sessions as `adherence` takes them."""
    with db.session() as s:
        p = pdb.readable(s, user, programme_id)
        return pdb.view(s, p), *_loaded(s, p)


def _loaded(s: Session, p: Programme) -> tuple[list[adherence.Version], list[adherence.Session]]:
    rows = s.scalars(select(ProgrammeVersion).where(ProgrammeVersion.programme_id == p.id)).all()
    versions_ = [
        adherence.Version(v.version, v.title, v.start_date, v.end_date, pdb.item_rows(s, v.id), v.created_at.date())
        for v in rows
    ]
    sessions_ = []
    for order, r in enumerate(_session_rows(s, p.id)):
        done = s.scalars(select(SessionExercise).where(SessionExercise.session_id == r.id)).all()
        sessions_.append(
            adherence.Session(
                r.id,
                r.day,
                r.complete,
                r.pain,
                r.difficulty,
                tuple(
                    adherence.Done(d.item_key, d.sets_done, d.reps_done, tuple(json.loads(d.scores)), d.rom_deg)
                    for d in done
                ),
                order,
            )
        )
    return versions_, sessions_


def clinician_programmes(
    db: Database, clinician: User
) -> list[tuple[View, list[adherence.Version], list[adherence.Session]]]:
    """The programmes ``clinician`` prescribed to patients linked now, loaded for `adherence.attention`."""
    if clinician.role != "clinician":
        raise Refused("only a clinician has patients")
    with db.session() as s:
        linked = select(CareLink.patient_id).where(CareLink.clinician_id == clinician.id, CareLink.state == ACCEPTED)
        rows = s.scalars(
            select(Programme).where(Programme.clinician_id == clinician.id, Programme.patient_id.in_(linked))
        ).all()
        return [(pdb.view(s, p), *_loaded(s, p)) for p in rows]
