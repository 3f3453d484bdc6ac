"""Shared fixtures: paths to the real clips in ../shared/data (read at run time, never copied)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _data_dir() -> Path:
    """../shared/data beside the checkout, or $POSECOACH_DATA, or the machine's /work/shared/data."""
    candidates = [os.environ.get("POSECOACH_DATA"), REPO.parent / "shared" / "data", "/work/shared/data"]
    for c in candidates:
        if c and Path(c).is_dir():
            return Path(c)
    return REPO.parent / "shared" / "data"


DATA = _data_dir()


def data_file(relative: str) -> Path:
    """A file under ../shared/data; a missing one fails the test (it must not silently pass or skip)."""
    path = DATA / relative
    if not path.is_file():
        pytest.fail(f"test data missing: {path} (PoseCoach's tests read real clips from ../shared/data)")
    return path


@pytest.fixture(scope="session")
def squat_side_clip() -> Path:
    """A real side-view squat, 1280x720, 49 frames at 30 fps."""
    return data_file("form/kaiakol/data/squat/correct/squat_correct_001.mp4")
