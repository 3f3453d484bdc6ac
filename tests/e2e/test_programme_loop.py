"""Issue 28's whole loop in headless Chromium, every step through the pages: a clinician records a guide from a
real video, links a patient (who consents), builds a programme; the patient signs in, does today's session on a
fake camera fed from a real squat clip, sees each repetition's score against the guide and the summary, says how
it felt, and the session is recorded; the clinician sees the adherence and downloads the progress report (its text
checked, its first page rendered to PNG under build/screenshots). Also: a session saved while the connection is down
is kept on the device and recorded when it comes back."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.conftest import data_file
from tests.e2e import history_seed
from tests.e2e.conftest import SCREENSHOTS, WebServer, shoot, signed_in
from tests.e2e.test_live import FAKE_CAMERA, squat_camera  # noqa: F401  (the fake camera's clip, a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.video]
GUIDE = "form/kaiakol/data/squat/correct/squat_correct_001.mp4"  # one real squat
DESKTOP = {"width": 1280, "height": 800}


def _clinician_prepares(page: object, patient: str, guide_name: str, title: str) -> None:
    """The clinician's side through the pages: a guide from a video, the patient's consent, the programme."""
    page.goto("/#/compare")  # type: ignore[attr-defined]
    page.click("#compare-new-guide summary")  # type: ignore[attr-defined]
    page.fill("#compare-guide-name", guide_name)  # type: ignore[attr-defined]
    page.set_input_files("#compare-guide-file", str(data_file(GUIDE)))  # type: ignore[attr-defined]
    expect(page.locator("#compare-guide option", has_text=guide_name)).to_have_count(1, timeout=180_000)  # type: ignore[attr-defined]
    page.goto("/#/history")  # type: ignore[attr-defined]
    page.fill("#care-invite-name", patient)  # type: ignore[attr-defined]
    page.click("#care-invite button[type=submit]")  # type: ignore[attr-defined]


def _patient_consents(page: object, clinician: str) -> None:
    page.goto("/#/history")  # type: ignore[attr-defined]
    page.click(f"#care-accept-{clinician}")  # type: ignore[attr-defined]
    expect(page.locator(f"#care-end-{clinician}")).to_be_visible()  # type: ignore[attr-defined]


def _build_programme(page: object, patient: str, guide_name: str, title: str) -> str:
    page.goto("/#/programmes")  # type: ignore[attr-defined]
    page.locator("#prog-patient").select_option(label=patient)  # type: ignore[attr-defined]
    page.fill("#prog-title", title)  # type: ignore[attr-defined]
    item = page.locator(".prog-item").nth(0)  # type: ignore[attr-defined]
    item.locator(".prog-guide").select_option(label=guide_name)
    item.locator(".prog-amount").fill("2")  # 2 repetitions a set
    item.locator(".prog-sets").fill("1")
    item.locator(".prog-week").fill("7")
    page.click("#prog-save")  # type: ignore[attr-defined]
    expect(page.locator("#banner")).to_contain_text(f"prescribed to {patient}")  # type: ignore[attr-defined]
    row = page.locator("#programmes-list tbody tr", has_text=title)  # type: ignore[attr-defined]
    return str(row.get_attribute("data-id"))


def _do_todays_session(page: object) -> None:
    page.goto("/#/programmes")  # type: ignore[attr-defined]
    page.click("a.today-start")  # type: ignore[attr-defined]
    expect(page.locator("#session-plan")).to_contain_text("1 exercise due today")  # type: ignore[attr-defined]
    page.click("#session-start")  # type: ignore[attr-defined]
    # the set ends at its target (the repetitions scored as they end: tests/e2e/test_session_page.py), then the
    # session's summary with every repetition's score
    expect(page.locator("#session-save")).to_be_visible(timeout=120_000)  # type: ignore[attr-defined]
    expect(page.locator("#session-exercises tbody tr")).to_have_count(1)  # type: ignore[attr-defined]
    page.fill("#session-pain", "2")  # type: ignore[attr-defined]
    page.select_option("#session-difficulty", "2")  # type: ignore[attr-defined]


def test_the_whole_loop_from_guide_to_progress_report(launch: object, web_server: WebServer,
                                                      squat_camera: Path, tmp_path: Path) -> None:  # noqa: F811
    history_seed.new_user(web_server, "dr_loop", "clinician")
    history_seed.new_user(web_server, "pat_loop")
    browser = launch(*FAKE_CAMERA, f"--use-file-for-fake-video-capture={squat_camera}")  # type: ignore[operator]
    lee = signed_in(browser, web_server, user="dr_loop", viewport=DESKTOP)
    _clinician_prepares(lee, "pat_loop", "lee-squat", "Squats at home")
    sam = signed_in(browser, web_server, user="pat_loop", viewport=DESKTOP)
    _patient_consents(sam, "dr_loop")
    programme = _build_programme(lee, "pat_loop", "lee-squat", "Squats at home")

    _do_todays_session(sam)
    scores = [float(s) for s in sam.locator("#session-summary .session-rep-scores li").evaluate_all(  # type: ignore[attr-defined]
        "els => els.map(e => e.dataset.score).filter(s => s !== '')")]
    assert scores and all(0 <= s <= 100 for s in scores)
    shoot(sam, "programme-session-summary")
    sam.context.set_offline(True)  # type: ignore[attr-defined]  (the connection drops as she saves)
    sam.click("#session-save")  # type: ignore[attr-defined]
    expect(sam.locator("#session-recorded")).to_contain_text("Kept on this device")  # type: ignore[attr-defined]
    assert sam.request.get(f"/v1/programmes/{programme}/sessions").json() == []  # type: ignore[attr-defined]
    sam.context.set_offline(False)  # type: ignore[attr-defined]
    expect(sam.locator("#session-recorded")).to_contain_text("Recorded now")  # type: ignore[attr-defined]
    sessions = sam.request.get(f"/v1/programmes/{programme}/sessions").json()  # type: ignore[attr-defined]
    assert len(sessions) == 1 and sessions[0]["pain"] == 2 and sessions[0]["difficulty"] == 2
    assert sessions[0]["exercises"][0]["reps_done"] >= 2 and sessions[0]["exercises"][0]["scores"]

    lee.goto(f"/#/programmes?id={programme}")  # type: ignore[attr-defined]
    lee.reload()  # type: ignore[attr-defined]  (the page may show this programme already: read it again)
    expect(lee.locator("#adherence-done")).to_have_text("1 / 1")  # type: ignore[attr-defined]
    shoot(lee, "programme-adherence")
    with lee.expect_download() as download:  # type: ignore[attr-defined]
        lee.click("#programme-pdf")  # type: ignore[attr-defined]
    pdf = download.value.path()
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Progress report: pat_loop" in text and "Programme: Squats at home" in text and "for dr_loop" in text
    assert "Sessions done: 1 of 1 prescribed" in text and "lee-squat" in text
    document = pypdfium2.PdfDocument(str(pdf))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    document[0].render(scale=1.5).to_pil().save(SCREENSHOTS / "programme-report-page1.png")
    document.close()
    assert (SCREENSHOTS / "programme-report-page1.png").stat().st_size > 20_000

    sam.reload()  # type: ignore[attr-defined]  (today's session again: its exercise is done for today)
    expect(sam.locator("#session-plan")).to_contain_text("Nothing is due today")  # type: ignore[attr-defined]
    for page in (lee, sam):
        page.context.close()  # type: ignore[attr-defined]
