"""The /v1/live WebSocket without a browser: authentication, bad parameters and bad frames get a reason and a
close code; a real JPEG frame of a person gets landmarks back."""

from __future__ import annotations

import contextlib
import json
import struct
import time
import urllib.request
from typing import Any

import cv2
import pytest
from websockets.sync.client import connect

from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.io import VideoReader
from posecoach.service import Settings, accounts_db
from posecoach.service.db import Database
from tests.conftest import data_file
from tests.e2e.conftest import WebServer

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
    ("target=0", "ann", 4400, "target must be a whole number"),
    ("target=ten", "ann", 4400, "target must be a whole number"),
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
        assert ready == {"type": "ready", "mode": "exercise", "pose_model": "lite", "skeleton": {
            "name": "blazepose33", "edges": [list(e) for e in BLAZEPOSE_33.edges]}}  # the client draws these bones
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


def _squat_set(server: WebServer, key: str, query: str) -> dict:
    """Eight seconds of a real squat clip, sent at 15 frames/s as a camera would, then finish: the summary."""
    frames = []
    with VideoReader(data_file("misc_exercise_clips/rjsong/squat.mp4")) as reader:
        for f in list(reader.frames(0, 240))[::2]:
            image = cv2.resize(f.image, (640, 360))
            ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            assert ok
            frames.append(jpeg.tobytes())
    with connect(_url(server, query), additional_headers={"X-API-Key": key}) as ws:
        assert json.loads(ws.recv(timeout=60))["type"] == "ready"
        start = time.monotonic()
        for i, jpeg in enumerate(frames):
            time.sleep(max(0.0, start + i / 15 - time.monotonic()))
            ws.send(struct.pack("<d", float(i)) + jpeg)
            assert json.loads(ws.recv(timeout=30))["type"] in ("frame", "dropped")
        ws.send(json.dumps({"type": "finish"}))
        summary = json.loads(ws.recv(timeout=60))
        ws.send(json.dumps({"type": "finish"}))  # a second finish answers the same entry, saves nothing more
        again = json.loads(ws.recv(timeout=60))
    assert again["saved"] == summary["saved"]
    return summary


def _get(server: WebServer, path: str, user: str) -> Any:
    request = urllib.request.Request(server.url + path, headers={"X-API-Key": server.keys[user]})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_a_finished_set_is_kept_in_history_with_its_reps(web_server: WebServer) -> None:
    """Issue 26: the socket's finish keeps the set in History (count, confidence, target, form issues per rep,
    tempo); a read-only key's set is summarised but not kept, with the reason."""
    summary = _squat_set(web_server, web_server.keys["bob"], "exercise=squat&width=640&height=360&target=12")
    assert summary["count"] >= 1 and summary["target"] == 12 and summary["save_note"] is None
    assert len(summary["reps"]) == summary["count"] and summary["duration_s"] >= 7
    assert all(r["duration_s"] > 0 and isinstance(r["errors"], list) for r in summary["reps"])
    kept = _get(web_server, f"/v1/live-sessions/{summary['saved']['id']}", "bob")
    assert (kept["rep_count"], kept["target"], kept["exercise"]) == (summary["count"], 12, "squat")
    assert [r["duration_s"] for r in kept["reps"]] == [r["duration_s"] for r in summary["reps"]]
    entries = [i for i in _get(web_server, "/v1/history", "bob") if i["source"] == "live"]
    assert [i["job_id"] for i in entries].count(summary["saved"]["id"]) == 1  # kept once
    db = Database(Settings(data_dir=web_server.data_dir).resolved_database_url())
    try:
        bob = db.user_for_key(web_server.keys["bob"])
        assert bob is not None
        _, read_only = accounts_db.create_key(db, bob, "watch-only", ["read"])
    finally:
        db.close()
    watched = _squat_set(web_server, read_only, "exercise=squat&width=640&height=360")
    assert watched["saved"] is None and "may only read" in watched["save_note"]
