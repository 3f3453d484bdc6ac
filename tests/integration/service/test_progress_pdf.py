"""The progress report PDF (issue 28): its text says the patient, programme, period, adherence and the tables'
figures; its charts are drawn; its first page renders to a PNG (saved under build/screenshots); a failed write
leaves no file."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader

from posecoach.service.adherence import Done, Item, Session, Version, adherence
from posecoach.service.progress_pdf import Period, write_progress_pdf
from tests.e2e.conftest import SCREENSHOTS
from tests.integration.service.conftest import Api
from tests.integration.service.test_programmes import _db, _seeded_week

START = date(2026, 11, 2)  # a Monday


def _programme() -> tuple[list[Version], list[Session]]:
    items = (Item("squat", "g1", "Sit to stand", sets=2, reps=10, hold_s=None, rest_s=30, per_week=3),
             Item("raise", "g2", "Arm raise", sets=1, reps=8, hold_s=None, rest_s=20, per_week=2))
    version = Version(1, "Knee rehab", START, None, items, START)
    sessions = []
    for k, offset in enumerate((0, 2, 4, 7, 9, 14, 16, 18, 21)):  # weeks of 3, 2, 3 and 1 session days
        day = START + timedelta(days=offset)
        sessions.append(Session(f"s{k}", day, complete=k != 4, pain=3 + k % 3, difficulty=2 + k % 2, exercises=(
            Done("squat", 2, 20, scores=(60.0 + 3 * k, 64.0 + 3 * k), rom_deg=80.0 + 2 * k),
            Done("raise", 1 if k % 2 == 0 else 0, 8 if k % 2 == 0 else 0, scores=(70.0,) if k % 2 == 0 else ()))))
    return [version], sessions


def test_the_progress_report_says_the_figures_and_renders(tmp_path: Path) -> None:
    versions, sessions = _programme()
    today = START + timedelta(days=23)
    adh = adherence(versions, sessions, today)
    out = write_progress_pdf(tmp_path / "report.pdf", patient="ann", programme="Knee rehab",
                             period=Period(START, today), adherence=adh, sessions=sessions, made_on=today,
                             clinician="cleo")
    text = " ".join(page.extract_text() for page in PdfReader(out).pages)
    assert "Progress report: ann" in text and "Programme: Knee rehab" in text
    assert f"Period: {START.isoformat()} to {today.isoformat()}" in text
    assert f"Sessions done: {adh.done} of {adh.prescribed} prescribed" in text
    assert "Sit to stand" in text and "Arm raise" in text and "incomplete" in text  # tables: exercises, sessions
    squat = next(e for e in adh.exercises if e.item.key == "squat")
    assert f"{squat.mean_score:.0f}" in text and f"{squat.mean_rom_deg:.0f} deg" in text
    pdf = pypdfium2.PdfDocument(str(out))
    assert len(pdf) >= 1
    image = pdf[0].render(scale=1.5).to_pil()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    image.save(SCREENSHOTS / "progress-report-page1.png")
    gray = image.convert("L").histogram()
    dark = sum(gray[:128]) / sum(gray)
    colored = image.convert("RGB").getcolors(1 << 20) or []
    blue = sum(n for n, (r, g, b) in colored if b > 180 and r < 80)  # the "done" bars and score lines
    assert 0.005 < dark < 0.5 and blue > 500, (dark, blue)
    pdf.close()


def test_a_period_with_no_session_says_so(tmp_path: Path) -> None:
    versions, sessions = _programme()
    later = START + timedelta(days=60)
    out = write_progress_pdf(tmp_path / "empty.pdf", patient="ann", programme="Knee rehab",
                             period=Period(later, later + timedelta(days=6)),
                             adherence=adherence(versions, sessions, later), sessions=sessions, made_on=later)
    assert "No session was recorded in this period." in PdfReader(out).pages[-1].extract_text()


def test_a_failed_report_leaves_no_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_progress_pdf(tmp_path / "missing" / "r.pdf", patient="ann", programme="p", period=Period(START, START),
                           adherence=adherence(*_programme(), START), sessions=[], made_on=START)
    assert not (tmp_path / "missing").exists()


def test_the_report_is_downloaded_by_the_patient_and_the_clinician_only(api: Api) -> None:
    api.keys["dora"] = _db(api).create_user("dora", "clinician")[1]
    made = _seeded_week(api)
    url = f"/v1/programmes/{made['id']}/report.pdf?from=2026-11-30&to=2026-12-10"
    answer = api.call("GET", url, "carol")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert "progress-alice-2026-11-30-2026-12-10.pdf" in answer.headers["content-disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(answer.content)).pages)
    assert "Progress report: alice" in text and "Programme: Knee rehab" in text and "for carol" in text
    assert "Sessions done: 4 of 5 prescribed to date (adherence 80 %)" in text  # as /adherence on 2026-12-10
    assert "knee-bend" in text and "plank" in text
    assert api.call("GET", url, "alice").status_code == 200  # the patient's own
    assert api.call("GET", url, "dora").status_code == 404  # another clinician
    assert api.call("GET", url, "bob").status_code == 404
    backwards = api.call("GET", f"/v1/programmes/{made['id']}/report.pdf?from=2026-12-10&to=2026-11-30", "carol")
    assert backwards.status_code == 422 and "before it starts" in backwards.json()["detail"]
