"""The Session page (issue 28) in headless Chromium with a fake camera fed from a real squat clip: the guide's
video plays beside the camera, the repetitions count toward the set's target, each repetition gets its score
against the guide when it ends, a rest timer runs between the sets, and the session ends with a summary of every
set (each kept in History). The frame rate and latency with the guide playing are written to
build/session_metrics.json (the closing note's figures; not asserted: they depend on what else the machine runs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import data_file
from tests.e2e import guide_seed
from tests.e2e.conftest import SCREENSHOTS, WebServer, shoot, signed_in
from tests.e2e.helpers import wait_until
from tests.e2e.test_live import FAKE_CAMERA, squat_camera  # noqa: F401  (the fake camera's clip, a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.video]


def test_a_patient_follows_a_guide_for_two_sets(launch: object, web_server: WebServer, squat_camera: Path,  # noqa: F811
                                                tmp_path: Path) -> None:
    guide_id = guide_seed.guide(web_server, "cleo", data_file("form/kaiakol/data/squat/correct/squat_correct_001.mp4"),
                                tmp_path, name="slow-squat", with_video=True)
    browser = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={squat_camera}")  # type: ignore[operator]
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 800})
    page.goto(f"/#/session?guide={guide_id}&reps=2&sets=2&rest=2")
    expect(page.locator("h1")).to_contain_text("slow-squat")
    page.click("#session-start")
    expect(page.locator("#session-scores li").first).to_be_visible(timeout=60_000)  # scored while the set goes on
    wait_until(page, "(() => { const v = document.getElementById('session-guide-video');"  # the guide plays beside
               " return !!v && !v.paused && v.currentTime > 0 && v.videoWidth > 0; })()", timeout_s=20)
    stats = page.locator(".live-stats")
    metrics = {k: float(stats.get_attribute(f"data-{k}") or 0) for k in ("fps", "latency", "latency-p95", "server")}
    shoot(page, "session-following")
    expect(page.locator("#session-rest")).to_contain_text("Rest", timeout=60_000)  # the first set met its target
    expect(page.locator("#session-done")).to_be_visible(timeout=90_000)  # the second set after the rest
    rows = page.locator(".session-sets tbody tr")
    expect(rows).to_have_count(2)
    assert "in History" in rows.nth(0).inner_text() and "in History" in rows.nth(1).inner_text()
    scores = [float(s) for s in page.locator("#session-scores li").evaluate_all(
        "els => els.map(e => e.dataset.score).filter(s => s !== '')")]
    assert scores and all(0 <= s <= 100 for s in scores)
    expect(page.locator("#session-total")).to_contain_text("2 sets")
    shoot(page, "session-done")
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "session_metrics.json").write_text(json.dumps(metrics, indent=1))
    print(f"\nsession (guide playing beside the camera, lite model, 640x480): {metrics}")
    assert metrics["fps"] > 0 and metrics["latency"] > 0
    page.context.close()


def test_the_session_page_on_a_phone(launch: object, web_server: WebServer, tmp_path: Path) -> None:
    guide_id = guide_seed.guide(web_server, "cleo", data_file("form/kaiakol/data/squat/correct/squat_correct_001.mp4"),
                                tmp_path, name="phone-squat", with_video=True)
    page = signed_in(launch(), web_server, viewport={"width": 390, "height": 844}, is_mobile=True)  # type: ignore[operator]
    page.goto(f"/#/session?guide={guide_id}&reps=5")
    expect(page.locator("#session-count")).to_have_text("0")
    expect(page.locator("#session-set")).to_contain_text("target 5 repetitions")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the session page is {width} px wide on a 390 px screen"
    shoot(page, "session-phone")
    page.goto("/#/session")
    expect(page.locator("#session-empty")).to_contain_text("Start today")
    page.context.close()
