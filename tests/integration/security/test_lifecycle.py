"""Data lifecycle (issue 25) on SQLite, PostgreSQL and MariaDB: deleting a video, a job's results or a whole
account removes every row and stored file, attempt leftovers included (result files of crashed attempts, the
jobs' temporary folders), and the guides and posture models made from a deleted video; the sweep removes
orphaned files, stale uploads (``incoming/*.part``) and temporary folders, and videos past the retention.

Before: deleting a video left the files of crashed attempts, ``/tmp`` job folders and guides with the video's
poses; ``incoming/*.part`` files stayed for ever; an account could not be deleted at all."""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from posecoach.service import audit, library_db, lifecycle
from posecoach.service.db import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    CareLink,
    Database,
    Job,
    PostureModel,
    ReferenceGuide,
    Result,
    User,
    Video,
    new_id,
    utcnow,
)
from posecoach.service.settings import Settings
from posecoach.service.storage import LocalStorage, Storage
from posecoach.service.storage.s3 import S3Storage
from tests.integration.service.conftest import Api, ApiFactory
from tests.integration.service.test_storage import BUCKET, s3_endpoint  # noqa: F401  (the S3 server fixture)


def _files(storage: LocalStorage) -> set[str]:
    return {p.relative_to(storage.root).as_posix() for p in storage.root.rglob("*") if p.is_file()}


def _job(db: Database, owner: User, video_id: str, state: str, kind: str = "analyze",
         params: dict[str, Any] | None = None) -> Job:
    job = Job(id=new_id(), owner_id=owner.id, video_id=video_id, kind=kind, params=json.dumps(params or {}),
              state=state, progress=0.0, attempts=1, created_at=utcnow())
    with db.session() as s:
        s.add(job)
    return job


def _stored(storage: Storage, kind: str, suffix: str, *parts: str) -> str:
    key = storage.new_key(kind, suffix, *parts)
    storage.write_text(key, "x")
    return key


def _result(db: Database, storage: Storage, job: Job, kind: str = "report") -> str:
    key = _stored(storage, "results", ".json", job.id)
    with db.session() as s:
        s.add(Result(id=new_id(), job_id=job.id, kind=kind, storage_key=key, created_at=utcnow()))
    return key


def _temp_folder(job_id: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"{lifecycle.JOB_TMP}{job_id}-"))
    (folder / "poses.npz").write_bytes(b"partial")
    return folder


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _count(db: Database, model: type[Any], *where: Any) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _app(api: Api) -> tuple[Database, LocalStorage]:
    state = api.client.app.state  # type: ignore[attr-defined]
    return state.db, state.storage


def _user(db: Database, name: str) -> User:
    with db.session() as s:
        user = s.scalars(select(User).where(User.name == name)).one()
    return user


def test_deleting_a_video_removes_attempt_leftovers_and_what_was_made_from_it(
        api_factory: ApiFactory, db_url: str, small_video: bytes) -> None:
    api = api_factory(database_url=db_url)
    db, storage = _app(api)
    alice = _user(db, "alice")
    gone, kept = (api.upload(small_video).json()["id"] for _ in range(2))
    done = _job(db, alice, gone, DONE)
    report = _result(db, storage, done)
    crashed = _job(db, alice, gone, FAILED)
    leftover = _stored(storage, "results", ".mp4", crashed.id)  # stored by an attempt that was killed
    folder = _temp_folder(crashed.id)
    guide = library_db.add_made(db, alice, Video(id=gone), ReferenceGuide(name="squat", guide="{}", video_id=gone),
                                "reference", {})
    poses = _stored(storage, "references", ".npz")
    with db.session() as s:
        library_db.complete(ReferenceGuide, guide.row.id, storage_key=poses, frames=6)(s)
    model = library_db.add_made(db, alice, Video(id=kept), PostureModel(name="sitting", classes="[]"),
                                "posture_train", {"items": [{"video_id": kept}, {"video_id": gone}]})
    model_file = _stored(storage, "models", ".model")
    with db.session() as s:
        library_db.complete(PostureModel, model.row.id, storage_key=model_file)(s)
    other = library_db.add_made(db, alice, Video(id=kept), ReferenceGuide(name="lunge", guide="{}", video_id=kept),
                                "reference", {})
    before = _files(storage)
    assert {report, leftover, poses, model_file} <= before

    answer = api.call("DELETE", f"/v1/videos/{gone}")
    assert answer.status_code == 204, answer.text
    removed = before - _files(storage)
    assert {report, leftover, poses, model_file} <= removed  # leftover: the crashed attempt's file
    assert len([k for k in removed if k.startswith("videos/")]) == 1
    assert not folder.exists()  # the crashed attempt's temporary folder
    assert _count(db, Video, Video.id == gone) == 0 and _count(db, Job, Job.video_id == gone) == 0
    assert _count(db, Result, Result.job_id.in_([done.id, crashed.id])) == 0
    assert _count(db, ReferenceGuide, ReferenceGuide.id == guide.row.id) == 0  # the guide had the video's poses
    assert _count(db, PostureModel, PostureModel.id == model.row.id) == 0  # trained on it
    assert _count(db, ReferenceGuide, ReferenceGuide.id == other.row.id) == 1  # of the other video: kept
    assert api.call("GET", f"/v1/videos/{kept}").status_code == 200
    [event] = audit.events(db, action=audit.DELETE).events
    assert (event.actor_name, event.subject_name, event.object_type, event.object_id) == ("alice", "alice",
                                                                                           "video", gone)


def test_deleting_a_jobs_results_removes_its_files(api_factory: ApiFactory, db_url: str, small_video: bytes) -> None:
    api = api_factory(database_url=db_url)
    db, storage = _app(api)
    alice = _user(db, "alice")
    video_id = api.upload(small_video).json()["id"]
    done = _job(db, alice, video_id, DONE)
    report = _result(db, storage, done)
    leftover = _stored(storage, "results", ".png", done.id)
    busy = _job(db, alice, video_id, RUNNING)
    assert api.call("DELETE", f"/v1/jobs/{done.id}/results", who="bob").status_code == 404
    assert api.call("DELETE", f"/v1/jobs/{busy.id}/results").status_code == 409
    assert api.call("DELETE", f"/v1/jobs/{done.id}/results").status_code == 204
    assert not {report, leftover} & _files(storage)
    assert _count(db, Job, Job.id == done.id) == 0 and _count(db, Job, Job.id == busy.id) == 1


def test_an_account_can_be_deleted_with_all_its_data(api_factory: ApiFactory, db_url: str,
                                                     small_video: bytes) -> None:
    api = api_factory(database_url=db_url)
    db, storage = _app(api)
    alice = _user(db, "alice")
    video_id = api.upload(small_video).json()["id"]
    report = _result(db, storage, _job(db, alice, video_id, DONE))
    link = api.call("POST", "/v1/care-links", who="carol", json={"patient": "alice"}).json()
    api.call("POST", f"/v1/care-links/{link['id']}/accept")
    bob_video = api.upload(small_video, who="bob").json()["id"]

    assert api.call("DELETE", "/v1/me").status_code == 422  # no confirmation
    assert api.call("DELETE", "/v1/me?confirm=bob").status_code == 422
    answer = api.call("DELETE", "/v1/me?confirm=alice")
    assert answer.status_code == 204, answer.text
    assert api.call("GET", "/v1/me").status_code == 401  # her key went with her
    assert _count(db, User, User.name == "alice") == 0 and _count(db, CareLink) == 0
    assert _count(db, Video, Video.owner_id == alice.id) == 0 and _count(db, Job, Job.owner_id == alice.id) == 0
    assert report not in _files(storage)
    with db.session() as s:
        bobs = s.scalar(select(Video.storage_key).where(Video.id == bob_video))
    assert [k for k in _files(storage) if k.startswith("videos/")] == [bobs]  # only bob's video is left
    [event] = audit.events(db, action=audit.DELETE).events
    assert (event.subject_name, event.object_type) == ("alice", "user")  # the log outlives the account

    assert api.call("DELETE", "/v1/users/bob", who="carol").status_code == 403
    assert api.call("DELETE", "/v1/users/nobody", who="root").status_code == 404
    assert api.call("DELETE", "/v1/users/bob", who="root").status_code == 204
    assert api.call("GET", "/v1/me", who="bob").status_code == 401
    assert [k for k in _files(storage) if k.startswith("videos/")] == []
    last = api.call("DELETE", "/v1/me?confirm=root", who="root")
    assert last.status_code == 409 and "last administrator" in last.json()["detail"]


def test_the_sweep_removes_orphans_stale_temp_files_and_expired_videos(db: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, stale_after_s=600, retention_days=7)
    storage = LocalStorage(settings.resolved_storage_dir())
    storage.ensure()
    alice, _ = db.create_user("alice")

    def video(days_old: float) -> Video:
        key = _stored(storage, "videos", ".mp4")
        _age(storage.path(key), 3600)
        return db.add_video(Video(id=new_id(), owner_id=alice.id, filename="c.mp4", storage_key=key, size_bytes=1,
                                  width=1, height=1, fps=1.0, num_frames=2, duration_s=2.0,
                                  created_at=utcnow() - timedelta(days=days_old)))

    old, recent = video(10), video(1)
    running, failed = _job(db, alice, recent.id, RUNNING), _job(db, alice, recent.id, FAILED)
    queued = _job(db, alice, recent.id, QUEUED)
    orphan_old, orphan_new = _stored(storage, "videos", ".mp4"), _stored(storage, "references", ".npz")
    running_file, failed_file = _stored(storage, "results", ".json", running.id), _stored(storage, "results", ".json",
                                                                                          failed.id)
    for key in (orphan_old, running_file, failed_file):
        _age(storage.path(key), 3600)
    incoming = storage.root / "incoming"
    stale_part, live_part = incoming / "upload-a.part", incoming / "upload-b.part"
    stale_part.write_bytes(b"half"), live_part.write_bytes(b"half")
    _age(stale_part, 3600)
    folders = {name: _temp_folder(job.id) for name, job in (("running", running), ("failed", failed),
                                                              ("queued", queued))}
    unknown_old, unknown_new = _temp_folder(new_id()), _temp_folder(new_id())
    _age(unknown_old, 3600)
    try:
        swept = lifecycle.sweep(db, storage, settings)
        files = _files(storage)
        assert orphan_old not in files and failed_file not in files and not stale_part.exists()
        assert {orphan_new, running_file, recent.storage_key} <= files and live_part.exists()  # young, or in use
        assert old.storage_key not in files and _count(db, Video, Video.id == old.id) == 0  # past the retention
        assert swept.expired == [old.id]
        assert not folders["failed"].exists() and not folders["queued"].exists() and not unknown_old.exists()
        assert folders["running"].exists() and unknown_new.exists()
        [event] = audit.events(db, action=audit.RETENTION).events
        assert (event.actor_name, event.subject_name, event.object_id) == (None, "alice", old.id)
    finally:
        for folder in (*folders.values(), unknown_old, unknown_new):
            if folder.exists():
                lifecycle.shutil.rmtree(folder)


def test_no_retention_by_default(db: Database, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    storage = LocalStorage(settings.resolved_storage_dir())
    alice, _ = db.create_user("alice")
    db.add_video(Video(id=new_id(), owner_id=alice.id, filename="c.mp4", storage_key="videos/" + "a" * 32 + ".mp4",
                       size_bytes=1, width=1, height=1, fps=1.0, num_frames=2, duration_s=2.0,
                       created_at=utcnow() - timedelta(days=3650)))
    assert lifecycle.sweep(db, storage, settings).expired == [] and _count(db, Video) == 1


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "storage")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3Storage(BUCKET, f"run-{new_id()[:8]}", endpoint_url=endpoint, spool_dir=tmp_path / "spool")


def test_stored_keys_are_listed_and_a_jobs_prefix_removed_on_both_backends(backend: Storage) -> None:
    storage = backend
    job_id, other = new_id(), new_id()
    mine = [_stored(storage, "results", suffix, job_id) for suffix in (".json", ".mp4")]
    theirs = _stored(storage, "results", ".json", other)
    listed = dict(storage.list_keys(f"results/{job_id}/"))
    assert sorted(listed) == sorted(mine) and all(abs(t - time.time()) < 600 for t in listed.values())
    lifecycle.remove(storage, lifecycle.Leftovers(job_ids=[job_id]))
    assert list(storage.list_keys(f"results/{job_id}/")) == [] and storage.exists(theirs)
