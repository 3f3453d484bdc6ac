"""Keeping a finished live set in History (`posecoach.service.live_db`): the live socket's ``finish`` saves the
set it summarised, once, when the connection's credential may write (a read-only API key may watch, not save)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import WebSocket

from posecoach.service import live_db
from posecoach.service.auth import SESSION_COOKIE, AuthError, authenticate

log = logging.getLogger("posecoach.live")
Keeper = Callable[[dict[str, Any]], dict[str, Any]]


def may_write(ws: WebSocket) -> bool:
    """The connection's key or session has the write scope."""
    try:
        auth = authenticate(ws, ws.headers.get("x-api-key"), ws.cookies.get(SESSION_COOKIE))
    except AuthError:
        return False
    return "write" in auth.scopes


def keeper(ws: WebSocket, user: Any, target: int | None, wanted: bool) -> Keeper:
    """The function the session calls (in its thread) with its summary when the set ends: it stores the set and
    answers ``{"saved": {"id"}, "save_note": None}``, or ``{"saved": None, "save_note": why not}``."""
    db = ws.app.state.db

    def keep(summary: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"target": target}
        if not wanted:
            return {**out, "saved": None, "save_note": "not kept in History (save=0)"}
        if not may_write(ws):
            return {**out, "saved": None, "save_note": "this API key may only read: the set was not kept in History"}
        if not summary["count"] and not summary.get("hold_s"):
            return {**out, "saved": None, "save_note": "nothing was counted or held, so nothing was kept in History"}
        done = live_db.Finished(exercise=summary["exercise"], title=summary["title"], count=int(summary["count"]),
                                count_confidence=summary.get("count_confidence"), hold_s=summary.get("hold_s"),
                                target=target, duration_s=float(summary["duration_s"]), reps=summary["reps"])
        try:
            row = live_db.save(db, user, done)
        except Exception:  # the database failed: the summary is still shown, the reason is in the server log
            log.exception("a live set could not be saved")
            return {**out, "saved": None, "save_note": "the set could not be kept in History (see the server log)"}
        return {**out, "saved": {"id": row.id}, "save_note": None}

    return keep
