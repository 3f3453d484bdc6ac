"""The Live page in headless Chromium with a fake camera fed from a real squat clip: skeleton drawn, rep count
rising, frame rate and latency measured (written to build/live_metrics.json and printed); and, with the live
socket scripted, a correction of the count shown as a note while the count on screen never goes down."""

from __future__ import annotations

import json
import re
import struct
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from playwright.sync_api import expect

from posecoach.analysis.live import ShownCount
from posecoach.io import VideoReader
from posecoach.service.live import ready_message
from tests.e2e.conftest import SCREENSHOTS, WebServer, shoot, signed_in

pytestmark = [pytest.mark.browser, pytest.mark.video]
DATA = Path(__file__).parents[2].parent / "shared" / "data"
SQUAT = DATA / "misc_exercise_clips" / "rjsong" / "squat.mp4"
FAKE_CAMERA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def make_y4m(video: Path, out: Path, seconds: float, size: tuple[int, int] = (640, 480)) -> Path:
    """The first ``seconds`` of ``video`` letterboxed into ``size``, as raw YUV4MPEG (Chromium's fake camera)."""
    w, h = size
    container = av.open(str(out), "w", format="yuv4mpegpipe")
    stream = container.add_stream("rawvideo", rate=Fraction(30))
    stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
    with VideoReader(video) as reader:
        scale = min(w / reader.info.width, h / reader.info.height)
        sw, sh = int(reader.info.width * scale) // 2 * 2, int(reader.info.height * scale) // 2 * 2
        for frame in reader.frames(0, round(seconds * reader.info.fps)):
            canvas = np.zeros((h, w, 3), np.uint8)
            y0, x0 = (h - sh) // 2, (w - sw) // 2
            canvas[y0:y0 + sh, x0:x0 + sw] = cv2.resize(frame.image, (sw, sh), interpolation=cv2.INTER_AREA)
            for packet in stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(format="yuv420p")):
                container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return out


@pytest.fixture(scope="module")
def squat_camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SQUAT.exists():
        pytest.fail(f"{SQUAT} is missing (../shared/data)")
    return make_y4m(SQUAT, tmp_path_factory.mktemp("camera") / "squat.y4m", seconds=12)


def _run_live(page: object, exercise: str, min_count: int, timeout_s: float = 45.0) -> dict[str, float]:
    page.goto("/#/live")  # type: ignore[attr-defined]
    page.select_option("#live-exercise", exercise)  # type: ignore[attr-defined]
    page.click("#live-start")  # type: ignore[attr-defined]
    counts = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        counts.append(int(page.inner_text("#live-count")))  # type: ignore[attr-defined]
        if counts[-1] >= min_count:
            break
        time.sleep(0.25)
    assert counts[-1] >= min_count, f"the live count reached only {counts[-1]} in {timeout_s:.0f} s"
    assert counts == sorted(counts), "the live count went down"
    stats = page.locator(".live-stats")  # type: ignore[attr-defined]
    skeletons = page.evaluate("document.getElementById('live-canvas').getContext('2d')"  # type: ignore[attr-defined]
                              ".getImageData(0, 0, 640, 480).data.some((v, i) => i % 4 === 3 && v > 0)")
    assert skeletons, "no skeleton drawn over the video"
    return {k: float(stats.get_attribute(f"data-{k}")) for k in ("fps", "latency", "latency-p95", "server")}


def test_live_page_counts_squats_from_a_fake_camera(launch: object, web_server: WebServer,
                                                    squat_camera: Path) -> None:
    browser = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={squat_camera}")  # type: ignore[operator]
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 900})
    metrics = _run_live(page, "squat", min_count=3)
    expect(page.locator("#live-exercise-name")).to_contain_text("Squat")
    shoot(page, "live-squat")
    page.click("#live-stop")
    expect(page.locator("#live-final")).to_contain_text("Final count: ")
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS.parent / "live_metrics.json").write_text(json.dumps(metrics, indent=1))
    print(f"\nlive (squat named, lite model, 640x480): {metrics}")
    # The page measures and shows its rate and latency; the speed target (20+ frames/s with the lite model) is
    # measured by benchmarks/bench_live.py, not asserted here, where the rate depends on what else the machine runs.
    assert metrics["fps"] > 0 and metrics["latency"] > 0 and metrics["latency-p95"] >= metrics["latency"] * 0.5
    page.context.close()


def test_live_page_recognises_the_exercise(launch: object, web_server: WebServer, squat_camera: Path) -> None:
    browser = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={squat_camera}")  # type: ignore[operator]
    page = signed_in(browser, web_server, viewport={"width": 390, "height": 844}, is_mobile=True)
    _run_live(page, "auto", min_count=2)
    expect(page.locator("#live-exercise-name")).to_contain_text("Squat", timeout=15_000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the live page is {width} px wide on a 390 px screen"
    shoot(page, "live-auto-phone")
    page.context.close()


def test_live_page_shows_a_correction_and_never_counts_down(launch: object, web_server: WebServer) -> None:
    """The live socket scripted (the server's rule, `ShownCount`, on the estimates 0 1 2 3 2 3 4 7 6): the page
    shows 0 1 2 3 3 3 4 7 7, lists the three corrections in words, and, when stopped, gives the server's summary
    (the count decided on the whole session, 6, and why it is unsure) as the final count."""
    estimates = [e for e in (0, 1, 2, 3, 2, 3, 4, 7, 6) for _ in range(4)]
    rule = ShownCount()
    answers = []
    for i, e in enumerate(estimates):
        shown = rule.update(e, i)
        answers.append({"type": "frame", "landmarks": None, "server_ms": 1.0, "count": e, "shown": shown,
                        "exercise": "squat", "title": "Squat", "confidence": 1.0, "hold_s": None, "cues": [],
                        "rep_frames": None, "correction": rule.corrections[-1].text if rule.corrections else None,
                        "corrections": [{"frame": c.frame, "shown": c.shown, "estimate": c.estimate,
                                         "text": c.text} for c in rule.corrections]})

    def socket(ws: object) -> None:
        sent = 0

        def answer(message: str | bytes) -> None:
            nonlocal sent
            if isinstance(message, str):  # {"type": "finish"}: the session's count decided on the whole of it
                assert json.loads(message) == {"type": "finish"}
                ws.send(json.dumps({**answers[-1], "type": "summary", "count": 6, "count_confidence": 0.4,  # type: ignore[attr-defined]
                                    "count_note": "weak rhythm"}))
                return
            (t,) = struct.unpack("<d", message[:8])  # type: ignore[index, arg-type]
            ws.send(json.dumps({**answers[min(sent, len(answers) - 1)], "t": t}))  # type: ignore[attr-defined]
            sent += 1

        ws.on_message(answer)  # type: ignore[attr-defined]
        ws.send(json.dumps(ready_message("exercise", "lite")))  # type: ignore[attr-defined]

    browser = launch(*FAKE_CAMERA)  # type: ignore[operator]
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 900})
    page.route_web_socket(re.compile(r".*/v1/live\b.*"), socket)  # type: ignore[attr-defined]
    page.goto("/#/live")  # type: ignore[attr-defined]
    page.select_option("#live-exercise", "squat")  # type: ignore[attr-defined]
    page.click("#live-start")  # type: ignore[attr-defined]
    seen = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and page.locator("#live-corrections li").count() < 3:  # type: ignore[attr-defined]
        seen.append(int(page.inner_text("#live-count")))  # type: ignore[attr-defined]
        time.sleep(0.02)
    seen.append(int(page.inner_text("#live-count")))  # type: ignore[attr-defined]
    assert seen == sorted(seen) and seen[-1] == 7, f"the count on screen went {seen}"
    notes = page.locator("#live-corrections li")  # type: ignore[attr-defined]
    expect(notes).to_have_count(3)
    expect(notes.nth(0)).to_contain_text("Count corrected: 3 -> 2")
    expect(notes.nth(0)).to_contain_text("3 stays on screen until repetition 4")
    expect(notes.nth(1)).to_contain_text("Count corrected: 4 -> 7 (+3")
    expect(notes.nth(2)).to_contain_text("Count corrected: 7 -> 6")
    expect(page.locator("#live-corrections li.latest")).to_contain_text("7 -> 6")  # type: ignore[attr-defined]
    expect(page.locator("#live-badge")).to_have_text("7")  # type: ignore[attr-defined]
    shoot(page, "live-correction")
    page.click("#live-stop")  # type: ignore[attr-defined]
    expect(page.locator("#live-final")).to_have_text(  # type: ignore[attr-defined]
        "Final count: 6 (the best estimate; 7 was shown, see the corrections above). Unsure: weak rhythm")
    page.context.close()  # type: ignore[attr-defined]


def test_live_page_without_a_camera_says_so(browser: object, web_server: WebServer) -> None:
    page = signed_in(browser, web_server)  # no fake camera flags: Chromium has no camera to give
    page.goto("/#/live")
    page.click("#live-start")
    expect(page.locator("#banner")).to_contain_text("camera")
    expect(page.locator("#live-start")).to_be_enabled()
    page.context.close()


def test_a_recording_from_the_camera_is_uploaded_and_analysed(launch: object, web_server: WebServer,
                                                              squat_camera: Path) -> None:
    """Analyse page, "Record with the camera": MediaRecorder's WebM (no duration in its header) is accepted,
    analysed, and its count shown as in the stored report."""
    browser = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={squat_camera}")  # type: ignore[operator]
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 900})
    page.goto("/#/analyse")
    page.select_option("#analyse-exercise", "squat")
    page.click("#analyse-record")
    expect(page.locator("#analyse-record")).to_have_text("Stop recording")
    page.wait_for_timeout(6000)
    page.click("#analyse-record")
    expect(page.locator("#analyse-count")).to_be_visible(timeout=120_000)
    job_id = page.url.split("job=")[1]
    report = page.context.request.get(f"/v1/jobs/{job_id}/results/report").json()
    assert int(page.inner_text("#analyse-count")) == report["reps"]["count"] >= 1
    assert report["input"]["path"].startswith("recording-") and report["input"]["path"].endswith(".webm")
    assert 4.0 < report["input"]["duration_s"] < 8.0
    shoot(page, "analyse-recorded")
    page.context.close()


def _scripted(count_to: int, finishes: list[str], urls: list[str]) -> object:
    """A scripted live socket: the count shown rises one every 4 frames up to ``count_to``, a cue on rep 2; a
    finish is answered with a summary of the set (reps with tempo and form issues, kept in History as ``saved``)."""
    def socket(ws: object) -> None:
        sent = 0
        urls.append(ws.url)  # type: ignore[attr-defined]

        def answer(message: str | bytes) -> None:
            nonlocal sent
            if isinstance(message, str):
                finishes.append(message)
                reps = [{"index": i, "start_s": 2.0 * i, "end_s": 2.0 * i + 1.5, "duration_s": 1.5,
                         "errors": [{"title": "Shallow squat", "cue": "Go lower", "severity": "medium"}] if i == 2
                         else []} for i in range(1, count_to + 1)]
                ws.send(json.dumps({"type": "summary", "count": count_to, "shown": count_to,  # type: ignore[attr-defined]
                                    "count_confidence": 0.95, "count_note": None, "corrections": [],
                                    "exercise": "squat", "title": "Squat", "hold_s": None, "reps": reps,
                                    "duration_s": 14.2, "target": count_to, "saved": {"id": "x" * 32},
                                    "save_note": None}))
                return
            (t,) = struct.unpack("<d", message[:8])  # type: ignore[index, arg-type]
            n = min(count_to + 2, sent // 30)  # a scripted coach that would go past the target if not stopped
            cues = [{"title": "Shallow squat", "cue": "Go lower", "severity": "medium", "rep": 2}] if n >= 2 else []
            ws.send(json.dumps({"type": "frame", "t": t, "landmarks": None, "server_ms": 1.0, "count": n,  # type: ignore[attr-defined]
                                "shown": n, "exercise": "squat", "title": "Squat", "confidence": 1.0, "hold_s": None,
                                "cues": cues, "rep_frames": None, "correction": None, "corrections": []}))
            sent += 1

        ws.on_message(answer)  # type: ignore[attr-defined]
        ws.send(json.dumps(ready_message("exercise", "lite")))  # type: ignore[attr-defined]
    return socket


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_a_set_with_a_target_ends_there_with_a_summary(launch: object, web_server: WebServer,
                                                       size: tuple[int, int]) -> None:
    """Issue 26: a target of 3 reps: progress toward it, the set ends by itself at 3 (the page asks the server for
    the summary) and the summary gives reps against the target, tempo, form issues per rep and that it was kept
    in History; on a 390x844 phone the count and the cues are above the fold while the set runs."""
    finishes: list[str] = []
    browser = launch(*FAKE_CAMERA)  # type: ignore[operator]
    page = signed_in(browser, web_server, viewport={"width": size[0], "height": size[1]}, is_mobile=size[0] < 500)
    urls: list[str] = []
    page.route_web_socket(re.compile(r".*/v1/live\b.*"), _scripted(3, finishes, urls))  # type: ignore[attr-defined]
    page.goto("/#/live")  # type: ignore[attr-defined]
    page.select_option("#live-exercise", "squat")  # type: ignore[attr-defined]
    page.fill("#live-target", "3")  # type: ignore[attr-defined]
    page.click("#live-start")  # type: ignore[attr-defined]
    expect(page.locator("#live-target-text")).to_contain_text("2 of 3 (1 to go)")  # type: ignore[attr-defined]
    expect(page.locator("#live-cues li").first).to_contain_text("Go lower")  # type: ignore[attr-defined]
    if size[0] < 500:  # while the set runs (2 of 3): the count and the cues above the fold of a phone
        bottoms = page.evaluate("['#live-count', '#live-cues li', '#live-target-progress'].map((s) => {"  # type: ignore[attr-defined]
                                " const r = document.querySelector(s).getBoundingClientRect();"
                                " return [s, r.height > 0 ? r.bottom + window.scrollY : null]; })")
        assert all(b is not None and b <= size[1] for _, b in bottoms), f"below the fold of a phone: {bottoms}"
        shoot(page, "live-target-running-phone")
    expect(page.locator("#live-summary")).to_be_visible()  # type: ignore[attr-defined]
    assert [json.loads(m) for m in finishes] == [{"type": "finish"}], "the set did not end at its target"
    assert "target=3" in urls[0]
    expect(page.locator("#live-start")).to_be_enabled()  # type: ignore[attr-defined]
    expect(page.locator("#live-summary-count")).to_have_text("3 of 3")  # type: ignore[attr-defined]
    expect(page.locator("#live-summary-target")).to_have_text("met")  # type: ignore[attr-defined]
    expect(page.locator("#live-summary-tempo")).to_have_text("1.5 s a rep")  # type: ignore[attr-defined]
    expect(page.locator("#live-summary-issues")).to_have_text("1")  # type: ignore[attr-defined]
    rows = page.locator("#live-summary-reps tbody tr")  # type: ignore[attr-defined]
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("Shallow squat")
    expect(rows.nth(0)).to_contain_text("good")
    expect(page.locator("#live-saved")).to_contain_text("Kept in your History")  # type: ignore[attr-defined]
    assert int(page.inner_text("#live-count")) == 3  # type: ignore[attr-defined]
    shoot(page, f"live-target-summary-{size[0]}")
    page.context.close()  # type: ignore[attr-defined]
