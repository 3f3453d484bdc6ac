"""Care links in the database on SQLite, PostgreSQL and MariaDB: migration 0005 turns the links made without
consent into pending invitations (no access until the patient accepts), and only an accepted link opens a
patient's rows to their clinician."""

from __future__ import annotations

import pytest
from sqlalchemy import column, insert, inspect, select, table

from posecoach.service import care_db, library_db
from posecoach.service.db import CareLink, Database
from posecoach.service.migrations import downgrade, upgrade
from tests.integration.service.test_db import _video


def test_links_made_without_consent_become_pending_invitations(db: Database) -> None:
    carol, _ = db.create_user("carol", "clinician")
    alice, _ = db.create_user("alice")
    video = _video(db, alice)
    downgrade(db.engine, "0004")
    assert "state" not in {c["name"] for c in inspect(db.engine).get_columns("care_links")}
    old_links = table("care_links", column("clinician_id"), column("patient_id"))
    with db.engine.begin() as conn:  # a link as the old `POST /v1/patients` made it
        conn.execute(insert(old_links).values(clinician_id=carol.id, patient_id=alice.id))
    upgrade(db.engine)
    [link] = care_db.links(db, alice)
    assert (link.clinician, link.patient, link.state) == ("carol", "alice", "pending") and len(link.id) == 32
    assert db.video(carol, video.id) is None and not library_db.can_see_user(db, carol, alice.id)
    assert care_db.accept(db, alice, link.id).state == "accepted"
    assert db.video(carol, video.id) is not None
    downgrade(db.engine, "0004")  # going back keeps the accepted link only
    upgrade(db.engine)
    assert [x.state for x in care_db.links(db, carol)] == ["pending"]  # and asks again once more


def test_only_an_accepted_link_gives_access(db: Database) -> None:
    carol, _ = db.create_user("carol", "clinician")
    dan, _ = db.create_user("dan", "clinician")
    alice, _ = db.create_user("alice")
    db.create_user("root", "admin")
    video = _video(db, alice)
    with pytest.raises(care_db.Refused):
        care_db.invite(db, carol, "root")
    with pytest.raises(care_db.NotFound):
        care_db.invite(db, carol, alice.id)  # by name only, never by id
    link = care_db.invite(db, carol, "alice")
    with pytest.raises(care_db.Conflict):
        care_db.invite(db, carol, "alice")
    with pytest.raises(care_db.Refused):
        care_db.accept(db, carol, link.id)  # the clinician cannot accept for the patient
    with pytest.raises(care_db.NotFound):
        care_db.accept(db, dan, link.id)
    assert care_db.patients(db, carol) == [] and db.video(carol, video.id) is None
    care_db.accept(db, alice, link.id)
    assert [u.name for u, since in care_db.patients(db, carol) if since] == ["alice"]
    assert care_db.readable_user(db, carol, "alice") is not None and care_db.readable_user(db, dan, "alice") is None
    assert not care_db.end(db, dan, link.id) and care_db.end(db, alice, link.id)
    assert db.video(carol, video.id) is None and care_db.links(db, carol) == []
    with db.session() as s:
        assert s.scalars(select(CareLink)).all() == []
