"""Posture models as a tool, through the API on real squat clips: a model trained on two labelled videos with
its accuracy on each held-out video, a third video added to its training set, and the model run on a fourth
(unseen) video: per-frame postures, segments, transition counts, time per posture. Another user gets 404."""

from __future__ import annotations

from typing import Any

import pytest

from posecoach.service.posture_training import cv_method, held_out_by_video
from tests.conftest import data_file
from tests.integration.service.conftest import Api
from tests.integration.service.test_results import fetch

pytestmark = pytest.mark.video
SQUATS = "form/kaiakol/data/squat/correct"
# standing ("up") and at the bottom ("down") in each clip, read from its knee angle
RANGES = {
    "squat_correct_001.mp4": [(0.0, 0.25, "up"), (0.55, 1.05, "down"), (1.35, 1.6, "up")],
    "squat_correct_002.mp4": [(0.25, 0.6, "down"), (0.85, 1.25, "up")],
    "squat_correct_004.mp4": [(0.35, 0.65, "down"), (0.8, 1.15, "up")],
}


def _upload(api: Api, name: str, who: str = "alice") -> str:
    answer = api.upload(data_file(f"{SQUATS}/{name}").read_bytes(), who, name=name)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _item(video_id: str, name: str) -> dict[str, Any]:
    return {"video_id": video_id, "ranges": [{"start_s": a, "end_s": b, "label": c} for a, b, c in RANGES[name]]}


@pytest.fixture
def trained(api: Api) -> tuple[Api, dict[str, str], dict[str, Any]]:
    ids = {name: _upload(api, name) for name in ("squat_correct_001.mp4", "squat_correct_002.mp4")}
    body = {"name": "squats", "videos": [_item(i, n) for n, i in ids.items()]}
    made = api.call("POST", "/v1/posture-models", json=body)
    assert made.status_code == 202, made.text
    assert api.wait(made.json()["job_id"])["state"] == "done"
    model = api.call("GET", f"/v1/posture-models/{made.json()['id']}").json()
    assert model["state"] == "ready" and model["classes"] == ["down", "up"]
    return api, ids, model


def test_a_model_from_two_videos_reports_each_held_out_video(trained: tuple[Api, dict[str, str], dict]) -> None:
    api, ids, model = trained
    listed = api.call("GET", f"/v1/posture-models/{model['id']}/videos")
    assert listed.status_code == 200, listed.text
    out = listed.json()
    assert out["method"] == "leave-one-video-out" and out["folds"] == 2
    assert [v["filename"] for v in out["videos"]] == list(ids)
    for video in out["videos"]:
        held = video["held_out"]
        assert video["labels"] == ["down", "up"] and held["frames"] > 5 and held["frames"] <= video["labelled_frames"]
        assert held["accuracy"] == pytest.approx(held["correct"] / held["frames"])
    frames = sum(v["held_out"]["frames"] for v in out["videos"])
    correct = sum(v["held_out"]["correct"] for v in out["videos"])
    assert model["cv_accuracy"] == pytest.approx(correct / frames)  # the model's figure is over these frames
    for method, url in (("GET", f"/v1/posture-models/{model['id']}/videos"),
                        ("POST", f"/v1/posture-models/{model['id']}/videos")):
        answer = api.call(method, url, "bob", json=_item(ids["squat_correct_001.mp4"], "squat_correct_001.mp4"))
        assert answer.status_code == 404, answer.text


def test_a_video_is_added_to_the_training_set(trained: tuple[Api, dict[str, str], dict]) -> None:
    api, ids, model = trained
    url = f"/v1/posture-models/{model['id']}/videos"
    third = _upload(api, "squat_correct_004.mp4")
    again = api.call("POST", url, json=_item(ids["squat_correct_002.mp4"], "squat_correct_002.mp4"))
    assert again.status_code == 409 and "training set already" in again.json()["detail"]
    wrong = {"video_id": third, "ranges": [{"start_s": 5.0, "end_s": 6.0, "label": "up"}]}  # the clip lasts 1.2 s
    failed = api.wait(api.call("POST", url, json=wrong).json()["id"])
    assert failed["state"] == "failed" and "holds no frame" in failed["error"], failed
    kept = api.call("GET", f"/v1/posture-models/{model['id']}").json()
    assert kept["state"] == "ready" and kept["job_id"] == model["job_id"]  # the model before is still the one used
    assert len(api.call("GET", url).json()["videos"]) == 2
    added = api.call("POST", url, json=_item(third, "squat_correct_004.mp4"))
    assert added.status_code == 202, added.text
    assert added.json()["kind"] == "posture_train" and added.json()["video_id"] == third
    busy = api.call("POST", url, json=_item(third, "squat_correct_004.mp4"))
    assert busy.status_code == 409  # in the training set (or being trained) already
    assert api.wait(added.json()["id"])["state"] == "done"
    out = api.call("GET", url).json()
    assert [v["video_id"] for v in out["videos"]] == [*ids.values(), third]
    assert out["method"] == "leave-one-video-out" and out["folds"] == 3 and out["job_id"] == added.json()["id"]
    # each fold now trains on two clips, not one: every held-out clip is named well (measured: 1.0, 1.0, 1.0;
    # with two videos each fold learnt one clip and got 0.83 and 0.45 on the other)
    assert all(v["held_out"]["accuracy"] > 0.9 for v in out["videos"]), out
    after = api.call("GET", f"/v1/posture-models/{model['id']}").json()
    assert after["job_id"] == added.json()["id"] and after["frames"] > model["frames"]
    assert after["cv_accuracy"] > model["cv_accuracy"]
    models = list((api.client.app.state.storage.root / "models").rglob("*.model"))  # type: ignore[attr-defined]
    assert len(models) == 1  # the file it replaced is gone


def test_a_model_runs_on_an_uploaded_video(trained: tuple[Api, dict[str, str], dict]) -> None:
    api, _, model = trained
    video = _upload(api, "squat_correct_006.mp4")  # not in the training set: up, down to the bottom, up
    made = api.call("POST", f"/v1/posture-models/{model['id']}/runs", json={"video_id": video, "count": ["up", "down"]})
    assert made.status_code == 202, made.text
    job = api.wait(made.json()["id"])
    assert job["state"] == "done" and job["kind"] == "posture", job
    report = fetch(api, job["id"], "report").json()
    timeline = [f["posture"] for f in report["per_frame"]]
    assert len(timeline) == report["frames"] == 42
    assert timeline[0] == "up" and timeline[-1] == "up" and "down" in timeline
    assert [s["posture"] for s in report["segments"]] == ["up", "down", "up"]
    assert [(t["from_posture"], t["to_posture"], t["count"]) for t in report["transitions"]] == [
        ("up", "down", 1), ("down", "up", 1)]
    assert report["repetitions"]["count"] == 1
    down = report["time_per_posture_s"]["down"]
    assert down == pytest.approx(timeline.count("down") / 30.0) and 0.2 < down < 1.0
    bob_video = _upload(api, "squat_correct_006.mp4", "bob")
    for who, body in (("bob", {"video_id": bob_video}), ("alice", {"video_id": bob_video})):
        answer = api.call("POST", f"/v1/posture-models/{model['id']}/runs", who, json=body)
        assert answer.status_code == 404, answer.text  # bob's model is not his; alice's video is not bob's
    assert api.call("GET", f"/v1/jobs/{job['id']}", "bob").status_code == 404
    assert api.call("GET", f"/v1/jobs/{job['id']}/results/report", "bob").status_code == 404
    for who, status in (("alice", 422), ("bob", 404)):  # no body: the reason, once the model is the caller's to use
        assert api.call("POST", f"/v1/posture-models/{model['id']}/runs", who).status_code == status
    bad = api.call("POST", f"/v1/posture-models/{model['id']}/runs", json={"video_id": video, "count": ["up", "x"]})
    assert bad.status_code == 422 and "it knows down, up" in bad.json()["detail"]


def test_held_out_figures_are_summed_per_video() -> None:
    per_group = {"v1:0": {"frames": 10, "correct": 9}, "v1:1": {"frames": 10, "correct": 5},
                 "v2": {"frames": 4, "correct": 4}}  # a video's ranges (one-video training), or whole videos
    assert held_out_by_video(per_group) == {"v1": {"frames": 20, "correct": 14, "accuracy": 0.7},
                                            "v2": {"frames": 4, "correct": 4, "accuracy": 1.0}}
    assert cv_method(3, False, 3) == "leave-one-video-out" and cv_method(8, False, 5) == "5 folds of whole videos"
    assert cv_method(1, True, 4) == "held-out labelled ranges of the one video"
    assert cv_method(1, False, 0) == "not cross-validated"
