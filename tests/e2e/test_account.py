"""The Account page in a real browser: API keys made, shown once, revoked; an admin sees and disables accounts."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import WebServer, shoot, signed_in


def test_a_key_is_made_shown_once_and_revoked(page: object, web_server: WebServer) -> None:
    page.goto("/#/account")  # type: ignore[attr-defined]
    expect(page.locator("#page h1")).to_have_text("Account")  # type: ignore[attr-defined]
    expect(page.locator("#totp")).to_have_count(0)  # type: ignore[attr-defined]  # ann is a user: no codes
    page.fill("#key-name", "my script")  # type: ignore[attr-defined]
    page.uncheck("#key-write")  # type: ignore[attr-defined]
    page.click("#key-form button[type=submit]")  # type: ignore[attr-defined]
    key = page.locator("#new-key code").inner_text().strip()  # type: ignore[attr-defined]
    assert key.startswith("pc_")
    row = page.locator("#keys-table tr", has_text="my script")  # type: ignore[attr-defined]
    expect(row).to_contain_text("read")
    expect(row).to_contain_text("active")
    shoot(page, "account")
    request = page.context.request  # type: ignore[attr-defined]
    assert request.get("/v1/me", headers={"X-API-Key": key}).json()["name"] == "ann"
    row.locator("button.revoke").click()
    expect(page.locator("#keys-table tr", has_text="my script")).to_contain_text("revoked")  # type: ignore[attr-defined]
    assert request.get("/v1/me", headers={"X-API-Key": key}).status == 401


def test_an_admin_manages_accounts(browser: object, web_server: WebServer) -> None:
    page = signed_in(browser, web_server, "admin")
    page.goto("/#/account")
    expect(page.locator("#totp")).to_be_visible()  # admins may turn on one-time codes
    row = page.locator("#users-table tr[data-user=bob]")
    expect(row).to_contain_text("active")
    row.locator("button", has_text="Disable").click()
    expect(page.locator("#users-table tr[data-user=bob]")).to_contain_text("disabled")
    assert page.context.request.get("/v1/me", headers={"X-API-Key": web_server.keys["bob"]}).status == 401
    page.locator("#users-table tr[data-user=bob] button", has_text="Enable").click()
    expect(page.locator("#users-table tr[data-user=bob]")).to_contain_text("active")
    assert page.context.request.get("/v1/me", headers={"X-API-Key": web_server.keys["bob"]}).status == 200
    page.context.close()
