"""The /v1/live WebSocket without a browser: authentication, bad parameters and bad frames get a reason and a
close code; a real JPEG frame of a person gets landmarks back."""

from __future__ import annotations

import contextlib
import json
import struct

import cv2
import pytest
from websockets.sync.client import connect

from posecoach.io import VideoReader
from tests.conftest import data_file
from tests.web.conftest import WebServer

pytestmark = pytest.mark.video


def _url(server: WebServer, query: str = "") -> str:
    return server.url.replace("http://", "ws://") + "/v1/live" + (f"?{query}" if query else "")


def _first(server: WebServer, query: str = "", key: str | None = "ann") -> tuple[dict, int | None]:
    headers = {"X-API-Key": server.keys[key]} if key else {}
    with connect(_url(server, query), additional_headers=headers) as ws:
        message = json.loads(ws.recv(timeout=60))
        with contextlib.suppress(Exception):  # the close frame that follows the error
            ws.recv(timeout=5)
        return message, ws.close_code


@pytest.mark.parametrize(("query", "key", "code", "reason"), [
    ("", None, 4401, "sign in"),
    ("mode=dance", "ann", 4400, "unknown mode"),
    ("exercise=underwater_basket_weaving", "ann", 4400, "unknown exercise"),
    ("pose_model=huge", "ann", 4400, "unknown pose model"),
    ("mode=posture", "ann", 4400, "no such posture model"),
    ("width=abc", "ann", 4400, "width and height"),
])
def test_bad_requests_are_refused_with_a_reason(web_server: WebServer, query: str, key: str | None, code: int,
                                                reason: str) -> None:
    message, close_code = _first(web_server, query, key)
    assert message["type"] == "error" and reason in message["message"].lower()
    assert close_code == code


def test_a_real_frame_gets_landmarks_and_a_bad_frame_a_reason(web_server: WebServer) -> None:
    with VideoReader(data_file("form/kaiakol/data/squat/correct/squat_correct_001.mp4")) as reader:
        image = next(iter(reader.frames(10, 11))).image
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(cv2.resize(image, (640, 360)), cv2.COLOR_RGB2BGR))
    assert ok
    with connect(_url(web_server, "exercise=squat&width=640&height=360"),
                 additional_headers={"X-API-Key": web_server.keys["ann"]}) as ws:
        ready = json.loads(ws.recv(timeout=60))
        assert ready == {"type": "ready", "mode": "exercise", "pose_model": "lite"}
        ws.send(struct.pack("<d", 123.5) + jpeg.tobytes())
        frame = json.loads(ws.recv(timeout=30))
        assert frame["type"] == "frame" and frame["t"] == 123.5 and frame["width"] == 640
        assert len(frame["landmarks"]) == 33 and all(0 <= p[2] <= 1 for p in frame["landmarks"])
        assert frame["count"] == 0 and frame["exercise"] == "squat" and frame["server_ms"] > 0
        assert frame["shown"] == 0 and frame["corrections"] == [] and frame["correction"] is None
        ws.send(struct.pack("<d", 124.0) + b"not a jpeg")
        bad = json.loads(ws.recv(timeout=30))
        assert bad == {"type": "error", "message": "a frame is not a JPEG image", "t": 124.0}
        ws.send("hello")  # text instead of a binary frame
        assert "binary message" in json.loads(ws.recv(timeout=30))["message"]
        ws.send(json.dumps({"type": "finish"}))  # the user stops: the count decided on the whole session
        summary = json.loads(ws.recv(timeout=30))
        assert summary["type"] == "summary" and summary["count"] == 0 and summary["exercise"] == "squat"
        assert summary["shown"] == 0 and summary["corrections"] == [] and 0 <= summary["count_confidence"] <= 1
