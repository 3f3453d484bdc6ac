"""Finding "a single 16000x16000 JPEG on the live WebSocket took the API process to 3.1 GB; no session cap, no rate
limit" (issue 25): the JPEG header is read before decoding and an oversized frame is refused unread (the API
process's memory stays flat), repeated refusals close the socket (1008), sessions are capped per user and in
total (4429), frames over the rate cap are dropped unprocessed."""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect

from posecoach.service.live_limits import jpeg_size
from tests.integration.security.rss import PeakRss
from tests.integration.service.conftest import Api, ApiFactory


def small_jpeg(size: int = 32) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((size, size, 3), 128, np.uint8))
    assert ok
    return buf.tobytes()


def claims(jpeg: bytes, width: int, height: int) -> bytes:
    """``jpeg`` with its start-of-frame header rewritten to say ``width`` x ``height`` (a few hundred bytes that
    a decoder would expand to width x height x 3 bytes)."""
    data, i = bytearray(jpeg), 2
    while data[i + 1] not in (0xC0, 0xC1, 0xC2):
        i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
    data[i + 5:i + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def frame(jpeg: bytes, t: float) -> bytes:
    return struct.pack("<d", t) + jpeg


@contextmanager
def session(api: Api, who: str = "alice") -> Iterator[Any]:
    with api.client.websocket_connect("/v1/live?mode=exercise&exercise=squat",
                                      headers={"X-API-Key": api.keys[who]}) as ws:
        first = json.loads(ws.receive_text())
        assert first["type"] == "ready", first
        yield ws


def refused(api: Api, who: str) -> tuple[dict[str, Any], int]:
    """Open a session that must be refused: its message and close code."""
    with api.client.websocket_connect("/v1/live?mode=exercise", headers={"X-API-Key": api.keys[who]}) as ws:
        first = json.loads(ws.receive_text())
        assert first["type"] == "error", first
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    return first, closed.value.code


def test_the_jpeg_header_is_read_without_decoding() -> None:
    jpeg = small_jpeg()
    assert jpeg_size(jpeg) == (32, 32)
    assert jpeg_size(claims(jpeg, 16000, 12000)) == (16000, 12000)
    assert jpeg_size(b"not a jpeg") is None and jpeg_size(jpeg[:10]) is None and jpeg_size(b"\xff\xd8") is None


def test_an_oversized_jpeg_is_refused_unread_and_memory_stays_flat(api: Api) -> None:
    hostile = claims(small_jpeg(16), 16000, 16000)  # ~600 bytes; decoded: 768 MB, and as much again in RGB
    assert len(hostile) < 2000
    with session(api) as ws:
        ws.send_bytes(frame(small_jpeg(), 1.0))  # the session works (the pose model is loaded and has run)
        assert json.loads(ws.receive_text())["type"] == "frame"
        with PeakRss() as rss:
            ws.send_bytes(frame(hostile, 2.0))
            answer = json.loads(ws.receive_text())
        assert rss.growth_mb < 64, f"the API process grew by {rss.growth_mb:.0f} MB"
        assert answer["type"] == "error" and answer["t"] == 2.0
        assert "16000x16000" in answer["message"] and "at most" in answer["message"]
        ws.send_bytes(frame(small_jpeg(), 3.0))  # still served
        assert json.loads(ws.receive_text())["type"] == "frame"


def test_repeated_refused_frames_close_the_socket(api_factory: ApiFactory) -> None:
    api = api_factory(live_max_refusals=5, live_max_frame_kb=64)
    with session(api) as ws:
        for i in range(4):
            ws.send_bytes(frame(claims(small_jpeg(), 8000, 8000) if i % 2 else b"\xff\xd8 junk", float(i)))
            assert json.loads(ws.receive_text())["type"] == "error"
        ws.send_bytes(frame(b"\xff\xd8" + bytes(65 * 1024), 4.0))  # too many bytes
        last = json.loads(ws.receive_text())
        assert last["type"] == "error" and "more than the limit of 64 KiB" in last["message"]
        ws.send_text(json.dumps({"type": "finish"}))
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        assert closed.value.code == 1008


def test_sessions_are_capped_per_user_and_in_total(api_factory: ApiFactory) -> None:
    api = api_factory(live_max_sessions_per_user=1, live_max_sessions=2)
    sessions = api.client.app.state  # type: ignore[attr-defined]
    with session(api, "alice"):
        first, code = refused(api, "alice")
        assert code == 4429 and "POSECOACH_LIVE_MAX_SESSIONS_PER_USER" in first["message"]
        with session(api, "bob"):
            first, code = refused(api, "carol")
            assert code == 4429 and "POSECOACH_LIVE_MAX_SESSIONS)" in first["message"]
    end = time.monotonic() + 10
    while sum(sessions.live_sessions.open.values()) and time.monotonic() < end:
        time.sleep(0.05)
    with session(api, "carol"):  # closed sessions free their places
        pass


def test_frames_over_the_rate_cap_are_dropped_unprocessed(api_factory: ApiFactory) -> None:
    api = api_factory(live_max_fps=2)
    jpeg = small_jpeg()
    with session(api) as ws:
        for i in range(8):
            ws.send_bytes(frame(jpeg, float(i)))
        answers = [json.loads(ws.receive_text()) for _ in range(8)]
    assert [a["t"] for a in answers] == [float(i) for i in range(8)]  # one answer per frame, in order
    kinds = [a["type"] for a in answers]
    assert kinds[:2] == ["frame", "frame"] and kinds.count("dropped") >= 5, kinds
    dropped = next(a for a in answers if a["type"] == "dropped")
    assert "more than 2 frames a second" in dropped["message"] and "landmarks" not in dropped
