"""Issue 25, CSRF and headers, in a real Chromium: a page on another port of the same host (the same *site*, so the
SameSite=Strict session cookie goes along) tried to plant a video, open the live camera socket and frame the app;
the app's pages and the API docs must still work under the Content-Security-Policy, with nothing loaded from
outside.

On the code before, the planted video was stored, the socket answered ``ready`` and the frame showed the app.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WebServer, browser, launch, playwright_driver, signed_in, web_server  # noqa: F401
from tests.integration.service.conftest import make_video

pytestmark = pytest.mark.browser

ATTACK = """// run in the sibling origin's page, with the victim's cookie jar
async ({app, video}) => {
  const bytes = Uint8Array.from(atob(video), (c) => c.charCodeAt(0));
  const out = {};
  // 1. a "simple" request: no preflight, the cookie goes along (the response is opaque, the request is not)
  await fetch(`${app}/v1/videos?filename=planted-nocors.mp4`, {method: 'POST', mode: 'no-cors',
    credentials: 'include', headers: {'Content-Type': 'text/plain'}, body: bytes}).catch(() => null);
  // 2. with a video type: the browser asks first (CORS preflight), which the app never grants
  out.cors = await fetch(`${app}/v1/videos?filename=planted-cors.mp4`, {method: 'POST', credentials: 'include',
    headers: {'Content-Type': 'video/mp4'}, body: bytes}).then((r) => r.status, () => 'blocked');
  // 3. the live camera socket with the victim's cookie
  out.live = await new Promise((resolve) => {
    const ws = new WebSocket(`${app.replace('http', 'ws')}/v1/live?mode=exercise`);
    let first = null;
    ws.onmessage = (e) => { first = first || e.data; if (first.includes('ready')) { ws.close(); resolve(first); } };
    ws.onclose = (e) => resolve(`${e.code} ${first}`);
    setTimeout(() => resolve(`timeout ${first}`), 20000);
  });
  return out;
}
"""


class _Sibling(BaseHTTPRequestHandler):
    """The attacker's page: served on another port of 127.0.0.1, it frames the app."""

    app = ""

    def do_GET(self) -> None:
        body = f'<!doctype html><title>sibling</title><iframe src="{self.app}/" width=600 height=400></iframe>'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def sibling(web_server: WebServer) -> Iterator[str]:  # noqa: F811
    handler = type("Sibling", (_Sibling,), {"app": web_server.url})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _videos(page: Any, server: WebServer) -> list[str]:
    answer = page.context.request.get(f"{server.url}/v1/videos", headers={"X-API-Key": server.keys["ann"]})
    return [v["filename"] for v in answer.json()]


def test_a_sibling_origin_cannot_use_the_session(browser: Any, web_server: WebServer,  # noqa: F811
                                                 sibling: str, tmp_path: Path) -> None:
    page = signed_in(browser, web_server)
    page.goto(sibling)
    video = base64.b64encode(make_video(tmp_path / "v.mp4").read_bytes()).decode()
    out = page.evaluate(ATTACK, {"app": web_server.url, "video": video})
    planted = [name for name in _videos(page, web_server) if name.startswith("planted")]
    assert planted == [], planted
    assert out["cors"] == "blocked"
    assert out["live"].startswith("4403") and "another origin" in out["live"], out["live"]
    # the app refuses to be framed (frame-ancestors 'none', X-Frame-Options DENY)
    page.wait_for_timeout(500)
    framed = [f for f in page.frames[1:] if f.url.startswith(web_server.url)]
    assert all(f.locator("header.topbar").count() == 0 for f in framed), [f.url for f in framed]
    page.context.close()


def test_the_app_works_under_its_content_security_policy(browser: Any, web_server: WebServer) -> None:  # noqa: F811
    page = signed_in(browser, web_server, viewport={"width": 1280, "height": 800})
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(str(e)))
    page.goto("/")
    for name in ("analyse", "live", "compare", "falls", "posture", "history"):
        page.click(f"#nav a[data-page={name}]")
        expect(page.locator("#page h1").first).to_be_visible()
    # styles the pages set go through the CSSOM (a style attribute would be refused)
    left = page.evaluate("import('/static/ui.js').then((m) => m.h('div', {style: 'left: 12%'}).style.left)")
    assert left == "12%"
    assert violations == [], violations
    page.context.close()


def test_the_api_docs_load_from_the_app_alone(browser: Any, web_server: WebServer) -> None:  # noqa: F811
    context = browser.new_context(base_url=web_server.url)
    page = context.new_page()
    requested: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title").first).to_contain_text("PoseCoach", timeout=30_000)
    page.locator(".opblock-summary-path", has_text="/v1/videos").first.click()  # the schema was read and shown
    expect(page.locator(".opblock-body").first).to_be_visible()
    outside = [u for u in requested if not u.startswith((web_server.url, "data:", "blob:"))]
    assert outside == [], outside
    assert problems == [], json.dumps(problems)[:2000]
    context.close()
