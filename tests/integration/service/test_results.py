"""Job kinds and their results on SQLite with local storage: what each kind stores, how results are served
(range requests for videos), the history over time, and requests refused with a reason.

Poses come from a synthetic squat (`tests.synthetic`) in place of the pose model, so the plumbing is tested
in seconds; `test_serve` runs the real pose model end to end."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from posecoach.core.sequence import PoseSequence
from tests.integration.service.conftest import Api
from tests.synthetic import make_exercise

PNG = b"\x89PNG"


@pytest.fixture
def squats(monkeypatch: pytest.MonkeyPatch) -> PoseSequence:
    """Every pose estimation of the service gives 3 synthetic squats (2 s each, then 1 s standing; 10 fps)."""
    seq = make_exercise("squat", reps=3, period_s=2.0, fps=10.0, rest_s=1.0)
    monkeypatch.setattr("posecoach.pose.engine.load_sequence", lambda *a, **k: seq)
    return seq


def run_job(api: Api, body: dict[str, Any], who: str = "alice") -> dict[str, Any]:
    made = api.call("POST", "/v1/jobs", who, json=body)
    assert made.status_code == 202, made.text
    job = api.wait(made.json()["id"], who)
    assert job["state"] == "done", job
    return job


def results(api: Api, job_id: str, who: str = "alice") -> dict[str, str]:
    listed = api.call("GET", f"/v1/jobs/{job_id}/results", who)
    assert listed.status_code == 200
    return {r["kind"]: r["media_type"] for r in listed.json()}


def fetch(api: Api, job_id: str, kind: str, who: str = "alice", **kw: Any) -> Any:
    answer = api.call("GET", f"/v1/jobs/{job_id}/results/{kind}", who, **kw)
    assert answer.status_code in (200, 206), (kind, answer.text)
    return answer


def test_an_analysis_stores_report_csv_plot_overlay_and_poses(api: Api, small_video: bytes, squats: PoseSequence
                                                              ) -> None:
    video_id = api.upload(small_video, name="squats.mp4").json()["id"]
    job = run_job(api, {"video_id": video_id, "exercise": "squat"})
    assert results(api, job["id"]) == {"report": "application/json", "csv": "text/csv", "plot": "image/png",
                                       "overlay": "video/mp4", "poses": "application/octet-stream",
                                       "series": "application/json"}
    report = fetch(api, job["id"], "report").json()
    assert report["reps"]["count"] == 3 and report["input"]["path"] == "squats.mp4"
    rows = list(csv.DictReader(io.StringIO(fetch(api, job["id"], "csv").text)))
    assert [int(r["rep"]) for r in rows] == [1, 2, 3] and all(float(r["duration_s"]) > 1.0 for r in rows)
    assert fetch(api, job["id"], "plot").content.startswith(PNG)
    series = fetch(api, job["id"], "series").json()  # the plot's data, for interactive charts
    assert len(series["times"]) == len(series["frames"]) == squats.num_frames
    counting = [s for s in series["series"] if s["counting"]]
    assert [s["name"] for s in counting] == [report["reps"]["signal"]]
    assert all(len(s["values"]) == squats.num_frames for s in series["series"])
    overlay = fetch(api, job["id"], "overlay").content
    assert overlay[4:8] == b"ftyp"
    part = fetch(api, job["id"], "overlay", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == overlay[:100]
    poses = fetch(api, job["id"], "poses")
    assert "attachment" in poses.headers["content-disposition"]
    assert api.call("GET", f"/v1/jobs/{job['id']}/report").json() == report  # the first API's route stays
    [item] = api.call("GET", "/v1/history").json()
    assert (item["kind"], item["exercise"], item["rep_count"]) == ("analyze", "squat", 3)
    assert item["rep_confidence"] == report["reps"]["confidence"]  # how sure the count is, beside it (0004)
    assert item["error_count"] == sum(len(r["errors"]) for r in report["reps"]["items"])


def test_pose_and_falls_jobs(api: Api, small_video: bytes, squats: PoseSequence, tmp_path: Any) -> None:
    video_id = api.upload(small_video).json()["id"]
    pose = run_job(api, {"video_id": video_id, "kind": "pose"})
    assert set(results(api, pose["id"])) == {"report", "poses", "csv", "overlay"}
    (tmp_path / "p.npz").write_bytes(fetch(api, pose["id"], "poses").content)
    assert PoseSequence.load(tmp_path / "p.npz").equals(squats)
    info = fetch(api, pose["id"], "report").json()
    assert info["frames"] == squats.num_frames and info["people"] == 1 and info["detection_rate"] == 1.0
    falls = run_job(api, {"video_id": video_id, "kind": "falls", "threshold": 0.8})
    assert set(results(api, falls["id"])) == {"report", "poses", "csv", "plot", "overlay"}  # overlay: issue 26
    assert fetch(api, falls["id"], "overlay").headers["content-type"] == "video/mp4"
    report = fetch(api, falls["id"], "report").json()
    assert report["detector"]["threshold"] == 0.8 and report["events"] == []  # squats are no fall
    frames = list(csv.DictReader(io.StringIO(fetch(api, falls["id"], "csv").text)))
    assert len(frames) == squats.num_frames and all(0.0 <= float(f["probability"]) <= 1.0 for f in frames)
    kinds = {h["kind"]: h for h in api.call("GET", "/v1/history").json()}
    assert kinds["falls"]["fall_count"] == 0 and kinds["pose"]["rep_count"] is None
    assert kinds["pose"]["rep_confidence"] is None


def test_job_requests_are_checked_per_kind(api: Api, small_video: bytes) -> None:
    video_id = api.upload(small_video).json()["id"]
    refused = {
        "unknown kind": ({"video_id": video_id, "kind": "magic"}, 422),
        "field of another kind": ({"video_id": video_id, "kind": "pose", "exercise": "squat"}, 422),
        "threshold out of range": ({"video_id": video_id, "kind": "falls", "threshold": 2}, 422),
        "compare without reference": ({"video_id": video_id, "kind": "compare"}, 422),
        "no such reference": ({"video_id": video_id, "kind": "compare", "reference_id": "0" * 32}, 404),
        "no such posture model": ({"video_id": video_id, "kind": "posture", "model_id": "0" * 32}, 404),
        "count of one posture": ({"video_id": video_id, "kind": "posture", "model_id": "x", "count": ["a"]}, 422),
    }
    for name, (body, code) in refused.items():
        answer = api.call("POST", "/v1/jobs", json=body)
        assert answer.status_code == code, (name, answer.text)
        assert answer.json()["detail"], name
    assert api.call("GET", "/v1/jobs").json() == []


def test_results_before_the_end_and_of_other_kinds(api: Api, small_video: bytes, squats: PoseSequence) -> None:
    runner = api.client.app.state.runner  # type: ignore[attr-defined]
    submit = runner.submit
    runner.submit = lambda job_id: None  # keep it queued
    video_id = api.upload(small_video).json()["id"]
    job_id = api.call("POST", "/v1/jobs", json={"video_id": video_id, "kind": "pose"}).json()["id"]
    assert api.call("GET", f"/v1/jobs/{job_id}/results").json() == []
    waiting = api.call("GET", f"/v1/jobs/{job_id}/results/overlay")
    assert waiting.status_code == 409 and "queued" in waiting.json()["detail"]
    submit(job_id)
    api.wait(job_id)
    assert api.call("GET", f"/v1/jobs/{job_id}/results/side_by_side").status_code == 404  # not made by pose
    assert api.call("GET", f"/v1/jobs/{job_id}/results/secrets").status_code == 422
    assert api.call("GET", f"/v1/jobs/{job_id}/results/overlay", "bob").status_code == 404
