"""Issue 26's "whole day of a trainee", in headless Chromium with a fake camera fed from a real squat clip: sign
in with a password; on Analyse a file that is not a video gives a red error, choosing it again reacts again, and
the next (good) upload clears the error and shows its result, listed under "Earlier analyses" by file name,
exercise and count; on Live a set with a target of 2 ends by itself with the summary, kept in History; History
then shows the live set next to the uploaded analysis of the same exercise, on the same chart series. No page on
the way shows a literal null, undefined or NaN. Screenshots at 1280x800 and 390x844."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import data_file
from tests.e2e import history_seed
from tests.e2e.conftest import WebServer, shoot
from tests.e2e.helpers import wait_until
from tests.e2e.test_live import FAKE_CAMERA, squat_camera  # noqa: F401  (the fake camera's clip, a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.video]
CLIP = "form/kaiakol/data/squat/correct/squat_correct_001.mp4"
PASSWORD = "tess's long password"
BAD_WORDS = re.compile(r"\b(null|undefined|NaN)\b")


def no_bad_words(page: object, where: str) -> None:
    text = page.inner_text("body")  # type: ignore[attr-defined]
    found = BAD_WORDS.findall(text)
    assert not found, f"{where} shows {found}: {text[:400]!r}"


def test_a_trainees_day(launch: object, web_server: WebServer, squat_camera: Path,  # noqa: F811
                        tmp_path: Path) -> None:
    history_seed.new_user(web_server, "tess", password=PASSWORD)
    browser = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={squat_camera}")  # type: ignore[operator]
    context = browser.new_context(base_url=web_server.url, viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(30_000)
    uploads: list[str] = []
    page.on("request", lambda r: uploads.append(r.url) if "/v1/videos" in r.url and r.method == "POST" else None)
    # sign in
    page.goto("/")
    page.fill("#username", "tess")
    page.fill("#password", PASSWORD)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#who-name")).to_contain_text("tess")
    expect(page).to_have_url(re.compile(r"#/analyse$"))
    expect(page.locator("#analyse-previous-empty")).to_contain_text("choose a video")
    no_bad_words(page, "Analyse, empty")
    # Analyse: a file that is not a video, twice (the same file again reacts), then a real clip
    bad = tmp_path / "notes.mp4"
    bad.write_text("these are my training notes, not a video\n" * 40)
    page.select_option("#analyse-exercise", "squat")
    page.set_input_files("#analyse-file", str(bad))
    expect(page.locator("#banner")).to_be_visible()
    # the picker is emptied once read: a browser then reacts to the same file chosen again (it fires no change
    # event for a selection equal to the input's value)
    assert page.evaluate("document.getElementById('analyse-file').value") == ""
    first_error = page.inner_text("#banner")
    page.evaluate("document.getElementById('banner').hidden = true")  # so the second reaction is seen
    page.set_input_files("#analyse-file", str(bad))
    expect(page.locator("#banner")).to_be_visible()
    assert page.inner_text("#banner") == first_error and len(uploads) == 2, uploads
    shoot(page, "day-analyse-error")
    page.set_input_files("#analyse-file", str(data_file(CLIP)))
    expect(page.locator("#analyse-count")).to_be_visible(timeout=240_000)
    expect(page.locator("#banner")).to_be_hidden()  # the earlier upload's error went with the new action
    count = int(page.inner_text("#analyse-count"))
    assert count >= 1
    earlier = page.locator("#analyse-previous li").first
    expect(earlier).to_contain_text("squat_correct_001.mp4")
    expect(earlier).to_contain_text("Squat")
    expect(earlier).to_contain_text(f"{count} rep")
    no_bad_words(page, "Analyse, result")
    shoot(page, "day-analyse-result")
    # Live: a set with a target of 2 ends by itself, with the summary, kept in History
    page.goto("/#/live")
    page.select_option("#live-exercise", "squat")
    page.fill("#live-target", "2")
    page.click("#live-start")
    expect(page.locator("#live-target-progress")).to_be_visible()
    expect(page.locator("#live-summary")).to_be_visible(timeout=120_000)
    expect(page.locator("#live-summary-count")).to_have_text(re.compile(r"^\d+ of 2$"))
    expect(page.locator("#live-saved")).to_contain_text("Kept in your History")
    live_count = int(page.inner_text("#live-summary-count").split()[0])
    assert live_count >= 1
    expect(page.locator("#live-summary-reps tbody tr")).to_have_count(live_count)
    no_bad_words(page, "Live, summary")
    shoot(page, "day-live-summary")
    # History: the live set next to the upload, one series for the exercise
    page.click("#live-saved a")
    rows = page.locator("#history-table tbody tr")
    expect(rows).to_have_count(2)
    upload_row, live_row = page.locator("tr[data-source=upload]"), page.locator("tr[data-source=live]")
    expect(upload_row).to_contain_text("squat_correct_001.mp4")
    expect(upload_row).to_contain_text("Squat")
    expect(live_row).to_contain_text("Live set")
    expect(live_row).to_contain_text("Squat")
    expect(live_row).to_contain_text(f"{live_count} of 2")
    wait_until(page, "document.querySelector('#history-chart-rep_count canvas') !== null")
    assert page.get_attribute("#history-chart-rep_count", "data-series") == "Squat"  # one series, both on it
    items = context.request.get("/v1/history").json()
    assert sorted((i["source"], i["exercise"], i["rep_count"]) for i in items) == [
        ("live", "squat", live_count), ("upload", "squat", count)]
    no_bad_words(page, "History")
    shoot(page, "day-history")
    phone = context.new_page()
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto("/#/history")
    expect(phone.locator("#history-table tbody tr")).to_have_count(2)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone, "day-history-phone")
    context.close()
