"""The REST API on SQLite with local storage: keys, uploads checked by decoding, jobs, reports, and no way
into another user's data or out of the storage folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from posecoach.service.storage import LocalStorage
from tests.integration.service.conftest import Api, ApiFactory, make_video


def test_health_ready_and_docs(api: Api) -> None:
    assert api.call("GET", "/health", None).json()["status"] == "ok"
    ready = api.call("GET", "/ready", None).json()
    assert ready["ready"] and ready["database"] and ready["storage"] and ready["jobs"]
    schema = api.call("GET", "/openapi.json", None).json()
    assert {"/v1/videos", "/v1/jobs", "/v1/jobs/{job_id}/report", "/health", "/ready"} <= set(schema["paths"])
    assert api.call("GET", "/docs", None).status_code == 200


def test_a_key_is_required_and_checked(api: Api) -> None:
    assert api.call("GET", "/v1/me", None).status_code == 401
    assert api.client.get("/v1/me", headers={"X-API-Key": "pc_guess"}).status_code == 401
    me = api.call("GET", "/v1/me", "carol").json()
    assert me["name"] == "carol" and me["role"] == "clinician"


def test_the_web_session_cookie_signs_in(api: Api) -> None:
    """POST /v1/session checks the key and starts a session whose token (not the key) is kept in an HttpOnly,
    SameSite=Strict cookie that authenticates."""
    assert api.client.post("/v1/session", json={"api_key": "pc_guess"}).status_code == 401
    assert api.client.post("/v1/session", json={"api_key": ""}).status_code == 422
    signed = api.client.post("/v1/session", json={"api_key": api.keys["carol"]})
    assert signed.status_code == 200 and signed.json()["name"] == "carol"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and api.keys["carol"].lower() not in cookie
    assert api.client.get("/v1/me").json()["name"] == "carol"  # the client keeps the cookie
    assert api.client.get("/v1/me", headers={"X-API-Key": api.keys["alice"]}).json()["name"] == "alice"
    assert api.client.delete("/v1/session").status_code == 204
    assert api.client.get("/v1/me").status_code == 401


def test_only_an_admin_creates_users_and_the_new_key_works(api: Api) -> None:
    assert api.call("POST", "/v1/users", "alice", json={"name": "eve"}).status_code == 403
    made = api.call("POST", "/v1/users", "root", json={"name": "dave", "role": "clinician"})
    assert made.status_code == 201
    key = made.json()["api_key"]
    assert api.client.get("/v1/me", headers={"X-API-Key": key}).json()["name"] == "dave"
    assert api.call("POST", "/v1/users", "root", json={"name": "dave"}).status_code == 409
    assert api.call("POST", "/v1/users", "root", json={"name": "../x"}).status_code == 422


def test_an_upload_is_decoded_and_described(api: Api, small_video: bytes) -> None:
    made = api.upload(small_video, name="../../etc/passwd")
    assert made.status_code == 201, made.text
    video = made.json()
    assert (video["width"], video["height"], video["num_frames"]) == (96, 64, 6)
    assert video["size_bytes"] == len(small_video) and video["filename"] == "passwd"
    assert api.call("GET", f"/v1/videos/{video['id']}").json() == video
    assert [v["id"] for v in api.call("GET", "/v1/videos").json()] == [video["id"]]
    full = api.call("GET", f"/v1/videos/{video['id']}/file")
    assert full.content == small_video
    part = api.call("GET", f"/v1/videos/{video['id']}/file", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == small_video[10:20]


def test_bad_uploads_are_refused_with_the_reason(api_factory: ApiFactory, small_video: bytes, tmp_path: Path) -> None:
    long = make_video(tmp_path / "long.mp4", frames=12).read_bytes()  # 1.2 s
    api = api_factory(max_upload_mb=len(long) * 1.2 / 2**20, max_duration_s=0.9)
    cases = {
        "text": b"this is not a video\n" * 100,
        "empty": b"",
        "truncated": small_video[: len(small_video) // 8],
        "image": make_png(tmp_path),
    }
    for name, data in cases.items():
        answer = api.upload(data, name=f"{name}.mp4")
        assert answer.status_code == 422, (name, answer.text)
        assert answer.json()["detail"] and "storage" not in answer.json()["detail"], name
    too_big = api.upload(long * 2)
    assert too_big.status_code == 413 and "limit" in too_big.json()["detail"]
    streamed = api.call("POST", "/v1/videos", content=iter([long[:4096]] * (len(long) // 4096 * 2)),
                        headers={"Content-Type": "video/mp4"})
    assert streamed.status_code == 413  # no Content-Length: the limit holds while streaming
    too_long = api.upload(long)
    assert too_long.status_code == 422 and "longer than the limit" in too_long.json()["detail"]
    assert api.call("GET", "/v1/videos").json() == []
    incoming = tmp_path / "service" / "storage" / "incoming"
    assert list(incoming.iterdir()) == []  # nothing half-written left behind


def make_png(tmp_path: Path) -> bytes:
    import cv2
    import numpy as np

    path = tmp_path / "still.png"
    cv2.imwrite(str(path), np.zeros((32, 32, 3), np.uint8))
    return path.read_bytes()


def test_nobody_reads_another_users_data(api: Api, small_video: bytes) -> None:
    video_id = api.upload(small_video).json()["id"]
    job = api.call("POST", "/v1/jobs", json={"video_id": video_id})
    assert job.status_code == 202
    job_id = job.json()["id"]
    api.wait(job_id)
    for method, url in (("GET", f"/v1/videos/{video_id}"), ("GET", f"/v1/videos/{video_id}/file"),
                        ("GET", f"/v1/jobs/{job_id}"), ("GET", f"/v1/jobs/{job_id}/report"),
                        ("DELETE", f"/v1/videos/{video_id}")):
        assert api.call(method, url, "bob").status_code == 404, url
        assert api.call(method, url, "carol").status_code == 404, url  # not her patient
    assert api.call("POST", "/v1/jobs", "bob", json={"video_id": video_id}).status_code == 404
    assert api.call("GET", "/v1/videos", "bob").json() == [] and api.call("GET", "/v1/jobs", "bob").json() == []
    assert api.call("GET", "/v1/history", "bob").json() == []
    assert api.call("POST", "/v1/care-links", "bob", json={"patient": "alice"}).status_code == 403
    assert api.call("GET", "/v1/patients", "carol").json() == []
    invited = api.call("POST", "/v1/care-links", "carol", json={"patient": "alice"})
    assert invited.status_code == 201 and invited.json()["state"] == "pending"
    assert api.call("GET", "/v1/patients", "carol").json() == []  # not before alice accepts
    assert api.call("GET", f"/v1/jobs/{job_id}/report", "carol").status_code == 404
    assert api.call("POST", f"/v1/care-links/{invited.json()['id']}/accept").json()["state"] == "accepted"
    assert [u["name"] for u in api.call("GET", "/v1/patients", "carol").json()] == ["alice"]
    assert api.call("GET", "/v1/patients", "bob").json() == []  # a user has no patients
    assert "alice" in [u["name"] for u in api.call("GET", "/v1/patients", "root").json()]  # an admin sees all
    assert api.call("GET", f"/v1/jobs/{job_id}/report", "carol").status_code == 200
    assert api.call("GET", f"/v1/videos/{video_id}", "root").status_code == 200
    assert api.call("DELETE", f"/v1/videos/{video_id}").status_code == 204
    assert api.call("GET", f"/v1/jobs/{job_id}").status_code == 404


def test_an_analysis_job_runs_and_its_report_is_kept(api: Api, small_video: bytes) -> None:
    video_id = api.upload(small_video, name="wall.mp4").json()["id"]
    assert api.call("POST", "/v1/jobs", json={"video_id": video_id, "exercise": "no-such"}).status_code == 422
    created = api.call("POST", "/v1/jobs", json={"video_id": video_id, "exercise": "squat"}).json()
    assert created["state"] in ("queued", "running") and created["progress"] < 1.0
    job = api.wait(created["id"])
    assert job["state"] == "done" and job["progress"] == 1.0 and job["attempts"] == 1, job
    report = api.call("GET", f"/v1/jobs/{job['id']}/report").json()
    assert report["exercise"]["name"] == "squat" and report["reps"]["count"] == 0  # nobody in the noise
    assert report["input"]["path"] == "wall.mp4" and report["input"]["frames"] == 6
    assert api.call("GET", "/v1/jobs?state=done").json()[0]["id"] == job["id"]
    history = api.call("GET", "/v1/history").json()
    assert [(h["job_id"], h["exercise"], h["rep_count"]) for h in history] == [(job["id"], "squat", 0)]


def test_unfinished_jobs_have_no_report(api: Api, small_video: bytes) -> None:
    runner = api.client.app.state.runner  # type: ignore[attr-defined]
    runner.submit = lambda job_id: None  # keep the job queued
    video_id = api.upload(small_video).json()["id"]
    job_id = api.call("POST", "/v1/jobs", json={"video_id": video_id}).json()["id"]
    answer = api.call("GET", f"/v1/jobs/{job_id}/report")
    assert answer.status_code == 409 and "queued" in answer.json()["detail"]


@pytest.mark.parametrize("key", ["../x.mp4", "videos/../../etc/passwd", "/etc/passwd", "videos/abc.mp4",
                                 "videos/" + "a" * 32 + "/../../x.mp4"])
def test_storage_keys_cannot_leave_the_storage_folder(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).path(key)
    good = LocalStorage.new_key("videos", ".mp4")
    assert LocalStorage(tmp_path).path(good).is_relative_to(tmp_path.resolve())
