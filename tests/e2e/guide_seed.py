"""A ready guide put straight into a test server's library (as the ``reference`` job stores one: its poses in
storage, its row), optionally with the video it was made from, for tests that follow a guide live."""

from __future__ import annotations

from pathlib import Path

from posecoach.analysis.compare import Guide
from posecoach.pose.engine import estimate_poses
from posecoach.service import Settings, library_db
from posecoach.service.db import Database, Video, new_id, utcnow
from posecoach.service.storage import open_storage
from tests.e2e.conftest import WebServer


def guide(server: WebServer, owner: str, video: Path, tmp: Path, name: str = "squat-guide",
          with_video: bool = False) -> str:
    """A ready guide of ``owner`` made from ``video`` (one repetition); its id."""
    seq = estimate_poses(video, model="lite")
    settings = Settings(data_dir=server.data_dir)
    storage = open_storage(settings)
    key = f"references/{new_id()}.npz"
    storage.write_file(key, seq.save(tmp / f"{name}.npz"))
    db = Database(settings.resolved_database_url())
    try:
        video_id = None
        if with_video:
            video_key = f"videos/{new_id()}{video.suffix}"
            storage.write_file(video_key, video)
            video_id = db.add_video(Video(id=new_id(), owner_id=server.ids[owner], filename=video.name,
                                          storage_key=video_key, size_bytes=video.stat().st_size, width=1280,
                                          height=720, fps=seq.fps, num_frames=seq.num_frames,
                                          duration_s=seq.duration, created_at=utcnow())).id
        return library_db.add_ready_guide(db, server.ids[owner], Guide(name=name, reps=1).model_dump_json(), key,
                                          seq.num_frames, seq.duration, video_id)
    finally:
        db.close()
