"""Issue 26: no page shows a literal ``null``, ``undefined`` or ``NaN`` in its visible text, for a user with
sessions (a live set and a comparison kept in History), a user with none and a clinician, at 1280x800 and
390x844 (screenshots of each); every empty list says what to do next."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import history_seed
from tests.e2e.conftest import WebServer, shoot, signed_in
from tests.e2e.helpers import wait_until

pytestmark = pytest.mark.browser
PAGES = ["analyse", "live", "compare", "falls", "posture", "programmes", "history", "account"]
BAD_WORDS = re.compile(r"\b(null|undefined|NaN)\b")


@pytest.fixture(scope="module")
def users(web_server: WebServer) -> dict[str, str]:
    """gail (a live set and a comparison in History), hank (nothing yet), ivy (a clinician with no patients);
    gail's live set's id."""
    history_seed.new_user(web_server, "gail")
    history_seed.new_user(web_server, "hank")
    history_seed.new_user(web_server, "ivy", "clinician")
    live = history_seed.live_set(web_server, "gail", "squat", "Squat", 4, target=5, errors_in=(3,))
    history_seed.comparison(web_server, "gail", "squat-guide", 71.5)
    return {"live": live}


@pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["desktop", "phone"])
@pytest.mark.parametrize("user", ["gail", "hank", "ivy"])
def test_no_page_shows_null_or_undefined(browser: object, web_server: WebServer, users: dict[str, str], user: str,
                                         size: tuple[int, int]) -> None:
    page = signed_in(browser, web_server, user=user, viewport={"width": size[0], "height": size[1]},
                     is_mobile=size[0] < 500)
    routes = [*PAGES, *([f"live?session={users['live']}"] if user == "gail" else [])]
    problems = {}
    for route in routes:
        page.goto(f"/#/{route}")
        expect(page.locator("#page h1, #page h2").first).to_be_visible()
        wait_until(page, "!document.querySelector('#page').innerText.includes('Loading…')")
        page.wait_for_timeout(400)  # the page's later requests (lists, charts)
        found = BAD_WORDS.findall(page.inner_text("body"))
        if found:
            problems[route] = found
        shoot(page, f"text-{user}-{route.split('?')[0]}-{size[0]}")
    assert not problems, f"literal null/undefined/NaN on {problems}"
    page.context.close()


def test_empty_states_say_what_to_do(browser: object, web_server: WebServer, users: dict[str, str]) -> None:
    page = signed_in(browser, web_server, user="hank")
    page.goto("/#/analyse")
    expect(page.locator("#analyse-previous-empty")).to_contain_text("choose a video above")
    page.goto("/#/history")
    expect(page.locator("#history-empty")).to_contain_text("Analyse a video")
    expect(page.locator("#history-empty a[href='#/live']")).to_have_count(1)
    page.context.close()
