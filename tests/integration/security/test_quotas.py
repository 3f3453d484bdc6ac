"""Finding "no quota, no rate limit" (issue 25): 100 jobs on one video were accepted in 0.8 s and uploads had no
bound per user. Per-user quotas on jobs at once, jobs per hour and storage answer 429 with the reason and
Retry-After; admins are exempt; the counting queries hold on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from posecoach.service import quotas
from posecoach.service.db import CANCELLED, QUEUED, RUNNING, Database, Job, Video, new_id, utcnow
from posecoach.service.settings import Settings
from tests.integration.service.conftest import Api, ApiFactory


def _held(api: Api) -> None:
    """Jobs stay queued: the runner takes none (the quotas count what is queued)."""
    api.client.app.state.runner.submit = lambda job_id: None  # type: ignore[attr-defined]


def _job(api: Api, video_id: str, who: str = "alice") -> Any:
    return api.call("POST", "/v1/jobs", who, json={"video_id": video_id, "kind": "pose"})


def test_a_flood_of_jobs_on_one_video_is_refused_with_429(api_factory: ApiFactory, small_video: bytes) -> None:
    api = api_factory(quota_active_jobs=3, quota_jobs_per_hour=5)
    _held(api)
    video = api.upload(small_video).json()["id"]
    answers = [_job(api, video) for _ in range(100)]
    codes = [a.status_code for a in answers]
    assert codes[:3] == [202] * 3 and set(codes[3:]) == {429}, codes
    refused = answers[3]
    assert "3 at once is the most (POSECOACH_QUOTA_ACTIVE_JOBS)" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    assert len(api.call("GET", "/v1/jobs").json()) == 3
    # cancelling one frees a slot at once; the hourly quota then counts every job created in the hour
    first = answers[0].json()["id"]
    assert api.call("DELETE", f"/v1/jobs/{first}").json()["state"] == "cancelled"
    assert _job(api, video).status_code == 202
    for job in api.call("GET", "/v1/jobs?state=queued").json()[:2]:
        api.call("DELETE", f"/v1/jobs/{job['id']}")
    assert _job(api, video).status_code == 202  # the 5th of the hour
    hourly = _job(api, video)
    assert hourly.status_code == 429
    assert "5 an hour is the most (POSECOACH_QUOTA_JOBS_PER_HOUR)" in hourly.json()["detail"]
    assert 3500 < int(hourly.headers["retry-after"]) <= 3600  # the oldest leaves in ~1 h
    # the library's jobs count too
    guide = api.call("POST", "/v1/references", json={"video_id": video, "name": "squat"})
    assert guide.status_code == 429 and "job quota" in guide.json()["detail"]
    # another user is not held by alice's quota; an admin is exempt
    bobs = api.upload(small_video, who="bob").json()["id"]
    assert _job(api, bobs, "bob").status_code == 202
    roots = api.upload(small_video, who="root").json()["id"]
    assert {_job(api, roots, "root").status_code for _ in range(8)} == {202}
    # deleting the video (and with it its jobs) and uploading again does not give the hour back
    assert api.call("DELETE", f"/v1/videos/{video}").status_code == 204
    again = api.upload(small_video).json()["id"]
    refused = _job(api, again)
    assert refused.status_code == 429 and "POSECOACH_QUOTA_JOBS_PER_HOUR" in refused.json()["detail"]


def test_uploads_past_the_storage_quota_are_refused_with_429(api_factory: ApiFactory, small_video: bytes) -> None:
    api = api_factory(quota_storage_mb=len(small_video) * 2.5 / 2**20)
    assert api.upload(small_video).status_code == 201
    assert api.upload(small_video).status_code == 201
    third = api.upload(small_video)  # declared length over what is left
    assert third.status_code == 429 and "storage quota" in third.json()["detail"], third.text
    assert "delete videos" in third.json()["detail"] and int(third.headers["retry-after"]) > 0
    streamed = api.call("POST", "/v1/videos", content=iter([small_video]), headers={"Content-Type": "video/mp4"})
    assert streamed.status_code == 429  # no Content-Length: the quota holds while it streams in
    assert len(api.call("GET", "/v1/videos").json()) == 2
    assert api.upload(small_video, who="root").status_code == 201  # an admin is exempt
    assert api.upload(small_video, who="bob").status_code == 201  # quotas are per user
    api.call("DELETE", f"/v1/videos/{api.call('GET', '/v1/videos').json()[0]['id']}")
    assert api.upload(small_video).status_code == 201  # deleting makes room


def _video(db: Database, owner_id: str, size: int) -> Video:
    return db.add_video(Video(id=new_id(), owner_id=owner_id, filename="v.mp4", storage_key=f"videos/{new_id()}.mp4",
                              size_bytes=size, width=64, height=48, fps=30.0, num_frames=10, duration_s=0.33,
                              created_at=utcnow()))


def test_the_quota_queries_on_each_database(db: Database) -> None:
    alice, _ = db.create_user("alice")
    root, _ = db.create_user("root", "admin")
    settings = Settings(quota_storage_mb=1.0, quota_active_jobs=2, quota_jobs_per_hour=3)
    video = _video(db, alice.id, 600_000)
    _video(db, alice.id, 300_000)
    assert quotas.storage_used(db, alice) == 900_000
    assert quotas.check_storage(db, settings, alice, 148_576) == 2**20 - 900_000
    with pytest.raises(quotas.QuotaExceeded, match="storage quota"):
        quotas.check_storage(db, settings, alice, 148_577)
    assert quotas.check_storage(db, settings, root, 10**12) is None  # admins: no quota
    now = utcnow()
    with db.session() as s:  # two hours old (outside the hour), one done in the hour, one cancelled, one running
        for state, age in ((QUEUED, 7200), (QUEUED, 7100), ("done", 600), (CANCELLED, 60), (RUNNING, 30)):
            s.add(Job(id=new_id(), owner_id=alice.id, video_id=video.id, kind="pose", params="{}", state=state,
                      progress=0.0, attempts=0, created_at=now - timedelta(seconds=age)))
            s.add(quotas.JobStart(id=new_id(), user_id=alice.id, at=now - timedelta(seconds=age)))
    with pytest.raises(quotas.QuotaExceeded, match="3 jobs queued or running, and 2 at once") as active:
        quotas.check_jobs(db, settings, alice)  # the two old queued ones and the running one count: 3 >= 2
    assert active.value.retry_after == quotas.ACTIVE_RETRY_S
    with db.session() as s:
        for job in s.query(Job).where(Job.state == QUEUED):
            job.state = CANCELLED
    with pytest.raises(quotas.QuotaExceeded, match="created 3 jobs in the last hour, and 3 an hour") as hourly:
        quotas.check_jobs(db, settings, alice)  # done, cancelled and running of the hour: 3 >= 3
    assert 3000 <= hourly.value.retry_after <= 3001  # the oldest of the hour (10 minutes old) leaves in 50 minutes
    quotas.check_jobs(db, Settings(quota_active_jobs=2, quota_jobs_per_hour=4), alice)  # within both
    quotas.check_jobs(db, settings, root)  # admins: exempt
    with db.session() as s:  # the ledger outlives the jobs: their deletion does not give the hour back
        s.query(Job).delete()
    with pytest.raises(quotas.QuotaExceeded, match="created 3 jobs in the last hour"):
        quotas.admit_job(db, settings, alice)
    quotas.admit_job(db, Settings(quota_active_jobs=2, quota_jobs_per_hour=4), alice)  # the 4th: counted
    with db.session() as s:  # ... and the starts older than the hour forgotten
        assert s.scalar(select(func.count()).select_from(quotas.JobStart)) == 4
