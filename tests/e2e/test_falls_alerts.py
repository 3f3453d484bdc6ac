"""The Falls page's alert log in headless Chromium (issue 26, point 6): alerts listed with where and when they
fired and what became of the person, acknowledged with a note; the webhook destination set from the page
(refused with the reason when it is not http(s)), tried with a test message that reaches a receiver on loopback;
a clinician sees a patient's alerts who accepted, another user none; desktop and phone layouts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from playwright.sync_api import expect

from posecoach.service import alerts_db
from posecoach.service.db import Video, new_id, utcnow
from tests.e2e import history_seed
from tests.e2e.conftest import WebServer, shoot, signed_in

pytestmark = [pytest.mark.browser]


class _Event:
    def __init__(self, alert_s: float, outcome: str, confirmed: bool = True) -> None:
        self.alert_s, self.impact_s, self.outcome, self.confirmed, self.confidence = (alert_s, alert_s - 0.4, outcome,
                                                                                      confirmed, 0.93)


def _alerts(server: WebServer, user: str, clip: str, events: list[_Event], live: tuple[_Event, ...] = ()) -> str:
    """Alerts of ``user`` as a falls job of ``clip`` and a live session record them; the job's id."""
    db = history_seed.database(server)
    try:
        owner = db.user_for_key(server.keys[user])
        assert owner is not None
        video = db.add_video(Video(id=new_id(), owner_id=owner.id, filename=clip, storage_key="videos/none.mp4",
                                   size_bytes=1, width=64, height=48, fps=30.0, num_frames=30, duration_s=1.0,
                                   created_at=utcnow()))
        job = db.add_job(owner, video, "falls", {})
        with db.session() as s:
            alerts_db.job_recorder(owner.id, job.id, clip, events)(s)
        for i, e in enumerate(live):
            alerts_db.record_live(db, owner.id, new_id(), alerts_db.Fired.of(i + 1, e))
        return job.id
    finally:
        db.close()


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/carer/token-123", bodies
    server.shutdown()
    server.server_close()


def test_alerts_are_listed_acknowledged_and_sent_where_the_page_says(
        browser: object, web_server: WebServer, receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, bodies = receiver
    history_seed.new_user(web_server, "fay")
    job_id = _alerts(web_server, "fay", "kitchen.mp4", [_Event(12.5, "lost")], live=[_Event(40.2, "got_up")])
    page = signed_in(browser, web_server, user="fay", viewport={"width": 1280, "height": 800})
    page.goto("/#/falls")
    rows = page.locator("#falls-alerts-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#falls-alerts-count")).to_have_text("2 alerts not acknowledged yet.")
    kitchen = rows.filter(has_text="kitchen.mp4")
    expect(kitchen).to_contain_text("kitchen.mp4 at 0:12.5")
    expect(kitchen).to_contain_text("not seen since the fall")
    expect(kitchen).to_contain_text("not sent (no webhook set when it fired)")
    expect(kitchen.locator("a")).to_have_attribute("href", f"#/falls?job={job_id}")
    expect(rows.filter(has_text="Live camera")).to_contain_text("got up")
    expect(page.locator("#falls-webhook-message")).to_contain_text("No webhook set")
    # a destination that is not http(s) is refused with the reason; a good one is saved and tried
    page.fill("#falls-webhook-url", "ftp://files.example.com/alerts")
    page.click("#falls-webhook-save")
    expect(page.locator("#falls-webhook-message")).to_contain_text("Not saved")
    expect(page.locator("#falls-webhook-message")).to_contain_text("https://")
    page.fill("#falls-webhook-url", url)
    page.click("#falls-webhook-save")
    expect(page.locator("#falls-webhook-message")).to_contain_text("Saved")
    page.click("#falls-webhook-test")
    expect(page.locator("#falls-webhook-message")).to_contain_text("Test delivered")
    expect(page.locator("#falls-webhook-message")).not_to_contain_text("token-123")  # the host only
    assert bodies and bodies[-1]["event"] == "test" and bodies[-1]["user"] == "fay"
    # acknowledge with a note
    kitchen.locator(".alert-note").fill("Called her, she is fine")
    kitchen.locator(".alert-ack").click()
    expect(kitchen).to_contain_text("by you")
    expect(kitchen).to_contain_text("Called her, she is fine")
    expect(page.locator("#falls-alerts-count")).to_have_text("1 alert not acknowledged yet.")
    page.check("#falls-alerts-open")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Live camera")
    page.uncheck("#falls-alerts-open")
    expect(rows).to_have_count(2)
    page.locator("#falls-alerts").scroll_into_view_if_needed()
    shoot(page, "falls-alerts-desktop")
    page.context.close()
    # another user sees none of them; the destination is each user's own
    bob = signed_in(browser, web_server, user="bob", viewport={"width": 1280, "height": 800})
    bob.goto("/#/falls")
    expect(bob.locator("#falls-alerts-empty")).to_contain_text("No fall alerts yet")
    expect(bob.locator("#falls-alerts-table")).to_have_count(0)
    expect(bob.locator("#falls-webhook-url")).to_have_value("")
    bob.context.close()
    phone = signed_in(browser, web_server, user="fay", viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto("/#/falls")
    expect(phone.locator("#falls-alerts-table tbody tr")).to_have_count(2)
    expect(phone.locator("#falls-webhook-url")).to_have_value(url)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.locator("#falls-alerts").scroll_into_view_if_needed()
    shoot(phone, "falls-alerts-phone")
    phone.context.close()


def test_a_clinician_acknowledges_a_patients_alert(browser: object, web_server: WebServer) -> None:
    """Cleo is Ann's clinician (Ann accepted): Ann's alert is listed with her name, and Cleo acknowledges it."""
    _alerts(web_server, "ann", "landing.mp4", [_Event(3.0, "down", confirmed=False)])
    page = signed_in(browser, web_server, user="cleo", viewport={"width": 1280, "height": 800})
    page.goto("/#/falls")
    row = page.locator("#falls-alerts-table tbody tr", has_text="landing.mp4")
    expect(row).to_have_count(1)
    expect(row.locator("td[data-label=Who]")).to_have_text("ann")
    expect(row).to_contain_text("still down (unconfirmed)")
    row.locator(".alert-ack").click()
    expect(row).to_contain_text("by you")
    page.context.close()
    ann = signed_in(browser, web_server, user="ann", viewport={"width": 1280, "height": 800})
    ann.goto("/#/falls")
    expect(ann.locator("#falls-alerts-table tbody tr", has_text="landing.mp4")).to_contain_text("by cleo")
    ann.context.close()
