"""Issue 25: an HTML + MPEG-TS polyglot was stored and served back as ``video/mp4`` (the type came from a default,
not from what the content was), and stored files came without ``Content-Disposition`` or nosniff.

Now an upload's container decides its stored suffix and the type it is served with; a container PoseCoach does not
serve under a video type of its own (MPEG-TS, ...) is refused with 415 and the reason; the uploaded video is an
attachment with its checked type, results carry their type and a disposition. On the code before, the polyglot
answered 201 and its file ``video/mp4``, a WebM ``application/octet-stream``, and no file had a disposition.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from posecoach.core.sequence import PoseSequence
from tests.integration.service.conftest import Api
from tests.integration.service.test_results import run_job, squats  # noqa: F401  (squats: a fixture)

HTML = b"<!doctype html><html><body><script>alert(document.domain)</script></body></html>\n"


def encode(path: Path, fmt: str, codec: str, frames: int = 6) -> bytes:
    """A small real video in container ``fmt`` with video ``codec`` (PyAV)."""
    rng = np.random.default_rng(frames)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for _ in range(frames):
            image = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    return path.read_bytes()


def test_an_html_mpegts_polyglot_is_refused(api: Api, tmp_path: Path) -> None:
    polyglot = HTML + encode(tmp_path / "a.ts", "mpegts", "mpeg2video")
    answer = api.call("POST", "/v1/videos?filename=page.html", content=polyglot, headers={"Content-Type": "video/mp4"})
    assert answer.status_code == 415, answer.text
    assert "mpegts" in answer.json()["detail"] and "MP4" in answer.json()["detail"]
    assert api.call("GET", "/v1/videos").json() == []
    assert list((tmp_path / "service" / "storage" / "incoming").iterdir()) == []  # nothing left behind


def _served(api: Api, video_id: str) -> tuple[str, str, str]:
    answer = api.call("GET", f"/v1/videos/{video_id}/file")
    assert answer.status_code == 200
    return (answer.headers["content-type"], answer.headers.get("content-disposition", ""),
            answer.headers.get("x-content-type-options", ""))


def test_an_upload_is_served_as_an_attachment_with_its_checked_type(api: Api, small_video: bytes,
                                                                    tmp_path: Path) -> None:
    # an MP4 that claims to be a web page (name and declared subtype) and carries HTML at its end
    mp4 = api.call("POST", "/v1/videos?filename=page.html", content=small_video + HTML,
                   headers={"Content-Type": "video/x-anything"})
    assert mp4.status_code == 201, mp4.text
    kind, disposition, nosniff = _served(api, mp4.json()["id"])
    assert kind == "video/mp4" and nosniff == "nosniff"
    assert disposition.startswith("attachment;") and 'filename="page.mp4"' in disposition
    webm = api.call("POST", "/v1/videos?filename=rec.webm", content=encode(tmp_path / "a.webm", "webm", "libvpx"),
                    headers={"Content-Type": "video/webm"})
    assert webm.status_code == 201, webm.text
    kind, disposition, _ = _served(api, webm.json()["id"])
    assert kind == "video/webm" and 'filename="rec.webm"' in disposition
    avi = api.call("POST", "/v1/videos?filename=%22evil%22%3B.avi", headers={"Content-Type": "video/x-msvideo"},
                   content=encode(tmp_path / "a.avi", "avi", "mpeg4"))
    assert avi.status_code == 201, avi.text
    kind, disposition, _ = _served(api, avi.json()["id"])
    assert kind == "video/x-msvideo" and disposition.startswith('attachment; filename="_evil__.avi";'), disposition


def test_results_carry_their_type_and_a_disposition(api: Api, small_video: bytes,
                                                    squats: PoseSequence) -> None:  # noqa: F811
    video_id = api.upload(small_video).json()["id"]
    job = run_job(api, {"video_id": video_id, "kind": "analyze", "exercise": "squat"})
    expected = {"report": ("application/json", "inline"), "plot": ("image/png", "inline"),
                "overlay": ("video/mp4", "inline"), "csv": ("text/csv", "attachment"),
                "poses": ("application/octet-stream", "attachment")}
    for kind, (media, disposition) in expected.items():
        answer = api.call("GET", f"/v1/jobs/{job['id']}/results/{kind}")
        assert answer.status_code == 200, (kind, answer.text)
        assert answer.headers["content-type"].split(";")[0] == media, kind
        assert answer.headers["content-disposition"].startswith(f"{disposition}; filename=\"analyze-"), kind
        assert answer.headers["x-content-type-options"] == "nosniff"
    report = api.call("GET", f"/v1/jobs/{job['id']}/report")
    assert report.headers["content-disposition"].startswith("inline; filename=")
