"""Every job kind on a real clip with the real pose model (slow): the poses are estimated once (by the first
job) and reused by the others; each job's results are fetched and checked, and the time per job printed."""

from __future__ import annotations

import time

import pytest

from tests.conftest import data_file
from tests.integration.service.conftest import Api
from tests.integration.service.test_library import _made
from tests.integration.service.test_results import fetch, results


def _timed(api: Api, body: dict[str, object]) -> tuple[dict[str, object], float]:
    t0 = time.perf_counter()
    made = api.call("POST", "/v1/jobs", json=body)
    assert made.status_code == 202, made.text
    job = api.wait(made.json()["id"], timeout=300)
    assert job["state"] == "done", job
    return job, time.perf_counter() - t0


@pytest.mark.slow
@pytest.mark.video
def test_every_job_kind_on_a_real_clip(api: Api) -> None:
    clip = data_file("form/kaiakol/data/squat/correct/squat_correct_001.mp4")
    video_id = api.upload(clip.read_bytes(), name=clip.name).json()["id"]
    rows = []
    pose, seconds = _timed(api, {"video_id": video_id, "kind": "pose"})
    rows.append(("pose", seconds, sorted(results(api, str(pose["id"])))))
    assert fetch(api, str(pose["id"]), "report").json()["detection_rate"] > 0.9
    analyze, seconds = _timed(api, {"video_id": video_id, "exercise": "squat"})
    rows.append(("analyze", seconds, sorted(results(api, str(analyze["id"])))))
    assert fetch(api, str(analyze["id"]), "report").json()["reps"]["count"] >= 1
    assert fetch(api, str(analyze["id"]), "overlay").content[4:8] == b"ftyp"
    t0 = time.perf_counter()
    ref = _made(api, "/v1/references", {"video_id": video_id, "name": "squat"}, "alice")
    rows.append(("reference", time.perf_counter() - t0, []))
    compare, seconds = _timed(api, {"video_id": video_id, "kind": "compare", "reference_id": ref["id"]})
    rows.append(("compare", seconds, sorted(results(api, str(compare["id"])))))
    assert fetch(api, str(compare["id"]), "report").json()["score"] > 95  # the clip against itself
    falls, seconds = _timed(api, {"video_id": video_id, "kind": "falls"})
    rows.append(("falls", seconds, sorted(results(api, str(falls["id"])))))
    assert fetch(api, str(falls["id"]), "report").json()["events"] == []  # a squat is no fall
    t0 = time.perf_counter()
    ranges = [{"start_s": 0.0, "end_s": 0.4, "label": "up"}, {"start_s": 0.7, "end_s": 1.0, "label": "down"}]
    model = _made(api, "/v1/posture-models", {"name": "squat", "videos": [{"video_id": video_id,
                                                                             "ranges": ranges}]}, "alice")
    rows.append(("posture_train", time.perf_counter() - t0, []))
    posture, seconds = _timed(api, {"video_id": video_id, "kind": "posture", "model_id": model["id"]})
    rows.append(("posture", seconds, sorted(results(api, str(posture["id"])))))
    assert set(fetch(api, str(posture["id"]), "report").json()["time_per_posture_s"]) == {"up", "down"}
    print("\n| job kind | s | results |\n| --- | ---: | --- |")
    for kind, s, kinds in rows:
        print(f"| {kind} | {s:.1f} | {', '.join(kinds) or '(the library entry)'} |")
