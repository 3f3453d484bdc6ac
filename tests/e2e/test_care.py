"""Care links on the History page in headless Chromium: a clinician invites a patient by username, the patient
sees the invitation and accepts, declines or ends it, and the clinician's patient list follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WebServer, shoot, signed_in

pytestmark = pytest.mark.browser


def _history(browser: object, server: WebServer, user: str) -> object:
    page = signed_in(browser, server, user=user, viewport={"width": 1280, "height": 800})
    page.goto("/#/history")  # type: ignore[attr-defined]
    expect(page.locator("#care")).to_be_visible()  # type: ignore[attr-defined]
    return page


def test_a_patient_accepts_then_ends_a_clinicians_invitation(browser: object, web_server: WebServer) -> None:
    cleo = _history(browser, web_server, "cleo")
    cleo.fill("#care-invite-name", "bob")  # type: ignore[attr-defined]
    cleo.click("#care-invite button[type=submit]")  # type: ignore[attr-defined]
    invited = cleo.locator("#care-patients li", has_text="bob")  # type: ignore[attr-defined]
    expect(invited).to_contain_text("waiting for their answer")
    expect(cleo.locator("#history-user option", has_text="bob")).to_have_count(0)  # type: ignore[attr-defined]
    shoot(cleo, "care-clinician-invited")

    bob = _history(browser, web_server, "bob")
    invitation = bob.locator("#care-clinicians li", has_text="cleo")  # type: ignore[attr-defined]
    expect(invitation).to_contain_text("invites you")
    shoot(bob, "care-patient-invitation")
    bob.click("#care-accept-cleo")  # type: ignore[attr-defined]
    expect(bob.locator("#care-clinicians li", has_text="cleo")).to_contain_text(  # type: ignore[attr-defined]
        "reads your videos")

    cleo.reload()  # type: ignore[attr-defined]
    expect(cleo.locator("#care-patients li", has_text="bob")).to_contain_text("accepted")  # type: ignore[attr-defined]
    expect(cleo.locator("#history-user option", has_text="bob")).to_have_count(1)  # type: ignore[attr-defined]

    bob.click("#care-end-cleo")  # type: ignore[attr-defined]
    expect(bob.locator("#care-none")).to_be_visible()  # type: ignore[attr-defined]
    cleo.reload()  # type: ignore[attr-defined]
    expect(cleo.locator("#care-patients li", has_text="bob")).to_have_count(0)  # type: ignore[attr-defined]
    expect(cleo.locator("#history-user option", has_text="bob")).to_have_count(0)  # type: ignore[attr-defined]
    expect(cleo.locator("#history-user option", has_text="ann")).to_have_count(1)  # type: ignore[attr-defined]
    for page in (cleo, bob):
        page.context.close()  # type: ignore[attr-defined]


def test_a_patient_declines_and_a_clinician_withdraws(browser: object, web_server: WebServer) -> None:
    cleo = _history(browser, web_server, "cleo")
    cleo.fill("#care-invite-name", "bob")  # type: ignore[attr-defined]
    cleo.click("#care-invite button[type=submit]")  # type: ignore[attr-defined]
    expect(cleo.locator("#care-patients li", has_text="bob")).to_have_count(1)  # type: ignore[attr-defined]
    bob = _history(browser, web_server, "bob")
    bob.click("#care-decline-cleo")  # type: ignore[attr-defined]
    expect(bob.locator("#care-none")).to_be_visible()  # type: ignore[attr-defined]
    cleo.fill("#care-invite-name", "admin")  # type: ignore[attr-defined]
    cleo.click("#care-invite button[type=submit]")  # type: ignore[attr-defined]
    expect(cleo.locator("#banner")).to_contain_text("administrator")  # type: ignore[attr-defined]
    cleo.reload()  # type: ignore[attr-defined]
    expect(cleo.locator("#care-patients li", has_text="bob")).to_have_count(0)  # type: ignore[attr-defined]
    cleo.fill("#care-invite-name", "bob")  # type: ignore[attr-defined]
    cleo.click("#care-invite button[type=submit]")  # type: ignore[attr-defined]
    cleo.click("#care-end-bob")  # type: ignore[attr-defined]  (withdraw)
    expect(cleo.locator("#care-patients li", has_text="bob")).to_have_count(0)  # type: ignore[attr-defined]
    bob.reload()  # type: ignore[attr-defined]
    expect(bob.locator("#care-none")).to_be_visible()  # type: ignore[attr-defined]
    for page in (cleo, bob):
        page.context.close()  # type: ignore[attr-defined]
