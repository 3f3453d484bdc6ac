"""The queries of migration 0003 on SQLite, PostgreSQL and MariaDB alike: library rows made by a job and shared
by a clinician with linked patients only, names unique per owner, results stored at once with the row made
ready, history figures, reuse of stored poses, and the migration both ways."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from posecoach.errors import InputError
from posecoach.service import care_db, library_db
from posecoach.service.db import Database, PostureModel, ReferenceGuide, Result, new_id, utcnow
from posecoach.service.migrations import downgrade, upgrade
from tests.integration.service.test_db import _video


def test_migration_0003_adds_the_library_and_goes_back(db: Database) -> None:
    names = set(inspect(db.engine).get_table_names())
    assert {"reference_guides", "posture_models"} <= names
    assert {"score", "error_count", "fall_count"} <= {c["name"] for c in inspect(db.engine).get_columns("results")}
    downgrade(db.engine, "0002")
    assert not {"reference_guides", "posture_models"} & set(inspect(db.engine).get_table_names())
    assert "score" not in {c["name"] for c in inspect(db.engine).get_columns("results")}
    upgrade(db.engine)
    assert {"reference_guides", "posture_models"} <= set(inspect(db.engine).get_table_names())


def test_library_rows_are_made_by_jobs_and_shared_with_patients_only(db: Database) -> None:
    carol, _ = db.create_user("carol", "clinician")
    alice, _ = db.create_user("alice")
    bob, _ = db.create_user("bob")
    video = _video(db, carol)
    made = library_db.add_made(db, carol, video, ReferenceGuide(name="squat", guide="{}", video_id=video.id),
                               "reference", {})
    assert made.state == "queued"
    with pytest.raises(ValueError, match="already"):
        library_db.add_made(db, carol, video, ReferenceGuide(name="squat", guide="{}"), "reference", {})
    job_id = made.row.job_id
    loaded = db.load_job(job_id)
    assert loaded is not None and loaded[0].parameters() == {"target_id": made.row.id}
    assert [m.state for m in library_db.made_rows(db, carol, ReferenceGuide)] == ["queued"]
    assert library_db.made_rows(db, alice, ReferenceGuide) == []  # not her clinician yet
    care_db.accept(db, alice, care_db.invite(db, carol, "alice").id)
    assert db.claim(job_id)
    result = Result(id=new_id(), job_id=job_id, kind="poses", storage_key="results/p.npz", created_at=utcnow())
    assert library_db.finish_job(db, job_id, [result], library_db.complete(ReferenceGuide, made.row.id,
                                                                         storage_key="references/r.npz", frames=9))
    seen = library_db.made_row(db, alice, ReferenceGuide, made.row.id)
    assert seen is not None and seen.state == "ready" and seen.row.frames == 9
    assert library_db.made_row(db, bob, ReferenceGuide, made.row.id) is None
    assert library_db.stored_poses(db, video.id) == "results/p.npz"
    assert library_db.delete_made(db, alice, ReferenceGuide, made.row.id) is None  # not hers
    assert library_db.delete_made(db, carol, ReferenceGuide, made.row.id) == ["references/r.npz"]
    assert library_db.made_rows(db, alice, ReferenceGuide) == []


def test_a_job_whose_row_was_deleted_stores_nothing(db: Database) -> None:
    alice, _ = db.create_user("alice")
    video = _video(db, alice)
    made = library_db.add_made(db, alice, video, PostureModel(name="m", classes="[]"), "posture_train", {})
    assert library_db.delete_made(db, alice, PostureModel, made.row.id) == []
    assert db.claim(made.row.job_id)
    report = Result(id=new_id(), job_id=made.row.job_id, kind="report", storage_key="results/r.json",
                    created_at=utcnow())
    with pytest.raises(InputError, match="deleted"):
        library_db.finish_job(db, made.row.job_id, [report], library_db.complete(PostureModel, made.row.id,
                                                                                 storage_key="models/m.model"))
    assert library_db.results(db, db.job(alice, made.row.job_id)) == []  # type: ignore[arg-type]


def test_history_figures_and_who_may_ask(db: Database) -> None:
    carol, _ = db.create_user("carol", "clinician")
    alice, _ = db.create_user("alice")
    root, _ = db.create_user("root", "admin")
    job = db.add_job(alice, _video(db, alice), "compare", {})
    assert db.claim(job.id)
    def rows() -> list[Result]:
        return [Result(id=new_id(), job_id=job.id, kind=k, storage_key=f"results/{k}", created_at=utcnow(),
                       score=87.5, exercise="guide") for k in ("report", "plot")]

    assert library_db.finish_job(db, job.id, rows())
    assert not library_db.finish_job(db, job.id, rows())  # a second worker's results: stored once
    assert len(library_db.results(db, job)) == 2
    [(done, report)] = library_db.history(db, alice.id)
    assert done.id == job.id and (report.kind, report.score, report.exercise) == ("report", 87.5, "guide")
    assert not library_db.can_see_user(db, carol, alice.id)
    link = care_db.invite(db, carol, "alice")
    assert not library_db.can_see_user(db, carol, alice.id)  # not before she accepts
    care_db.accept(db, alice, link.id)
    assert library_db.can_see_user(db, carol, alice.id) and library_db.can_see_user(db, root, alice.id)
    assert not library_db.can_see_user(db, alice, carol.id) and not library_db.can_see_user(db, root, "0" * 32)
