"""Home exercise programmes (issue 28) through the API on SQLite, PostgreSQL and MariaDB: migration 0012 both ways,
a clinician prescribes only to a patient who accepted their care, edits make versions and keep the old ones,
sessions upload once per client id, adherence figures on a seeded week, the attention list and the CSV export;
every answer scoped (404 for what the caller may not see) and naming users, never their ids."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from posecoach.service import library_db
from posecoach.service.db import Database, new_id
from posecoach.service.migrations import config, downgrade, upgrade
from tests.integration.service.conftest import Api, ApiFactory
from tests.integration.service.test_library import _link

TABLES = {"programmes", "programme_versions", "programme_items", "programme_sessions", "programme_session_exercises"}
MONDAY = "2026-11-30"  # the seeded programme starts on a Monday; its second week starts on 2026-12-07


@pytest.fixture
def api_on(api_factory: ApiFactory, db_url: str) -> Iterator[Api]:
    """The app on each database (SQLite, PostgreSQL, MariaDB), with a second clinician, dora."""
    api = api_factory(database_url=db_url)
    api.keys["dora"] = _db(api).create_user("dora", "clinician")[1]
    yield api


def _db(api: Api) -> Database:
    return api.client.app.state.db  # type: ignore[attr-defined,no-any-return]


def _guide(api: Api, owner: str, name: str) -> str:
    """A ready guide of ``owner`` (its poses are not needed here)."""
    db = _db(api)
    user = db.user_for_key(api.keys[owner])
    assert user is not None
    return library_db.add_ready_guide(db, user.id, json.dumps({"name": name}), f"guides/{name}.npz", 30, 1.0)


def _item(guide_id: str, **kw: Any) -> dict[str, Any]:
    return {"guide_id": guide_id, "sets": 3, "reps": 10, "rest_s": 45, "per_week": 3, **kw}


def _programme(api: Api, guides: list[str], patient: str = "alice", **kw: Any) -> dict[str, Any]:
    body = {
        "patient": patient,
        "title": "Knee rehab",
        "start_date": MONDAY,
        "end_date": "2027-01-31",
        "items": [_item(guides[0]), _item(guides[1], reps=None, hold_s=20, per_week=2, sets=2)],
        **kw,
    }
    answer = api.call("POST", "/v1/programmes", "carol", json=body)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _session(
    api: Api,
    programme: dict[str, Any],
    day: str,
    done: list[tuple[int, int, int, list[float], float]],
    client_id: str | None = None,
    who: str = "alice",
    **kw: Any,
) -> Any:
    """Record a session of ``day``: per exercise (index in the programme, sets, reps, scores, range of motion)."""
    items = programme["items"]
    body = {
        "client_id": client_id or f"c-{new_id()}",
        "day": day,
        "started_at": f"{day}T08:00:00Z",
        "finished_at": f"{day}T08:20:00+00:00",
        "complete": True,
        "pain": 2,
        "difficulty": 3,
        "exercises": [
            {"item_id": items[i]["id"], "sets_done": sets, "reps_done": reps, "scores": scores, "rom_deg": rom}
            for i, sets, reps, scores, rom in done
        ],
        **kw,
    }
    return api.call("POST", f"/v1/programmes/{programme['id']}/sessions", who, json=body)


def _ids_leak(api: Api, text: str) -> list[str]:
    db = _db(api)
    ids = {name: db.user_for_key(key).id for name, key in api.keys.items()}  # type: ignore[union-attr]
    return [name for name, user_id in ids.items() if user_id in text]


def test_migration_0012_runs_both_ways(db: Database) -> None:
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    below = ScriptDirectory.from_config(config()).get_revision("0012").down_revision  # type: ignore[arg-type,union-attr]
    downgrade(db.engine, str(below))
    assert not TABLES & set(inspect(db.engine).get_table_names())
    upgrade(db.engine)
    assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_a_clinician_prescribes_to_a_consenting_patient_and_edits_make_versions(api_on: Api) -> None:
    api = api_on
    knee, plank, bobs = _guide(api, "carol", "knee-bend"), _guide(api, "carol", "plank"), _guide(api, "bob", "bobs")
    body = {"patient": "alice", "title": "Knee rehab", "start_date": MONDAY, "items": [_item(knee)]}
    assert api.call("POST", "/v1/programmes", "carol", json=body).status_code == 404  # not linked
    invited = api.call("POST", "/v1/care-links", "carol", json={"patient": "alice"}).json()
    assert api.call("POST", "/v1/programmes", "carol", json=body).status_code == 404  # invited, not accepted
    assert api.call("POST", f"/v1/care-links/{invited['id']}/accept", "alice").status_code == 200
    assert api.call("POST", "/v1/programmes", "alice", json=body).status_code == 403  # not a clinician
    assert api.call("POST", "/v1/programmes", "dora", json=body).status_code == 404  # not her patient
    _link(api, "carol", "bob")  # carol sees bob's guide, alice does not: refused for alice
    refused = api.call("POST", "/v1/programmes", "carol", json={**body, "items": [_item(bobs)]})
    assert refused.status_code == 422 and "cannot see" in refused.json()["detail"]
    both = api.call("POST", "/v1/programmes", "carol", json={**body, "items": [_item(knee, hold_s=10)]})
    assert both.status_code == 422
    assert api.call("POST", "/v1/programmes", "carol", json={**body, "start_date": "0001-01-01"}).status_code == 422
    backwards = api.call("POST", "/v1/programmes", "carol", json={**body, "end_date": "2026-11-01"})
    assert backwards.status_code == 422 and "before" in backwards.json()["detail"]

    made = _programme(api, [knee, plank])
    assert (made["version"], made["current_version"], made["clinician"], made["patient"]) == (1, 1, "carol", "alice")
    assert [i["guide_name"] for i in made["items"]] == ["knee-bend", "plank"]
    assert made["items"][1]["hold_s"] == 20 and made["items"][1]["reps"] is None
    assert not _ids_leak(api, api.call("GET", "/v1/programmes", "carol").text)
    # who reads it: its patient, its clinician, an admin; nobody else (404, as for no programme)
    url = f"/v1/programmes/{made['id']}"
    assert {who: api.call("GET", url, who).status_code for who in api.keys} == {
        "alice": 200,
        "carol": 200,
        "root": 200,
        "bob": 404,
        "dora": 404,
    }
    assert [len(api.call("GET", "/v1/programmes", who).json()) for who in ("alice", "carol", "bob", "dora")] == [
        1,
        1,
        0,
        0,
    ]
    assert api.call("GET", "/v1/programmes?patient=bob", "carol").json() == []

    # an edit: a new version; the kept exercise keeps its id, the old version stays readable
    knee_id = made["items"][0]["id"]
    edit = {
        "title": "Knee rehab, harder",
        "start_date": MONDAY,
        "version": 1,
        "items": [_item(knee, id=knee_id, reps=15), _item(plank, hold_s=30, reps=None, per_week=5)],
    }
    assert api.call("PUT", url, "alice", json=edit).status_code == 403  # the patient reads, does not edit
    assert api.call("PUT", url, "dora", json=edit).status_code == 404
    second = api.call("PUT", url, "carol", json=edit)
    assert second.status_code == 200, second.text
    assert (second.json()["version"], second.json()["items"][0]["id"], second.json()["items"][0]["reps"]) == (
        2,
        knee_id,
        15,
    )
    assert second.json()["items"][1]["id"] != made["items"][1]["id"]  # a new exercise
    assert api.call("PUT", url, "carol", json=edit).status_code == 409  # version 1 is not current any more
    unknown = api.call("PUT", url, "carol", json={**edit, "version": 2, "items": [_item(knee, id="ab" * 16)]})
    assert unknown.status_code == 422
    versions = api.call("GET", f"{url}/versions", "alice").json()
    assert [(v["version"], v["title"]) for v in versions] == [(2, "Knee rehab, harder"), (1, "Knee rehab")]
    first = api.call("GET", f"{url}/versions/1", "alice").json()
    assert (first["items"][0]["reps"], first["current_version"], first["end_date"]) == (10, 2, "2027-01-31")
    assert api.call("GET", f"{url}/versions/3", "alice").status_code == 404
    assert api.call("GET", f"{url}/versions", "bob").status_code == 404

    # the care link ends: the clinician reads and edits nothing more; the patient keeps her programme
    link = next(c for c in api.call("GET", "/v1/care-links", "alice").json() if c["clinician"] == "carol")
    assert api.call("DELETE", f"/v1/care-links/{link['id']}", "alice").status_code == 204
    assert api.call("GET", url, "carol").status_code == 404
    assert api.call("PUT", url, "carol", json={**edit, "version": 2}).status_code == 404
    assert api.call("GET", "/v1/programmes", "carol").json() == []
    assert api.call("GET", url, "alice").json()["version"] == 2


def test_a_session_uploaded_twice_is_stored_once(api_on: Api) -> None:
    api = api_on
    _link(api, "carol", "alice")
    made = _programme(api, [_guide(api, "carol", "knee-bend"), _guide(api, "carol", "plank")])
    first = _session(
        api, made, "2026-12-01", [(0, 3, 30, [80, 90.5], 95.0), (1, 2, 2, [], None)], client_id="lost-session-1"
    )
    assert first.status_code == 201, first.text
    again = _session(api, made, "2026-12-01", [(0, 1, 5, [], None)], client_id="lost-session-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert again.json()["exercises"][0]["scores"] == [80, 90.5]  # the first upload stands
    assert again.json()["exercises"][0]["mean_score"] == 85.25 and again.json()["exercises"][1]["rom_deg"] is None
    sessions = api.call("GET", f"/v1/programmes/{made['id']}/sessions", "carol").json()
    assert [s["client_id"] for s in sessions] == ["lost-session-1"]
    assert sessions[0]["started_at"].startswith("2026-12-01T08:00:00") and sessions[0]["day"] == "2026-12-01"
    incomplete = _session(api, made, "2026-12-02", [], complete=False, pain=None, difficulty=None)
    assert incomplete.status_code == 201 and incomplete.json()["complete"] is False
    # only the patient records; bad input is refused with the reason
    assert _session(api, made, "2026-12-03", [(0, 1, 1, [], None)], who="carol").status_code == 403
    assert _session(api, made, "2026-12-03", [(0, 1, 1, [], None)], who="bob").status_code == 404
    assert _session(api, made, "2026-12-03", [(0, 1, 1, [101], None)]).status_code == 422
    assert _session(api, made, "2026-12-03", [], pain=11).status_code == 422
    assert _session(api, made, "2026-12-03", [], difficulty=0).status_code == 422
    assert _session(api, made, "2026-12-03", [], started_at="0001-01-01T00:00:00+01:00").status_code == 422
    twice = _session(api, made, "2026-12-03", [(0, 1, 1, [], None), (0, 1, 1, [], None)])
    assert twice.status_code == 422 and "twice" in twice.json()["detail"]
    early = _session(api, made, "2026-12-03", [], finished_at="2026-12-03T07:00:00Z")
    assert early.status_code == 422 and "before it started" in early.json()["detail"]
    body = {
        "client_id": "x" * 10,
        "started_at": "2026-12-03T08:00:00Z",
        "finished_at": "2026-12-03T08:10:00Z",
        "complete": True,
        "exercises": [{"item_id": "ab" * 16, "sets_done": 1, "reps_done": 1}],
    }
    stranger = api.call("POST", f"/v1/programmes/{made['id']}/sessions", json=body)
    assert stranger.status_code == 422 and "no exercise" in stranger.json()["detail"]
    assert len(api.call("GET", f"/v1/programmes/{made['id']}/sessions", "alice").json()) == 2
    assert api.call("GET", f"/v1/programmes/{made['id']}/sessions", "dora").status_code == 404
    # an upload held back by a lost connection, after an edit removed its exercise: kept, with the version followed
    edit = {"title": "Knee rehab", "start_date": MONDAY, "items": [_item(made["items"][0]["guide_id"])]}
    assert api.call("PUT", f"/v1/programmes/{made['id']}", "carol", json=edit).status_code == 200
    late = _session(api, made, "2026-12-04", [(1, 2, 2, [], None)])
    assert late.status_code == 201 and late.json()["version"] == 1
    assert _session(api, made, "2026-12-05", [(1, 2, 2, [], None)], version=2).status_code == 422


def _seeded_week(api: Api) -> dict[str, Any]:
    """Alice's programme from Monday 2026-11-30: knee bends 3 sets of 10 three times a week, a 20 s plank 2 sets
    twice a week. Week 1: Monday (both), Wednesday (knee bends), Friday (both); week 2: Monday (knee bends)."""
    _link(api, "carol", "alice")
    made = _programme(api, [_guide(api, "carol", "knee-bend"), _guide(api, "carol", "plank")])
    for day, done in [
        ("2026-11-30", [(0, 3, 30, [70, 80], 90.0), (1, 2, 2, [], None)]),
        ("2026-12-02", [(0, 3, 30, [80, 80], 100.0)]),
        ("2026-12-04", [(0, 2, 20, [90], 110.0), (1, 2, 2, [60], None)]),
        ("2026-12-07", [(0, 3, 30, [], 100.0)]),
    ]:
        assert _session(api, made, day, done).status_code == 201
    return made


def test_adherence_and_todays_session_on_a_seeded_week(api_on: Api) -> None:
    api = api_on
    made = _seeded_week(api)
    url = f"/v1/programmes/{made['id']}"
    got = api.call("GET", f"{url}/adherence?date=2026-12-10", "carol").json()  # a Thursday
    assert [(w["start"], w["prescribed"], w["expected"], w["done"], w["complete"]) for w in got["weeks"]] == [
        ("2026-11-30", 3, 3, 3, 3),
        ("2026-12-07", 3, 2, 1, 1),
    ]  # by Thursday's end: ceil(3 x 4 / 7) = 2
    assert (got["prescribed"], got["done"], got["rate"], got["missed_this_week"]) == (5, 4, 0.8, 1)
    assert got["attention"] == ["missed 1 session this week (1 done of 2 expected before Thursday)"]  # Wednesday
    knee, plank = got["exercises"]
    assert (knee["prescribed"], knee["done"], knee["completion"]) == (5, 4, round(11 / 15, 3))
    assert [(p["day"], p["score"], p["rom_deg"]) for p in knee["points"]] == [
        ("2026-11-30", 75.0, 90.0),
        ("2026-12-02", 80.0, 100.0),
        ("2026-12-04", 90.0, 110.0),
        ("2026-12-07", None, 100.0),
    ]
    assert (knee["mean_score"], knee["mean_rom_deg"]) == (81.67, 100.0)
    assert (plank["prescribed"], plank["done"], plank["completion"]) == (4, 2, 0.5)  # 2 + ceil(2 x 4 / 7)
    assert plank["mean_score"] == 60.0 and plank["mean_rom_deg"] is None
    tuesday = api.call("GET", f"{url}/adherence?date=2026-12-08", "alice").json()  # Monday's session was done
    assert (tuesday["missed_this_week"], tuesday["attention"], tuesday["rate"]) == (0, [], 1.0)
    saturday = api.call("GET", f"{url}/adherence?date=2026-12-12", "alice").json()  # 3 expected by Friday's end
    assert saturday["missed_this_week"] == 2 and saturday["attention"] == [
        "missed 2 sessions this week (1 done of 3 expected before Saturday)"
    ]

    def today(day: str) -> dict[str, tuple[bool, str]]:
        due = api.call("GET", f"{url}/today?date={day}", "alice").json()["due"]
        return {d["item"]["guide_name"]: (d["due"], d["reason"]) for d in due}

    assert today("2026-12-07") == {"knee-bend": (False, "done today"), "plank": (True, "2 of 2 left this week")}
    assert today("2026-12-08")["knee-bend"] == (False, "a rest day after yesterday's session")
    assert today("2026-12-10") == {
        "knee-bend": (True, "2 of 3 left this week"),
        "plank": (True, "2 of 2 left this week"),
    }
    assert today("2026-12-13")["knee-bend"] == (True, "2 left this week: due every day now")  # Sunday: catch up
    assert today("2026-11-29")["plank"] == (False, "the programme starts on 2026-11-30")
    assert today("2027-02-01")["plank"] == (False, "the programme has ended")
    assert api.call("GET", f"{url}/today", "bob").status_code == 404
    assert api.call("GET", f"{url}/today?date=9999-12-31", "alice").status_code == 422  # a week past the calendar
    assert api.call("GET", f"{url}/adherence?date=0001-01-01", "alice").status_code == 422
    assert api.call("GET", f"{url}/adherence", "dora").status_code == 404


def test_the_attention_list_names_patients_with_missed_sessions_falling_scores_or_pain(api_on: Api) -> None:
    api = api_on
    made = _seeded_week(api)  # alice: on schedule on Tuesday 2026-12-08 (Monday done)
    _link(api, "carol", "bob")
    bobs = _programme(api, [_guide(api, "carol", "squat"), _guide(api, "carol", "bridge")], patient="bob")
    assert api.call("GET", "/v1/programmes/attention?date=2026-12-08", "carol").json() == [
        {
            "patient": "bob",
            "programmes": [
                {
                    "id": bobs["id"],
                    "title": "Knee rehab",
                    "missed_this_week": 1,
                    "reasons": ["missed 1 session this week (0 done of 1 expected before Tuesday)"],
                }
            ],
        }
    ]
    everyone = api.call("GET", "/v1/programmes/attention?date=2026-12-08&all=true", "carol").json()
    assert [(p["patient"], p["programmes"][0]["reasons"]) for p in everyone] == [
        ("alice", []),
        ("bob", ["missed 1 session this week (0 done of 1 expected before Tuesday)"]),
    ]
    # alice's knee-bend scores fall (75, 80, 90 then 60 and 62) and her last session hurt
    assert _session(api, made, "2026-12-08", [(0, 3, 30, [60], 90.0)]).status_code == 201
    assert _session(api, made, "2026-12-09", [(0, 3, 30, [62], 90.0)], pain=8).status_code == 201
    alice = api.call("GET", "/v1/programmes/attention?date=2026-12-10", "carol").json()[0]
    assert alice["patient"] == "alice" and alice["programmes"][0]["reasons"] == [
        "knee-bend: scores fell from 82 to 61",
        "pain 8/10 in the last session (2026-12-09)",
    ]
    assert api.call("GET", "/v1/programmes/attention", "alice").status_code == 403  # not a clinician
    assert api.call("GET", "/v1/programmes/attention", "dora").json() == []
    assert not _ids_leak(api, api.call("GET", "/v1/programmes/attention?all=true", "carol").text)


def test_the_csv_export_has_every_session_of_a_patient(api_on: Api) -> None:
    api = api_on
    made = _seeded_week(api)
    assert _session(api, made, "2026-12-08", [], complete=False, pain=None).status_code == 201
    answer = api.call("GET", "/v1/programme-sessions.csv?patient=alice", "carol")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert 'filename="sessions-alice.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(r["day"], r["exercise"], r["sets_done"], r["scores"]) for r in rows] == [
        ("2026-11-30", "knee-bend", "3", "70 80"),
        ("2026-11-30", "plank", "2", ""),
        ("2026-12-02", "knee-bend", "3", "80 80"),
        ("2026-12-04", "knee-bend", "2", "90"),
        ("2026-12-04", "plank", "2", "60"),
        ("2026-12-07", "knee-bend", "3", ""),
        ("2026-12-08", "", "", ""),
    ]
    assert rows[0]["mean_score"] == "75.0" and rows[0]["sets_prescribed"] == "3" and rows[1]["hold_s"] == "20.0"
    assert rows[-1]["complete"] == "no" and rows[0]["programme"] == "Knee rehab" and rows[0]["patient"] == "alice"
    assert not _ids_leak(api, answer.text)
    assert api.call("GET", "/v1/programme-sessions.csv", "alice").text == answer.text  # her own, by default
    assert api.call("GET", "/v1/programme-sessions.csv?patient=alice", "dora").status_code == 404
    assert api.call("GET", "/v1/programme-sessions.csv?patient=alice", "bob").status_code == 404
    # a title a spreadsheet would run as a formula is written as text
    edit = {"title": '=HYPERLINK("x")', "start_date": MONDAY, "items": [_item(made["items"][0]["guide_id"])]}
    assert api.call("PUT", f"/v1/programmes/{made['id']}", "carol", json=edit).status_code == 200
    rows = list(csv.DictReader(io.StringIO(api.call("GET", "/v1/programme-sessions.csv", "alice").text)))
    assert {r["programme"] for r in rows} == {'\'=HYPERLINK("x")'}


def test_deleting_an_account_keeps_the_patients_programme_or_removes_it_with_the_patient(api_on: Api) -> None:
    api = api_on
    made = _seeded_week(api)
    assert api.call("DELETE", "/v1/me?confirm=carol", "carol").status_code == 204
    kept = api.call("GET", f"/v1/programmes/{made['id']}", "alice").json()
    assert (kept["clinician"], kept["title"]) == (None, "Knee rehab")  # hers still, nobody edits it any more
    assert len(api.call("GET", f"/v1/programmes/{made['id']}/sessions", "alice").json()) == 4
    assert api.call("DELETE", "/v1/me?confirm=alice", "alice").status_code == 204
    with _db(api).engine.connect() as conn:
        counts = {t: conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar() for t in sorted(TABLES)}
    assert set(counts.values()) == {0}, counts
