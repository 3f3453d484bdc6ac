"""The reference library and posture models through the API: made by jobs from the caller's videos, used by
``compare`` and ``posture`` jobs, shared by a clinician with their patients only, deleted by their owner."""

from __future__ import annotations

import json

from posecoach.core.sequence import PoseSequence
from tests.integration.service.conftest import Api
from tests.integration.service.test_results import fetch, results, run_job, squats  # noqa: F401  (squats: a fixture)


def _made(api: Api, url: str, body: dict[str, object], who: str) -> dict[str, object]:
    made = api.call("POST", url, who, json=body)
    assert made.status_code == 202, made.text
    assert made.json()["state"] in ("queued", "running", "ready")
    api.wait(str(made.json()["job_id"]), who)
    ready = api.call("GET", f"{url}/{made.json()['id']}", who).json()
    assert ready["state"] == "ready", ready
    return dict(ready)


def _link(api: Api, clinician: str, patient: str) -> None:
    """``clinician`` invites ``patient``, who accepts: a care link with consent."""
    invited = api.call("POST", "/v1/care-links", clinician, json={"patient": patient})
    assert invited.status_code == 201, invited.text
    assert api.call("POST", f"/v1/care-links/{invited.json()['id']}/accept", patient).status_code == 200


def test_a_clinicians_guide_is_compared_with_by_their_patient_only(api: Api, small_video: bytes,
                                                                   squats: PoseSequence) -> None:  # noqa: F811
    guide_video = api.upload(small_video, "carol", name="guide.mp4").json()["id"]
    body = {"video_id": guide_video, "name": "squat-guide", "description": "slow squats", "joints": ["left_knee"],
            "reps": 3}
    ref = _made(api, "/v1/references", body, "carol")
    assert (ref["frames"], ref["reps"], ref["joints"]) == (squats.num_frames, 3, ["left_knee"])
    assert api.call("POST", "/v1/references", "carol", json=body).status_code == 409  # the name is taken
    _link(api, "carol", "alice")
    assert [r["id"] for r in api.call("GET", "/v1/references").json()] == [ref["id"]]  # alice sees her clinician's
    assert api.call("GET", "/v1/references", "bob").json() == []
    played = api.call("GET", f"/v1/references/{ref['id']}/video")  # the guide's video plays for the patient
    assert played.status_code == 200 and played.content == small_video
    assert api.call("GET", f"/v1/references/{ref['id']}/video", "bob").status_code == 404  # not his clinician's
    video_id = api.upload(small_video, name="attempt.mp4").json()["id"]
    job = run_job(api, {"video_id": video_id, "kind": "compare", "reference_id": ref["id"]})
    assert set(results(api, job["id"])) == {"report", "poses", "plot", "side_by_side"}
    report = fetch(api, job["id"], "report").json()
    assert report["score"] > 95 and report["reference"]["name"] == "squat-guide"  # the same squats
    assert fetch(api, job["id"], "side_by_side").content[4:8] == b"ftyp"
    history = api.call("GET", "/v1/history?patient=alice", "carol").json()
    assert [(h["kind"], h["exercise"], h["score"]) for h in history] == [("compare", "squat-guide", report["score"])]
    assert api.call("GET", "/v1/history?patient=alice", "bob").status_code == 404
    assert api.call("GET", "/v1/history?patient=alice", "root").json() == history
    bob_video = api.upload(small_video, "bob").json()["id"]
    for method, url, body2 in (("GET", f"/v1/references/{ref['id']}", None),
                               ("DELETE", f"/v1/references/{ref['id']}", None),
                               ("POST", "/v1/jobs", {"video_id": bob_video, "kind": "compare",
                                                     "reference_id": ref["id"]})):
        assert api.call(method, url, "bob", json=body2).status_code == 404, url
    assert api.call("DELETE", f"/v1/references/{ref['id']}", "alice").status_code == 404  # not hers to delete
    assert api.call("DELETE", f"/v1/references/{ref['id']}", "carol").status_code == 204
    assert api.call("GET", "/v1/references").json() == []
    assert api.call("GET", f"/v1/jobs/{job['id']}/results/report").status_code == 200  # results are kept


def test_a_posture_model_is_trained_and_counts_repetitions(api: Api, small_video: bytes,
                                                           squats: PoseSequence) -> None:  # noqa: F811
    video_id = api.upload(small_video).json()["id"]
    ranges = [{"start_s": max(t - 0.3, 0.0), "end_s": t + 0.3, "label": "down" if t % 2 else "up"}
              for t in range(7)]  # standing at 0, 2, 4, 6 s, at the bottom at 1, 3, 5 s
    body = {"name": "squat-postures", "videos": [{"video_id": video_id, "ranges": ranges}], "algorithm": "logreg"}
    model = _made(api, "/v1/posture-models", body, "alice")
    assert model["classes"] == ["down", "up"] and model["algorithm"] == "logreg" and model["frames"] > 20
    assert model["cv_accuracy"] > 0.9  # one video: cross-validated by holding out each labelled range
    job = run_job(api, {"video_id": video_id, "kind": "posture", "model_id": model["id"], "count": ["up", "down"]})
    assert set(results(api, job["id"])) == {"report", "poses", "csv", "plot"}
    report = fetch(api, job["id"], "report").json()
    assert report["repetitions"]["count"] == 3
    assert fetch(api, job["id"], "csv").text.splitlines()[0] == "frame,time_s,posture,raw,p_down,p_up"
    assert api.call("GET", "/v1/history").json()[0]["rep_count"] == 3
    bad_count = {"video_id": video_id, "kind": "posture", "model_id": model["id"], "count": ["up", "sideways"]}
    assert api.call("POST", "/v1/jobs", json=bad_count).status_code == 422
    assert api.call("GET", f"/v1/posture-models/{model['id']}", "bob").status_code == 404
    assert api.call("GET", "/v1/posture-models", "bob").json() == []
    bob_video = api.upload(small_video, "bob").json()["id"]
    use = {"video_id": bob_video, "kind": "posture", "model_id": model["id"]}
    assert api.call("POST", "/v1/jobs", "bob", json=use).status_code == 404
    assert api.call("DELETE", f"/v1/posture-models/{model['id']}", "bob").status_code == 404
    assert api.call("DELETE", f"/v1/posture-models/{model['id']}").status_code == 204
    assert api.call("POST", "/v1/jobs", json={**use, "video_id": video_id}).status_code == 404


BAD_MODELS = [  # (change to a valid request, answer)
    ({"videos": [{"video_id": "VIDEO", "ranges": [{"start_s": 0, "end_s": 1, "label": "up"}]}]}, 422),  # 1 posture
    ({"videos": [{"video_id": "VIDEO", "ranges": [{"start_s": 2, "end_s": 1, "label": "up"}]}]}, 422),  # reversed
    ({"videos": [{"video_id": "0" * 32, "ranges": [{"start_s": 0, "end_s": 1, "label": "up"},
                                                   {"start_s": 1, "end_s": 2, "label": "down"}]}]}, 404),
    ({"name": "../../etc"}, 422),
    ({"algorithm": "deep"}, 422),
    ({"videos": []}, 422),
]


def test_bad_posture_model_requests_are_refused(api: Api, small_video: bytes) -> None:
    video_id = api.upload(small_video).json()["id"]
    for change, code in BAD_MODELS:
        body = {"name": "m", "videos": [{"video_id": video_id, "ranges": [
            {"start_s": 0, "end_s": 1, "label": "up"}, {"start_s": 1, "end_s": 2, "label": "down"}]}], **change}
        answer = api.call("POST", "/v1/posture-models", json=json.loads(json.dumps(body).replace("VIDEO", video_id)))
        assert answer.status_code == code, (change, answer.text)
    assert api.call("GET", "/v1/posture-models").json() == [] and api.call("GET", "/v1/jobs").json() == []


def test_a_guide_of_nobody_fails_with_the_reason(api: Api, small_video: bytes) -> None:
    video_id = api.upload(small_video).json()["id"]  # moving noise: the real pose model finds nobody
    made = api.call("POST", "/v1/references", json={"video_id": video_id, "name": "noise"}).json()
    job = api.wait(made["job_id"])
    assert job["state"] == "failed" and "nobody" in job["error"]
    ref = api.call("GET", f"/v1/references/{made['id']}").json()
    assert ref["state"] == "failed" and "nobody" in ref["error"]
    bad = api.call("POST", "/v1/references", json={"video_id": video_id, "name": "x", "joints": ["tail"]})
    assert bad.status_code == 422 and "tail" in bad.json()["detail"]
    refused = api.call("POST", "/v1/jobs", json={"video_id": video_id, "kind": "compare", "reference_id": made["id"]})
    assert refused.status_code == 409 and "failed" in refused.json()["detail"]
