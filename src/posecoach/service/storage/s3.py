"""S3-compatible object storage (boto3): ``POSECOACH_STORAGE_URL=s3://bucket/prefix``, an endpoint for MinIO,
Ceph, ... with ``POSECOACH_S3_ENDPOINT_URL``, credentials from the usual AWS variables (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION) or files.

Uploads are spooled to a local temporary file first (checked by decoding before anything is kept), then
uploaded; a job downloads its video to a temporary file removed afterwards. Downloads stream from S3 and pass
an HTTP Range on to ``GetObject``, so a stored video plays and seeks in a browser.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from anyio import to_thread
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from posecoach.service.storage.base import check_key, new_key, spool

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
_CHUNK = 1024 * 1024


def _missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte a ``Range`` header asks for; None to send the whole object (no header, or one
    this server does not split: several ranges); ValueError when it cannot be satisfied (416)."""
    match = _RANGE.fullmatch((header or "").strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        start, end = max(0, size - int(last)), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise ValueError(f"range {header!r} is outside the {size} bytes")
    return start, end


class S3Response(Response):
    """Streams one object; answers ``Range: bytes=a-b`` with 206 (the range passed to ``GetObject``)."""

    def __init__(self, client: Any, bucket: str, name: str, size: int, media_type: str,
                 filename: str | None = None) -> None:
        super().__init__(media_type=media_type)
        self.client, self.bucket, self.name, self.size = client, bucket, name, size
        self.headers["accept-ranges"] = "bytes"
        if filename:
            self.headers["content-disposition"] = f'attachment; filename="{filename}"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", []))
        try:
            wanted = byte_range(headers.get("range"), self.size)
        except ValueError:
            self.headers["content-range"] = f"bytes */{self.size}"
            self.headers["content-length"] = "0"
            await send({"type": "http.response.start", "status": 416, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b""})
            return
        extra: dict[str, str] = {}
        status, length = 200, self.size
        if wanted is not None:
            status, length = 206, wanted[1] - wanted[0] + 1
            extra["Range"] = f"bytes={wanted[0]}-{wanted[1]}"
            self.headers["content-range"] = f"bytes {wanted[0]}-{wanted[1]}/{self.size}"
        self.headers["content-length"] = str(length)
        body = (await to_thread.run_sync(lambda: self.client.get_object(Bucket=self.bucket, Key=self.name,
                                                                        **extra)))["Body"]
        try:
            await send({"type": "http.response.start", "status": status, "headers": self.raw_headers})
            if scope.get("method") != "HEAD":
                chunks = body.iter_chunks(_CHUNK)
                while chunk := await to_thread.run_sync(next, chunks, b""):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            body.close()


class S3Storage:
    """Objects ``<prefix>/<key>`` in one bucket; the same interface as `LocalStorage`, without ``path``."""

    new_key = staticmethod(new_key)

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 spool_dir: Path | None = None, client: Any = None) -> None:
        import boto3

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.spool_dir = Path(spool_dir or Path(tempfile.gettempdir()) / "posecoach-incoming")
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url or None)

    @classmethod
    def from_url(cls, url: str, **kw: Any) -> S3Storage:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ValueError(f"POSECOACH_STORAGE_URL must look like s3://bucket/prefix, not {url!r}")
        return cls(parsed.netloc, parsed.path, **kw)

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def ensure(self) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)

    async def receive(self, chunks: AsyncIterator[bytes], limit: int) -> tuple[Path, int]:
        return await spool(chunks, limit, self.spool_dir)

    def adopt(self, incoming: Path, key: str) -> None:
        try:
            self.client.upload_file(str(incoming), self.bucket, self._name(key))
        finally:
            incoming.unlink(missing_ok=True)

    def write_text(self, key: str, text: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=text.encode("utf-8"))

    def write_file(self, key: str, source: Path) -> None:
        self.client.upload_file(str(source), self.bucket, self._name(key))

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """Download ``key`` to a temporary file (same suffix: readers pick the format by it), removed after."""
        name = self._name(key)
        self.ensure()
        fd, tmp = tempfile.mkstemp(prefix="copy-", suffix=Path(key).suffix, dir=self.spool_dir)
        os.close(fd)
        try:
            try:
                self.client.download_file(self.bucket, name, tmp)
            except Exception as exc:
                if _missing(exc):
                    raise FileNotFoundError(key) from None
                raise
            yield Path(tmp)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _size(self, key: str) -> int | None:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"])
        except Exception as exc:
            if _missing(exc):
                return None
            raise

    def exists(self, key: str) -> bool:
        return self._size(key) is not None

    def response(self, key: str, media_type: str, filename: str | None = None) -> Response:
        size = self._size(key)
        if size is None:
            raise FileNotFoundError(key)
        return S3Response(self.client, self.bucket, self._name(key), size, media_type, filename)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def list_keys(self, prefix: str) -> Iterator[tuple[str, float]]:
        """The keys starting with ``prefix`` and their modification times (ListObjectsV2, paged)."""
        start = f"{self.prefix}/" if self.prefix else ""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start + prefix)
        for page in pages:
            for item in page.get("Contents", []):
                key = str(item["Key"])[len(start):]
                try:
                    check_key(key)
                except ValueError:
                    continue
                yield key, item["LastModified"].timestamp()

    def writable(self) -> bool:
        probe = f"{self.prefix}/incoming/ready-probe" if self.prefix else "incoming/ready-probe"
        try:
            self.ensure()
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
            return True
        except Exception:
            return False
