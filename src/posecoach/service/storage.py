"""Local file storage for uploads and results. Keys are made here (never from a request), and every key is
checked to resolve inside the storage folder, so no request can reach a file outside it."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from starlette.responses import FileResponse, Response

from posecoach.core.atomic import atomic_path

_KEY = re.compile(r"^[a-z]+(/[0-9a-f]{32})+(/[a-z_]+)?\.[a-z0-9]{1,5}$")


class TooLarge(Exception):
    """The upload passed the size limit; nothing was kept."""


class LocalStorage:
    """Files under one root folder, addressed by keys like ``videos/<32 hex>.mp4``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def ensure(self) -> None:
        for sub in ("videos", "results", "incoming"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file of ``key``; a ValueError for a malformed key or one that leaves the root."""
        if not _KEY.fullmatch(key):
            raise ValueError(f"invalid storage key {key!r}")
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"storage key {key!r} leaves the storage folder")
        return path

    @staticmethod
    def new_key(kind: str, suffix: str, *parts: str) -> str:
        return "/".join([kind, *parts, secrets.token_hex(16)]) + suffix

    async def receive(self, chunks: AsyncIterator[bytes], limit: int) -> tuple[Path, int]:
        """Stream ``chunks`` to a new file in ``incoming/`` (never whole in memory); raise TooLarge past
        ``limit`` bytes, removing the partial file. Returns the file and its size."""
        self.ensure()
        fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=self.root / "incoming")
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

    def adopt(self, incoming: Path, key: str) -> Path:
        """Move a received file into place under ``key``."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(incoming, target)
        return target

    def write_text(self, key: str, text: str) -> Path:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
        return target

    def write_file(self, key: str, source: Path) -> None:
        """Store a copy of the local file ``source`` under ``key`` (an overlay video, a plot)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A local file with the content of ``key`` while the block runs (here: the stored file itself; a
        remote storage downloads it to a temporary file, removed afterwards)."""
        yield self.path(key)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def response(self, key: str, media_type: str, filename: str | None = None) -> Response:
        """An HTTP response with the content of ``key``, answering range requests (a video plays and seeks in a
        browser); `FileNotFoundError` when it is gone."""
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return FileResponse(path, media_type=media_type, filename=filename)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def writable(self) -> bool:
        try:
            self.ensure()
            with tempfile.NamedTemporaryFile(dir=self.root / "incoming"):
                return True
        except OSError:
            return False
