"""The History page in headless Chromium: a user's sessions as charts and a table; a clinician picks a patient;
a user not linked sees none of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import data_file
from tests.web.conftest import WebServer, shoot, signed_in
from tests.web.helpers import run_job, upload

pytestmark = [pytest.mark.browser, pytest.mark.video]


@pytest.fixture(scope="module")
def ann_session(browser: object, web_server: WebServer) -> Iterator[dict]:
    """One finished analysis of a real clip by Ann, made through the API; its report."""
    page = signed_in(browser, web_server)
    request = page.context.request
    video = upload(request, data_file("reps/workouttracker/videos/pull-ups/pull-up_10.mp4"))
    job = run_job(request, {"kind": "analyze", "video_id": video["id"], "exercise": "pull_up"})
    report = request.get(f"/v1/jobs/{job['id']}/results/report").json()
    yield {"job": job, "report": report}
    page.context.close()


def test_history_shows_the_users_sessions(page: object, ann_session: dict) -> None:
    page.goto("/#/history")  # type: ignore[attr-defined]
    row = page.locator("#history-table tbody tr", has_text="pull_up").first  # type: ignore[attr-defined]
    expect(row).to_contain_text(str(ann_session["report"]["reps"]["count"]))
    expect(page.locator("#history-chart-rep_count canvas")).to_have_count(1)  # type: ignore[attr-defined]
    expect(page.locator("#history-user")).to_have_count(0)  # type: ignore[attr-defined]
    shoot(page, "history-user")
    row.locator("a").click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#/analyse?job={ann_session['job']['id']}")  # type: ignore
    expect(page.locator("#analyse-count")).to_have_text(str(ann_session["report"]["reps"]["count"]))  # type: ignore


def test_a_clinician_sees_a_patients_history(browser: object, web_server: WebServer, ann_session: dict) -> None:
    page = signed_in(browser, web_server, user="cleo")
    page.goto("/#/history")
    link = page.locator(f"#history a[href='#/analyse?job={ann_session['job']['id']}']")
    expect(page.locator("#history-user")).to_be_visible()
    expect(link).to_have_count(0)  # her own history first (other tests may have made some)
    page.select_option("#history-user", label="ann")
    expect(link).to_have_count(1)
    shoot(page, "history-clinician")
    page.context.close()


def test_another_user_sees_nothing_of_it(browser: object, web_server: WebServer, ann_session: dict) -> None:
    page = signed_in(browser, web_server, user="bob")
    page.goto("/#/history")
    expect(page.locator("#history > *").first).to_be_visible()
    expect(page.locator(f"#history a[href='#/analyse?job={ann_session['job']['id']}']")).to_have_count(0)
    expect(page.locator("#history-user")).to_have_count(0)
    page.context.close()
