"""The Analyse page in headless Chromium: upload a real WorkoutTracker clip, follow the job, check the rep count
shown against the clip's label, seek from the rep table, the interactive chart, bad uploads, reopening by URL."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import data_file
from tests.e2e.conftest import WebServer, shoot, signed_in
from tests.e2e.helpers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.video]
CLIP = "reps/workouttracker/videos/pull-ups/pull-up_10.mp4"
WIDEST = ("[...document.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > "
          "document.documentElement.clientWidth + 1).map(e => `${e.tagName}#${e.id}.${e.className}`).slice(0, 8)")


def label(relative: str) -> int:
    """The clip's rep count in WorkoutTracker's labels.csv."""
    name = Path(relative).name
    with data_file("reps/workouttracker/labels.csv").open() as f:
        return next(int(r["rep_count"]) for r in csv.DictReader(f) if r["video"] == name and r["exercise"] in relative)


@pytest.fixture(scope="module")
def analysed(browser: object, web_server: WebServer) -> Iterator[tuple[object, str]]:
    """Ann's page after uploading the clip on the Analyse page and waiting for the result; and the job id."""
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 900})
    page.goto("/#/analyse")
    page.set_input_files("#analyse-file", str(data_file(CLIP)))
    expect(page.locator("#analyse-progress")).to_be_visible()
    expect(page.locator("#analyse-count")).to_be_visible(timeout=240_000)
    job_id = page.url.split("job=")[1]
    yield page, job_id
    page.context.close()


def test_the_rep_count_shown_is_the_clips(analysed: tuple[object, str], web_server: WebServer) -> None:
    page, job_id = analysed
    shown = int(page.inner_text("#analyse-count"))  # type: ignore[attr-defined]
    assert shown == label(CLIP)
    expect(page.locator("#analyse-exercise-name")).to_contain_text("Pull-up")  # type: ignore[attr-defined]
    expect(page.locator("#analyse-reps tbody tr")).to_have_count(shown)  # type: ignore[attr-defined]
    report = page.context.request.get(f"/v1/jobs/{job_id}/results/report").json()  # type: ignore[attr-defined]
    assert report["reps"]["count"] == shown
    shoot(page, "analyse-result")


def test_a_rep_row_seeks_the_video_into_that_rep(analysed: tuple[object, str]) -> None:
    page, job_id = analysed
    report = page.context.request.get(f"/v1/jobs/{job_id}/results/report").json()  # type: ignore[attr-defined]
    rep = report["reps"]["items"][2]
    wait_until(page, "document.getElementById('analyse-video').readyState >= 1")  # type: ignore[attr-defined]
    page.click("#analyse-reps tbody tr[data-rep='3']")  # type: ignore[attr-defined]
    wait_until(page, f"Math.abs(document.getElementById('analyse-video').currentTime - {rep['start_s']}) < 0.2")
    t = page.evaluate("document.getElementById('analyse-video').currentTime")  # type: ignore[attr-defined]
    assert rep["start_s"] - 0.2 <= t <= rep["end_s"]


def test_the_angle_chart_is_interactive(analysed: tuple[object, str]) -> None:
    page, _ = analysed
    chart = page.locator("#analyse-chart .uplot canvas")  # type: ignore[attr-defined]
    expect(chart).to_have_count(1)
    box = page.locator("#analyse-chart .u-over").bounding_box()  # type: ignore[attr-defined]
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)  # type: ignore[attr-defined]
    wait_until(page, "document.getElementById('analyse-video').currentTime > 0")  # type: ignore[attr-defined]
    legend = page.inner_text("#analyse-chart .u-legend")  # type: ignore[attr-defined]
    assert "(counting)" in legend
    page.locator("#analyse-chart").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    shoot(page, "analyse-chart")


def test_the_result_reopens_by_url_and_is_listed(analysed: tuple[object, str], browser: object,
                                                 web_server: WebServer) -> None:
    _, job_id = analysed
    page = signed_in(browser, web_server, viewport={"width": 375, "height": 800}, is_mobile=True)
    page.goto("/#/analyse")
    listed = page.locator("#analyse-previous li", has=page.locator(f"a[href='#/analyse?job={job_id}']"))
    expect(listed).to_be_visible()  # by the clip's name, exercise and count, not only a time (issue 26)
    expect(listed.locator("a")).to_have_text("pull-up_10.mp4")
    expect(listed).to_contain_text(f"Pull-up · {label(CLIP)} reps")
    page.goto(f"/#/analyse?job={job_id}")
    expect(page.locator("#analyse-count")).to_have_text(str(label(CLIP)))
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(WIDEST)
    assert width <= 375, f"the result is {width} px wide on a 375 px screen: {wide}"
    shoot(page, "analyse-phone")
    other = signed_in(browser, web_server, user="bob")  # not Ann's clinician: her job is not found
    other.goto(f"/#/analyse?job={job_id}")
    expect(other.locator("#banner")).to_contain_text("no such job")
    page.context.close()
    other.context.close()


def test_a_file_that_is_not_a_video_is_refused_with_the_reason(page: object, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    page.goto("/#/analyse")  # type: ignore[attr-defined]
    page.set_input_files("#analyse-file", str(notes))  # type: ignore[attr-defined]
    expect(page.locator("#banner")).to_be_visible()  # type: ignore[attr-defined]
    text = page.inner_text("#banner")  # type: ignore[attr-defined]
    assert "notes.txt" in text or "video" in text, text
    assert "Traceback" not in text
    shoot(page, "analyse-bad-upload")
