"""Issue 25, the first finding: any clinician linked any account as a patient (``POST /v1/patients
{patient_id}`` -> 204), admins included, and then read all of that person's videos, reports and history, the
person neither asked nor able to see or undo it; user ids leaked through the ``owner_id`` of guides and posture
models. Now a clinician invites by username, only the patient's acceptance gives access, either side sees and
ends the link, and no answer names another user's id.

Each test here fails on the code before care links had consent: the old route linked at once (204) and the
reads that follow answered 200, and guides carried their owner's id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from posecoach.core.sequence import PoseSequence
from tests.integration.service.conftest import Api, ApiFactory
from tests.integration.service.test_library import _made
from tests.integration.service.test_results import run_job, squats  # noqa: F401  (squats: a fixture)


@pytest.fixture
def api_on(api_factory: ApiFactory, db_url: str) -> Iterator[Api]:
    """The app on each database the service tests use (SQLite, PostgreSQL, MariaDB)."""
    yield api_factory(database_url=db_url)


def _ids(api: Api) -> dict[str, str]:
    return {who: api.call("GET", "/v1/me", who).json()["id"] for who in api.keys}


def _alices_data(api: Api, video: bytes) -> dict[str, str]:
    """Alice's video and a finished job of hers (with its report), the URLs of her data."""
    video_id = api.upload(video).json()["id"]
    job = run_job(api, {"video_id": video_id, "kind": "pose"})
    return {"video": f"/v1/videos/{video_id}", "file": f"/v1/videos/{video_id}/file", "job": f"/v1/jobs/{job['id']}",
            "report": f"/v1/jobs/{job['id']}/report", "results": f"/v1/jobs/{job['id']}/results",
            "history": "/v1/history?patient=alice"}


def _reads(api: Api, who: str, urls: dict[str, str]) -> dict[str, int]:
    return {name: api.call("GET", url, who).status_code for name, url in urls.items()}


def _invite(api: Api, clinician: str, patient: str) -> dict[str, Any]:
    answer = api.call("POST", "/v1/care-links", clinician, json={"patient": patient})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_a_clinician_reads_nothing_of_a_patient_without_their_consent(api_on: Api, small_video: bytes,
                                                                      squats: PoseSequence) -> None:  # noqa: F811
    api = api_on
    urls = _alices_data(api, small_video)
    ids = _ids(api)
    # the old way: link by id, no consent asked; it must no longer link anyone
    old = api.call("POST", "/v1/patients", "carol", json={"patient_id": ids["alice"]})
    assert old.status_code != 204 and old.status_code >= 400, old.text
    assert set(_reads(api, "carol", urls).values()) == {404}
    # an invitation alone gives nothing either
    link = _invite(api, "carol", "alice")
    assert link["state"] == "pending" and (link["clinician"], link["patient"]) == ("carol", "alice")
    assert set(_reads(api, "carol", urls).values()) == {404}
    assert api.call("GET", f"/v1/history?user_id={ids['alice']}", "carol").status_code == 404
    assert api.call("GET", "/v1/videos", "carol").json() == [] and api.call("GET", "/v1/jobs", "carol").json() == []
    assert api.call("GET", "/v1/patients", "carol").json() == []
    # alice sees who asks, and only her acceptance opens her data
    [seen] = api.call("GET", "/v1/care-links").json()
    assert (seen["id"], seen["clinician"], seen["state"]) == (link["id"], "carol", "pending")
    assert api.call("POST", f"/v1/care-links/{link['id']}/accept").json()["state"] == "accepted"
    assert set(_reads(api, "carol", urls).values()) == {200}
    assert [p["name"] for p in api.call("GET", "/v1/patients", "carol").json()] == ["alice"]
    # bob, a bystander, still sees nothing of it
    assert set(_reads(api, "bob", urls).values()) == {404}
    assert api.call("GET", "/v1/care-links", "bob").json() == []


def test_nobody_links_an_admin_or_a_clinician_without_their_consent(api: Api, small_video: bytes) -> None:
    dan = api.call("POST", "/v1/users", "root", json={"name": "dan", "role": "clinician"}).json()
    api.keys["dan"] = dan["api_key"]
    ids = _ids(api)
    roots_video = api.upload(small_video, "root").json()["id"]
    dans_video = api.upload(small_video, "dan").json()["id"]
    # the old route linked both at once; no request links them now
    for who in ("root", "dan"):
        assert api.call("POST", "/v1/patients", "carol", json={"patient_id": ids[who]}).status_code >= 400
    refused = api.call("POST", "/v1/care-links", "carol", json={"patient": "root"})
    assert refused.status_code == 403 and "administrator" in refused.json()["detail"]
    assert api.call("GET", "/v1/care-links", "root").json() == []
    assert api.call("GET", f"/v1/videos/{roots_video}", "carol").status_code == 404
    # a clinician may be another's patient, but only by accepting
    link = _invite(api, "carol", "dan")
    assert api.call("GET", f"/v1/videos/{dans_video}", "carol").status_code == 404
    assert api.call("GET", "/v1/history?patient=dan", "carol").status_code == 404
    assert [x["id"] for x in api.call("GET", "/v1/care-links", "dan").json()] == [link["id"]]
    assert api.call("DELETE", f"/v1/care-links/{link['id']}", "dan").status_code == 204  # dan declines
    assert api.call("GET", f"/v1/videos/{dans_video}", "carol").status_code == 404
    assert api.call("GET", "/v1/care-links", "carol").json() == []
    # only clinicians invite; an admin does not, a user does not
    for who in ("root", "alice"):
        assert api.call("POST", "/v1/care-links", who, json={"patient": "bob"}).status_code == 403, who


def _leaks(api: Api, viewers: tuple[str, ...], urls: list[str]) -> tuple[int, list[tuple[str, str, str]]]:
    """(answers read, [(viewer, url, whose id)]) over the JSON answers of ``urls`` that ``viewers`` may read."""
    ids = _ids(api)
    read, leaks = 0, []
    for viewer in viewers:
        for url in urls:
            answer = api.call("GET", url, viewer)
            if answer.status_code != 200 or not answer.headers["content-type"].startswith("application/json"):
                continue
            read += 1
            leaks += [(viewer, url, who) for who, user_id in ids.items() if who != viewer and user_id in answer.text]
    return read, leaks


def test_no_answer_names_another_users_id(api: Api, small_video: bytes,
                                          squats: PoseSequence) -> None:  # noqa: F811
    guide_video = api.upload(small_video, "carol").json()["id"]
    guide = _made(api, "/v1/references", {"video_id": guide_video, "name": "squat-guide"}, "carol")
    ranges = [{"start_s": max(t - 0.3, 0.0), "end_s": t + 0.3, "label": "down" if t % 2 else "up"} for t in range(7)]
    model = _made(api, "/v1/posture-models", {"name": "squats", "videos": [{"video_id": guide_video,
                                                                             "ranges": ranges}]}, "carol")
    urls = ["/v1/references", f"/v1/references/{guide['id']}", "/v1/posture-models",
            f"/v1/posture-models/{model['id']}", "/v1/history", "/v1/patients", "/v1/care-links", "/v1/videos",
            "/v1/jobs", "/v1/me", *_alices_data(api, small_video).values()]
    assert _leaks(api, ("root",), urls)[1] == []  # an admin reads everyone's guides: by owner name only
    link = _invite(api, "carol", "alice")
    api.call("POST", f"/v1/care-links/{link['id']}/accept")
    _invite(api, "carol", "bob")  # pending: bob sees it too
    read, leaks = _leaks(api, ("alice", "bob", "carol", "root"), urls)
    assert read >= 40 and leaks == []
    assert guide["owner"] == "carol" and model["owner"] == "carol" and "owner_id" not in guide
    assert [r["owner"] for r in api.call("GET", "/v1/references").json()] == ["carol"]  # alice: her clinician's
    assert [p["name"] for p in api.call("GET", "/v1/patients", "root").json()] == ["alice", "bob", "carol"]
    made = api.call("POST", "/v1/users", "root", json={"name": "dave"})  # an admin makes an account: by name
    assert made.status_code == 201 and made.json()["user"]["name"] == "dave" and "id" not in made.json()["user"]


def test_invitation_accept_decline_withdraw_and_end(api: Api, small_video: bytes,
                                                    squats: PoseSequence) -> None:  # noqa: F811
    urls = _alices_data(api, small_video)
    alice_id = _ids(api)["alice"]
    assert api.call("POST", "/v1/care-links", "carol", json={"patient": alice_id}).status_code == 404  # names only
    assert api.call("POST", "/v1/care-links", "carol", json={"patient": "nobody"}).status_code == 404
    assert api.call("POST", "/v1/care-links", "carol", json={"patient": "carol"}).status_code == 409
    # alice declines
    first = _invite(api, "carol", "alice")
    assert api.call("POST", "/v1/care-links", "carol", json={"patient": "alice"}).status_code == 409  # once
    assert api.call("POST", f"/v1/care-links/{first['id']}/accept", "carol").status_code == 403  # not hers to
    for who in ("bob", "root"):  # no side of it
        assert api.call("POST", f"/v1/care-links/{first['id']}/accept", who).status_code == 404
        assert api.call("DELETE", f"/v1/care-links/{first['id']}", who).status_code == 404
    assert api.call("DELETE", f"/v1/care-links/{first['id']}").status_code == 204
    assert api.call("GET", "/v1/care-links", "carol").json() == []
    assert api.call("POST", f"/v1/care-links/{first['id']}/accept").status_code == 404  # declined is gone
    # carol withdraws
    second = _invite(api, "carol", "alice")
    assert api.call("DELETE", f"/v1/care-links/{second['id']}", "carol").status_code == 204
    assert api.call("GET", "/v1/care-links").json() == []
    # accepted, then carol ends it: her access ends at once
    third = _invite(api, "carol", "alice")
    accepted = api.call("POST", f"/v1/care-links/{third['id']}/accept").json()
    assert accepted["state"] == "accepted" and accepted["accepted_at"]
    assert api.call("POST", f"/v1/care-links/{third['id']}/accept").json() == accepted  # again: no change
    assert api.call("POST", "/v1/care-links", "carol", json={"patient": "alice"}).status_code == 409
    assert set(_reads(api, "carol", urls).values()) == {200}
    for who in ("alice", "carol"):
        assert [(x["clinician"], x["patient"], x["state"]) for x in api.call("GET", "/v1/care-links", who).json()
                ] == [("carol", "alice", "accepted")]
    assert api.call("DELETE", f"/v1/care-links/{third['id']}", "carol").status_code == 204
    assert set(_reads(api, "carol", urls).values()) == {404}
    # accepted again, then alice ends it
    fourth = _invite(api, "carol", "alice")
    api.call("POST", f"/v1/care-links/{fourth['id']}/accept")
    assert api.call("GET", urls["report"], "carol").status_code == 200
    assert api.call("DELETE", f"/v1/care-links/{fourth['id']}").status_code == 204
    assert set(_reads(api, "carol", urls).values()) == {404}
    assert api.call("GET", "/v1/patients", "carol").json() == []
    assert api.call("DELETE", f"/v1/care-links/{fourth['id']}").status_code == 404


def test_a_patient_sees_a_clinicians_guides_only_while_linked(api: Api, small_video: bytes,
                                                              squats: PoseSequence) -> None:  # noqa: F811
    guide_video = api.upload(small_video, "carol").json()["id"]
    guide = _made(api, "/v1/references", {"video_id": guide_video, "name": "squat-guide"}, "carol")
    own_video = api.upload(small_video).json()["id"]
    compare = {"video_id": own_video, "kind": "compare", "reference_id": guide["id"]}
    link = _invite(api, "carol", "alice")
    assert api.call("GET", "/v1/references").json() == []  # pending: nothing shared yet
    assert api.call("POST", "/v1/jobs", json=compare).status_code == 404
    api.call("POST", f"/v1/care-links/{link['id']}/accept")
    assert [r["id"] for r in api.call("GET", "/v1/references").json()] == [guide["id"]]
    assert api.call("DELETE", f"/v1/care-links/{link['id']}").status_code == 204
    assert api.call("GET", "/v1/references").json() == []
    assert api.call("GET", f"/v1/references/{guide['id']}").status_code == 404
