"""The storage interface on both backends: a local folder and S3 (boto3 against a local S3-compatible server,
moto's, started here on a free port). The same tests run on each; then the API on S3 end to end."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import boto3
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from posecoach.service import Settings
from posecoach.service.db import new_id
from posecoach.service.storage import LocalStorage, Storage, TooLarge, open_storage
from posecoach.service.storage.s3 import S3Storage, byte_range
from tests.integration.service.conftest import ApiFactory

BUCKET = "posecoach-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A local S3-compatible server (moto) with the bucket ``BUCKET``; fake credentials in the environment."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    with pytest.MonkeyPatch.context() as env:
        for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
            env.setenv(name, value)
        url = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=url).create_bucket(Bucket=BUCKET)
        yield url
    server.stop()


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        local = LocalStorage(tmp_path / "storage")
        local.ensure()
        return local
    endpoint = request.getfixturevalue("s3_endpoint")
    s3 = S3Storage(BUCKET, f"run-{new_id()[:8]}", endpoint_url=endpoint, spool_dir=tmp_path / "spool")
    s3.ensure()
    return s3


def _chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        for i in range(0, len(data), size):
            yield data[i:i + size]
    return gen()


def _receive(storage: Storage, data: bytes, limit: int) -> tuple[Path, int]:
    # In a thread of its own: a browser test earlier in the session leaves Playwright's sync API (an asyncio loop)
    # running in the main thread, where anyio.run refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, storage.receive, _chunks(data), limit).result()


DATA = bytes(range(256)) * 40  # 10240 bytes


def test_an_upload_is_received_adopted_read_and_deleted(storage: Storage) -> None:
    incoming, size = _receive(storage, DATA, limit=len(DATA))
    assert size == len(DATA) and incoming.read_bytes() == DATA
    key = storage.new_key("videos", ".mp4")
    assert not storage.exists(key)
    storage.adopt(incoming, key)
    assert storage.exists(key) and not incoming.exists() and storage.writable()
    with storage.local_copy(key) as path:
        assert path.read_bytes() == DATA and path.suffix == ".mp4"
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(FileNotFoundError), storage.local_copy(key):
        pass


def test_an_upload_over_the_limit_leaves_nothing(storage: Storage, tmp_path: Path) -> None:
    before = {p for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(TooLarge):
        _receive(storage, DATA, limit=len(DATA) - 1)
    assert {p for p in tmp_path.rglob("*") if p.is_file()} == before


def test_results_are_written_and_local_copies_removed(storage: Storage, tmp_path: Path) -> None:
    text_key, file_key = storage.new_key("results", ".json", new_id()), storage.new_key("results", ".png", new_id())
    storage.write_text(text_key, '{"ok": true}')
    source = tmp_path / "plot.png"
    source.write_bytes(DATA)
    storage.write_file(file_key, source)
    with storage.local_copy(text_key) as text_path, storage.local_copy(file_key) as file_path:
        assert text_path.read_text() == '{"ok": true}' and file_path.read_bytes() == DATA
    if isinstance(storage, S3Storage):  # a downloaded copy lasts only for the block
        assert not text_path.exists() and not file_path.exists()


@pytest.mark.parametrize("key", ["../x.mp4", "videos/../../etc/passwd", "/etc/passwd", "videos/abc.mp4"])
def test_keys_not_made_by_the_storage_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(ValueError):
        storage.exists(key)
    with pytest.raises(ValueError):
        storage.write_text(key, "x")


def _serve(storage: Storage) -> TestClient:
    def get(request: Request) -> Response:
        try:
            return storage.response(request.path_params["key"], "video/mp4")
        except FileNotFoundError:
            return Response(status_code=404)

    return TestClient(Starlette(routes=[Route("/{key:path}", get)]))


def test_downloads_answer_range_requests(storage: Storage) -> None:
    key = storage.new_key("videos", ".mp4")
    incoming, _ = _receive(storage, DATA, limit=len(DATA))
    storage.adopt(incoming, key)
    client = _serve(storage)
    whole = client.get(f"/{key}")
    assert whole.status_code == 200 and whole.content == DATA and whole.headers["accept-ranges"] == "bytes"
    part = client.get(f"/{key}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == DATA[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(DATA)}"
    tail = client.get(f"/{key}", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == DATA[-10:]
    assert client.get(f"/{key}", headers={"Range": f"bytes={len(DATA)}-"}).status_code == 416
    storage.delete(key)
    assert client.get(f"/{key}").status_code == 404


def test_range_headers_are_parsed_strictly() -> None:
    assert byte_range(None, 10) is None and byte_range("bytes=0-1,4-5", 10) is None
    assert byte_range("bytes=2-", 10) == (2, 9) and byte_range("bytes=3-99", 10) == (3, 9)
    assert byte_range("bytes=-4", 10) == (6, 9)
    for bad in ("bytes=10-", "bytes=5-2"):
        with pytest.raises(ValueError):
            byte_range(bad, 10)


def test_the_storage_url_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(open_storage(Settings(data_dir=tmp_path)), LocalStorage)
    s3 = open_storage(Settings(data_dir=tmp_path, storage_url="s3://bucket/some/prefix",
                               s3_endpoint_url="http://127.0.0.1:1"))
    assert isinstance(s3, S3Storage) and (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    with pytest.raises(ValueError):
        open_storage(Settings(data_dir=tmp_path, storage_url="ftp://bucket"))


def test_the_api_on_s3_uploads_analyses_and_serves_ranges(api_factory: ApiFactory, s3_endpoint: str,
                                                          small_video: bytes, tmp_path: Path) -> None:
    prefix = f"api-{new_id()[:8]}"
    api = api_factory(storage_url=f"s3://{BUCKET}/{prefix}", s3_endpoint_url=s3_endpoint)
    assert api.call("GET", "/ready", None).json()["storage"] is True
    video_id = api.upload(small_video, name="wall.mp4").json()["id"]
    stored = boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    assert [o["Size"] for o in stored["Contents"]] == [len(small_video)]  # in the bucket, not on disk
    assert not list((tmp_path / "service").rglob("*.mp4"))
    part = api.call("GET", f"/v1/videos/{video_id}/file", headers={"Range": "bytes=10-109"})
    assert part.status_code == 206 and part.content == small_video[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(small_video)}"
    assert api.call("GET", f"/v1/videos/{video_id}/file").content == small_video
    job = api.wait(api.call("POST", "/v1/jobs", json={"video_id": video_id, "exercise": "squat"}).json()["id"])
    assert job["state"] == "done", job
    assert api.call("GET", f"/v1/jobs/{job['id']}/report").json()["input"]["frames"] == 6
    assert api.call("GET", f"/v1/videos/{video_id}/file", "bob").status_code == 404
    assert api.call("DELETE", f"/v1/videos/{video_id}").status_code == 204
    assert "Contents" not in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=BUCKET,
                                                                                          Prefix=prefix)
