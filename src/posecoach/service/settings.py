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
    # bounded work (`limits`): checked from the container's header and packets at upload, and again by the worker
    max_frame_pixels: int = Field(3840 * 2160, ge=1, description="Most pixels in one frame (width x height); "
                                  "default 4K UHD, which phones record.")
    max_frames: int = Field(27000, ge=2, description="Most frames in one video (default: 15 minutes at 30 fps).")
    max_fps: float = Field(120.0, gt=0, description="Highest frame rate accepted, in frames per second.")
    max_pixel_rate: float = Field(3840 * 2160 * 30, gt=0, description="Most decoded pixels per second of video "
                                  "(width x height x fps; default 4K at 30 fps, 1080p at 120 fps).")
    # per-user quotas (`quotas`): 429 with the reason and Retry-After; admins are exempt
    quota_storage_mb: float = Field(5120.0, gt=0, description="Total size of one user's uploaded videos, in MiB.")
    quota_active_jobs: int = Field(8, ge=1, description="Jobs one user may have queued or running at once.")
    quota_jobs_per_hour: int = Field(60, ge=1, description="Jobs one user may create in any hour.")
    # the live WebSocket (`posecoach.service.live_limits`)
    live_max_sessions: int = Field(16, ge=1, description="Live camera sessions open at once, all users together.")
    live_max_sessions_per_user: int = Field(4, ge=1, description="Live camera sessions one user may have open.")
    live_max_frame_kb: float = Field(2048.0, gt=0, description="Largest live frame (one JPEG), in KiB.")
    live_max_frame_pixels: int = Field(1920 * 1080, ge=1, description="Most pixels of a live frame, read from the "
                                       "JPEG's header before it is decoded.")
    live_max_fps: float = Field(30.0, gt=0, description="Live frames processed per second and session; frames "
                                "over it (beyond a one-second burst) are answered `dropped`, not processed.")
    live_max_refusals: int = Field(20, ge=1, description="Refused live frames in a row (too large, not a JPEG, "
                                   "over the rate) after which the session is closed (code 1008).")
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
    alert_webhook_allow_private: bool = Field(False, description="Send fall alerts to webhooks on loopback, "
                                              "private or link-local addresses (an on-premises receiver). Off: "
                                              "refused, so that no user can make the server call internal "
                                              "services with a webhook URL.")
    outbox_interval_s: float = Field(5.0, gt=0, description="How often jobs recorded while the queue (Redis) was "
                                     "down are handed to it again (by serve and by every worker).")
    sweep_interval_s: float = Field(3600.0, ge=0, description="How often stored files no row refers to, stale "
                                    "temporary files and (with retention_days) old videos are removed; the sweep "
                                    "also runs at start; 0: at start only.")
    stale_after_s: float = Field(3600.0, gt=0, description="Age after which an unfinished upload (incoming/*.part), "
                                 "a job's temporary folder or a stored file no row refers to counts as left over.")
    retention_days: float | None = Field(None, gt=0, description="Delete videos (with their jobs, results and "
                                         "guides) older than this many days, at each sweep; unset: kept until "
                                         "deleted.")
    storage_url: str | None = Field(None, description="s3://bucket/prefix: uploads and results in S3-compatible "
                                    "object storage; unset: the local folder storage_dir.")
    s3_endpoint_url: str | None = Field(None, description="Endpoint of the S3-compatible server (MinIO, Ceph...); "
                                        "unset: AWS. Credentials: the usual AWS_* variables.")
    trusted_origins: str = Field("", description="Origins (scheme://host[:port], comma-separated) besides the "
                                 "server's own whose pages may use the web app's sign-in: state-changing requests "
                                 "and the live WebSocket (e.g. the public origin of a proxy that rewrites Host).")

    session_idle_s: float = Field(3600.0, gt=0, description="A web app session unused for this long ends "
                                  "(signing in again is needed).")
    session_max_s: float = Field(43200.0, gt=0, description="A web app session ends this long after its "
                                 "sign-in, used or not.")
    sign_in_window_s: float = Field(900.0, gt=0, description="Failed sign-ins (and wrong API keys) are counted "
                                    "over this many seconds for throttling.")
    sign_in_max_failures: int = Field(5, ge=1, description="Failed sign-ins to one account within the window, "
                                      "after which that account's sign-in answers 429 until the window passes.")
    sign_in_max_failures_per_address: int = Field(20, ge=1, description="Failed sign-ins and wrong API keys from "
                                                  "one client address within the window, after which 429.")
    password_min_length: int = Field(10, ge=8, le=128, description="Shortest password accepted.")

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'posecoach.db'}"

    def resolved_storage_dir(self) -> Path:
        return self.storage_dir or self.data_dir / "storage"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
