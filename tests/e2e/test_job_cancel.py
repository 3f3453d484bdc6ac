"""The web app and bounded work (issue 25) in headless Chromium: a running analysis has a Cancel button that
cancels its job and says so; an upload over the limits on work shows the server's reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import data_file
from tests.e2e.conftest import WebServer, signed_in
from tests.integration.security.test_bounded_work import encode

pytestmark = [pytest.mark.browser, pytest.mark.video]
CLIP = "reps/jump_rope/videos/jp_2.mp4"  # 16 s: long enough to cancel while it runs


def test_an_analysis_can_be_cancelled_from_the_page(browser: object, web_server: WebServer) -> None:
    page = signed_in(browser, web_server)
    page.goto("/#/analyse")  # type: ignore[attr-defined]
    page.set_input_files("#analyse-file", str(data_file(CLIP)))  # type: ignore[attr-defined]
    cancel = page.locator("#job-cancel")  # type: ignore[attr-defined]
    expect(cancel).to_be_visible(timeout=60_000)
    cancel.click()
    expect(page.locator("#banner")).to_contain_text("cancelled by its owner")  # type: ignore[attr-defined]
    expect(cancel).to_have_count(0)
    jobs = page.context.request.get("/v1/jobs?state=cancelled").json()  # type: ignore[attr-defined]
    assert len(jobs) == 1 and jobs[0]["kind"] == "analyze"
    page.context.close()  # type: ignore[attr-defined]


def test_an_upload_over_the_limits_shows_the_reason(browser: object, web_server: WebServer, tmp_path: Path) -> None:
    huge = tmp_path / "huge.mp4"
    encode(huge, 8192, 8192, frames=2, fps=2)
    page = signed_in(browser, web_server)
    page.goto("/#/analyse")  # type: ignore[attr-defined]
    page.set_input_files("#analyse-file", str(huge))  # type: ignore[attr-defined]
    expect(page.locator("#banner")).to_contain_text("8192x8192 pixels")  # type: ignore[attr-defined]
    expect(page.locator("#banner")).to_contain_text("POSECOACH_MAX_FRAME_PIXELS")  # type: ignore[attr-defined]
    page.context.close()  # type: ignore[attr-defined]
