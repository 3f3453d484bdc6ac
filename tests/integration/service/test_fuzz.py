"""Schemathesis against the app's own OpenAPI schema, in-process (ASGI): generated requests, valid and invalid,
with and without real ids of the caller's data, must never get a 5xx and every answer must match the schema
(status code, content type, headers, body). The figures are printed: requests fuzzed and 5xx seen."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis

from posecoach.core.sequence import PoseSequence
from posecoach.service import Settings, create_app
from posecoach.service.db import Database
from posecoach.service.migrations import upgrade
from tests.integration.service.conftest import make_video
from tests.integration.service.test_results import squats  # noqa: F401  (a fixture)

# uploads are video/*: send the generated bodies as raw bytes, as for application/octet-stream
schemathesis.serializer.alias(["video/mp4", "video/webm"], "application/octet-stream")


@dataclass
class Target:
    schema: object
    key: str
    ids: dict[str, str]


@pytest.fixture
def target(tmp_path: Path, squats: PoseSequence) -> Iterator[Target]:  # noqa: F811
    """An app on SQLite (jobs in threads, poses from `squats`) run by schemathesis, with a user whose video and
    finished job give real ids for the path parameters."""
    from fastapi.testclient import TestClient
    from schemathesis.python import asgi

    # throttling off: schemathesis sends wrong keys on purpose and expects 401, not the 429 that the throttle of
    # wrong keys per address answers after 20 (tests/integration/security/test_sign_in.py tests that)
    settings = Settings(data_dir=tmp_path / "service", job_executor="thread", max_upload_mb=1.0,
                        sign_in_max_failures=10**9, sign_in_max_failures_per_address=10**9)
    db = Database(settings.resolved_database_url())
    upgrade(db.engine)
    key = db.create_user("fuzzer")[1]
    db.create_user("admin", "admin")
    db.close()
    app = create_app(settings)
    with TestClient(app) as client:  # seed: a video and a finished job of the fuzzing user
        headers = {"X-API-Key": key}
        video = client.post("/v1/videos?filename=a.mp4", headers={**headers, "Content-Type": "video/mp4"},
                            content=make_video(tmp_path / "a.mp4").read_bytes()).json()
        job = client.post("/v1/jobs", headers=headers, json={"video_id": video["id"], "kind": "pose"}).json()
        for _ in range(600):
            if client.get(f"/v1/jobs/{job['id']}", headers=headers).json()["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    try:
        yield Target(schema, key, {"video_id": video["id"], "job_id": job["id"], "kind": "overlay"})
    finally:
        asgi.shutdown_lifespans()


def fuzz(target: Target, examples: int) -> tuple[int, int]:
    """Run ``examples`` generated requests (positive and negative, random and real ids); (requests, 5xx)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    headers = {"X-API-Key": target.key}
    schema = target.schema
    strategy = st.one_of(
        schema.as_strategy(GenerationMode.POSITIVE, headers=headers),  # type: ignore[attr-defined]
        schema.as_strategy(GenerationMode.POSITIVE, headers=headers,  # type: ignore[attr-defined]
                           path_parameters=target.ids),
        schema.as_strategy(GenerationMode.NEGATIVE, headers=headers),  # type: ignore[attr-defined]
    )
    seen = {"requests": 0, "5xx": 0}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one(case: object) -> None:
        response = case.call()  # type: ignore[attr-defined]
        seen["requests"] += 1
        seen["5xx"] += response.status_code >= 500
        # an upload that is valid by the schema may still not decode as a video: that 422 is the point
        case.validate_response(response, excluded_checks=[positive_data_acceptance])  # type: ignore[attr-defined]

    one()
    return seen["requests"], seen["5xx"]


def test_fuzzing_the_api_finds_no_server_error(target: Target) -> None:
    requests, errors = fuzz(target, 150)
    print(f"\nschemathesis: {requests} requests fuzzed, {errors} 5xx")
    assert requests >= 150 and errors == 0


@pytest.mark.slow
def test_fuzzing_the_api_at_length(target: Target) -> None:
    requests, errors = fuzz(target, 3000)
    print(f"\nschemathesis: {requests} requests fuzzed, {errors} 5xx")
    assert requests >= 3000 and errors == 0
