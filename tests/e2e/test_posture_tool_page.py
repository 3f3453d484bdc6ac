"""Posture models as a tool in headless Chromium, on real squat clips: label two videos and keep both in the
training set, train, see the accuracy on each held-out video; add a third video to the trained model; run the
model on an uploaded video and read the coloured posture bar, the changes of posture and the time per posture
(screenshots at 1280x800 and 390x844)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import data_file
from tests.e2e.conftest import WebServer, shoot, signed_in
from tests.e2e.helpers import wait_until
from tests.e2e.test_posture_page import add_range

pytestmark = [pytest.mark.browser, pytest.mark.video]
SQUATS = "form/kaiakol/data/squat/correct"
RANGES = {  # standing ("up") and at the bottom ("down"), read from each clip's knee angle
    "squat_correct_001.mp4": [("up", 0.0, 0.25), ("down", 0.55, 1.05), ("up", 1.35, 1.6)],
    "squat_correct_002.mp4": [("down", 0.25, 0.6), ("up", 0.85, 1.25)],
    "squat_correct_004.mp4": [("down", 0.35, 0.65), ("up", 0.8, 1.15)],
}


def label_video(page: object, name: str) -> None:
    """Upload a clip into the trainer and label its ranges."""
    page.set_input_files("#posture-file", str(data_file(f"{SQUATS}/{name}")))  # type: ignore[attr-defined]
    expect(page.locator("#posture-video-pick option:checked")).to_contain_text(name, timeout=60_000)  # type: ignore
    wait_until(page, "document.getElementById('posture-video').readyState >= 1")
    for label, start, end in RANGES[name]:
        add_range(page, label, start, end)
    expect(page.locator("#posture-ranges li")).to_have_count(len(RANGES[name]))  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def two_videos(browser: object, web_server: WebServer) -> Iterator[tuple[object, dict]]:
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 800})
    page.goto("/#/posture")  # type: ignore[attr-defined]
    for name in ("squat_correct_001.mp4", "squat_correct_002.mp4"):
        label_video(page, name)
        page.click("#posture-keep")  # type: ignore[attr-defined]
        expect(page.locator("#posture-ranges li")).to_have_count(0)  # type: ignore[attr-defined]
    expect(page.locator("#posture-set li")).to_have_count(2)  # type: ignore[attr-defined]
    expect(page.locator("#posture-set")).to_contain_text("squat_correct_002.mp4 · 2 ranges (down, up)")  # type: ignore
    page.fill("#posture-name", "two-squat-videos")  # type: ignore[attr-defined]
    page.click("#posture-train")  # type: ignore[attr-defined]
    expect(page.locator("#posture-accuracy")).to_be_visible(timeout=180_000)  # type: ignore[attr-defined]
    [model] = [m for m in page.context.request.get("/v1/posture-models").json()  # type: ignore[attr-defined]
               if m["name"] == "two-squat-videos"]
    yield page, model
    page.context.close()  # type: ignore[attr-defined]


def test_two_videos_train_one_model_with_each_held_out(two_videos: tuple[object, dict]) -> None:
    page, model = two_videos
    rows = page.locator("#posture-result #posture-videos tbody tr")  # type: ignore[attr-defined]
    expect(rows).to_have_count(2)
    served = page.context.request.get(f"/v1/posture-models/{model['id']}/videos").json()  # type: ignore
    assert served["method"] == "leave-one-video-out"
    for row, video in zip(rows.all(), served["videos"], strict=True):
        held = video["held_out"]
        assert row.locator("td").first.inner_text() == video["filename"]
        assert row.locator("td.held-out").inner_text() == (
            f"{100 * held['accuracy']:.1f} % ({held['correct']}/{held['frames']})")
    assert "null" not in page.inner_text("#posture-result")  # type: ignore[attr-defined]
    shoot(page, "posture-two-videos")


def test_a_third_video_is_added_to_the_trained_model(two_videos: tuple[object, dict]) -> None:
    page, model = two_videos
    label_video(page, "squat_correct_004.mp4")
    page.click(f"#posture-models button.posture-add-video[data-of='{model['id']}']")  # type: ignore[attr-defined]
    rows = page.locator("#posture-model-videos #posture-videos tbody tr")  # type: ignore[attr-defined]
    expect(rows).to_have_count(3, timeout=180_000)
    expect(rows.nth(2)).to_contain_text("squat_correct_004.mp4")
    expect(page.locator("#posture-model-videos")).to_contain_text("leave-one-video-out")  # type: ignore
    assert all(held != "–" for held in page.locator("#posture-model-videos td.held-out").all_inner_texts())  # type: ignore


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_the_model_runs_on_an_uploaded_video(browser: object, web_server: WebServer, two_videos: tuple[object, dict],
                                             size: tuple[int, int]) -> None:
    _, model = two_videos
    width, height = size
    page = signed_in(browser, web_server, viewport={"width": width, "height": height}, is_mobile=width < 500)
    page.goto("/#/posture")  # type: ignore[attr-defined]
    page.click(f"#posture-models button.posture-run-this[data-of='{model['id']}']")  # type: ignore[attr-defined]
    assert page.input_value("#posture-run-model") == model["id"]  # type: ignore[attr-defined]
    page.select_option("#posture-run-first", "up")  # type: ignore[attr-defined]
    page.select_option("#posture-run-second", "down")  # type: ignore[attr-defined]
    page.set_input_files("#posture-run-file", str(data_file(f"{SQUATS}/squat_correct_006.mp4")))  # type: ignore
    bar = page.locator("#posture-run-timeline")  # type: ignore[attr-defined]
    expect(bar).to_be_visible(timeout=120_000)
    # not in the training set: standing, down to the bottom, standing again
    assert [m.get_attribute("data-posture") for m in bar.locator(".mark").all()] == ["up", "down", "up"]
    colours = {m.evaluate("e => getComputedStyle(e).backgroundColor") for m in bar.locator(".mark").all()}
    assert len(colours) == 2  # one colour per posture
    changes = page.locator("#posture-run-transitions tbody tr")  # type: ignore[attr-defined]
    assert changes.all_inner_texts() == ["up\tdown\t1", "down\tup\t1"]
    expect(page.locator("#posture-run-reps")).to_contain_text("1 repetition up → down → up")  # type: ignore
    times = page.locator("#posture-run-times tbody tr")  # type: ignore[attr-defined]
    expect(times).to_have_count(2)
    assert all(t.endswith("%") for t in times.all_inner_texts())
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # type: ignore[attr-defined]
    text = page.inner_text("#posture-run")  # type: ignore[attr-defined]
    assert "null" not in text and "undefined" not in text
    page.locator("#posture-run-result").scroll_into_view_if_needed()  # type: ignore[attr-defined]
    shoot(page, f"posture-run-{width}x{height}")
    page.context.close()  # type: ignore[attr-defined]
