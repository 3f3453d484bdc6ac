"""The Compare page in headless Chromium: make a guide from a real squat video, upload another person's squat as
the attempt, and check the score, the side-by-side video (both people's real frames, not stick figures) and the
deviations shown against the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from posecoach.io import VideoReader
from tests.conftest import data_file
from tests.e2e import guide_seed
from tests.e2e.conftest import WebServer, shoot, signed_in
from tests.e2e.helpers import run_job, upload, wait_until
from tests.integration.test_comparison_video import real_content

pytestmark = [pytest.mark.browser, pytest.mark.video]
GUIDE = "form/kaiakol/data/squat/correct/squat_correct_001.mp4"
ATTEMPT = "form/kaiakol/data/squat/incorrect/squat_incorrect_002.mp4"


def test_compare_an_attempt_with_a_guide_made_here(browser: object, web_server: WebServer, tmp_path: Path) -> None:
    page = signed_in(browser, web_server, user="cleo", viewport={"width": 1280, "height": 800})
    page.goto("/#/compare")
    expect(page.locator("#banner")).to_contain_text("No guide")
    page.click("#compare-new-guide summary")
    page.fill("#compare-guide-name", "squat-guide")
    page.set_input_files("#compare-guide-file", str(data_file(GUIDE)))
    expect(page.locator("#compare-guide option", has_text="squat-guide")).to_have_count(1, timeout=180_000)
    made = page.locator("#compare-guide option", has_text="squat-guide").get_attribute("value")
    expect(page.locator("#compare-guide")).to_have_value(made)  # the new guide is chosen
    expect(page.locator("#banner")).to_be_hidden()  # and the "no guide yet" notice is gone
    page.set_input_files("#compare-attempt-file", str(data_file(ATTEMPT)))
    expect(page.locator("#compare-score")).to_be_visible(timeout=180_000)
    job_id = page.url.split("job=")[1]
    report = page.context.request.get(f"/v1/jobs/{job_id}/results/report").json()
    assert page.inner_text("#compare-score") == str(round(report["score"]))
    assert report["reference"]["name"] == "squat-guide"
    shown = page.locator("#compare-deviations li")
    expect(shown).to_have_count(min(6, len(report["deviations"])))
    if report["deviations"]:
        expect(shown.first).to_have_text(report["deviations"][0]["text"])
    wait_until(page, "document.getElementById('compare-video').readyState >= 1")
    assert page.get_attribute("#compare-video", "src").endswith("/results/side_by_side")
    size = page.evaluate(
        "[document.getElementById('compare-video').videoWidth, document.getElementById('compare-video').videoHeight]"
    )
    # the video played is the guide's and the attempt's real frames side by side (issue 26), not stick figures
    served = page.context.request.get(f"/v1/jobs/{job_id}/results/side_by_side")
    (tmp_path / "side.mp4").write_bytes(served.body())
    with VideoReader(tmp_path / "side.mp4") as video:
        frames = [f.image for f in video.frames()]
    assert size == [frames[0].shape[1], frames[0].shape[0]] and len(frames) == report["attempt"]["frames"]
    half = frames[0].shape[1] // 2
    for image in (frames[0], frames[len(frames) // 2]):
        assert real_content(image[:, :half]) and real_content(image[:, half:])
    shoot(page, "compare-result")
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#compare-video")).to_be_visible()
    box = page.locator("#compare-video").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390  # fits a phone, scaled down
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "compare-result-phone")
    page.context.close()


def test_a_patient_compares_with_the_clinicians_guide_only(browser: object, web_server: WebServer) -> None:
    """Ann (Cleo's patient) sees Cleo's guides in the picker; Bob does not."""
    ann = signed_in(browser, web_server, user="ann")
    bob = signed_in(browser, web_server, user="bob")
    guides = ann.context.request.get("/v1/references").json()
    ann.goto("/#/compare")
    bob.goto("/#/compare")
    expect(ann.locator("#compare-guide option")).to_have_count(max(1, len(guides)))
    expect(bob.locator("#banner")).to_contain_text("No guide")
    ann.context.close()
    bob.context.close()


def test_a_guide_without_its_video_is_shown_as_its_stick_figure(
    browser: object, web_server: WebServer, tmp_path: Path
) -> None:
    """A guide whose source video is gone (kept as poses only): the attempt's real frames beside the guide's stick
    figure on a plain background, rather than no video."""
    guide_id = guide_seed.guide(web_server, "cleo", data_file(GUIDE), tmp_path, name="squat-poses-only")
    page = signed_in(browser, web_server, user="cleo", viewport={"width": 1280, "height": 800})
    video = upload(page.context.request, data_file(ATTEMPT))
    job = run_job(page.context.request, {"kind": "compare", "video_id": video["id"], "reference_id": guide_id})
    page.goto(f"/#/compare?job={job['id']}")
    wait_until(
        page, "document.getElementById('compare-video') && document.getElementById('compare-video').readyState >= 1"
    )
    (tmp_path / "side.mp4").write_bytes(page.context.request.get(f"/v1/jobs/{job['id']}/results/side_by_side").body())
    with VideoReader(tmp_path / "side.mp4") as side:
        image = next(side.frames()).image
    half = image.shape[1] // 2
    assert not real_content(image[:, :half]) and real_content(image[:, half:])
    assert ((image[80:-40, :half] == 24).all(axis=2)).mean() > 0.8  # the plain background behind the guide
    page.context.close()
