"""Through the REST API (whose report the web page shows): a guide made as one repetition from a video, then the
same video compared with it, scores exactly 100 with no deviation, as the Python API and the CLI do."""

from __future__ import annotations

import pytest

from posecoach.analysis.compare import Guide, compare_sequences
from tests.integration.service.conftest import Api
from tests.integration.service.test_library import _made
from tests.integration.service.test_results import fetch, run_job
from tests.synthetic import make_exercise


def test_a_guide_compared_with_itself_scores_100(api: Api, small_video: bytes,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    seq = make_exercise("squat", reps=1, period_s=2.0, fps=10.0, rest_s=1.0)
    monkeypatch.setattr("posecoach.pose.engine.load_sequence", lambda *a, **k: seq)
    video = api.upload(small_video, name="squat.mp4").json()["id"]
    ref = _made(api, "/v1/references", {"video_id": video, "name": "squat", "reps": 1}, "alice")
    job = run_job(api, {"video_id": video, "kind": "compare", "reference_id": ref["id"]})
    report = fetch(api, job["id"], "report").json()
    assert report["score"] == 100.0 and report["deviations"] == []
    assert report["score"] == compare_sequences(seq, seq, guide=Guide(name="squat", reps=1)).score
