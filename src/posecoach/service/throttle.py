"""Throttling of failed sign-ins, per account and per client address, kept in the database (migration 0006) so
that it holds across the processes and machines of one deployment.

A failed sign-in (unknown name, wrong password, wrong one-time code) counts against the account's name and the
client's address; a wrong API key against the address. Once ``sign_in_max_failures`` (account) or
``sign_in_max_failures_per_address`` (address) failures fall within ``sign_in_window_s``, further attempts are
refused with 429, a ``Retry-After`` and the reason, *before* the password is checked, so a throttled guess
tells nothing. Failures are counted only while under the limit, so the table holds at most the limit per account
and address per window; rows older than the window are deleted as new ones come. Both are stored as SHA-256
(a name typed at a sign-in form may be someone's password). A valid API key is never refused (keys are 256-bit
random: there is nothing to guess).
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from posecoach.service.db import Base, Database, new_id, utcnow
from posecoach.service.settings import Settings

ACCOUNT, ADDRESS = "account", "address"


class SignInFailure(Base):
    __tablename__ = "sign_in_failures"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Throttled(Exception):
    """Too many failures: answer 429 with ``Retry-After: retry_after`` and ``reason``."""

    def __init__(self, retry_after: int, reason: str) -> None:
        super().__init__(reason)
        self.retry_after, self.reason = retry_after, reason


def _subject(kind: str, value: str) -> str:
    value = value.strip().lower() if kind == ACCOUNT else value
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _limit(settings: Settings, kind: str) -> int:
    return settings.sign_in_max_failures if kind == ACCOUNT else settings.sign_in_max_failures_per_address


def _state(db: Database, settings: Settings, kind: str, value: str) -> tuple[int, datetime | None]:
    """Failures of (kind, value) in the window and the oldest one's time."""
    since = utcnow() - timedelta(seconds=settings.sign_in_window_s)
    with db.session() as s:
        count, oldest = s.execute(select(func.count(), func.min(SignInFailure.at)).where(
            SignInFailure.kind == kind, SignInFailure.subject == _subject(kind, value),
            SignInFailure.at >= since)).one()
    return int(count or 0), oldest


def check(db: Database, settings: Settings, *, account: str | None = None, address: str | None = None) -> None:
    """Raise `Throttled` when the account or the address has had too many failures in the window."""
    for kind, value, what in ((ACCOUNT, account, "this account"), (ADDRESS, address, "your address")):
        if not value:
            continue
        count, oldest = _state(db, settings, kind, value)
        if count >= _limit(settings, kind) and oldest is not None:
            wait = (oldest + timedelta(seconds=settings.sign_in_window_s) - utcnow()).total_seconds()
            retry = max(1, math.ceil(wait))
            raise Throttled(retry, f"too many failed sign-ins for {what}: {count} in "
                            f"{settings.sign_in_window_s:g} s; try again in {retry} s")


def fail(db: Database, settings: Settings, *, account: str | None = None, address: str | None = None) -> None:
    """Count one failure against the account and the address (each while under its limit)."""
    now = utcnow()
    with db.session() as s:
        s.execute(delete(SignInFailure).where(SignInFailure.at < now - timedelta(seconds=settings.sign_in_window_s)))
    for kind, value in ((ACCOUNT, account), (ADDRESS, address)):
        if value and _state(db, settings, kind, value)[0] < _limit(settings, kind):
            with db.session() as s:
                s.add(SignInFailure(id=new_id(), kind=kind, subject=_subject(kind, value), at=now))


def forgive(db: Database, account: str) -> None:
    """A successful sign-in clears its account's failures (not the address's)."""
    with db.session() as s:
        s.execute(delete(SignInFailure).where(SignInFailure.kind == ACCOUNT,
                                              SignInFailure.subject == _subject(ACCOUNT, account)))
