"""Where uploads and results live: a local folder by default (`LocalStorage`), S3-compatible object storage
with ``POSECOACH_STORAGE_URL=s3://bucket/prefix`` (`S3Storage`). Routes and tasks use only the `Storage`
interface, never a file path, so either backend serves the same API.

Keys are made by `base` (never from a request) and checked against one pattern, so no request can reach a file
outside storage.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from posecoach.service.storage.base import Storage, TooLarge, check_key, new_key, spool
from posecoach.service.storage.local import LocalStorage  # the default backend

if TYPE_CHECKING:
    from posecoach.service.settings import Settings


def open_storage(settings: Settings) -> Storage:
    """The storage ``settings`` name: S3 for ``storage_url=s3://bucket/prefix``, else the local folder."""
    url = settings.storage_url
    if not url:
        return LocalStorage(settings.resolved_storage_dir())
    from posecoach.service.storage.s3 import S3Storage  # boto3 only when S3 is used

    return S3Storage.from_url(url, endpoint_url=settings.s3_endpoint_url, spool_dir=settings.data_dir / "incoming")


__all__ = ["LocalStorage", "Storage", "TooLarge", "check_key", "new_key", "open_storage", "spool"]
