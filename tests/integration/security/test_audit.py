"""The audit log (issue 25) on SQLite, PostgreSQL and MariaDB: a clinician reading a linked patient's videos,
jobs, results and history, care-link changes and deletions are recorded; the patient sees the events about their
data (``GET /v1/me/audit``), nobody else's; the admin reads, filters and pages the whole log (``GET /v1/audit``);
reading one's own data records nothing."""

from __future__ import annotations

from posecoach.service import audit
from tests.integration.service.conftest import Api, ApiFactory


def _link(api: Api, clinician: str, patient: str) -> None:
    link = api.call("POST", "/v1/care-links", who=clinician, json={"patient": patient}).json()
    assert api.call("POST", f"/v1/care-links/{link['id']}/accept", who=patient).status_code == 200


def test_clinician_reads_are_recorded_and_shown_to_the_patient(api_factory: ApiFactory, db_url: str,
                                                               small_video: bytes) -> None:
    api = api_factory(database_url=db_url)
    video_id = api.upload(small_video).json()["id"]
    api.upload(small_video, who="bob")
    api.call("GET", f"/v1/videos/{video_id}")  # her own: not recorded
    assert api.call("GET", "/v1/me/audit").json()["events"] == []
    _link(api, "carol", "alice")

    assert api.call("GET", f"/v1/videos/{video_id}", who="carol").status_code == 200
    assert api.call("GET", f"/v1/videos/{video_id}/file", who="carol").status_code == 200
    api.call("GET", "/v1/videos", who="carol")
    api.call("GET", "/v1/history?patient=alice", who="carol")

    mine = api.call("GET", "/v1/me/audit").json()
    actions = [(e["action"], e["actor"], e["object_type"]) for e in mine["events"]]
    assert actions == [("read", "carol", "history"), ("read", "carol", "videos"), ("read", "carol", "video"),
                       ("read", "carol", "video"), ("care.accept", "alice", "care_link"),
                       ("care.invite", "carol", "care_link")]
    assert {e["subject"] for e in mine["events"]} == {"alice"}
    assert all(e["actor_id"] is None and e["address"] is None for e in mine["events"])  # no ids, no addresses
    assert mine["events"][1]["detail"] == "GET /v1/videos" and mine["events"][3]["object_id"] == video_id
    bobs = api.call("GET", "/v1/me/audit", who="bob").json()["events"]
    assert bobs == []  # carol read no data of bob's; nothing of alice's shows here


def test_admin_reads_filters_and_pages_the_whole_log(api_factory: ApiFactory, db_url: str,
                                                     small_video: bytes) -> None:
    api = api_factory(database_url=db_url)
    video_id = api.upload(small_video).json()["id"]
    _link(api, "carol", "alice")
    for _ in range(3):
        api.call("GET", f"/v1/videos/{video_id}", who="carol")
    api.call("GET", "/v1/me/audit", who="root")
    assert api.call("GET", "/v1/audit", who="alice").status_code == 403
    assert api.call("GET", "/v1/audit", who="carol").status_code == 403

    reads = api.call("GET", "/v1/audit?action=read&user=carol&limit=2", who="root").json()
    assert len(reads["events"]) == 2 and reads["next_before"]
    assert {e["address"] for e in reads["events"]} == {"testclient"} and reads["events"][0]["subject_id"]
    rest = api.call("GET", f"/v1/audit?action=read&limit=2&before={reads['next_before']}", who="root").json()
    assert len(rest["events"]) == 1 and rest["next_before"] is None
    ids = [e["id"] for e in reads["events"] + rest["events"]]
    assert len(set(ids)) == 3
    everything = api.call("GET", "/v1/audit?limit=500", who="root").json()["events"]
    assert {e["action"] for e in everything} == {"read", "care.invite", "care.accept"}
    assert api.call("GET", "/v1/audit?since=2999-01-01T00:00:00Z", who="root").json()["events"] == []
    # ending the link, and deleting, are recorded too
    [link] = api.call("GET", "/v1/care-links").json()
    api.call("DELETE", f"/v1/care-links/{link['id']}")
    api.call("DELETE", f"/v1/videos/{video_id}")
    latest = [(e["action"], e["object_type"]) for e in api.call("GET", "/v1/me/audit?limit=2").json()["events"]]
    assert latest == [("delete", "video"), ("care.end", "care_link")]


def test_record_is_one_insert_and_keeps_odd_names_printable(db: object) -> None:
    from posecoach.service.db import Database

    assert isinstance(db, Database)
    alice, _ = db.create_user("alice")
    audit.record(db, audit.SIGN_IN_FAILED, actor_name="x" * 300 + "\x00\n", address="10.0.0.1",
                 detail="wrong password")
    audit.record(db, audit.SIGN_IN, actor=alice, address="10.0.0.1")
    page = audit.events(db, involving=alice.id)
    assert [e.action for e in page.events] == ["sign_in"]
    [failed] = audit.events(db, action=audit.SIGN_IN_FAILED).events
    assert failed.actor_name is not None and len(failed.actor_name) == 100 and failed.actor_id is None
