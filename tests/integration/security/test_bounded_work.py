"""Finding "no bound on work" (issue 25), uploads and jobs: a video whose header says 8192x8192, a 400 KB file of
30,000 tiny frames, and each limit on work, refused at upload from the container (413 with the reason, nothing
decoded, nothing kept), and checked again by the worker before it decodes anything."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import av

from tests.integration.security.rss import PeakRss
from tests.integration.service.conftest import Api, ApiFactory


def encode(path: Path, width: int, height: int, frames: int, fps: int) -> bytes:
    """A real H.264 mp4 of ``frames`` blank frames of ``width`` x ``height`` at ``fps`` (tiny: blank compresses)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        frame = av.VideoFrame(width, height, "yuv420p")
        for i in range(frames):
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path.read_bytes()


def _nothing_kept(api: Api, tmp_path: Path) -> None:
    assert api.call("GET", "/v1/videos").json() == []
    incoming = tmp_path / "service" / "storage" / "incoming"
    assert not incoming.exists() or list(incoming.iterdir()) == []
    videos = tmp_path / "service" / "storage" / "videos"
    assert not videos.exists() or list(videos.rglob("*.*")) == []


def _limit(api: Api, **values: Any) -> None:
    """Change the running app's settings (read by every request and job)."""
    for name, value in values.items():
        setattr(api.client.app.state.settings, name, value)  # type: ignore[attr-defined]


def test_a_video_whose_header_says_8192x8192_is_refused_without_decoding(api: Api, tmp_path: Path) -> None:
    data = encode(tmp_path / "huge.mp4", 8192, 8192, frames=2, fps=2)  # one second, ~200 KB
    assert len(data) < 1_000_000
    with PeakRss() as rss:
        answer = api.upload(data, name="huge.mp4")
    # decoding even its first frame costs ~150 MB (and the job's decoding 5.5 GB); the header costs a few MB
    assert rss.growth_mb < 64, f"the upload took {rss.growth_mb:.0f} MB"
    assert answer.status_code == 413, answer.text
    detail = answer.json()["detail"]
    assert "8192x8192" in detail and "POSECOACH_MAX_FRAME_PIXELS" in detail
    _nothing_kept(api, tmp_path)


def test_a_file_of_thirty_thousand_tiny_frames_is_refused_at_once(api: Api, tmp_path: Path) -> None:
    data = encode(tmp_path / "many.mp4", 16, 16, frames=30_000, fps=1000)  # 30 s, ~400 KB
    assert len(data) < 600_000
    started = time.monotonic()
    answer = api.upload(data, name="many.mp4")
    assert answer.status_code == 413, answer.text
    assert "more than 27,000 frames" in answer.json()["detail"] and "POSECOACH_MAX_FRAMES" in answer.json()["detail"]
    assert time.monotonic() - started < 10  # the packets are counted, not decoded, and counting stops at the limit
    _nothing_kept(api, tmp_path)


def test_every_limit_is_a_setting_and_says_which(api: Api, small_video: bytes, tmp_path: Path) -> None:
    # small_video: 6 frames of 96x64 at 10 fps (61,440 pixels a second)
    cases = [({"max_frame_pixels": 96 * 64 - 1}, "POSECOACH_MAX_FRAME_PIXELS"),
             ({"max_frames": 5}, "POSECOACH_MAX_FRAMES"),
             ({"max_fps": 9.5}, "POSECOACH_MAX_FPS"),
             ({"max_pixel_rate": 96 * 64 * 10 - 1}, "POSECOACH_MAX_PIXEL_RATE")]
    defaults = {name: getattr(api.client.app.state.settings, name)  # type: ignore[attr-defined]
                for name in ("max_frame_pixels", "max_frames", "max_fps", "max_pixel_rate")}
    for values, setting in cases:
        _limit(api, **values)
        answer = api.upload(small_video)
        assert answer.status_code == 413 and setting in answer.json()["detail"], (setting, answer.text)
        _limit(api, **defaults)
    _nothing_kept(api, tmp_path)
    _limit(api, max_frame_pixels=96 * 64, max_frames=6, max_fps=10, max_pixel_rate=96 * 64 * 10)  # at the limits
    assert api.upload(small_video).status_code == 201


def test_the_worker_checks_the_limits_again_before_decoding(api_factory: ApiFactory, small_video: bytes) -> None:
    api = api_factory()
    video = api.upload(small_video).json()
    _limit(api, max_frame_pixels=1000)  # lowered after the upload: the job must not decode it
    job = api.call("POST", "/v1/jobs", json={"video_id": video["id"], "kind": "pose"}).json()
    done = api.wait(job["id"])
    assert done["state"] == "failed" and "POSECOACH_MAX_FRAME_PIXELS" in done["error"], done
    assert done["attempts"] == 1  # over a limit is the input's fault: not retried
    assert api.call("GET", f"/v1/jobs/{job['id']}/results").json() == []
