"""The Programmes page in headless Chromium (issue 28): a clinician builds a programme from their guides for a
patient who accepted their care, sees its adherence and edits it (a new version, the old one kept); the patient
sees today's exercises; empty states say what to do next; usable on a 390 px phone (screenshots of each)."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from posecoach.service import care_db, library_db
from posecoach.service.db import new_id, utcnow
from tests.e2e import history_seed
from tests.e2e.conftest import WebServer, shoot, signed_in
from tests.e2e.helpers import wait_until

pytestmark = pytest.mark.browser
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def care(web_server: WebServer) -> dict[str, str]:
    """pia (a clinician with two guides) and quinn, her patient (linked with consent); rex, a user with nothing."""
    history_seed.new_user(web_server, "pia", "clinician")
    history_seed.new_user(web_server, "quinn")
    history_seed.new_user(web_server, "rex")
    db = history_seed.database(web_server)
    try:
        pia, quinn = db.user_for_key(web_server.keys["pia"]), db.user_for_key(web_server.keys["quinn"])
        assert pia is not None and quinn is not None
        care_db.accept(db, quinn, care_db.invite(db, pia, "quinn").id)
        return {
            name: library_db.add_ready_guide(db, pia.id, json.dumps({"name": name}), f"guides/{name}.npz", 30, 1.0)
            for name in ("knee-bend", "side-plank")
        }
    finally:
        db.close()


def _no_wider_than(page: object, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert scroll <= width, f"the page is {scroll} px wide on a {width} px screen"


def test_a_clinician_builds_a_programme_and_the_patient_sees_todays_exercises(
    browser: object, web_server: WebServer, care: dict[str, str]
) -> None:
    pia = signed_in(browser, web_server, user="pia", viewport=DESKTOP)
    pia.goto("/#/programmes")  # type: ignore[attr-defined]
    expect(pia.locator("#nav a[data-page=programmes]")).to_have_class("active")  # type: ignore[attr-defined]
    expect(pia.locator("#programmes-none")).to_contain_text("build one below")  # type: ignore[attr-defined]
    expect(pia.locator("#attention-none")).to_be_visible()  # type: ignore[attr-defined]
    expect(pia.locator("#prog-patient option")).to_have_text(["quinn"])  # type: ignore[attr-defined]
    pia.fill("#prog-title", "Knee rehab, weeks 1-4")  # type: ignore[attr-defined]
    first = pia.locator(".prog-item").nth(0)  # type: ignore[attr-defined]
    first.locator(".prog-guide").select_option(label="knee-bend")
    first.locator(".prog-amount").fill("12")
    first.locator(".prog-notes").fill("slowly, stop if it hurts")
    pia.click("#prog-add-item")  # type: ignore[attr-defined]
    second = pia.locator(".prog-item").nth(1)  # type: ignore[attr-defined]
    second.locator(".prog-guide").select_option(label="side-plank")
    second.locator(".prog-mode").select_option("hold")
    second.locator(".prog-amount").fill("20")
    second.locator(".prog-week").fill("2")
    shoot(pia, "programmes-clinician-new-1280")
    pia.click("#prog-save")  # type: ignore[attr-defined]
    expect(pia.locator("#banner")).to_contain_text("prescribed to quinn")  # type: ignore[attr-defined]
    row = pia.locator("#programmes-list tbody tr")  # type: ignore[attr-defined]
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Knee rehab, weeks 1-4")
    expect(pia.locator("#programme-adherence")).to_contain_text("no session")  # type: ignore[attr-defined]
    programme_id = row.get_attribute("data-id")

    # the patient: today's exercises, each linked to the Compare page for now
    quinn = signed_in(browser, web_server, user="quinn", viewport=DESKTOP)
    quinn.goto("/#/programmes")  # type: ignore[attr-defined]
    due = quinn.locator(".today-due li.today-item")  # type: ignore[attr-defined]
    expect(due).to_have_count(2)
    expect(due.nth(0)).to_contain_text("knee-bend · 3 × 12 reps, rest 60 s, 3× a week")
    expect(due.nth(0)).to_contain_text("slowly, stop if it hurts")
    expect(due.nth(1)).to_contain_text("side-plank · 3 × 20 s hold")
    expect(due.nth(0).locator("a.today-compare")).to_have_attribute("href", f"#/compare?guide={care['knee-bend']}")
    expect(due.nth(0).locator("a.today-follow")).to_have_attribute(
        "href", f"#/session?guide={care['knee-bend']}&reps=12&sets=3&rest=60"
    )
    expect(due.nth(1).locator("a.today-follow")).to_have_attribute(
        "href", f"#/session?guide={care['side-plank']}&sets=3&rest=60"
    )
    expect(quinn.locator("a.today-start")).to_have_attribute("href", f"#/session?programme={programme_id}")
    shoot(quinn, "programmes-patient-today-1280")
    quinn.set_viewport_size(PHONE)  # type: ignore[attr-defined]
    quinn.reload()  # type: ignore[attr-defined]
    expect(due).to_have_count(2)
    _no_wider_than(quinn, PHONE["width"])
    shoot(quinn, "programmes-patient-today-390")

    # she does the knee bends today: they are done, the plank is still due; the clinician sees it
    items = quinn.request.get(f"/v1/programmes/{programme_id}").json()["items"]  # type: ignore[attr-defined]
    today = quinn.evaluate(  # type: ignore[attr-defined]
        "new Date(Date.now() - new Date().getTimezoneOffset() * 60000).toISOString().slice(0, 10)"
    )
    session = {
        "client_id": f"web-{new_id()}",
        "day": today,
        "started_at": utcnow().isoformat() + "Z",
        "finished_at": utcnow().isoformat() + "Z",
        "complete": True,
        "pain": 1,
        "difficulty": 2,
        "exercises": [{"item_id": items[0]["id"], "sets_done": 3, "reps_done": 36, "scores": [78, 84], "rom_deg": 95}],
    }
    assert quinn.request.post(f"/v1/programmes/{programme_id}/sessions", data=session).status == 201  # type: ignore[attr-defined]
    quinn.reload()  # type: ignore[attr-defined]
    expect(quinn.locator(".today-rest li.today-item")).to_contain_text("done today")  # type: ignore[attr-defined]
    expect(due).to_have_count(1)

    pia.reload()  # type: ignore[attr-defined]
    expect(pia.locator("#adherence-done")).to_have_text("1 / 1")  # type: ignore[attr-defined]
    expect(pia.locator("#adherence-exercises tbody tr").nth(0)).to_contain_text("81")  # type: ignore[attr-defined]
    expect(pia.locator("#adherence-chart-score")).to_be_visible()  # type: ignore[attr-defined]
    expect(pia.locator("#programme-csv")).to_have_attribute(  # type: ignore[attr-defined]
        "href", "/v1/programme-sessions.csv?patient=quinn"
    )
    # an edit: a new version, the first kept in the history
    pia.fill("#programme-editor #prog-title", "Knee rehab, harder")  # type: ignore[attr-defined]
    pia.locator("#programme-editor .prog-item").nth(0).locator(".prog-amount").fill("15")  # type: ignore[attr-defined]
    pia.click("#programme-editor #prog-save")  # type: ignore[attr-defined]
    expect(pia.locator("#banner")).to_contain_text("version 2")  # type: ignore[attr-defined]
    expect(pia.locator("#programme-versions li[data-version]")).to_have_count(2)  # type: ignore[attr-defined]
    pia.click("#programme-versions li[data-version='1'] summary")  # type: ignore[attr-defined]
    expect(pia.locator("#programme-versions li[data-version='1']")).to_contain_text("3 × 12 reps")  # type: ignore[attr-defined]
    shoot(pia, "programmes-clinician-adherence-1280")
    pia.set_viewport_size(PHONE)  # type: ignore[attr-defined]
    pia.reload()  # type: ignore[attr-defined]
    expect(pia.locator("#adherence-done")).to_be_visible()  # type: ignore[attr-defined]
    wait_until(pia, "document.querySelector('#adherence-chart-score canvas') !== null")
    _no_wider_than(pia, PHONE["width"])
    shoot(pia, "programmes-clinician-adherence-390")
    for page in (pia, quinn):
        page.context.close()  # type: ignore[attr-defined]


def test_empty_states_say_what_to_do_next(browser: object, web_server: WebServer, care: dict[str, str]) -> None:
    rex = signed_in(browser, web_server, user="rex", viewport=PHONE, is_mobile=True)
    rex.goto("/#/programmes")  # type: ignore[attr-defined]
    expect(rex.locator("#programmes-empty")).to_contain_text("Accept their invitation")  # type: ignore[attr-defined]
    expect(rex.locator("#programmes-empty a[href='#/history']")).to_have_count(1)  # type: ignore[attr-defined]
    _no_wider_than(rex, PHONE["width"])
    shoot(rex, "programmes-patient-empty-390")
    rex.context.close()  # type: ignore[attr-defined]
    history_seed.new_user(web_server, "sam", "clinician")
    sam = signed_in(browser, web_server, user="sam", viewport=DESKTOP)
    sam.goto("/#/programmes")  # type: ignore[attr-defined]
    expect(sam.locator("#programme-no-patients")).to_contain_text("Invite a patient")  # type: ignore[attr-defined]
    shoot(sam, "programmes-clinician-empty-1280")
    sam.context.close()  # type: ignore[attr-defined]
