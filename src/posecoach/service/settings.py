"""Service configuration: environment variables with the ``POSECOACH_`` prefix (pydantic-settings).

Every setting has a default that works on one machine with nothing else installed: SQLite and local storage
under ``POSECOACH_DATA_DIR``, jobs in a pool of processes inside the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "posecoach" / "service"


class Settings(BaseSettings):
    """What a deployment can change; each field is the env var ``POSECOACH_<NAME>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="POSECOACH_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir,
                           description="Folder for the SQLite database and the local storage.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite in data_dir. "
                                     "e.g. postgresql+psycopg://user@host/db, mysql+pymysql://user@host/db")
    storage_dir: Path | None = Field(None, description="Folder for uploads and results; default data_dir/storage.")
    max_upload_mb: float = Field(500.0, gt=0, description="Largest upload accepted, in MiB.")
    max_duration_s: float = Field(900.0, gt=0, description="Longest video accepted, in seconds.")
    job_workers: int = Field(1, ge=1, description="Analyses run at once by the in-process pool.")
    job_executor: Literal["process", "thread"] = Field("process", description="Run analyses in child processes "
                                                       "(isolated: a crash fails one job) or in threads.")
    job_max_attempts: int = Field(3, ge=1, description="Tries per job before it fails (a crash is retried, "
                                  "a bad input is not).")
    pose_model: str = Field("full", description="Pose model for analyses: lite, full or heavy.")
    live_pose_model: str = Field("lite", description="Pose model for the web app's live camera (lite keeps up with "
                                 "20+ frames/s on a plain CPU; full is more accurate, slower).")
    redis_url: str | None = Field(None, description="Redis URL (redis://host:6379/0): jobs go through the "
                                  "Redis task queue to `posecoach worker` processes; unset: in-process pool.")
    redis_namespace: str = Field("posecoach", description="Prefix of the queue's Redis keys (one per deployment).")
    job_lease_s: float = Field(30.0, gt=0, description="A running job whose worker sent no heartbeat for this "
                               "long is taken over by another worker (its worker died).")
    job_heartbeat_s: float = Field(5.0, gt=0, description="How often a running job's worker writes its heartbeat "
                                   "(and how often stale jobs are swept); keep well under job_lease_s.")
    storage_url: str | None = Field(None, description="s3://bucket/prefix: uploads and results in S3-compatible "
                                    "object storage; unset: the local folder storage_dir.")
    s3_endpoint_url: str | None = Field(None, description="Endpoint of the S3-compatible server (MinIO, Ceph...); "
                                        "unset: AWS. Credentials: the usual AWS_* variables.")
    trusted_origins: str = Field("", description="Origins (scheme://host[:port], comma-separated) besides the "
                                 "server's own whose pages may use the web app's sign-in: state-changing requests "
                                 "and the live WebSocket (e.g. the public origin of a proxy that rewrites Host).")

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'posecoach.db'}"

    def resolved_storage_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "storage"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
