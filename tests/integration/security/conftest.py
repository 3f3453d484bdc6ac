"""Security tests reuse the service's fixtures: throwaway databases on SQLite, PostgreSQL and MariaDB, apps with
users alice, bob (users), carol (clinician) and root (admin), small videos."""

from __future__ import annotations

from tests.integration.service.conftest import api, api_factory, db, db_url, small_video  # noqa: F401  (fixtures)
