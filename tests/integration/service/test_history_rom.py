"""History's range of motion over time (issue 26, point 5): an analysis stores its repetitions' typical range
(``results.rom``, migration 0010) in the unit every output shows, and ``GET /v1/history`` gives it; ranges in no
absolute unit (a whole-body count's "x typical") give none."""

from __future__ import annotations

from statistics import median
from types import SimpleNamespace

from posecoach.core.sequence import PoseSequence
from posecoach.service.history import set_range
from tests.integration.service.conftest import Api
from tests.integration.service.test_results import fetch, run_job, squats  # noqa: F401  (squats: a fixture)


def _report(*reps: tuple[float, str]) -> SimpleNamespace:
    return SimpleNamespace(reps=SimpleNamespace(items=[SimpleNamespace(rom=r, rom_unit=u) for r, u in reps]))


def test_the_typical_range_is_the_median_in_degrees_or_estimated_centimetres() -> None:
    assert set_range(_report((80.0, "deg"), (95.0, "deg"), (90.04, "deg"))) == (90.0, "deg")  # type: ignore[arg-type]
    assert set_range(_report((31.0, "cm"), (35.0, "cm"))) == (33.0, "cm")  # type: ignore[arg-type]
    assert set_range(_report((1.1, "x typical"), (0.9, "x typical"))) == (None, None)  # type: ignore[arg-type]
    assert set_range(_report()) == (None, None)  # type: ignore[arg-type]
    assert set_range(_report((float("nan"), "deg"), (70.0, "deg"))) == (70.0, "deg")  # type: ignore[arg-type]


def test_an_analysis_gives_its_range_to_history(api: Api, small_video: bytes,
                                                squats: PoseSequence) -> None:  # noqa: F811
    video_id = api.upload(small_video, name="squats.mp4").json()["id"]
    job = run_job(api, {"video_id": video_id, "exercise": "squat"})
    report = fetch(api, job["id"], "report").json()
    [item] = api.call("GET", "/v1/history").json()
    units = {r["rom_unit"] for r in report["reps"]["items"]}
    assert units == {"deg"} and item["rom_unit"] == "deg"
    assert item["rom"] == round(median(r["rom"] for r in report["reps"]["items"]), 1)
    assert 30 < item["rom"] < 180  # a squat's knee range in degrees, not an internal unit
    assert item["file_name"] == "squats.mp4"
