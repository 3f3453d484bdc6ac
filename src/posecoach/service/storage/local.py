"""Local file storage: files under one root folder, every key checked to resolve inside it."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from starlette.responses import FileResponse, Response

from posecoach.core.atomic import atomic_path
from posecoach.service.storage.base import check_key, new_key, spool


class LocalStorage:
    """Files under one root folder, addressed by keys like ``videos/<32 hex>.mp4``."""

    new_key = staticmethod(new_key)

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def ensure(self) -> None:
        for sub in ("videos", "results", "incoming"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file of ``key`` (this backend only); a ValueError for a malformed key or one that leaves the root."""
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"storage key {key!r} leaves the storage folder")
        return path

    async def receive(self, chunks: AsyncIterator[bytes], limit: int) -> tuple[Path, int]:
        """Stream ``chunks`` to a new file in ``incoming/``; TooLarge past ``limit`` bytes."""
        return await spool(chunks, limit, self.root / "incoming")

    def adopt(self, incoming: Path, key: str) -> None:
        """Move a received file into place under ``key``."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(incoming, target)

    def write_text(self, key: str, text: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")

    def write_file(self, key: str, source: Path) -> None:
        """Store a copy of the local file ``source`` under ``key`` (an overlay video, a plot)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            shutil.copyfile(source, tmp)

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A local file with the content of ``key`` while the block runs (here: the stored file itself)."""
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        yield path

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

    def list_keys(self, prefix: str) -> Iterator[tuple[str, float]]:
        """The keys starting with ``prefix`` and their modification times (for deletion and the sweep)."""
        top = prefix.split("/", 1)[0]
        if not top or not (self.root / top).is_dir():
            return
        for path in (self.root / top).rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and path.is_file() and not path.is_symlink():
                try:
                    check_key(key)
                    yield key, path.stat().st_mtime
                except (ValueError, FileNotFoundError):
                    continue

    def writable(self) -> bool:
        try:
            self.ensure()
            with tempfile.NamedTemporaryFile(dir=self.root / "incoming"):
                return True
        except OSError:
            return False
