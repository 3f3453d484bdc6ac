"""A guide compared with itself scores exactly 100, with no deviation, on every path: the Python API, the public
`posecoach.compare`, the CLI (guide from the library, attempt as a saved sequence or the video itself); the REST
API in tests/integration/service/test_compare_self_api.py (the web page shows that report's score). The root cause
once behind "a guide scores 86 against itself": a guide stored as one repetition, and an attempt whose repetition
counter cut that one squat in two, so that each half was aligned with the whole guide (inventing "hips bend 34
degrees more")."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import posecoach
from posecoach.analysis.compare import Guide, compare_prepared, compare_sequences, prepare
from posecoach.analysis.compare.pipeline import merge_reps
from posecoach.core.sequence import PoseSequence
from posecoach.io.landmark_files import read_keraal_blazepose, read_ui_prmd
from tests.conftest import data_file
from tests.synthetic import make_exercise

SQUAT_VIDEO = "form/kaiakol/data/squat/correct/squat_correct_001.mp4"


def _self_report_ok(seq: PoseSequence, **options: object) -> None:
    report = compare_sequences(seq, seq, **options)  # type: ignore[arg-type]
    assert report.score == 100.0
    assert not report.deviations
    assert all(r.score == 100.0 for r in report.reps)
    assert report.summary[0].startswith("Score 100/100")


@pytest.mark.parametrize("reps", [True, False])
def test_synthetic_squats_against_themselves(reps: bool) -> None:
    _self_report_ok(make_exercise("squat", reps=3, period_s=2.0, view="side", seed=1), reps=reps)
    _self_report_ok(make_exercise("squat", reps=1, period_s=2.0, view="front", seed=2), reps=reps,
                    guide=Guide(name="g", reps=1, joints=["left_knee"]))


@pytest.mark.video
def test_real_rehab_repetitions_against_themselves() -> None:
    for m in ("m01", "m05", "m08"):
        _self_report_ok(read_ui_prmd(data_file(f"rehab/ui_prmd/data/{m}_s01_e01_positions.txt")))
    keraal = read_keraal_blazepose(data_file("rehab/keraal/draw_skeleton/dataSampleKeraal/"
                                             "G3-BP-ELK-P1T1-Unknown-C-0.json"))
    _self_report_ok(keraal, guide=Guide(name="elk", reps=1))
    assert posecoach.compare(keraal, keraal).score == 100.0


def test_one_repetition_cut_in_two_by_the_counter_is_scored_whole() -> None:
    """The guide is one repetition; the attempt (the same movement) arrives with its repetition cut in two."""
    seq = make_exercise("squat", reps=1, period_s=2.0, view="side", seed=1)
    guide = Guide(name="squat", reps=1)
    ref = prepare(seq, role="guide", mirror=False, reps=False)
    n = seq.num_frames
    cut = replace(prepare(seq), reps=[(0, n // 2 - 1), (n // 2, n - 1)])
    report = compare_prepared(ref, cut, guide=guide)
    assert report.score == 100.0 and not report.deviations
    assert report.attempt.reps == 1 and len(report.reps) <= 1
    assert merge_reps(ref.matrix, cut.matrix, cut.reps) == [(0, n - 1)]


def test_real_repetitions_are_not_merged() -> None:
    guide = make_exercise("squat", reps=1, period_s=2.0, view="side", seed=1)
    attempt = prepare(make_exercise("squat", reps=3, period_s=2.5, view="side", seed=4))
    assert len(attempt.reps) == 3
    ref = prepare(guide, role="guide", mirror=False)
    assert merge_reps(ref.matrix, attempt.matrix, attempt.reps) == attempt.reps
    report = compare_prepared(ref, attempt, guide=Guide(name="squat", reps=1))
    assert report.alignment.method == "per_rep" and [r.index for r in report.reps] == [1, 2, 3]


# ----------------------------------------------------------------------------------------------- the edges
@pytest.fixture(scope="module")
def squat_poses(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The poses of a real one-squat clip, as `posecoach compare` estimates them."""
    from posecoach.pose.engine import load_sequence

    path = tmp_path_factory.mktemp("self") / "squat.npz"
    load_sequence(data_file(SQUAT_VIDEO), model="full").save(path)
    return path


@pytest.mark.video
def test_cli_guide_from_the_library_against_itself(squat_poses: Path, tmp_path: Path) -> None:
    from tests.integration.test_cli_analyze import cli

    lib = tmp_path / "lib"
    assert cli("reference", "add", "sq", squat_poses, "--library", lib, "--reps", "1",
               "--joints", "left_knee,right_knee").code == 0
    for attempt in (squat_poses, data_file(SQUAT_VIDEO)):  # the saved poses, then the video itself
        out = tmp_path / f"{Path(attempt).stem}.json"
        run = cli("compare", "sq", attempt, "--library", lib, "--json", out)
        assert run.code == 0, run
        report = json.loads(out.read_text())
        assert report["score"] == 100.0 and report["deviations"] == [], report["summary"]
        assert "Score 100/100" in run.stdout
    direct = cli("compare", squat_poses, squat_poses, "--json", tmp_path / "direct.json")
    assert direct.code == 0 and json.loads((tmp_path / "direct.json").read_text())["score"] == 100.0
