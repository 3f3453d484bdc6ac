"""Fall alerts of a live camera session kept in the alert log (`posecoach.service.alerts_db`) and sent to the
user's webhook (`alerts_outbox`): the live fall detector's ``on_alert`` hook records the alert when it fires and
updates it on each change of what became of the person (still down, not seen since the fall, got up)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from posecoach.service import alerts_db, alerts_outbox
from posecoach.service.db import Database, new_id

if TYPE_CHECKING:
    from posecoach.analysis.falls.events import FallEvent

log = logging.getLogger("posecoach.live")


def hook(db: Database, owner_id: str, allow_private: bool = False) -> Any:
    """The hook of one live session (called in the session's thread): never raises, never waits on the network."""
    live_id = new_id()
    recorded: dict[int, str] = {}  # id(event) -> the alert's id

    def on_alert(event: FallEvent) -> None:
        try:
            key = id(event)  # the detector reports the same event object again on each change
            if key in recorded:
                alerts_db.update_live(db, recorded[key], alerts_db.Fired.of(0, event))
            else:
                fired = alerts_db.Fired.of(len(recorded) + 1, event)
                recorded[key] = alerts_db.record_live(db, owner_id, live_id, fired)
            alerts_outbox.deliver_soon(db, owner_id, allow_private)
        except Exception:  # the database failed: the page still shows the alert; the reason is in the log
            log.exception("a live fall alert could not be recorded")

    return on_alert
