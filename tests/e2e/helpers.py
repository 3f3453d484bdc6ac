"""Helpers for the browser tests: put real clips and jobs in place through the API (the pages are tested on
what they show, not on how the data got there)."""

from __future__ import annotations

import mimetypes
import time
from pathlib import Path
from typing import Any


def upload(request: Any, path: Path) -> dict[str, Any]:
    """Upload a video as the request context's user; the video's JSON."""
    answer = request.post(f"/v1/videos?filename={path.name}", data=path.read_bytes(),
                          headers={"Content-Type": mimetypes.guess_type(path.name)[0] or "video/mp4"})
    assert answer.ok, answer.text()
    return dict(answer.json())


def run_job(request: Any, spec: dict[str, Any], timeout_s: float = 300.0) -> dict[str, Any]:
    """Create a job and wait until it is done; the finished job's JSON."""
    answer = request.post("/v1/jobs", data=spec)
    assert answer.status == 202, answer.text()
    job = answer.json()
    deadline = time.monotonic() + timeout_s
    while job["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, f"job {job['id']} not done in {timeout_s:.0f} s"
        time.sleep(0.5)
        job = request.get(f"/v1/jobs/{job['id']}").json()
    assert job["state"] == "done", job.get("error")
    return dict(job)


def wait_until(page: Any, expression: str, timeout_s: float = 30.0) -> None:
    """Poll a JavaScript expression in the page until it is truthy (AssertionError after ``timeout_s``).

    Playwright's ``wait_for_function`` compiles its predicate inside the page, which the app's Content Security
    Policy (no ``unsafe-eval``) may refuse; ``evaluate`` runs through the debugging protocol, which it does not.
    """
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s} s: {expression}")
        time.sleep(0.05)
