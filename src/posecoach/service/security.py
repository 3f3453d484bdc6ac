"""What the browser is told and what it may do: security headers on every answer, cross-origin requests refused.

* **Headers.** Every HTTP answer (API, web app pages, static files, docs, errors) carries a Content-Security-Policy
  without inline script (`CSP`; a route may set its own, as the docs pages do), ``X-Content-Type-Options:
  nosniff``, ``X-Frame-Options: DENY`` with ``frame-ancestors 'none'``, ``Referrer-Policy: no-referrer``, a
  same-origin opener and resource policy, and a permissions policy that lets only this origin use the camera.
  Answers under ``/v1/`` (patients' data) are ``Cache-Control: no-store`` unless the route set its own.
* **Cross-site request forgery.** A browser sends the session cookie with every request to this host, whichever
  page made it; SameSite only stops other *sites*, and a page on another port of the same host is the same site.
  So a state-changing request (any method but GET, HEAD, OPTIONS) and a WebSocket handshake that carry no
  ``X-API-Key`` header must come from this origin: ``Sec-Fetch-Site: same-origin`` (or ``none``, typed by the
  user), else an ``Origin`` whose host and port are this request's ``Host``, or one listed in
  ``POSECOACH_TRUSTED_ORIGINS``; anything else is 403 (a WebSocket: closed with 4403 and the reason). A request
  with neither header does not come from a browser and passes. Programs send ``X-API-Key``, which a page of
  another origin cannot set without a CORS preflight that this service never grants, so they are not subject
  to the check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("posecoach.security")

# The web app's policy: its own scripts, styles, images, media and WebSocket only; no inline script or style
# attribute (the pages set styles through the CSSOM), no plugins, no <base>, no framing.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(self), microphone=(), geolocation=(), payment=(), usb=()",
}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def _host_port(host: str, scheme: str) -> str:
    """``host[:port]`` in lower case, without the scheme's default port."""
    host = host.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and host.endswith(f":{default}") and not host.endswith("]"):
        host = host[: -len(default) - 1]
    return host


def normalise_origin(origin: str) -> str | None:
    """``scheme://host[:port]`` of an origin (lower case, default port dropped); None for ``null`` or junk."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    return f"{parts.scheme}://{_host_port(parts.netloc, parts.scheme)}"


def trusted_origins(value: str | Iterable[str] | None) -> frozenset[str]:
    """The setting ``POSECOACH_TRUSTED_ORIGINS`` (comma- or space-separated origins) as normalised origins."""
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value or [])
    out = {normalise_origin(item) for item in items}
    return frozenset(o for o in out if o)


def same_origin_refusal(headers: dict[str, str], trusted: frozenset[str]) -> str | None:
    """Why a request that a browser may have sent on its own (no ``X-API-Key``) is refused; None when it may pass.

    ``headers``: the request's headers, names in lower case."""
    origin = headers.get("origin")
    normalised = normalise_origin(origin) if origin else None
    if normalised in trusted:
        return None
    site = headers.get("sec-fetch-site")
    if site is not None:  # every current browser sends it: the browser's own verdict
        if site in ("same-origin", "none"):
            return None
        return f"a request from another origin ({origin or site}) may not use this site's sign-in"
    if origin is None:
        return None  # neither header: not sent by a browser
    host = headers.get("host", "")
    if normalised is not None and _host_port(host, urlsplit(normalised).scheme) == urlsplit(normalised).netloc:
        return None
    return (f"a request from another origin ({origin}) may not use this site's sign-in; "
            "a deployment behind a proxy lists its public origin in POSECOACH_TRUSTED_ORIGINS")


# Uploaded videos: FFmpeg's container name -> the stored file's suffix (one the video readers accept), and the
# suffix -> the media type it is served with. A container not listed here is refused (415), so a stored video is
# served with the type its decoded content showed, never a type taken from the request, never text/html.
CONTAINER_SUFFIXES = {"mov,mp4,m4a,3gp,3g2,mj2": ".mp4", "matroska,webm": ".mkv", "avi": ".avi"}
WEBM_CODECS = frozenset({"vp8", "vp9", "av1"})
VIDEO_MEDIA_TYPES = {".mp4": "video/mp4", ".webm": "video/webm", ".mkv": "video/x-matroska",
                     ".avi": "video/x-msvideo"}
ACCEPTED = "MP4 / MOV, WebM / Matroska or AVI"


def video_suffix(container: str, codec: str) -> str | None:
    """The stored suffix of a video that decoded as ``container`` with video ``codec``; None: not accepted."""
    suffix = CONTAINER_SUFFIXES.get(container)
    if suffix == ".mkv" and codec in WEBM_CODECS:
        return ".webm"
    return suffix


def video_media_type(storage_key: str) -> str:
    """The media type of a stored video, from the suffix its checked container gave it."""
    return VIDEO_MEDIA_TYPES.get(Path(storage_key).suffix.lower(), "application/octet-stream")


def upload_type_refusal(content_type: str | None) -> str | None:
    """Why an upload's declared ``Content-Type`` is refused (it must be a video type); None when it is one.

    A page of another origin can post only text/plain and form types without a CORS preflight; a video type
    needs one, which this service never grants."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind.startswith("video/") and len(kind) > len("video/"):
        return None
    return (f"an upload must be sent with a video content type, e.g. 'Content-Type: video/mp4' "
            f"(this one: {kind or 'none'}); the content itself is checked too ({ACCEPTED})")


def content_disposition(disposition: str, filename: str) -> str:
    """A ``Content-Disposition`` value safe for any file name: an ASCII fallback and the UTF-8 name."""
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename)
    return f"{disposition}; filename=\"{ascii_name or 'download'}\"; filename*=UTF-8''{quote(filename, safe='')}"


class SecurityMiddleware:
    """Adds `HEADERS` to every HTTP answer and refuses cross-origin requests made with the browser's sign-in."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str] | str | None = None) -> None:
        self.app = app
        self.trusted = trusted_origins(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = None
        if not headers.get("x-api-key") and (scope["type"] == "websocket" or scope["method"] not in SAFE_METHODS):
            refusal = same_origin_refusal(headers, self.trusted)
        if scope["type"] == "websocket":
            if refusal:
                log.warning("WebSocket %s refused: %s", scope.get("path"), refusal)
                await _refuse_websocket(receive, send, refusal)
            else:
                await self.app(scope, receive, send)
            return
        api = scope.get("path", "").startswith("/v1/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in present]
                if api and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        if refusal:
            log.warning("%s %s refused: %s", scope["method"], scope.get("path"), refusal)
            body = json.dumps({"detail": refusal}).encode()
            await send_with_headers({"type": "http.response.start", "status": 403, "headers": [
                (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
            await send_with_headers({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send_with_headers)


async def _refuse_websocket(receive: Receive, send: Send, reason: str) -> None:
    """Accept, say why in the live protocol's error message, close with 4403 (a page can show the reason)."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": json.dumps({"type": "error", "message": reason})})
    await send({"type": "websocket.close", "code": 4403, "reason": reason[:120]})
