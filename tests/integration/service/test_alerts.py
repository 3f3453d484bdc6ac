"""Fall alerts (issue 26, point 6): migration 0010's alert log and destinations on SQLite, PostgreSQL and MariaDB,
the routes (list, acknowledge, destination, test message) scoped like every route, and a falls job's alert
reaching the owner's webhook through the alert outbox, retried while the receiver is down."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import numpy as np
import pytest
from sqlalchemy import inspect

from posecoach.analysis.falls.synthetic import make_clip
from posecoach.core.sequence import PoseSequence
from posecoach.service import alerts_db, alerts_outbox, care_db
from posecoach.service.alerts_schemas import webhook_refusal
from posecoach.service.db import Database, User
from posecoach.service.migrations import downgrade, upgrade
from tests.integration.service.conftest import Api, ApiFactory
from tests.integration.service.test_db import _video
from tests.integration.service.test_results import run_job


@dataclass
class Event:
    """A fall event as the detector or a report gives it."""

    alert_s: float
    impact_s: float = float("nan")
    outcome: str = "down"
    confirmed: bool = True
    confidence: float = 0.9


@dataclass
class Receiver:
    """A webhook receiver on loopback: the JSON bodies it got; ``status`` is what it answers."""

    url: str
    bodies: list[dict[str, Any]] = field(default_factory=list)
    status: int = 204
    arrived: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            got.arrived.set()
            self.send_response(got.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    got.url = f"http://127.0.0.1:{server.server_port}/hook/secret-token?k=v"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got
    server.shutdown()
    server.server_close()


def _job_alerts(db: Database, owner: User, events: list[Event]) -> str:
    """A finished falls job of ``owner`` whose events are recorded as alerts, as the job records them; its id."""
    job = db.add_job(owner, _video(db, owner), "falls", {})
    with db.session() as s:
        alerts_db.job_recorder(owner.id, job.id, "hall.mp4", events)(s)
    return job.id


def test_the_alert_log_is_kept_scoped_and_migrates_both_ways(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {"fall_alerts", "alert_destinations"} <= tables
    assert {"rom", "rom_unit"} <= {c["name"] for c in inspect(db.engine).get_columns("results")}
    alice, _ = db.create_user("alice")
    bob, _ = db.create_user("bob")
    carol, _ = db.create_user("carol", "clinician")
    job_id = _job_alerts(db, alice, [Event(3.2, 2.9, "lost", True), Event(9.5, confirmed=False)])
    alerts_db.set_destination(db, alice, "https://alerts.example.com/x")
    live_id = alerts_db.record_live(db, alice.id, "s" * 32, alerts_db.Fired.of(1, Event(12.0)))
    mine = alerts_db.alerts(db, alice)
    assert len(mine) == 3 and {name for _, name in mine} == {"alice"}
    by_id = {a.id: a for a, _ in mine}
    assert by_id[live_id].source == "live" and by_id[live_id].delivery == alerts_db.PENDING  # a destination now
    uploads = sorted((a for a in by_id.values() if a.source == "upload"), key=lambda a: a.event_index)
    assert [(a.job_id, a.source_name, a.alert_s, a.outcome, a.confirmed) for a in uploads] == [
        (job_id, "hall.mp4", 3.2, "lost", True), (job_id, "hall.mp4", 9.5, "down", False)]
    assert uploads[0].impact_s == 2.9 and uploads[1].impact_s is None  # NaN: unknown
    assert [a.delivery for a in uploads] == [alerts_db.NONE] * 2  # no destination when they fired
    assert uploads[1].outcome_text == "still down (unconfirmed)"
    # what became of the person changed: the live alert says so and is due to be sent again
    alerts_db.update_live(db, live_id, alerts_db.Fired.of(1, Event(12.0, outcome="got_up")))
    assert alerts_db.alert(db, alice, live_id)[0].outcome == "got_up"  # type: ignore[index]
    # scoped: bob sees and acknowledges none of it; carol only once alice accepted her care
    assert alerts_db.alerts(db, bob) == [] and alerts_db.alert(db, bob, live_id) is None
    assert alerts_db.acknowledge(db, bob, live_id) is None
    assert alerts_db.alerts(db, carol) == [] and alerts_db.acknowledge(db, carol, live_id) is None
    care_db.accept(db, alice, care_db.invite(db, carol, "alice").id)
    assert len(alerts_db.alerts(db, carol)) == 3
    acked, owner = alerts_db.acknowledge(db, carol, live_id, "called her: she is fine")  # type: ignore[misc]
    assert owner == "alice" and acked.acknowledged_by_name == "carol" and acked.ack_note == "called her: she is fine"
    assert acked.acknowledged_at is not None
    with pytest.raises(alerts_db.AlreadyAcknowledged, match="by carol"):
        alerts_db.acknowledge(db, alice, live_id)
    assert len(alerts_db.alerts(db, alice, open_only=True)) == 2
    # no destination any more: what waited is not sent
    assert alerts_db.remove_destination(db, alice) and not alerts_db.remove_destination(db, alice)
    assert alerts_db.alert(db, alice, live_id)[0].delivery == alerts_db.NONE  # type: ignore[index]
    downgrade(db.engine, "0009")
    assert not {"fall_alerts", "alert_destinations"} & set(inspect(db.engine).get_table_names())
    assert "rom" not in {c["name"] for c in inspect(db.engine).get_columns("results")}
    upgrade(db.engine)
    assert alerts_db.alerts(db, alice) == []


@pytest.fixture
def db_api(api_factory: ApiFactory, db_url: str) -> Api:
    """The app on each database kind (alerts may go to the test's receiver on loopback)."""
    return api_factory(database_url=db_url, alert_webhook_allow_private=True)


def test_alert_routes_list_acknowledge_and_destination(db_api: Api, receiver: Receiver) -> None:
    api = db_api
    db: Database = api.client.app.state.db  # type: ignore[attr-defined]
    alice = db.user_for_key(api.keys["alice"])
    assert alice is not None
    job_id = _job_alerts(db, alice, [Event(4.0, 3.5, "got_up")])
    [listed] = api.call("GET", "/v1/alerts").json()
    assert (listed["owner"], listed["source"], listed["name"], listed["job_id"]) == ("alice", "upload", "hall.mp4",
                                                                                     job_id)
    assert listed["alert_s"] == 4.0 and listed["outcome_text"] == "got up" and listed["delivery"] == "none"
    assert listed["acknowledged_at"] is None and listed["created_at"].endswith(("Z", "+00:00"))
    alert_url = f"/v1/alerts/{listed['id']}/acknowledge"
    # another user neither lists nor acknowledges it; a clinician not (yet) accepted neither
    assert api.call("GET", "/v1/alerts", "bob").json() == []
    assert api.call("POST", alert_url, "bob").status_code == 404
    assert api.call("GET", "/v1/alerts?patient=alice", "carol").status_code == 404
    assert api.call("POST", alert_url, "carol").status_code == 404
    assert api.call("POST", "/v1/alerts/nope/acknowledge").status_code == 404
    assert api.call("POST", alert_url, json={"note": "x" * 501}).status_code == 422
    done = api.call("POST", alert_url, json={"note": "she got up, all fine"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["acknowledged_by"] == "alice" and body["note"] == "she got up, all fine" and body["acknowledged_at"]
    again = api.call("POST", alert_url)
    assert again.status_code == 409 and "by alice" in again.json()["detail"]
    assert api.call("GET", "/v1/alerts?open=true").json() == []
    # the destination: validated, no credentials, http(s) only
    assert api.call("GET", "/v1/me/alert-destination").json()["webhook_url"] is None
    assert api.call("POST", "/v1/me/alert-destination/test").status_code == 404
    for bad in ("ftp://example.com/x", "https://user:pw@example.com/x", "https:///nohost", "example.com/x",
                "https://exa mple.com/", "javascript:alert(1)"):
        refused = api.call("PUT", "/v1/me/alert-destination", json={"webhook_url": bad})
        assert refused.status_code == 422, bad
    assert "password" in str(api.call("PUT", "/v1/me/alert-destination",
                                      json={"webhook_url": "https://u:p@example.com/"}).json())
    put = api.call("PUT", "/v1/me/alert-destination", json={"webhook_url": receiver.url})
    assert put.status_code == 200 and put.json()["webhook_url"] == receiver.url
    assert api.call("GET", "/v1/me/alert-destination", "bob").json()["webhook_url"] is None  # each their own
    assert api.call("PUT", "/v1/me/alert-destination", "bob", json={"webhook_url": "https://b.example/"}
                    ).status_code == 200
    sent = api.call("POST", "/v1/me/alert-destination/test").json()
    assert sent["delivered"] and sent["status"] == 204 and "secret-token" not in sent["detail"]
    assert receiver.bodies[-1]["event"] == "test" and receiver.bodies[-1]["user"] == "alice"
    receiver.status = 500
    failed = api.call("POST", "/v1/me/alert-destination/test").json()
    assert not failed["delivered"] and failed["status"] == 500 and "127.0.0.1" in failed["detail"]
    # a clinician whose patient accepted lists the patient's alerts, by name too
    care_db.accept(db, alice, care_db.invite(db, db.user_for_key(api.keys["carol"]), "alice").id)  # type: ignore
    assert [a["owner"] for a in api.call("GET", "/v1/alerts?patient=alice", "carol").json()] == ["alice"]
    assert api.call("GET", "/v1/alerts?patient=bob", "carol").status_code == 404
    assert api.call("DELETE", "/v1/me/alert-destination").status_code == 204
    assert api.call("DELETE", "/v1/me/alert-destination").status_code == 404


def _settled(api: Api, job_id: str) -> list[dict[str, Any]]:
    """The job's alerts once its worker tried to send them (the job is done before its alerts are sent)."""
    end = time.monotonic() + 30
    while time.monotonic() < end:
        found = [a for a in api.call("GET", "/v1/alerts").json() if a["job_id"] == job_id]
        if found and all(a["delivery"] != "sending" and a["delivery_attempts"] for a in found):
            return found
        time.sleep(0.1)
    pytest.fail("the falls job's alerts were not tried in 30 s")


def test_a_fired_alert_reaches_the_webhook(api_factory: ApiFactory, small_video: bytes, receiver: Receiver,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A falls job on a synthetic fall records its alert and POSTs it to the owner's webhook; the receiver down
    at first, the alert waits in the outbox (pending, the reason kept) and is sent by the next round."""
    api = api_factory(outbox_interval_s=3600, alert_webhook_allow_private=True)  # rounds run here, by the test
    seq: PoseSequence = make_clip(np.random.default_rng(21), True, fps=30.0).sequence
    monkeypatch.setattr("posecoach.pose.engine.load_sequence", lambda *a, **k: seq)
    assert api.call("PUT", "/v1/me/alert-destination", json={"webhook_url": receiver.url}).status_code == 200
    receiver.status = 503  # down at first
    video_id = api.upload(small_video, name="hallway.mp4").json()["id"]
    job = run_job(api, {"video_id": video_id, "kind": "falls"})
    report = api.call("GET", f"/v1/jobs/{job['id']}/results/report").json()
    assert report["fall_detected"]
    alert = _settled(api, job["id"])[0]
    assert alert["name"] == "hallway.mp4" and alert["alert_s"] == pytest.approx(report["events"][0]["alert_s"],
                                                                                 abs=1e-3)
    assert alert["delivery"] == "pending" and alert["delivery_attempts"] == 1
    assert "503" in alert["delivery_error"] and "secret-token" not in alert["delivery_error"]
    assert receiver.bodies and receiver.bodies[0]["event"] == "fall"  # tried once, at once
    receiver.status, receiver.bodies[:] = 204, []
    db: Database = api.client.app.state.db  # type: ignore[attr-defined]
    assert alerts_outbox.deliver_waiting(db, allow_private=True) == 0  # not due yet: tried again after a pause
    with db.session() as s:  # the pause is over
        s.get(alerts_db.FallAlert, alert["id"]).delivery_next_at = None  # type: ignore[union-attr]
    assert alerts_outbox.deliver_waiting(db, allow_private=True) == len(report["events"])
    got = receiver.bodies[0]
    assert got["event"] == "fall" and got["alert_id"] == alert["id"] and got["name"] == "hallway.mp4"
    assert got["outcome"] == report["events"][0]["outcome"] and got["user"] == "alice"
    assert got["confirmed"] == report["events"][0]["confirmed"]
    [sent] = [a for a in api.call("GET", "/v1/alerts").json() if a["id"] == alert["id"]]
    assert sent["delivery"] == "sent" and sent["delivered_at"] and sent["delivery_error"] is None
    assert alerts_outbox.deliver_waiting(db, allow_private=True) == 0  # sent once


def test_webhook_urls_are_checked_and_logged_by_host_only() -> None:
    assert webhook_refusal("https://hooks.example.com/T0/B1?token=abc") is None
    assert webhook_refusal("http://10.0.0.5:8123/api/webhook/fall") is None
    assert "https://" in str(webhook_refusal("file:///etc/passwd"))
    assert "port" in str(webhook_refusal("https://example.com:0/"))
    assert webhook_refusal("https://example.com:99999/") == "this is not a valid URL"
    assert alerts_outbox.where("https://hooks.example.com/T0/secret?token=abc") == "https://hooks.example.com"


def test_a_live_sessions_alert_is_recorded_updated_and_sent(db: Database, receiver: Receiver) -> None:
    """The live fall detector's hook (`posecoach.service.live_alerts`): one alert per fall, updated (and sent again,
    as ``fall_update``) when what became of the person changes."""
    from posecoach.analysis.falls.events import FallEvent
    from posecoach.service import live_alerts

    alice, _ = db.create_user("alice")
    alerts_db.set_destination(db, alice, receiver.url)
    hook = live_alerts.hook(db, alice.id, allow_private=True)  # the receiver is on loopback
    event = FallEvent(10, 12, 11, 12, 1.0, 1.2, 1.1, 1.2, 0.9, False, seen_s=1.2)
    hook(event)
    end = time.monotonic() + 10
    while len(receiver.bodies) < 1 and time.monotonic() < end:  # sent from a thread of its own
        time.sleep(0.05)
    event.outcome = "lost"
    hook(event)
    while len(receiver.bodies) < 2 and time.monotonic() < end:
        time.sleep(0.05)
    while alerts_db.alerts(db, alice)[0][0].delivery != alerts_db.SENT and time.monotonic() < end:
        time.sleep(0.05)
    [(row, _)] = alerts_db.alerts(db, alice)
    assert (row.source, row.source_name, row.alert_s, row.outcome) == ("live", "Live camera", 1.2, "lost")
    assert [b["event"] for b in receiver.bodies] == ["fall", "fall_update"]
    assert receiver.bodies[1]["outcome_text"] == "not seen since the fall"
    assert row.delivery == alerts_db.SENT and row.delivered_at is not None


def test_webhooks_to_internal_addresses_are_refused_unless_allowed(api_factory: ApiFactory, receiver: Receiver,
                                                                    db: Database) -> None:
    """A webhook URL must not make the server call internal services (loopback, private, link-local addresses):
    refused when set (422 with the reason) and never contacted when sent, unless the server allows them."""
    api = api_factory()
    for url in (receiver.url, "http://10.1.2.3/hook", "http://169.254.169.254/latest/meta-data",
                "http://[::1]:6379/", "http://localhost:5432/"):
        answer = api.call("PUT", "/v1/me/alert-destination", json={"webhook_url": url})
        assert answer.status_code == 422 and "public addresses only" in answer.json()["detail"], url
    assert alerts_outbox.address_refusal("https://93.184.215.14/hook") is None  # a public address
    alice, _ = db.create_user("alice")
    alerts_db.set_destination(db, alice, receiver.url)  # set before the server's policy changed, say
    sent = alerts_outbox.send_test(receiver.url, alice)
    assert not sent.ok and sent.status is None and "public addresses only" in sent.detail
    assert receiver.bodies == []  # never contacted
    assert alerts_outbox.send_test(receiver.url, alice, allow_private=True).ok  # an on-premises receiver, allowed
