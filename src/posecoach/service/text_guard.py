"""Invalid text is refused at the door: 422 with the reason, before any route runs and anything is stored.

Text that no database keeps the same way (PostgreSQL refuses NUL in text; unpaired UTF-16 surrogates cannot be
encoded as UTF-8) or that has no business in a name (control characters) is refused wherever text enters:

* the URL's path and query parameters (ids, the upload's ``filename``, ``patient``...): no NUL, no unpaired
  surrogate, no control character at all;
* JSON and form bodies (every key and string value, at any depth): no NUL, no unpaired surrogate, no control
  character but tab, line feed and carriage return (a description may have several lines).

An upload's body (a video) is not text and passes untouched; its query is checked before the body is read, so a
refused upload leaves no file behind. A JSON or form body over `MAX_TEXT_BODY` bytes is refused (413): no request
of this API needs one.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_TEXT_BODY = 8 * 1024 * 1024
_LINES = frozenset("\t\n\r")
_RULE = "text may not contain NUL, unpaired surrogates or control characters"


def text_refusal(value: str, *, lines: bool = False) -> str | None:
    """Why ``value`` is refused (the first bad character, named); None when it is fine. ``lines``: tab, line feed
    and carriage return are allowed."""
    for char in value:
        code = ord(char)
        if code == 0:
            return "contains a NUL character (U+0000)"
        if 0xD800 <= code <= 0xDFFF:
            return f"contains an unpaired surrogate (U+{code:04X})"
        if unicodedata.category(char) == "Cc" and not (lines and char in _LINES):
            return f"contains a control character (U+{code:04X})"
    return None


def _walk(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        why = text_refusal(value, lines=True)
        return f"{where} {why}" if why else None
    if isinstance(value, dict):
        for key, item in value.items():
            why = text_refusal(key)
            if why:
                return f"a key of {where} {why}"
            why = _walk(item, f"{where}.{key}")
            if why:
                return why
    elif isinstance(value, list):
        for i, item in enumerate(value):
            why = _walk(item, f"{where}[{i}]")
            if why:
                return why
    return None


def url_refusal(scope: Scope) -> str | None:
    """Why the request's path or query is refused; None when both are fine."""
    why = text_refusal(scope.get("path", ""))
    if why:
        return f"the URL path {why}"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        why = text_refusal(name) or text_refusal(value)
        if why:
            return f"the query parameter {name[:40]!r} {why}"
    return None


def body_refusal(kind: str, body: bytes) -> str | None:
    """Why a JSON or form body is refused; None when fine (or not parseable: the route says why)."""
    if kind == "application/x-www-form-urlencoded":
        if any(byte < 0x20 or byte > 0x7E for byte in body):
            return None  # not an encoded form at all (e.g. a video sent with a form's type): the route says why
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            why = text_refusal(name) or text_refusal(value, lines=True)
            if why:
                return f"the form field {name[:40]!r} {why}"
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return _walk(data, "body")


def _text_kind(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"content-type":
            kind = value.decode("latin-1").split(";")[0].strip().lower()
            if kind == "application/json" or kind.endswith("+json") or kind == "application/x-www-form-urlencoded":
                return kind
            return None
    return None


async def _answer(send: Send, status: int, reason: str) -> None:
    body = json.dumps({"detail": f"{reason}; {_RULE}" if status == 422 else reason}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class TextGuard:
    """ASGI middleware refusing invalid text in URLs and JSON / form bodies with 422 (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        why = url_refusal(scope)
        if why:
            await _answer(send, 422, why)
            return
        kind = _text_kind(scope)
        if kind is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_TEXT_BODY:
                await _answer(send, 413, f"a {kind} body may not be larger than {MAX_TEXT_BODY // 1024 // 1024} MiB")
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        why = body_refusal(kind, body)
        if why:
            await _answer(send, 422, why)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
