"""The Posture trainer in headless Chromium: upload a real squat, label "up" and "down" ranges on its timeline
(typed and marked from the video's time), train, see the cross-validated accuracy, refuse a one-posture
training with the server's reason, then try the model live on a fake camera fed from the same clip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WebServer, shoot, signed_in
from tests.e2e.helpers import wait_until
from tests.e2e.test_live import FAKE_CAMERA, make_y4m

pytestmark = [pytest.mark.browser, pytest.mark.video]


def add_range(page: object, label: str, start: float, end: float, *, marked: bool = False) -> None:
    page.fill("#posture-label", label)  # type: ignore[attr-defined]
    if marked:  # from the video's current time, as a user scrubbing the video would
        for t, button in ((start, "#posture-mark-start"), (end, "#posture-mark-end")):
            page.evaluate(f"document.getElementById('posture-video').currentTime = {t}")  # type: ignore
            wait_until(page, f"Math.abs(document.getElementById('posture-video').currentTime - {t}) < 0.01")  # type: ignore
            page.click(button)  # type: ignore[attr-defined]
    else:
        page.fill("#posture-start", str(start))  # type: ignore[attr-defined]
        page.fill("#posture-end", str(end))  # type: ignore[attr-defined]
    page.click("#posture-add")  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def trained(browser: object, web_server: WebServer, squat_side_clip: Path) -> Iterator[tuple[object, dict]]:
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 1000})
    page.goto("/#/posture")
    page.set_input_files("#posture-file", str(squat_side_clip))
    expect(page.locator("#posture-video-pick option:checked")).to_contain_text(squat_side_clip.name, timeout=60_000)
    wait_until(page, "document.getElementById('posture-video').readyState >= 1")
    add_range(page, "up", 0.0, 0.3)  # standing before and after the one squat, at the bottom between
    add_range(page, "down", 0.6, 0.75, marked=True)
    add_range(page, "down", 0.8, 1.0)
    add_range(page, "up", 1.35, 1.6)
    expect(page.locator("#posture-ranges li")).to_have_count(4)
    expect(page.locator("#posture-timeline .mark")).to_have_count(4)
    page.fill("#posture-name", "squat-postures")
    shoot(page, "posture-labelled")
    page.click("#posture-train")
    expect(page.locator("#posture-accuracy")).to_be_visible(timeout=180_000)
    [model] = [m for m in page.context.request.get("/v1/posture-models").json() if m["name"] == "squat-postures"]
    yield page, model
    page.context.close()


def test_training_shows_the_cross_validated_accuracy(trained: tuple[object, dict]) -> None:
    page, model = trained
    assert model["state"] == "ready" and set(model["classes"]) == {"up", "down"}
    assert page.inner_text("#posture-accuracy") == f"{100 * model['cv_accuracy']:.1f} %"  # type: ignore
    assert model["cv_accuracy"] > 0.5  # better than chance on two postures
    # the accuracy's box held a literal "null" when the model was cross-validated (issue 26)
    box = page.evaluate("document.getElementById('posture-accuracy').closest('p').parentElement.innerText")  # type: ignore
    assert "null" not in box and "undefined" not in box, box
    shown = page.locator("#posture-models li", has_text="squat-postures")  # type: ignore[attr-defined]
    expect(shown).to_contain_text(" / ".join(model["classes"]))
    expect(shown).to_contain_text(f"cross-validated accuracy {100 * model['cv_accuracy']:.1f} %")
    shoot(page, "posture-trained")
    page.set_viewport_size({"width": 390, "height": 844})  # type: ignore[attr-defined]  (the result on a phone)
    expect(page.locator("#posture-accuracy")).to_be_visible()  # type: ignore[attr-defined]
    width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 390, f"the trained result is {width} px wide on a 390 px screen"
    shoot(page, "posture-trained-phone")
    page.set_viewport_size({"width": 1280, "height": 1000})  # type: ignore[attr-defined]


def test_one_posture_only_is_refused_with_the_reason(trained: tuple[object, dict]) -> None:
    page, _ = trained
    for _ in range(2):  # keep the two "up" ranges only
        page.click("#posture-ranges li:nth-child(2) button")  # type: ignore[attr-defined]
    expect(page.locator("#posture-ranges li")).to_have_count(2)  # type: ignore[attr-defined]
    page.fill("#posture-name", "one-posture")  # type: ignore[attr-defined]
    page.click("#posture-train")  # type: ignore[attr-defined]
    expect(page.locator("#banner")).to_contain_text("posture")  # type: ignore[attr-defined]
    assert "Traceback" not in page.inner_text("#banner")  # type: ignore[attr-defined]
    add_range(page, "up", 2.0, 1.0)  # reversed: refused by the page itself
    expect(page.locator("#banner")).to_contain_text("start before its end")  # type: ignore[attr-defined]


def test_the_model_runs_live_on_a_camera(launch: object, web_server: WebServer, trained: tuple[object, dict],
                                         squat_side_clip: Path, tmp_path: Path) -> None:
    _, model = trained
    camera = make_y4m(squat_side_clip, tmp_path / "squat.y4m", seconds=2.0)
    browser = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={camera}")  # type: ignore[operator]
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 1000})
    page.goto("/#/posture")
    page.click(f"#posture-models button[data-model='{model['id']}']")
    page.click("#posture-live-start")
    expect(page.locator("#posture-live-seen")).to_contain_text("up", timeout=30_000)
    expect(page.locator("#posture-live-seen")).to_contain_text("down", timeout=30_000)  # the clip loops
    shoot(page, "posture-live")
    page.click("#posture-live-stop")
    page.context.close()


def test_another_users_model_is_refused_live(browser: object, web_server: WebServer,
                                             trained: tuple[object, dict]) -> None:
    _, model = trained
    page = signed_in(browser, web_server, user="bob")
    page.goto("/#/posture")
    refused = page.evaluate("""(id) => new Promise((done) => {
        const ws = new WebSocket(`ws://${location.host}/v1/live?mode=posture&model=${id}`);
        ws.onmessage = (e) => done(JSON.parse(e.data));
    })""", model["id"])
    assert refused == {"type": "error", "message": "no such posture model (choose one of yours)"}
    page.context.close()
