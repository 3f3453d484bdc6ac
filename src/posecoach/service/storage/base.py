"""The storage interface (`Storage`) and what both backends share: storage keys (made here, never from a request,
and checked against one pattern, so no request can reach a file outside storage) and spooling an upload.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Protocol

from starlette.responses import Response

_KEY = re.compile(r"^[a-z]+(/[0-9a-f]{32})+(/[a-z_]+)?\.[a-z0-9]{1,5}$")


class TooLarge(Exception):
    """The upload passed the size limit; nothing was kept."""


def check_key(key: str) -> str:
    """``key`` if it is one this module makes (``videos/<32 hex>.mp4``, ...); else a ValueError."""
    if not _KEY.fullmatch(key):
        raise ValueError(f"invalid storage key {key!r}")
    return key


def new_key(kind: str, suffix: str, *parts: str) -> str:
    return "/".join([kind, *parts, secrets.token_hex(16)]) + suffix


async def spool(chunks: AsyncIterator[bytes], limit: int, folder: Path) -> tuple[Path, int]:
    """Stream ``chunks`` to a new file in ``folder`` (never whole in memory); raise TooLarge past ``limit``
    bytes, removing the partial file. Returns the file and its size."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=folder)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the upload is larger than the limit of {limit} bytes")
                out.write(chunk)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    return Path(name), size


class Storage(Protocol):
    """What the service needs from a storage backend (`LocalStorage`, `S3Storage`)."""

    def new_key(self, kind: str, suffix: str, *parts: str) -> str:
        """A fresh key (``kind/<parts>/<32 hex><suffix>``); never made from a request."""

    def ensure(self) -> None:
        """Create what the backend needs to start (folders); raise if it cannot."""

    async def receive(self, chunks: AsyncIterator[bytes], limit: int) -> tuple[Path, int]:
        """Stream an upload to a local temporary file (checked before it is kept); TooLarge past ``limit``."""

    def adopt(self, incoming: Path, key: str) -> None:
        """Keep a received file under ``key`` (the local temporary file is gone afterwards)."""

    def write_text(self, key: str, text: str) -> None: ...

    def write_file(self, key: str, source: Path) -> None:
        """Store a copy of the local file ``source`` under ``key`` (an overlay video, a plot)."""

    def local_copy(self, key: str) -> contextlib.AbstractContextManager[Path]:
        """A local file with the content of ``key`` while the block runs."""

    def exists(self, key: str) -> bool: ...

    def response(self, key: str, media_type: str, filename: str | None = None) -> Response:
        """An HTTP response with the content of ``key`` answering range requests (206); FileNotFoundError
        when it is gone."""

    def delete(self, key: str) -> None: ...

    def list_keys(self, prefix: str) -> Iterator[tuple[str, float]]:
        """The stored keys starting with ``prefix`` (e.g. ``results/<job id>/``), each with its modification time
        (seconds since the epoch); names this module did not make are left out."""

    def writable(self) -> bool: ...
