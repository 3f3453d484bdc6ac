"""The Falls page in headless Chromium: a real fall clip raises the alert with its timeline, a daily-activity clip
does not; the live monitor with Chromium's fake camera fed from a real fall raises the alert."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import data_file
from tests.e2e.conftest import WebServer, shoot, signed_in
from tests.e2e.helpers import wait_until
from tests.e2e.test_live import FAKE_CAMERA, make_y4m

pytestmark = [pytest.mark.browser, pytest.mark.video]
FALL = "falls/gmdcsa24/Subject 1/Fall/15.mp4"
DAILY = "falls/gmdcsa24/Subject 1/ADL/10.mp4"


def labelled(relative: str) -> str:
    """The clip's label in gmdcsa24's labels.csv: fall or adl."""
    with data_file("falls/gmdcsa24/labels.csv").open() as f:
        return next(r["label"] for r in csv.DictReader(f) if relative.endswith(r["path"]))


def test_an_uploaded_fall_raises_the_alert(page: object, web_server: WebServer) -> None:
    assert labelled(FALL) == "fall"
    page.goto("/#/falls")  # type: ignore[attr-defined]
    page.set_input_files("#falls-file", str(data_file(FALL)))  # type: ignore[attr-defined]
    expect(page.locator("#falls-verdict")).to_contain_text("Fall detected", timeout=180_000)  # type: ignore
    expect(page.locator("#banner")).to_have_class("alert")  # type: ignore[attr-defined]
    expect(page.locator("#falls-events li")).to_have_count(1)  # type: ignore[attr-defined]
    expect(page.locator("#falls-events li")).to_contain_text(  # type: ignore[attr-defined]
        re.compile("got up|still down at the end|not seen since the fall"))  # what became of the person
    expect(page.locator("#falls-chart .uplot")).to_have_count(1)  # type: ignore[attr-defined]
    wait_until(page, "document.getElementById('falls-video').readyState >= 1")  # type: ignore[attr-defined]
    # the video with the skeleton, the probability and the alert drawn, not the raw upload (issue 26)
    assert "/overlay" in page.get_attribute("#falls-video", "src")  # type: ignore[attr-defined]
    start = float(page.get_attribute("#falls-events li", "data-t"))  # type: ignore[attr-defined]
    page.click("#falls-events li")  # type: ignore[attr-defined]
    wait_until(page, f"Math.abs(document.getElementById('falls-video').currentTime - {start}) < 0.2")
    # the check's alert is in the alert log, to acknowledge (issue 26)
    logged = page.locator("#falls-alerts-table tbody tr", has_text="15.mp4")  # type: ignore[attr-defined]
    expect(logged.first).to_contain_text(re.compile("got up|still down|not seen since the fall"))
    expect(logged.first.locator(".alert-ack")).to_be_visible()
    shoot(page, "falls-upload-fall")


def test_daily_activity_raises_no_alert(page: object) -> None:
    assert labelled(DAILY) == "adl"
    page.goto("/#/falls")  # type: ignore[attr-defined]
    page.set_input_files("#falls-file", str(data_file(DAILY)))  # type: ignore[attr-defined]
    expect(page.locator("#falls-verdict")).to_have_text("No fall detected", timeout=180_000)  # type: ignore
    expect(page.locator("#banner")).to_be_hidden()  # type: ignore[attr-defined]
    shoot(page, "falls-upload-no-fall")


def test_the_live_monitor_alerts_on_a_real_fall(launch: object, web_server: WebServer, tmp_path: Path) -> None:
    camera = make_y4m(data_file(FALL), tmp_path / "fall.y4m", seconds=6.0)
    browser = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={camera}")  # type: ignore[operator]
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 1000})
    page.goto("/#/falls")
    page.click("#falls-live-start")
    expect(page.locator("#falls-live-status")).to_contain_text("fall alert", timeout=40_000)
    expect(page.locator("#falls-live-status")).to_contain_text(  # type: ignore[attr-defined]
        re.compile("Latest: (still down|not seen since the fall|got up)"))
    expect(page.locator("#banner")).to_contain_text("Fall detected")
    page.locator("#falls-live").scroll_into_view_if_needed()
    shoot(page, "falls-live-alert")
    page.click("#falls-live-stop")
    page.context.close()
