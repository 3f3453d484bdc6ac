"""Issue 25, CSRF and headers: a page on another port of the same host planted a video with the victim's session
cookie (``POST /v1/videos`` took a raw body of any type; SameSite=Strict does not stop a same-*site* page), the app
could be framed, answers carried no CSP, nosniff, frame or referrer headers, ``/docs`` loaded its scripts from a CDN
and the live WebSocket checked no Origin.

Each test fails on the code before: the cross-origin requests answered 201 / 204 / ready, a text/plain upload was
stored, no answer had the headers, and /docs named cdn.jsdelivr.net. (The same attacks in a real Chromium:
`test_csrf_browser.py`.)
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from posecoach.service.security import normalise_origin, same_origin_refusal, trusted_origins
from tests.integration.service.conftest import Api, ApiFactory

SIBLING = "http://testserver:8081"  # another port of the same host: the same site, another origin
VIDEO = {"Content-Type": "video/mp4"}


def cookie_session(api: Api, who: str = "alice") -> None:
    """Sign ``who`` in as the web app does: the session cookie, no API key header on later calls."""
    answer = api.client.post("/v1/session", json={"api_key": api.keys[who]})
    assert answer.status_code == 200, answer.text


def browser_post(api: Api, url: str, origin: str | None, site: str | None, **kw: Any) -> Any:
    """A request as a browser sends it: the session cookie, Origin and Sec-Fetch-Site, no X-API-Key."""
    headers = {**kw.pop("headers", {})}
    if origin:
        headers["Origin"] = origin
    if site:
        headers["Sec-Fetch-Site"] = site
    return api.client.request(kw.pop("method", "POST"), url, headers=headers, **kw)


def videos(api: Api, who: str = "alice") -> list[str]:
    return [v["filename"] for v in api.call("GET", "/v1/videos", who).json()]


@pytest.mark.parametrize(("origin", "site", "kind"), [
    (SIBLING, "same-site", "text/plain"),  # fetch(no-cors) or a form from the sibling port: no preflight
    (SIBLING, "same-site", "video/mp4"),  # even if the browser sent it (it would preflight first)
    (SIBLING, None, "text/plain"),  # a browser without Sec-Fetch-*: the Origin alone
    ("null", "cross-site", "text/plain"),  # a sandboxed frame
])
def test_cross_origin_upload_with_the_cookie_is_refused(api: Api, small_video: bytes, origin: str,
                                                        site: str | None, kind: str) -> None:
    cookie_session(api)
    answer = browser_post(api, "/v1/videos?filename=planted.mp4", origin, site, content=small_video,
                          headers={"Content-Type": kind})
    assert answer.status_code == 403, answer.text
    assert "another origin" in answer.json()["detail"]
    assert videos(api) == []


def test_other_state_changes_from_another_origin_are_refused(api: Api, small_video: bytes) -> None:
    video_id = api.upload(small_video).json()["id"]
    cookie_session(api)
    for method, url, body in (("DELETE", f"/v1/videos/{video_id}", None),
                              ("POST", "/v1/jobs", {"video_id": video_id, "kind": "pose"}),
                              ("DELETE", "/v1/session", None),
                              ("POST", "/v1/session", {"api_key": api.keys["bob"]})):  # signing the victim in as bob
        answer = browser_post(api, url, SIBLING, "same-site", method=method, json=body)
        assert answer.status_code == 403, (method, url, answer.text)
    assert api.call("GET", "/v1/jobs").json() == [] and videos(api) == ["clip.mp4"]
    assert api.client.get("/v1/me").json()["name"] == "alice"  # still alice's cookie


def test_same_origin_pages_and_programs_pass(api: Api, small_video: bytes) -> None:
    cookie_session(api)
    ok = browser_post(api, "/v1/videos?filename=mine.mp4", "http://testserver", "same-origin", content=small_video,
                      headers=VIDEO)
    assert ok.status_code == 201, ok.text
    no_fetch_metadata = browser_post(api, "/v1/videos?filename=old.mp4", "http://testserver", None,
                                     content=small_video, headers=VIDEO)
    assert no_fetch_metadata.status_code == 201, no_fetch_metadata.text
    # a program authenticates with the header, which no page of another origin can set without a preflight
    program = api.call("POST", "/v1/videos?filename=prog.mp4", "bob", content=small_video,
                       headers={**VIDEO, "Origin": SIBLING, "Sec-Fetch-Site": "cross-site"})
    assert program.status_code == 201, program.text
    empty_key = browser_post(api, "/v1/videos?filename=x.mp4", SIBLING, "same-site", content=small_video,
                             headers={**VIDEO, "X-API-Key": ""})  # an empty header falls back on the cookie
    assert empty_key.status_code == 403, empty_key.text
    assert sorted(videos(api)) == ["mine.mp4", "old.mp4"] and videos(api, "bob") == ["prog.mp4"]
    reads = browser_post(api, "/v1/videos", SIBLING, "same-site", method="GET")
    assert reads.status_code == 200  # a GET changes nothing (and another origin cannot read the answer)


def test_trusted_origins_setting(api_factory: ApiFactory, small_video: bytes) -> None:
    api = api_factory(trusted_origins="https://clinic.example, http://testserver:8081")
    cookie_session(api)
    answer = browser_post(api, "/v1/videos?filename=proxied.mp4", SIBLING, "same-site", content=small_video,
                          headers=VIDEO)
    assert answer.status_code == 201, answer.text
    assert trusted_origins("https://Clinic.example:443,http://a:8000") == {"https://clinic.example", "http://a:8000"}
    assert normalise_origin("null") is None and normalise_origin("http://u@evil") is None
    assert same_origin_refusal({"origin": "http://evil", "host": "testserver"}, frozenset())
    assert same_origin_refusal({"origin": "http://testserver:80", "host": "testserver"}, frozenset()) is None


@pytest.mark.parametrize("kind", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                  "text/html", "application/octet-stream", "video/"])
def test_an_upload_needs_a_video_content_type(api: Api, small_video: bytes, kind: str | None) -> None:
    headers = {"Content-Type": kind} if kind else {}
    answer = api.call("POST", "/v1/videos?filename=clip.mp4", content=small_video, headers=headers)
    assert answer.status_code == 415, answer.text
    assert "video content type" in answer.json()["detail"]
    assert videos(api) == []
    for good in ("video/mp4", "video/webm; codecs=vp8", "VIDEO/QUICKTIME"):
        assert api.call("POST", "/v1/videos", content=small_video, headers={"Content-Type": good}).status_code == 201


def _check_headers(answer: Any, where: str) -> None:
    h = answer.headers
    csp = h.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives.get("frame-ancestors") == ["'none'"], (where, csp)
    script = directives.get("script-src", directives.get("default-src"))
    assert script == ["'self'"], (where, csp)  # no inline script, no eval, no outside host
    assert directives.get("object-src") == ["'none'"] and directives.get("base-uri") == ["'none'"], (where, csp)
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("x-frame-options") == "DENY", where
    assert h.get("referrer-policy") == "no-referrer", where


def test_every_answer_has_the_security_headers(api: Api, small_video: bytes) -> None:
    video_id = api.upload(small_video).json()["id"]
    keyed = {"/v1/me", "/v1/videos", f"/v1/videos/{video_id}", f"/v1/videos/{video_id}/file", "/v1/jobs"}
    paths = ["/", "/app", "/static/app.js", "/static/style.css", "/static/vendor/uplot/uPlot.min.css", "/health",
             "/ready", "/openapi.json", "/docs", "/redoc", "/docs/swagger-init.js", "/docs-assets/swagger-ui.css",
             "/nowhere", "/static/nowhere.js", *keyed]
    for path in paths:
        answer = api.call("GET", path, "alice" if path in keyed else None, follow_redirects=False)
        assert answer.status_code < 500, path
        _check_headers(answer, path)
    for answer in (api.call("GET", "/v1/me", None), api.call("POST", "/v1/jobs", json={"video_id": "x"}),
                   api.call("POST", "/v1/videos", content=b"x", headers={"Content-Type": "text/plain"})):
        assert answer.status_code in (401, 404, 415), answer.text  # errors too
        _check_headers(answer, answer.request.url.path)
    assert api.call("GET", "/v1/me").headers["cache-control"] == "no-store"  # patients' data is not cached

    def boom() -> None:
        raise RuntimeError("a bug")

    api.client.app.add_api_route("/v1/boom", boom)  # type: ignore[attr-defined]
    crash = TestClient(api.client.app, raise_server_exceptions=False).get("/v1/boom")
    assert crash.status_code == 500
    _check_headers(crash, "a 500 answer")
    # the web app's own policy: nothing but its own scripts and styles, no inline style either
    assert "'unsafe-inline'" not in api.call("GET", "/", None).headers["content-security-policy"]


def test_the_web_app_has_no_inline_script_or_style() -> None:
    """The app's HTML and scripts must work under the CSP: no inline <script>, on*= handler, style attribute or
    javascript: URL (the pages set styles through the CSSOM and handlers with addEventListener)."""
    from posecoach.web.routes import STATIC

    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+\s*=", html) and "style=" not in html and "javascript:" not in html
    for script in [*STATIC.glob("*.js"), *STATIC.glob("pages/*.js")]:
        text = script.read_text()
        assert not re.search(r"setAttribute\(\s*['\"](style|on[a-z]+)['\"]", text), script.name
        assert not re.search(r"\.innerHTML\s*=|\beval\(|new Function\(", text), script.name


def test_docs_are_served_from_local_files(api: Api) -> None:
    html = api.call("GET", "/docs", None).text
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assert len(refs) >= 3, html
    for ref in refs:
        assert ref.startswith("/") and not ref.startswith("//"), ref  # no outside host
        fetched = api.call("GET", ref, None)
        assert fetched.status_code == 200 and len(fetched.content) > 100, ref
    assert "cdn" not in html.lower() and "http" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    assert "SwaggerUIBundle" in api.call("GET", "/docs/swagger-init.js", None).text
    assert api.call("GET", "/redoc", None).status_code == 404  # ReDoc's page would fetch its logo from outside


def _live(api: Api, origin: str | None, query: str = "mode=nope") -> tuple[str, int | None]:
    """Open the live WebSocket with the session cookie from ``origin``: its first message and the close code."""
    headers = {"Origin": origin} if origin else {}
    with api.client.websocket_connect(f"/v1/live?{query}", headers=headers) as ws:
        first = ws.receive_text()
        if '"ready"' in first:  # a session started: not refused
            return first, None
        try:
            ws.receive_text()
        except WebSocketDisconnect as closed:
            return first, closed.code
    return first, None


def test_the_live_websocket_refuses_a_foreign_origin(api: Api) -> None:
    cookie_session(api)
    for origin in (SIBLING, "https://evil.example", "null"):
        first, code = _live(api, origin, "mode=exercise")
        assert code == 4403 and "another origin" in first, (origin, first)
    # this origin, or no Origin (not a browser), goes through to the route (which then refuses the bad mode)
    for origin in ("http://testserver", None):
        first, code = _live(api, origin)
        assert code == 4400 and "unknown mode" in first, (origin, first)
