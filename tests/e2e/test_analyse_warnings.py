"""The Analyse page shows the report's warnings (issue 26, point 2): a cut upload of real biceps curls, analysed as
squats, says both that the file is cut short and that the movement looks like a biceps curl."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import data_file
from tests.e2e.conftest import WebServer, shoot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.video]
CURLS = "misc_exercise_clips/wissem/bicep_curls.mp4"


def test_warnings_are_shown_with_the_result(browser: object, web_server: WebServer, tmp_path: Path) -> None:
    data = data_file(CURLS).read_bytes()
    cut = tmp_path / "curls-cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 800})
    try:
        page.goto("/#/analyse")  # type: ignore[attr-defined]
        page.select_option("#analyse-exercise", "squat")  # type: ignore[attr-defined]
        page.set_input_files("#analyse-file", str(cut))  # type: ignore[attr-defined]
        expect(page.locator("#analyse-count")).to_be_visible(timeout=240_000)  # type: ignore[attr-defined]
        warnings = page.locator("#analyse-warnings")  # type: ignore[attr-defined]
        expect(warnings).to_be_visible()
        text = warnings.inner_text()
        assert "cut short or damaged" in text, text
        assert "looks like a biceps curl, not a squat" in text, text
        expect(page.locator("#analyse-warnings li[data-code='wrong_exercise']")).to_have_count(1)  # type: ignore[attr-defined]
        shoot(page, "analyse-warnings")
        page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]
        expect(warnings).to_be_visible()
        shoot(page, "analyse-warnings-phone")
    finally:
        page.context.close()  # type: ignore[attr-defined]
