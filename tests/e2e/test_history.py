"""The History page in headless Chromium: a user's sessions as charts and a table; a clinician picks a patient;
a user not linked sees none of it; one chart series per exercise, sane axes, the clip's name (or "Live set") on
every row, filters, a phone layout, empty states that say what to do (issue 26)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.conftest import data_file
from tests.e2e import history_seed
from tests.e2e.conftest import WebServer, shoot, signed_in
from tests.e2e.helpers import run_job, upload, wait_until

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
    row = page.locator("#history-table tbody tr", has_text="pull-up_10.mp4").first  # type: ignore[attr-defined]
    expect(row).to_contain_text("Pull-up")
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


def _series(page: object, chart: str) -> list[str]:
    return page.get_attribute(f"#history-chart-{chart}", "data-series").split("|")  # type: ignore[attr-defined]


def _range(page: object, chart: str, axis: str) -> tuple[float, float]:
    box = page.locator(f"#history-chart-{chart}")  # type: ignore[attr-defined]
    return float(box.get_attribute(f"data-{axis}-min")), float(box.get_attribute(f"data-{axis}-max"))


def test_one_series_per_exercise_sane_axes_names_filters_and_a_phone_layout(browser: object,
                                                                           web_server: WebServer) -> None:
    """Erin's day: two live sets of pull-ups and one of curls, a comparison scored 87. The repetitions chart has
    one series per exercise (not one line mixing them), its time axis spans days, not years, the score axis ends
    at 100; every row names its clip or says "Live set"; the exercise filter keeps one exercise's rows; on a
    390 px phone nothing is cut (each row a card, no sideways scrolling)."""
    history_seed.new_user(web_server, "erin")
    history_seed.live_set(web_server, "erin", "pull_up", "Pull-up", 6, target=8, errors_in=(5, 6))
    history_seed.live_set(web_server, "erin", "bicep_curl", "Biceps curl", 12)
    history_seed.live_set(web_server, "erin", "pull_up", "Pull-up", 8, target=8)
    history_seed.comparison(web_server, "erin", "squat-guide", 87.0)
    page = signed_in(browser, web_server, user="erin", viewport={"width": 1280, "height": 800})
    page.goto("/#/history")
    expect(page.locator("#history-table tbody tr")).to_have_count(4)
    assert sorted(_series(page, "rep_count")) == ["Biceps curl", "Pull-up"]
    x0, x1 = _range(page, "rep_count", "x")
    assert 0 < x1 - x0 <= 3 * 86400, f"the time axis spans {(x1 - x0) / 86400:.1f} days for sessions of one day"
    assert x1 - x0 >= 86400, "sessions of one day are shown over a day, not over milliseconds"
    s0, s1 = _range(page, "score", "x")
    assert 86400 <= s1 - s0 <= 2 * 86400, f"one comparison's time axis spans {(s1 - s0) / 86400:.0f} days"
    assert _range(page, "score", "y") == (0.0, 100.0)
    y0, y1 = _range(page, "rep_count", "y")
    assert y0 == 0 and 12 <= y1 <= 15
    live_rows = page.locator("#history-table tbody tr[data-source=live]")
    expect(live_rows).to_have_count(3)
    for i in range(3):
        expect(live_rows.nth(i).locator("td").nth(1)).to_have_text("Live set")
    expect(page.locator("#history-table tbody tr", has_text="attempt.mp4")).to_contain_text("87")
    expect(page.locator("#history-table tbody tr", has_text="Biceps curl")).to_contain_text("12")
    expect(page.locator("#history-table tbody tr", has_text="Pull-up").first).to_contain_text("8 of 8")
    shoot(page, "history-series-desktop")
    page.select_option("#history-exercise", "pull_up")
    expect(page.locator("#history-table tbody tr")).to_have_count(2)
    assert _series(page, "rep_count") == ["Pull-up"]
    page.fill("#history-until", "2001-01-01")
    page.dispatch_event("#history-until", "change")
    expect(page.locator("#history-empty")).to_contain_text("Nothing matches these filters")
    page.click("#history-clear")
    expect(page.locator("#history-table tbody tr")).to_have_count(4)
    # a live set opens its summary: reps, tempo, form issues per repetition
    page.locator("#history-table tbody tr", has_text="6 of 8").locator("a").click()
    expect(page.locator("#live-summary-count")).to_have_text("6 of 8")
    expect(page.locator("#live-summary-target")).to_have_text("not met")
    expect(page.locator("#live-summary-reps tbody tr")).to_have_count(6)
    expect(page.locator("#live-summary-reps tbody tr").nth(4)).to_contain_text("Half repetition")
    page.context.close()
    phone = signed_in(browser, web_server, user="erin", viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto("/#/history")
    expect(phone.locator("#history-table tbody tr")).to_have_count(4)
    wait_until(phone, "document.querySelector('#history-chart-rep_count canvas') !== null")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    cut = phone.evaluate("[...document.querySelectorAll('#history-table td')].filter(td => "
                         "td.getBoundingClientRect().right > document.documentElement.clientWidth + 1).length")
    assert cut == 0, f"{cut} cells of the table are cut on a 390 px phone"
    assert phone.evaluate("getComputedStyle(document.querySelector('#history-table thead')).display") == "none"
    shoot(phone, "history-series-phone")
    phone.context.close()


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
def test_a_clinician_without_patients_is_told_how_to_invite(browser: object, web_server: WebServer,
                                                            size: tuple[int, int]) -> None:
    if "dora" not in web_server.keys:
        history_seed.new_user(web_server, "dora", "clinician")
    page = signed_in(browser, web_server, user="dora", viewport={"width": size[0], "height": size[1]})
    page.goto("/#/history")
    hint = page.locator("#history-no-patients")
    expect(hint).to_contain_text("invite them by their username")
    expect(hint).to_contain_text("once they accept")
    expect(page.locator("#care-invite-name")).to_be_visible()
    expect(page.locator("#history-empty")).to_contain_text("Analyse page")  # her own empty history: what to do
    shoot(page, f"history-clinician-empty-{size[0]}")
    page.context.close()


def _analysis(server: WebServer, user: str, exercise: str, name: str, rom: float, unit: str, days_ago: float) -> str:
    """A finished analysis of ``user`` with its typical range of motion per repetition (``results.rom``, as the
    analyze job stores it), finished ``days_ago``; its job id (the report itself is not stored)."""
    from datetime import timedelta

    from sqlalchemy import update

    from posecoach.service.db import Job, Result, Video, new_id, utcnow

    db = history_seed.database(server)
    try:
        owner = db.user_for_key(server.keys[user])
        assert owner is not None
        video = db.add_video(Video(id=new_id(), owner_id=owner.id, filename=name, storage_key="videos/none.mp4",
                                   size_bytes=1, width=64, height=48, fps=30.0, num_frames=30, duration_s=1.0,
                                   created_at=utcnow()))
        job = db.add_job(owner, video, "analyze", {"exercise": exercise})
        assert db.claim(job.id)
        assert db.finish(job.id, Result(id=new_id(), job_id=job.id, kind="report", storage_key="results/none.json",
                                        exercise=exercise, rep_count=8, rep_confidence=0.9, error_count=1, rom=rom,
                                        rom_unit=unit))
        with db.session() as s:
            s.execute(update(Job).where(Job.id == job.id).values(finished_at=utcnow() - timedelta(days=days_ago)))
        return job.id
    finally:
        db.close()


def _legend_at(page: object, chart: str, fraction: float) -> str:
    """The chart's legend with the cursor at ``fraction`` of the plot's width (uPlot snaps to the nearest point)."""
    over = page.locator(f"#history-chart-{chart} .u-over")  # type: ignore[attr-defined]
    over.scroll_into_view_if_needed()  # the mouse moves within the viewport
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)  # type: ignore[attr-defined]
    return str(page.inner_text(f"#history-chart-{chart} .u-legend"))  # type: ignore[attr-defined]


def test_range_of_motion_over_time_per_exercise_in_degrees_with_clip_names(browser: object,
                                                                           web_server: WebServer) -> None:
    """Rosa's curls over a week (82 then 95 degrees), a squat (101 degrees), a pull-up whose range is an estimate
    in centimetres, and a live set of curls (no range measured): the range of motion chart in degrees has one
    series per exercise from 0, each point names its clip; centimetres have their own chart, never on a degrees
    axis; every row shows its range (or '–')."""
    history_seed.new_user(web_server, "rosa")
    _analysis(web_server, "rosa", "bicep_curl", "curl_monday.mp4", 82.4, "deg", 5)
    _analysis(web_server, "rosa", "bicep_curl", "curl_friday.mp4", 95.0, "deg", 1)
    _analysis(web_server, "rosa", "squat", "squat_tuesday.mp4", 101.2, "deg", 4)
    _analysis(web_server, "rosa", "pull_up", "pullups.mp4", 38.0, "cm", 3)
    history_seed.live_set(web_server, "rosa", "bicep_curl", "Biceps curl", 10)
    page = signed_in(browser, web_server, user="rosa", viewport={"width": 1280, "height": 800})
    page.goto("/#/history")
    expect(page.locator("#history-table tbody tr")).to_have_count(5, timeout=15_000)
    assert sorted(_series(page, "rom")) == ["Biceps curl", "Squat"]
    assert _series(page, "rom_cm") == ["Pull-up"]
    y0, y1 = _range(page, "rom", "y")
    assert y0 == 0 and 101.2 <= y1 <= 130, (y0, y1)  # degrees from 0, not internal units
    x0, x1 = _range(page, "rom", "x")
    assert 4 * 86400 <= x1 - x0 <= 6 * 86400  # the week's span, not years
    expect(page.locator("#history-chart-rom").locator("xpath=preceding-sibling::h2[1]")).to_contain_text("degrees")
    rows = page.locator("#history-table tbody tr")
    expect(rows.filter(has_text="curl_monday.mp4").locator("td.rom")).to_have_text("82°")
    expect(rows.filter(has_text="squat_tuesday.mp4").locator("td.rom")).to_have_text("101°")
    expect(rows.filter(has_text="pullups.mp4").locator("td.rom")).to_have_text("38 cm (estimate)")
    expect(page.locator("#history-table tbody tr[data-source=live] td.rom")).to_have_text("–")
    shoot(page, "history-rom-desktop")
    page.select_option("#history-exercise", "bicep_curl")  # two curl points: the week's first and last
    expect(page.locator("#history-table tbody tr")).to_have_count(3)
    assert _series(page, "rom") == ["Biceps curl"]
    expect(page.locator("#history-chart-rom_cm")).to_have_count(0)
    assert "82° · curl_monday.mp4" in _legend_at(page, "rom", 0.1)
    assert "95° · curl_friday.mp4" in _legend_at(page, "rom", 0.9)
    page.context.close()
    phone = signed_in(browser, web_server, user="rosa", viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.goto("/#/history")
    expect(phone.locator("#history-table tbody tr")).to_have_count(5)
    wait_until(phone, "document.querySelector('#history-chart-rom canvas') !== null")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    expect(phone.locator("#history-table tbody tr", has_text="curl_friday.mp4").locator("td.rom")).to_have_text("95°")
    shoot(phone, "history-rom-phone")
    phone.context.close()
