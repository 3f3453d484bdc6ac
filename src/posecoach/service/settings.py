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

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'posecoach.db'}"

    def resolved_storage_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "storage"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
