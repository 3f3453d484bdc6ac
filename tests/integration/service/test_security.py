"""Cross-user access and path traversal, over every route of the OpenAPI schema that takes an id: another
user's video, job, result, reference, posture model, alert or programme answers 404 (as one that does not
exist), a clinician reads their linked patients' data only, and no request names a file outside storage."""

from __future__ import annotations

import json
from typing import Any

from posecoach.core.sequence import PoseSequence
from posecoach.service import alerts_db, library_db, live_db
from tests.integration.service.conftest import Api
from tests.integration.service.test_library import _link, _made
from tests.integration.service.test_results import run_job, squats  # noqa: F401  (squats: a fixture)

METHODS = ("get", "delete", "post", "put", "patch")


def bobs_data(api: Api, video: bytes) -> dict[str, str]:
    """Bob's video, finished job, ready guide, posture model and care link: the ids for every path parameter."""
    video_id = api.upload(video, "bob").json()["id"]
    job = run_job(api, {"video_id": video_id, "kind": "pose"}, "bob")
    ref = _made(api, "/v1/references", {"video_id": video_id, "name": "bobs-guide"}, "bob")
    ranges = [{"start_s": max(t - 0.3, 0.0), "end_s": t + 0.3, "label": "down" if t % 2 else "up"} for t in range(7)]
    model = _made(api, "/v1/posture-models", {"name": "bobs-model", "videos": [{"video_id": video_id,
                                                                                 "ranges": ranges}]}, "bob")
    dan = api.call("POST", "/v1/users", "root", json={"name": "dan", "role": "clinician"}).json()
    api.keys["dan"] = dan["api_key"]  # another clinician, who invites bob: a care link of bob's
    link = api.call("POST", "/v1/care-links", "dan", json={"patient": "bob"}).json()
    key_id = api.call("GET", "/v1/keys", "bob").json()[0]["id"]  # bob's API key
    db = api.client.app.state.db  # type: ignore[attr-defined]
    live = live_db.save(db, db.user_for_key(api.keys["bob"]), live_db.Finished(  # a live set bob kept in History
        exercise="squat", title="Squat", count=3, count_confidence=1.0, hold_s=None, target=None, duration_s=9.0,
        reps=[]))
    fall = alerts_db.record_live(db, live.owner_id, live.id, alerts_db.Fired(1, 3.0, 2.5, "down", True, 0.9))
    eve = api.call("POST", "/v1/users", "root", json={"name": "eve", "role": "clinician"}).json()
    api.keys["eve"] = eve["api_key"]  # bob's clinician (he accepts her care), who prescribes him a programme
    _link(api, "eve", "bob")
    eve_id = db.user_for_key(eve["api_key"]).id
    guide = library_db.add_ready_guide(db, eve_id, json.dumps({"name": "eves-guide"}), "guides/e.npz", 30, 1.0)
    programme = api.call("POST", "/v1/programmes", "eve", json={
        "patient": "bob", "title": "Knees", "start_date": "2026-11-30",
        "items": [{"guide_id": guide, "sets": 1, "reps": 5, "per_week": 3}]}).json()
    return {"video_id": video_id, "job_id": job["id"], "reference_id": str(ref["id"]),
            "model_id": str(model["id"]), "kind": "report", "link_id": str(link["id"]), "key_id": key_id,
            "name": "bob", "user": "bob", "live_id": live.id, "alert_id": fall, "programme_id": programme["id"],
            "number": "1", "guide_id": guide}


def refusal(path: str) -> int:
    """What another user gets: 404, as for an id that does not exist; 403 on the admins' account routes."""
    return 403 if path.startswith("/v1/users/{") else 404


def id_routes(api: Api) -> list[tuple[str, str]]:
    """(method, path with the ids filled in) of every route with a path parameter."""
    schema = api.call("GET", "/openapi.json", None).json()
    return [(m.upper(), path) for path, ops in schema["paths"].items() if "{" in path for m in ops if m in METHODS]


def body(method: str, path: str, ids: dict[str, str]) -> dict[str, Any] | None:
    """A valid body for the routes that need one (else FastAPI answers 422 before the route can say 404)."""
    if (method, path) == ("PUT", "/v1/programmes/{programme_id}"):
        return {"title": "Mine now", "start_date": "2026-11-30",
                "items": [{"guide_id": ids["guide_id"], "sets": 1, "reps": 5, "per_week": 3}]}
    if (method, path) == ("POST", "/v1/programmes/{programme_id}/sessions"):
        return {"client_id": "stolen-session", "started_at": "2026-12-01T08:00:00Z",
                "finished_at": "2026-12-01T08:10:00Z", "complete": True}
    return None


def call(api: Api, method: str, path: str, ids: dict[str, str], who: str) -> Any:
    return api.call(method, path.format(**ids), who, json=body(method, path, ids))


def test_every_route_with_an_id_hides_other_users_data(api: Api, small_video: bytes,
                                                       squats: PoseSequence) -> None:  # noqa: F811
    ids = bobs_data(api, small_video)
    routes = id_routes(api)
    assert len(routes) >= 11  # videos 3, jobs and results 4, references 2, posture models 2
    reads = [(m, p) for m, p in routes if m == "GET"]
    for who in ("alice", "carol"):  # a user, and a clinician bob is not a patient of
        for method, path in routes:
            answer = call(api, method, path, ids, who)
            assert answer.status_code == refusal(path), (who, method, path, answer.text)
    for method, path in reads:
        assert call(api, method, path, ids, "bob").status_code == 200, path  # still all there
    bodies = [("/v1/jobs", {"video_id": ids["video_id"], "kind": "pose"}),
              ("/v1/references", {"video_id": ids["video_id"], "name": "stolen"}),
              ("/v1/posture-models", {"name": "stolen", "videos": [{"video_id": ids["video_id"], "ranges": [
                  {"start_s": 0, "end_s": 1, "label": "a"}, {"start_s": 1, "end_s": 2, "label": "b"}]}]})]
    alice_video = api.upload(small_video).json()["id"]
    bodies += [("/v1/jobs", {"video_id": alice_video, "kind": "compare", "reference_id": ids["reference_id"]}),
               ("/v1/jobs", {"video_id": alice_video, "kind": "posture", "model_id": ids["model_id"]})]
    for url, body in bodies:
        assert api.call("POST", url, "alice", json=body).status_code == 404, (url, body)
    bob_id = api.call("GET", "/v1/me", "bob").json()["id"]
    assert api.call("GET", f"/v1/history?user_id={bob_id}", "alice").status_code == 404
    assert api.call("GET", f"/v1/history?user_id={bob_id}", "carol").status_code == 404
    assert api.call("GET", "/v1/history?patient=bob", "carol").status_code == 404
    for listing in ("/v1/videos", "/v1/jobs", "/v1/references", "/v1/posture-models", "/v1/alerts"):
        assert [x["id"] for x in api.call("GET", listing, "carol").json()] == [], listing
    # once bob is carol's patient she reads his data (and he her guides), but deletes nothing of his
    _link(api, "carol", "bob")
    for method, path in reads:  # a programme is read by its patient and the clinician who prescribed it only
        expected = 404 if path.startswith("/v1/programmes/") else 200
        assert call(api, method, path, ids, "carol").status_code == expected, path
    assert api.call("GET", f"/v1/history?user_id={bob_id}", "carol").json()
    for method, path in routes:
        if method == "DELETE":
            assert call(api, method, path, ids, "carol").status_code == refusal(path), path
    assert all(call(api, "GET", p, ids, "alice").status_code == 404 for _, p in reads)  # alice: still nothing


TRAVERSALS = ["/v1/videos/..%2F..%2Fetc%2Fpasswd", "/v1/videos/../../etc/passwd",
              "/v1/jobs/%2e%2e%2f%2e%2e%2fetc/report", "/v1/jobs/..%2F..%2Fposecoach.db/results/report",
              "/v1/references/..%2F..%2Fposecoach.db", "/v1/posture-models/%2Fetc%2Fpasswd", "/v1/videos/%00/file"]


def test_path_traversal_in_ids_finds_nothing(api: Api) -> None:
    for path in TRAVERSALS:
        answer = api.call("GET", path)
        assert answer.status_code in (404, 422), (path, answer.status_code)
        assert "root:" not in answer.text and "SQLite" not in answer.text


def test_path_traversal_in_names_and_kinds_is_refused(api: Api, small_video: bytes) -> None:
    video_id = api.upload(small_video, name="..%2F..%2Fevil.mp4").json()["id"]
    assert "/" not in api.call("GET", f"/v1/videos/{video_id}").json()["filename"]
    for kind in ("..%2F..%2Fposecoach.db", "..", "report%2F..%2F..%2Fposecoach.db"):
        assert api.call("GET", f"/v1/jobs/{'a' * 32}/results/{kind}").status_code in (404, 422), kind
    for name in ("../guide", "..", "/etc/passwd", "a/b", "x" * 65):
        answer = api.call("POST", "/v1/references", json={"video_id": video_id, "name": name})
        assert answer.status_code == 422, name
    ranges = [{"start_s": 0, "end_s": 1, "label": "../up"}, {"start_s": 1, "end_s": 2, "label": "down"}]
    answer = api.call("POST", "/v1/posture-models", json={"name": "m", "videos": [{"video_id": video_id,
                                                                                    "ranges": ranges}]})
    assert answer.status_code == 422
