"""The service's database: SQLAlchemy 2 models and every query the service makes, each scoped to the caller.

Works the same on SQLite (default), PostgreSQL and MariaDB/MySQL; the schema is made by the Alembic migrations
in ``migrations/`` (applied by `migrations.upgrade`), never by ``create_all``. Ids are random 32-hex strings, and
a row another user owns is simply not found: guessing an id gives a 404, never someone else's data.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    event,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

ROLES = ("user", "clinician", "admin")
JOB_KINDS = ("pose", "analyze", "compare", "falls", "posture", "reference", "posture_train")
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
CANCELLED = "cancelled"  # by its owner (DELETE /v1/jobs/{id}); the row stays, with the reason in `error`
PENDING, ACCEPTED = "pending", "accepted"  # the states of a care link


def new_id() -> str:
    return secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # stored naive UTC: MySQL keeps no zone


def new_key() -> str:
    """A new API key: ``pc_`` and 256 random bits."""
    return "pc_" + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """API keys are 256-bit random tokens, so one SHA-256 is a safe hash (no password stretching needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="user")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # sign-in (0006; `accounts_db` holds the queries): argon2id hash, disabled, the TOTP second factor
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


FULL_SCOPES = "read write admin"  # a key's scopes, space-separated (see `accounts_db.SCOPES`)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    name: Mapped[str] = mapped_column(String(100), default="first key")  # 0006: scopes, expiry, revocation
    prefix: Mapped[str] = mapped_column(String(16), default="")
    scopes: Mapped[str] = mapped_column(String(64), default=FULL_SCOPES)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class CareLink(Base):
    """A clinician's care of a patient, with the patient's consent (0005): the clinician's invitation is
    ``pending`` until the patient accepts it; only an ``accepted`` link lets the clinician read the patient's
    videos and results. Either side ends it (the row is deleted). `care_db` holds its queries."""

    __tablename__ = "care_links"
    __table_args__ = (UniqueConstraint("id", name="uq_care_links_id"),)
    clinician_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), default=new_id)  # the link's own id, for the routes
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Video(Base):
    __tablename__ = "videos"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    fps: Mapped[float] = mapped_column(Float)
    num_frames: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    video_id: Mapped[str] = mapped_column(ForeignKey("videos.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[str] = mapped_column(Text, default="{}")
    state: Mapped[str] = mapped_column(String(16), default=QUEUED, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)  # who runs it now
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # its last sign of life
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # handed to the queue (0007)

    def parameters(self) -> dict[str, Any]:
        return dict(json.loads(self.params or "{}"))


class Result(Base):
    """One stored output of a job (the report JSON); unique per job and kind, so it is stored once."""

    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("job_id", "kind", name="uq_results_job_kind"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    storage_key: Mapped[str] = mapped_column(String(255))
    exercise: Mapped[str | None] = mapped_column(String(64), nullable=True)
    rep_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0-100, a comparison's (0003)
    error_count: Mapped[int | None] = mapped_column(Integer, nullable=True)  # form errors of an analysis (0003)
    fall_count: Mapped[int | None] = mapped_column(Integer, nullable=True)  # falls detected (0003)
    rep_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0-1, of rep_count (0004)
    rom: Mapped[float | None] = mapped_column(Float, nullable=True)  # typical range per repetition (0010)
    rom_unit: Mapped[str | None] = mapped_column(String(16), nullable=True)  # of rom: deg or cm (estimated)


# the library: references (guides) and posture models (0003) ---------------------------------------------------
class ReferenceGuide(Base):
    """A guide movement of the reference library: its poses (stored once the `reference` job is done) and the
    clinic's description. Visible to its owner, their clinician's patients see a clinician's guides."""

    __tablename__ = "reference_guides"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_reference_guides_owner_name"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    guide: Mapped[str] = mapped_column(Text)  # the `Guide` as JSON
    video_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the source (may be deleted since)
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the job that makes it
    storage_key: Mapped[str | None] = mapped_column(String(255), nullable=True)  # its poses (.npz) once made
    frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PostureModel(Base):
    """A posture classifier trained (job `posture_train`) on labelled ranges of the owner's videos."""

    __tablename__ = "posture_models"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_posture_models_owner_name"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    owner_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    storage_key: Mapped[str | None] = mapped_column(String(255), nullable=True)  # the model file once trained
    classes: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of the postures
    algorithm: Mapped[str | None] = mapped_column(String(16), nullable=True)  # logreg / knn, as chosen
    cv_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the job writing its progress
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            with suppress(OSError):  # cannot: the database is unavailable (503) until it can be opened
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # connect_timeout: a database host that does not answer is "unavailable" (503) after 10 s, not a hung request
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800, connect_args={"connect_timeout": 10})


class Database:
    """An engine and the service's queries. Methods return detached ORM objects (expire_on_commit=False)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as s:
            yield s

    def ping(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(text("SELECT 1")).scalar() == 1

    # users and keys ---------------------------------------------------------------------------------
    def count_users(self) -> int:
        with self.session() as s:
            return len(s.scalars(select(User.id)).all())

    def create_user(self, name: str, role: str = "user", *, password_hash: str | None = None,
                    with_key: bool = True) -> tuple[User, str]:
        """A new user and their first API key (every scope, no expiry; returned in clear once, only its hash is
        stored; ``with_key=False``: no key, "" returned). ``password_hash``: see `accounts_db.hash_password`."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
        key = new_key() if with_key else ""
        try:
            with self.session() as s:
                user = User(id=new_id(), name=name, role=role, created_at=utcnow(), password_hash=password_hash)
                s.add(user)
                s.flush()
                if key:
                    s.add(ApiKey(id=new_id(), user_id=user.id, key_hash=hash_key(key), created_at=utcnow(),
                                 name="first key", prefix=key[:10], scopes=FULL_SCOPES))
        except IntegrityError:
            raise ValueError(f"a user named {name!r} exists already") from None
        return user, key

    def user_for_key(self, key: str) -> User | None:
        """The user of a key that is valid now: not revoked, not expired, its account not disabled."""
        found = self.key_and_user(key)
        return found[1] if found else None

    def key_and_user(self, key: str) -> tuple[ApiKey, User] | None:
        now = utcnow()
        with self.session() as s:
            row = s.execute(select(ApiKey, User).join(User, User.id == ApiKey.user_id)
                            .where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None),
                                   or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now),
                                   User.disabled_at.is_(None))).first()
            return (row[0], row[1]) if row else None

    def visible_owners(self, s: Session, user: User) -> list[str] | None:
        """Whose rows ``user`` may read: None for an admin (all), else self plus the patients who accepted
        ``user``'s care (a pending invitation gives no access)."""
        if user.role == "admin":
            return None
        owners = [user.id]
        if user.role == "clinician":
            owners += s.scalars(select(CareLink.patient_id).where(CareLink.clinician_id == user.id,
                                                                  CareLink.state == ACCEPTED)).all()
        return owners

    def _scoped(self, s: Session, model: type[Video] | type[Job], user: User) -> Any:
        owners = self.visible_owners(s, user)
        query = select(model)
        return query if owners is None else query.where(model.owner_id.in_(owners))

    # videos ---------------------------------------------------------------------------------------------
    def add_video(self, video: Video) -> Video:
        with self.session() as s:
            s.add(video)
        return video

    def video(self, user: User, video_id: str) -> Video | None:
        with self.session() as s:
            return s.scalars(self._scoped(s, Video, user).where(Video.id == video_id)).first()

    def videos(self, user: User) -> list[Video]:
        with self.session() as s:
            return list(s.scalars(self._scoped(s, Video, user).order_by(Video.created_at.desc())).all())

    def delete_video(self, user: User, video_id: str) -> list[str] | None:
        """Delete a video the caller owns, with its jobs and results; the storage keys to remove, or None."""
        with self.session() as s:
            video = s.scalars(select(Video).where(Video.id == video_id, Video.owner_id == user.id)).first()
            if video is None:
                return None
            jobs = s.scalars(select(Job.id).where(Job.video_id == video_id)).all()
            results = s.scalars(select(Result).where(Result.job_id.in_(jobs))).all()
            keys = [video.storage_key, *(r.storage_key for r in results)]
            for row in [*results, *s.scalars(select(Job).where(Job.video_id == video_id)).all(), video]:
                s.delete(row)
                s.flush()
            return keys

    # jobs -----------------------------------------------------------------------------------------------
    def add_job(self, user: User, video: Video, kind: str, params: dict[str, Any]) -> Job:
        job = Job(id=new_id(), owner_id=user.id, video_id=video.id, kind=kind, params=json.dumps(params),
                  state=QUEUED, progress=0.0, attempts=0, created_at=utcnow())
        with self.session() as s:
            s.add(job)
        return job

    def job(self, user: User, job_id: str) -> Job | None:
        with self.session() as s:
            return s.scalars(self._scoped(s, Job, user).where(Job.id == job_id)).first()

    def jobs(self, user: User, state: str | None = None) -> list[Job]:
        with self.session() as s:
            query = self._scoped(s, Job, user)
            if state:
                query = query.where(Job.state == state)
            return list(s.scalars(query.order_by(Job.created_at.desc())).all())

    def result(self, job: Job, kind: str = "report") -> Result | None:
        with self.session() as s:
            return s.scalars(select(Result).where(Result.job_id == job.id, Result.kind == kind)).first()

    def history(self, user: User) -> list[tuple[Job, Result]]:
        """The caller's finished analyses with their results, newest first."""
        with self.session() as s:
            query = (select(Job, Result).join(Result, Result.job_id == Job.id)
                     .where(Job.owner_id == user.id, Job.state == DONE).order_by(Job.finished_at.desc()))
            return [(j, r) for j, r in s.execute(query).all()]

    # the job life cycle (used by workers; unscoped by design, keyed by the job id the queue holds) -------
    def load_job(self, job_id: str) -> tuple[Job, Video] | None:
        with self.session() as s:
            row = s.execute(select(Job, Video).join(Video, Video.id == Job.video_id).where(Job.id == job_id)).first()
            return (row[0], row[1]) if row else None

    def unfinished_jobs(self) -> list[str]:
        with self.session() as s:
            return list(s.scalars(select(Job.id).where(Job.state.in_((QUEUED, RUNNING)))
                                  .order_by(Job.created_at)).all())

    def claim(self, job_id: str, *, from_states: tuple[str, ...] = (QUEUED,), worker: str | None = None,
              lease_s: float | None = None, max_attempts: int | None = None) -> bool:
        """Atomically move a job to running (one worker wins); counts the attempt and takes the lease for
        ``worker``. With ``lease_s``, a running job whose lease ran out (its worker died) can be taken over too,
        while it has attempts left (``max_attempts``)."""
        claimable = Job.state.in_(from_states)
        if lease_s is not None:
            stale = self._stale(lease_s)
            if max_attempts is not None:
                stale = and_(stale, Job.attempts < max_attempts)
            claimable = or_(claimable, stale)
        now = utcnow()
        with self.session() as s:
            done = s.execute(update(Job).where(Job.id == job_id, claimable)
                             .values(state=RUNNING, attempts=Job.attempts + 1, started_at=now, error=None,
                                     worker=worker, heartbeat_at=now))
            return done.rowcount == 1

    def set_progress(self, job_id: str, progress: float) -> bool:
        """Write a running job's progress; False when it is not running any more (cancelled, its video deleted,
        queued again after its lease ran out): its worker stops."""
        with self.session() as s:
            return s.execute(update(Job).where(Job.id == job_id, Job.state == RUNNING)
                             .values(progress=max(0.0, min(1.0, progress)))).rowcount == 1

    def finish(self, job_id: str, result: Result) -> bool:
        """Store the result and mark the job done, in one transaction; False if it was stored already."""
        try:
            with self.session() as s:
                s.add(result)
                s.flush()
                s.execute(update(Job).where(Job.id == job_id)
                          .values(state=DONE, progress=1.0, finished_at=utcnow(), error=None))
        except IntegrityError:
            return False
        return True

    def fail(self, job_id: str, reason: str, *, retry: bool, max_attempts: int) -> str:
        """Record a failure: back to queued while attempts remain and ``retry``, else failed. The new state."""
        with self.session() as s:
            job = s.get(Job, job_id)
            if job is None or job.state in (DONE, CANCELLED):
                return job.state if job else FAILED
            again = retry and job.attempts < max_attempts
            job.state, job.error = (QUEUED, reason) if again else (FAILED, reason[:4000])
            job.finished_at = None if again else utcnow()
            if again:
                job.dispatched_at = None  # back in the outbox: sent to the queue again (`outbox`)
            return job.state

    # leases: a running job's worker proves it is alive; a job whose worker went silent is run again -------
    @staticmethod
    def _stale(lease_s: float) -> Any:
        """Running, and no heartbeat for ``lease_s`` seconds (or none since a start that long ago)."""
        cutoff = utcnow() - timedelta(seconds=lease_s)
        return and_(Job.state == RUNNING, or_(Job.heartbeat_at < cutoff,
                                              and_(Job.heartbeat_at.is_(None), Job.started_at < cutoff)))

    def heartbeat(self, job_id: str, worker: str) -> bool:
        """``worker`` still runs the job; False when it no longer holds it (finished, or taken over)."""
        with self.session() as s:
            done = s.execute(update(Job).where(Job.id == job_id, Job.state == RUNNING, Job.worker == worker)
                             .values(heartbeat_at=utcnow()))
            return done.rowcount == 1

    def requeue_stale(self, lease_s: float, max_attempts: int) -> list[str]:
        """Running jobs whose worker went silent for ``lease_s``: back to queued while attempts remain (their
        ids are returned, to be queued again), else failed."""
        reason = f"its worker stopped answering for {lease_s:g} s (killed, or its machine was lost)"
        with self.session() as s:
            ids = list(s.scalars(select(Job.id).where(self._stale(lease_s))).all())
        queued = []
        for job_id in ids:
            with self.session() as s:
                again = s.execute(update(Job).where(Job.id == job_id, self._stale(lease_s),
                                                    Job.attempts < max_attempts)
                                  .values(state=QUEUED, error=reason, worker=None, dispatched_at=None)
                                  ).rowcount == 1
                if not again:
                    s.execute(update(Job).where(Job.id == job_id, self._stale(lease_s))
                              .values(state=FAILED, error=reason, finished_at=utcnow()))
            if again:
                queued.append(job_id)
        return queued

    def count_running(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(Job).where(Job.state == RUNNING)) or 0)
