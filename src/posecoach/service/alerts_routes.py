"""Routes of the fall alert log and of each user's alert destination (`alerts_db`, sent by `alerts_outbox`).

Scoped like every route: a clinician lists and acknowledges the alerts of the patients who accepted their care,
never anyone else's; an alert the caller may not read answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from posecoach.service import alerts_db, alerts_outbox, audit, care_db
from posecoach.service.alerts_schemas import AcknowledgeIn, AlertOut, DestinationIn, DestinationOut, TestOut
from posecoach.service.routes import NOT_FOUND, Caller, _db, _missing
from posecoach.service.schemas import Problem

router = APIRouter(tags=["alerts"])
AlertId = Annotated[str, Path(max_length=32, description="the alert's id")]
CONFLICT = {409: {"model": Problem}}


def _out(row: alerts_db.FallAlert, owner: str) -> AlertOut:
    return AlertOut(id=row.id, owner=owner, source=row.source, name=row.source_name,  # type: ignore[arg-type]
                    job_id=row.job_id, created_at=row.created_at, alert_s=row.alert_s, impact_s=row.impact_s,
                    outcome=row.outcome, outcome_text=row.outcome_text,  # type: ignore[arg-type]
                    confirmed=row.confirmed, confidence=row.confidence, acknowledged_at=row.acknowledged_at,
                    acknowledged_by=row.acknowledged_by_name, note=row.ack_note,
                    delivery=row.delivery, delivered_at=row.delivered_at,  # type: ignore[arg-type]
                    delivery_attempts=row.delivery_attempts, delivery_error=row.delivery_error)


@router.get("/v1/alerts", response_model=list[AlertOut], responses=NOT_FOUND)
def list_alerts(user: Caller, request: Request,
                patient: Annotated[str | None, Query(max_length=100, description="Only this patient's alerts (a "
                                                     "clinician's patient who accepted, anyone for an admin).")] = None,
                open_only: Annotated[bool, Query(alias="open", description="Only alerts nobody acknowledged yet.")
                                     ] = False,
                ) -> list[AlertOut]:
    """Fall alerts, newest first (at most 200): yours and those of the patients who accepted your care (everyone's
    for an admin), each with when and where it fired, what became of the person, whether it was acknowledged and
    whether it reached your webhook."""
    db = _db(request)
    owner_id = None
    if patient is not None:
        found = care_db.readable_user(db, user, patient)
        if found is None:
            raise _missing("patient")
        owner_id = found.id
    rows = alerts_db.alerts(db, user, owner_id, open_only)
    audit.record_read(db, user, {r.owner_id for r, _ in rows}, "fall_alerts", None, **audit.origin(request))
    return [_out(r, name) for r, name in rows]


@router.post("/v1/alerts/{alert_id}/acknowledge", response_model=AlertOut, responses={**NOT_FOUND, **CONFLICT})
def acknowledge_alert(alert_id: AlertId, user: Caller, request: Request, body: AcknowledgeIn | None = None
                      ) -> AlertOut:
    """Acknowledge an alert (yours, or a patient's who accepted your care): who and when are kept, with an
    optional note. 409 when it was acknowledged already (by whom and when)."""
    try:
        found = alerts_db.acknowledge(_db(request), user, alert_id, body.note if body else None)
    except alerts_db.AlreadyAcknowledged as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    if found is None:
        raise _missing("alert")
    return _out(*found)


@router.get("/v1/me/alert-destination", response_model=DestinationOut)
def get_destination(user: Caller, request: Request) -> DestinationOut:
    """Where your fall alerts are sent: a webhook URL receiving each alert as a JSON POST, or none."""
    row = alerts_db.destination_row(_db(request), user)
    return DestinationOut(webhook_url=row.webhook_url if row else None, updated_at=row.updated_at if row else None)


@router.put("/v1/me/alert-destination", response_model=DestinationOut, responses={422: {"model": Problem}})
def set_destination(body: DestinationIn, user: Caller, request: Request) -> DestinationOut:
    """Send your fall alerts to this webhook (https:// or http://; no user name or password in the URL: use a
    token in its path or query). Alerts that fire from now on are POSTed there as JSON. 422 for a host at a
    loopback, private or link-local address, unless the server allows them
    (``POSECOACH_ALERT_WEBHOOK_ALLOW_PRIVATE``)."""
    refused = alerts_outbox.address_refusal(body.webhook_url, request.app.state.settings.alert_webhook_allow_private)
    if refused:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, refused)
    row = alerts_db.set_destination(_db(request), user, body.webhook_url)
    return DestinationOut(webhook_url=row.webhook_url, updated_at=row.updated_at)


@router.delete("/v1/me/alert-destination", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def remove_destination(user: Caller, request: Request) -> Response:
    """Stop sending your alerts anywhere (they are still kept in the alert log). 404 when none was set."""
    if not alerts_db.remove_destination(_db(request), user):
        raise _missing("alert destination")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/v1/me/alert-destination/test", response_model=TestOut, responses=NOT_FOUND)
async def test_destination(user: Caller, request: Request) -> TestOut:
    """Send a test message (``"event": "test"``) to your webhook now, and say whether it arrived (a 2xx answer).
    404 when no destination is set."""
    db = _db(request)
    url = await run_in_threadpool(alerts_db.destination, db, user.id)
    if url is None:
        raise _missing("alert destination (set a webhook URL first)")
    sent = await run_in_threadpool(alerts_outbox.send_test, url, user,
                                   request.app.state.settings.alert_webhook_allow_private)
    return TestOut(delivered=sent.ok, status=sent.status, detail=sent.detail)
