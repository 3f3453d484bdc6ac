"""Following a clinician's guide live over /v1/live (issue 28): mode ``guide`` counts the patient's repetitions
and scores each one against the guide when it ends; the summary scores the set's repetitions as decided; a guide
the caller may not read is refused with the reason."""

from __future__ import annotations

import json
import struct
import time
import urllib.request
from pathlib import Path

import cv2
import pytest
from websockets.sync.client import connect

from posecoach.io import VideoReader
from tests.conftest import data_file
from tests.e2e import guide_seed
from tests.e2e.conftest import WebServer

pytestmark = pytest.mark.video
SQUAT_GUIDE = "form/kaiakol/data/squat/correct/squat_correct_001.mp4"  # one real squat


def _url(server: WebServer, query: str) -> str:
    return server.url.replace("http://", "ws://") + "/v1/live?" + query


def test_a_patient_follows_the_clinicians_guide_and_each_repetition_is_scored(web_server: WebServer,
                                                                              tmp_path: Path) -> None:
    guide_id = guide_seed.guide(web_server, "cleo", data_file(SQUAT_GUIDE), tmp_path, name="socket-squat")
    with connect(_url(web_server, f"mode=guide&guide={guide_id}"),
                 additional_headers={"X-API-Key": web_server.keys["bob"]}) as ws:  # not cleo's patient
        refused = json.loads(ws.recv(timeout=60))
    assert refused["type"] == "error" and "no such guide" in refused["message"] and ws.close_code == 4400
    frames = []
    with VideoReader(data_file("misc_exercise_clips/rjsong/squat.mp4")) as reader:
        for f in list(reader.frames(0, 240))[::2]:
            ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(cv2.resize(f.image, (640, 360)), cv2.COLOR_RGB2BGR))
            assert ok
            frames.append(jpeg.tobytes())
    live = []
    with connect(_url(web_server, f"mode=guide&guide={guide_id}&exercise=squat&width=640&height=360"),
                 additional_headers={"X-API-Key": web_server.keys["ann"]}) as ws:
        ready = json.loads(ws.recv(timeout=60))
        assert (ready["type"], ready["mode"], ready["pose_model"]) == ("ready", "guide", "lite")
        start = time.monotonic()
        for i, jpeg in enumerate(frames):
            time.sleep(max(0.0, start + i / 15 - time.monotonic()))
            ws.send(struct.pack("<d", float(i)) + jpeg)
            answer = json.loads(ws.recv(timeout=30))
            if answer["type"] == "frame":
                assert len(answer["scored"]) <= answer["shown"]
                live += answer["new"]
        ws.send(json.dumps({"type": "finish"}))
        summary = json.loads(ws.recv(timeout=60))
    assert live, "no repetition was scored while the set went on"
    assert all(0 <= r["score"] <= 100 and r["meaning"] for r in live)
    assert summary["type"] == "summary" and summary["count"] >= 2
    assert summary["reps_scored"] == len(summary["reps"]) == summary["count"]
    assert summary["mean_score"] is not None and 0 <= summary["mean_score"] <= 100
    assert summary["save_note"] is None and "guide socket-squat" in summary["title"]  # kept in History
    request = urllib.request.Request(f"{web_server.url}/v1/live-sessions/{summary['saved']['id']}",
                                     headers={"X-API-Key": web_server.keys["ann"]})
    with urllib.request.urlopen(request, timeout=30) as answer:
        kept = json.loads(answer.read())
    assert [r["score"] for r in kept["reps"]] == [r["score"] for r in summary["reps"]]
