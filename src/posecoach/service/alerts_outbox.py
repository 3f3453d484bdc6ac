"""The alert outbox: a fall alert is recorded first (`alerts_db`, delivery ``pending`` when its owner set a
webhook), then POSTed to the owner's webhook, so an alert that cannot be sent now is not lost.

`deliver` first *takes* the alert (``UPDATE ... SET delivery = 'sending' WHERE delivery = 'pending'``: one sender
wins, however many processes try), POSTs it as JSON, then marks it ``sent``; a failed POST gives it back
(``pending``, tried again after a growing pause) until `MAX_ATTEMPTS`, then ``failed`` with the reason. The
falls job sends its alerts as soon as it finishes and a live session as soon as its alert fires (in a thread of
their own); the `Deliverer` thread of `posecoach serve` sends what is left waiting every
``POSECOACH_OUTBOX_INTERVAL_S`` seconds, and takes back an alert whose sender died while sending.

The body: ``{"event": "fall" | "fall_update" | "test", "alert_id", "source", "name", "alert_s", "outcome",
"outcome_text", "confirmed", "confidence", "created_at", "user"}``. Logs name the destination by scheme and
host only: a URL's path or query may carry a secret token.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update

from posecoach.core.version import __version__
from posecoach.service.alerts_db import FAILED, PENDING, SENDING, SENT, FallAlert, destination
from posecoach.service.db import Database, User, utcnow
from posecoach.service.periodic import Periodic

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
TIMEOUT_S = 5.0
STUCK_S = 60.0  # an alert "sending" for this long: its sender died; it is sent again


def where(url: str) -> str:
    """A destination as logs and errors name it: scheme and host, never the path, query or credentials."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer, not a delivery: the URL must be the receiver's


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Sent:
    ok: bool
    status: int | None  # the receiver's HTTP status, None when none answered
    detail: str  # in words, naming the destination by host only


def address_refusal(url: str, allow_private: bool = False) -> str | None:
    """Why the server will not send to ``url``'s host, None when it will: unless ``allow_private``
    (``POSECOACH_ALERT_WEBHOOK_ALLOW_PRIVATE``), a host that resolves to a loopback, private, link-local or other
    non-public address is refused, so that a webhook URL cannot make the server call internal services. Checked
    when the destination is set and again before each POST (the name may resolve elsewhere by then)."""
    if allow_private:
        return None
    parts = urlsplit(url)
    try:
        infos = socket.getaddrinfo(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError, ValueError):
        return None  # not resolvable now: the POST itself fails with the reason
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        if not (mapped or address).is_global:
            return (f"{where(url)} is at a loopback, private or link-local address ({address}): the server sends "
                    "alerts to public addresses only (POSECOACH_ALERT_WEBHOOK_ALLOW_PRIVATE allows an on-premises "
                    "receiver)")
    return None


def post(url: str, body: dict[str, Any], timeout_s: float = TIMEOUT_S, *, allow_private: bool = False) -> Sent:
    """POST ``body`` as JSON to ``url``; a 2xx answer is a delivery. A host `address_refusal` refuses is not
    contacted."""
    refused = address_refusal(url, allow_private)
    if refused:
        return Sent(False, None, refused[:255])
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": f"PoseCoach/{__version__} (fall alert)"})
    try:
        with _OPENER.open(req, timeout=timeout_s) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as exc:
        status = int(exc.code)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Sent(False, None, f"{where(url)} could not be reached ({type(reason).__name__}: {reason})"[:255])
    if 200 <= status < 300:
        return Sent(True, status, f"{where(url)} answered {status}")
    return Sent(False, status, f"{where(url)} answered {status} (a 2xx answer is needed)")


def payload(alert: FallAlert, user_name: str | None, kind: str) -> dict[str, Any]:
    return {"event": kind, "alert_id": alert.id, "source": alert.source, "name": alert.source_name,
            "job_id": alert.job_id, "alert_s": alert.alert_s, "impact_s": alert.impact_s, "outcome": alert.outcome,
            "outcome_text": alert.outcome_text, "confirmed": alert.confirmed, "confidence": alert.confidence,
            "created_at": alert.created_at.isoformat() + "Z", "user": user_name}


def take(db: Database, alert_id: str) -> bool:
    """Mark a pending alert as being sent; False when another sender took it (or it is not pending)."""
    with db.session() as s:
        return s.execute(update(FallAlert).where(FallAlert.id == alert_id, FallAlert.delivery == PENDING)
                         .values(delivery=SENDING, delivery_next_at=utcnow())).rowcount == 1


def deliver(db: Database, alert_id: str, allow_private: bool = False) -> bool:
    """Send one pending alert to its owner's webhook once; True when this call delivered it."""
    if not take(db, alert_id):
        return False
    with db.session() as s:
        row = s.get(FallAlert, alert_id)
        if row is None:
            return False
        url = destination(s, row.owner_id)
        owner = s.get(User, row.owner_id)
        updated = row.delivered_at is not None or row.updated_at > row.created_at  # the outcome changed since
        kind = "fall_update" if updated else "fall"
        body = payload(row, owner.name if owner else None, kind) if url else {}
        attempts = row.delivery_attempts + 1
    if url is None:  # the destination was removed meanwhile
        _settle(db, alert_id, delivery="none", delivery_next_at=None)
        return False
    sent = post(url, body, allow_private=allow_private)
    if sent.ok:
        with db.session() as s:  # delivered; an update queued meanwhile (pending again) is still sent after
            s.execute(update(FallAlert).where(FallAlert.id == alert_id)
                      .values(delivered_at=utcnow(), delivered_kind=kind, delivery_error=None))
        _settle(db, alert_id, delivery=SENT, delivery_attempts=attempts, delivery_next_at=None)
        log.info("fall alert %s sent to %s", alert_id, where(url))
        return True
    gave_up = attempts >= MAX_ATTEMPTS
    _settle(db, alert_id, delivery=FAILED if gave_up else PENDING, delivery_attempts=attempts,
            delivery_error=sent.detail[:255],
            delivery_next_at=None if gave_up else utcnow() + timedelta(seconds=min(600, 5 * 2 ** attempts)))
    log.warning("fall alert %s not delivered (try %d of %d): %s", alert_id, attempts, MAX_ATTEMPTS, sent.detail)
    return False


def _settle(db: Database, alert_id: str, **values: Any) -> None:
    with db.session() as s:
        s.execute(update(FallAlert).where(FallAlert.id == alert_id, FallAlert.delivery == SENDING).values(**values))


def waiting(db: Database, owner_id: str | None = None, limit: int = 100) -> list[str]:
    """Alerts due to be sent (pending and due, or stuck sending), oldest first; ``owner_id``: only theirs."""
    now = utcnow()
    with db.session() as s:
        stuck = now - timedelta(seconds=STUCK_S)
        s.execute(update(FallAlert).where(FallAlert.delivery == SENDING, FallAlert.delivery_next_at <= stuck)
                  .values(delivery=PENDING))
        query = select(FallAlert.id).where(FallAlert.delivery == PENDING,
                                           or_(FallAlert.delivery_next_at.is_(None), FallAlert.delivery_next_at <= now))
        if owner_id is not None:
            query = query.where(FallAlert.owner_id == owner_id)
        return list(s.scalars(query.order_by(FallAlert.created_at).limit(limit)).all())


def deliver_waiting(db: Database, owner_id: str | None = None, allow_private: bool = False) -> int:
    """Send the alerts due; how many were delivered. Never raises (an alert not sent waits for the next round)."""
    sent = 0
    try:
        for alert_id in waiting(db, owner_id):
            sent += deliver(db, alert_id, allow_private)
    except Exception as exc:  # the database is away: the next round tries again
        log.warning("alert outbox: %s", exc)
    return sent


def deliver_soon(db: Database, owner_id: str, allow_private: bool = False) -> None:
    """Send ``owner_id``'s due alerts from a thread of its own (a live session never waits on the network)."""
    threading.Thread(target=deliver_waiting, args=(db, owner_id, allow_private), name="posecoach-alert",
                     daemon=True).start()


def send_test(url: str, user: User, allow_private: bool = False) -> Sent:
    """A test message to ``url`` (the page's "Send a test" button); nothing is recorded."""
    return post(url, {"event": "test", "alert_id": None, "source": "test", "name": "PoseCoach test alert",
                      "outcome_text": "this is a test: nobody fell", "created_at": utcnow().isoformat() + "Z",
                      "user": user.name}, allow_private=allow_private)


class Deliverer(Periodic):
    """A thread sending the alerts left waiting every ``every`` seconds, once ``ready`` is set (the database is
    migrated)."""

    def __init__(self, db: Database, every: float, ready: threading.Event | None = None,
                 allow_private: bool = False) -> None:
        super().__init__("posecoach-alert-outbox", every, first_now=True)
        self.db, self.ready, self.allow_private = db, ready, allow_private

    def begin(self) -> bool:
        while self.ready is not None and not self.ready.is_set():
            if self._stop.wait(0.5):
                return False
        return True

    def run_once(self) -> int:
        return deliver_waiting(self.db, allow_private=self.allow_private)
