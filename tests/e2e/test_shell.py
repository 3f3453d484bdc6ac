"""The app shell in a real browser: sign-in with a password or an API key, wrong ones, sign-out, navigation,
phone-sized screens."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, WebServer, shoot, signed_in


def test_sign_in_with_a_password_and_sign_out(browser: object, web_server: WebServer) -> None:
    context = browser.new_context(base_url=web_server.url)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto("/")
    expect(page.locator("#sign-in")).to_be_visible()
    expect(page.locator("#totp-row")).to_be_hidden()
    shoot(page, "signin")
    page.fill("#username", "ann")
    page.fill("#password", "not her password")
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#banner")).to_contain_text("wrong username or password")
    page.fill("#password", PASSWORD)
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#who-name")).to_have_text("ann (user)")
    expect(page).to_have_url(f"{web_server.url}/#/analyse")
    cookie = next(c for c in context.cookies() if c["name"] == "posecoach_session")
    assert cookie["httpOnly"] and cookie["value"] != web_server.keys["ann"]
    page.reload()  # the session cookie survives a reload
    expect(page.locator("#who-name")).to_have_text("ann (user)")
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    assert context.request.get("/v1/me").status == 401
    context.close()


def test_sign_in_with_an_api_key(browser: object, web_server: WebServer) -> None:
    context = browser.new_context(base_url=web_server.url)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto("/")
    page.click("#sign-in summary")
    page.fill("#api-key", "pc_not-a-key")
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#banner")).to_contain_text("unknown, revoked or expired API key")
    page.fill("#api-key", web_server.keys["cleo"])
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#who-name")).to_have_text("cleo (clinician)")
    context.close()


def test_every_page_opens_from_the_menu(page: object, web_server: WebServer) -> None:
    page.goto("/")  # type: ignore[attr-defined]
    for name in ("analyse", "live", "compare", "falls", "posture", "programmes", "history"):
        page.click(f"#nav a[data-page={name}]")  # type: ignore[attr-defined]
        expect(page).to_have_url(f"{web_server.url}/#/{name}")
        expect(page.locator(f"#nav a[data-page={name}]")).to_have_class("active")  # type: ignore[attr-defined]
        expect(page.locator("#page h1").first).to_be_visible()  # type: ignore[attr-defined]


def test_phone_sized_screen_has_a_menu_button(browser: object, web_server: WebServer) -> None:
    page = signed_in(browser, web_server, viewport={"width": 375, "height": 740}, is_mobile=True)
    page.goto("/#/history")
    expect(page.locator("#nav")).to_be_hidden()
    page.click(".menu-toggle")
    expect(page.locator("#nav")).to_be_visible()
    page.click("#nav a[data-page=analyse]")
    expect(page.locator("#nav")).to_be_hidden()  # the menu closes after choosing
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width} px wide on a 375 px screen"
    shoot(page, "phone-analyse")
    page.context.close()


def test_assets_are_served_by_the_app(page: object, web_server: WebServer) -> None:
    """No CDN: every script, style and image the page loads comes from the app's own origin."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))  # type: ignore[attr-defined]
    page.goto("/#/analyse")  # type: ignore[attr-defined]
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    assert requested
    outside = [u for u in requested if not u.startswith(web_server.url) and not u.startswith(("data:", "blob:"))]
    assert outside == []
