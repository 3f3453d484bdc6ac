"""Web app fixtures: the real service (uvicorn, SQLite, local storage, jobs in threads) on a free loopback
port, users with keys, and Debian's Chromium driven by Playwright. ``shoot(page, name)`` saves a screenshot
under ``POSECOACH_SCREENSHOTS`` (default ``build/screenshots``) for people to look at."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from posecoach.service import Settings, accounts_db, care_db, create_app
from posecoach.service.db import Database
from posecoach.service.migrations import upgrade

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("POSECOACH_SCREENSHOTS", Path(__file__).parents[2] / "build" / "screenshots"))
# As root, with no network: no sandbox, no GPU, and none of Chromium's background calls to Google.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.browser
PASSWORD = "ann's long password"  # ann's (the other users sign in with their keys)


@dataclass
class WebServer:
    url: str
    keys: dict[str, str]  # user name -> API key
    ids: dict[str, str]  # user name -> user id
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """The whole service on loopback, with users ``admin``, ``ann`` (user), ``cleo`` (clinician of ann)."""
    data = tmp_path_factory.mktemp("web")
    settings = Settings(data_dir=data, job_executor="thread", job_workers=1, pose_model="lite",
                        alert_webhook_allow_private=True)  # the alert tests' receiver is on loopback
    db = Database(settings.resolved_database_url())
    upgrade(db.engine)
    keys, ids = {}, {}
    for name, role in (("admin", "admin"), ("ann", "user"), ("cleo", "clinician"), ("bob", "user")):
        user, keys[name] = db.create_user(name, role)
        ids[name] = user.id
    clinician, patient = db.user_for_key(keys["cleo"]), db.user_for_key(keys["ann"])
    assert clinician is not None and patient is not None
    accounts_db.set_password(db, patient, accounts_db.hash_password(PASSWORD))  # ann signs in with a password
    care_db.accept(db, patient, care_db.invite(db, clinician, "ann").id)  # cleo invited ann, ann accepted
    db.close()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning",
                                           ws="websockets-sansio"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    yield WebServer(f"http://127.0.0.1:{port}", keys, ids, data)
    server.should_exit = True
    thread.join(10)


_DRIVER: list[object] = []  # the running Playwright: one per process, whichever folder's fixture started it


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[object]:
    """Playwright's sync API, started once per test session (it cannot run twice in one thread): browser tests
    that import these fixtures by name (tests/e2e/test_csrf_browser.py) share it."""
    from playwright.sync_api import sync_playwright

    if _DRIVER:
        yield _DRIVER[0]
        return
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    with sync_playwright() as p:
        _DRIVER.append(p)
        try:
            yield p
        finally:
            _DRIVER.clear()


@pytest.fixture(scope="session")
def launch(playwright_driver: object) -> Iterator[Callable[..., object]]:
    """``launch(*extra_args)``: a headless Chromium (closed at the end of the session)."""
    browsers: list[object] = []

    def start(*extra: str) -> object:
        browser = playwright_driver.chromium.launch(  # type: ignore[attr-defined]
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra])
        browsers.append(browser)
        return browser

    yield start
    for b in browsers:
        b.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def browser(launch: Callable[..., object]) -> object:
    return launch()


def signed_in(browser: object, server: WebServer, user: str = "ann", **context_options: object) -> object:
    """A new page whose context carries ``user``'s session cookie, opened at the app."""
    context = browser.new_context(base_url=server.url, **context_options)  # type: ignore[attr-defined]
    answer = context.request.post("/v1/session", data={"api_key": server.keys[user]})
    assert answer.ok, answer.text()
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


@pytest.fixture
def page(browser: object, web_server: WebServer) -> Iterator[object]:
    """Ann's page, signed in, 1280x800."""
    p = signed_in(browser, web_server, viewport={"width": 1280, "height": 800})
    yield p
    p.context.close()  # type: ignore[attr-defined]


def shoot(page: object, name: str) -> Path:
    """Save a full-page screenshot ``<name>.png`` under SCREENSHOTS."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    assert path.stat().st_size > 1000
    return path
