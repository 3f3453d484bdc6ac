"""Comparison with a guide: invariance (translation, scale, speed, camera view, mirroring), sensitivity (a
restricted joint is named as the main deviation), repetitions, the report, and real rehab / yoga data."""

from __future__ import annotations

import numpy as np
import pytest

import posecoach
from posecoach.analysis.compare import Guide, compare_sequences, degrade, match_sequences
from posecoach.analysis.compare.alignment import align
from posecoach.core.sequence import PoseSequence
from posecoach.errors import InputError
from posecoach.io.landmark_files import read_keraal_blazepose, read_mediapipe_csv, read_ui_prmd
from posecoach.reports.comparison_report import ComparisonReport
from tests.conftest import DATA, data_file
from tests.synthetic import make_exercise


def image_only(seq: PoseSequence) -> PoseSequence:
    """The same sequence without world landmarks: features come from the image (translation and scale matter)."""
    return PoseSequence.from_landmarks(seq.subject_landmarks()[..., :4], fps=seq.fps, source=dict(seq.source))


@pytest.fixture(scope="module")
def guide_squat() -> PoseSequence:
    return make_exercise("squat", reps=1, period_s=2.0, view="side", seed=1)


@pytest.fixture(scope="module")
def guide_lunge() -> PoseSequence:
    return make_exercise("lunge", reps=1, period_s=3.0, view="side", seed=1)


def test_dtw_uses_the_compiled_library() -> None:
    from dtaidistance import dtw_cc  # noqa: F401 - the C extension is installed

    a = np.sin(np.linspace(0, 6, 60))[:, None].repeat(3, 1)
    b = np.sin(np.linspace(0, 6, 120))[:, None].repeat(3, 1)
    al = align(a, b, open_ends=0.0)
    assert (al.ref[0], al.att[0], al.ref[-1], al.att[-1]) == (0, 0, 59, 119)
    assert np.all(np.diff(al.ref) >= 0) and np.all(np.diff(al.att) >= 0)
    assert al.mean_cost < 0.05  # the same curve, twice as slow, aligns almost exactly


def test_identical_scores_100_and_a_different_exercise_scores_low(guide_squat: PoseSequence) -> None:
    same = compare_sequences(guide_squat, guide_squat)
    assert same.score == pytest.approx(100.0, abs=0.5)
    assert not same.deviations
    curl = compare_sequences(guide_squat, make_exercise("bicep_curl", reps=1, view="side", seed=2))
    assert curl.score is not None and curl.score < same.score - 30


@pytest.mark.parametrize("change", ["translation", "scale"])
def test_invariant_to_where_the_person_stands_and_their_size(guide_squat: PoseSequence, change: str) -> None:
    ref = image_only(guide_squat)
    moved = degrade.shifted(ref, dx=0.25, dy=0.1, scale=1.0) if change == "translation" else \
        degrade.shifted(ref, dx=0.0, dy=0.0, scale=0.5)
    assert not np.allclose(np.nanmean(moved.landmarks[..., :2]), np.nanmean(ref.landmarks[..., :2])) or \
        change == "scale"
    report = compare_sequences(ref, moved, reps=False)
    assert report.score == pytest.approx(100.0, abs=0.5)


def test_invariant_to_speed(guide_squat: PoseSequence) -> None:
    slow = compare_sequences(guide_squat, degrade.slowed(guide_squat, 2.0), reps=False)
    assert slow.score is not None and slow.score > 97
    assert slow.tempo is not None and slow.tempo.ratio == pytest.approx(2.0, rel=0.05)
    assert "slower" in slow.tempo.text


def test_nearly_invariant_to_camera_view(guide_squat: PoseSequence) -> None:
    front = make_exercise("squat", reps=1, period_s=2.0, view="front", seed=5)
    other = make_exercise("push_up", reps=1, period_s=2.0, view="side", seed=5)
    r_front, r_other = compare_sequences(guide_squat, front), compare_sequences(guide_squat, other)
    assert r_front.score is not None and r_other.score is not None
    assert r_front.score > 90 and r_front.score > r_other.score + 30


def test_mirrored_movement_is_recognised(guide_lunge: PoseSequence) -> None:
    other_side = degrade.mirrored(guide_lunge)
    auto = compare_sequences(guide_lunge, other_side, reps=False)
    forced = compare_sequences(guide_lunge, other_side, reps=False, mirror=False)
    assert auto.alignment.mirrored and not forced.alignment.mirrored
    assert auto.score == pytest.approx(100.0, abs=0.5)
    assert forced.score is not None and forced.score < auto.score - 5
    same_side = compare_sequences(guide_lunge, guide_lunge, reps=False)
    assert not same_side.alignment.mirrored  # a symmetric match is never mirrored


@pytest.mark.parametrize(("joint", "degrees"), [("left_knee", 30), ("right_hip", 25), ("left_elbow", 30)])
def test_a_restricted_joint_is_the_main_deviation(joint: str, degrees: float) -> None:
    name = "bicep_curl" if "elbow" in joint else "squat"
    guide = make_exercise(name, reps=1, period_s=2.0, view="side", seed=3)
    report = compare_sequences(guide, degrade.restricted(guide, joint, degrees), reps=False)
    top = report.deviations[0]
    assert top.joint == joint
    assert 0.6 * degrees <= top.difference_deg <= 1.1 * degrees  # less bent: attempt minus guide > 0
    assert f"{joint.replace('_', ' ')} bends {round(top.difference_deg)} degrees less" in top.text
    scores = {j.name: j.score for j in report.joints}
    assert scores[joint] == min(s for s in scores.values() if s is not None)


def test_score_falls_in_proportion_to_the_restriction(guide_squat: PoseSequence) -> None:
    scores = [compare_sequences(guide_squat, degrade.restricted(guide_squat, "left_knee", d), reps=False)
              for d in (0, 15, 30, 45)]
    overall = [r.score for r in scores]
    knee = [next(j.score for j in r.joints if j.name == "left_knee") for r in scores]
    assert overall == sorted(overall, reverse=True) and knee == sorted(knee, reverse=True)
    drops = np.diff([100.0, *knee[1:]])  # each 15 degrees costs the knee a similar share
    assert np.all(drops < 0) and drops.max() / drops.min() < 2.5


def test_one_guide_rep_against_several_attempt_reps(guide_squat: PoseSequence) -> None:
    attempt = degrade.restricted(make_exercise("squat", reps=3, period_s=3.0, view="front", seed=4),
                                 "right_knee", 30)
    report = compare_sequences(guide_squat, attempt, guide=Guide(name="squat", joints=["left_knee", "right_knee"],
                                                                 reps=1))
    assert report.alignment.method == "per_rep"
    assert [r.index for r in report.reps] == [1, 2, 3]
    assert all(r.tempo_ratio == pytest.approx(1.5, rel=0.1) for r in report.reps)
    assert report.deviations[0].joint == "right_knee" and report.deviations[0].rep in (1, 2, 3)
    assert "at the bottom of rep" in report.deviations[0].text
    key = {j.name: j.key for j in report.joints}
    assert key["right_knee"] and not key["left_hip"]
    assert {p.name for p in report.phases} >= {"rest", "turn"}


def test_report_json_round_trip_and_schema_file(guide_squat: PoseSequence) -> None:
    import json
    from pathlib import Path

    from posecoach.reports.comparison_report import json_schema

    report = compare_sequences(guide_squat, make_exercise("squat", reps=2, view="front", seed=9))
    data = json.loads(report.to_json())
    assert 0 <= data["score"] <= 100 and data["joints"] and data["reps"]
    assert ComparisonReport.model_validate(data) == report
    stored = json.loads((Path(__file__).resolve().parents[2] / "schemas" / "comparison_report.schema.json")
                        .read_text())
    assert stored == json_schema()


def test_public_compare_accepts_sequences_and_files(tmp_path, guide_squat: PoseSequence) -> None:  # type: ignore[no-untyped-def]
    attempt = make_exercise("squat", reps=2, view="side", seed=7)
    attempt.save(tmp_path / "attempt.npz")
    report = posecoach.compare(guide_squat, tmp_path / "attempt.npz")
    assert isinstance(report, ComparisonReport) and report.score is not None and report.score > 85
    with pytest.raises(InputError, match="no guide called"):
        posecoach.compare("not_in_library", attempt, library=tmp_path / "lib")
    with pytest.raises(InputError, match="nobody was found"):
        compare_sequences(guide_squat, PoseSequence.empty(30))


def test_matched_frames_follow_the_attempt(guide_squat: PoseSequence) -> None:
    slow = degrade.slowed(guide_squat, 2.0)
    report, matched = match_sequences(guide_squat, slow, reps=False)
    assert len(matched.guide_frame) == slow.num_frames and matched.mirrored == report.alignment.mirrored
    assert np.all(np.diff(matched.guide_frame) >= 0)
    err = np.abs(matched.guide_frame - np.arange(slow.num_frames) / 2.0)
    assert np.median(err) <= 2


# ----------------------------------------------------------------------------------------------- real data
@pytest.mark.video
def test_ui_prmd_reader_gives_plausible_anatomy() -> None:
    seq = read_ui_prmd(data_file("rehab/ui_prmd/data/m01_s01_e01_positions.txt"))
    world = seq.subject_world()
    from posecoach.features.angles import joint_angles

    knee = joint_angles(seq, world=True)["left_knee"]
    assert knee[0] > 160 and 40 < np.nanmin(knee) < 90  # standing, then a deep squat
    ankle_below_hip = world[:, 27, 1] - world[:, 23, 1]  # y down
    assert np.all(ankle_below_hip > 0.1)  # the feet stay below the hips throughout


@pytest.mark.video
def test_rehab_references_score_themselves_highest() -> None:
    refs = {m: read_ui_prmd(data_file(f"rehab/ui_prmd/data/{m}_s01_e01_positions.txt"))
            for m in ("m01", "m05", "m07", "m10")}
    for name, seq in refs.items():
        scores = {o: compare_sequences(seq, other, reps=False).score for o, other in refs.items()}
        assert max(scores, key=lambda o: scores[o]) == name
    keraal = read_keraal_blazepose(data_file("rehab/keraal/draw_skeleton/dataSampleKeraal/"
                                             "G3-BP-ELK-P1T1-Unknown-C-0.json"))
    restricted = compare_sequences(keraal, degrade.restricted(keraal, "left_shoulder", 30), reps=False)
    assert restricted.deviations[0].joint == "left_shoulder"
    assert compare_sequences(keraal, degrade.shifted(keraal), reps=False).score == pytest.approx(100, abs=0.5)


@pytest.mark.video
def test_yoga_same_pose_other_view_beats_other_pose() -> None:
    root = "poses/yoga_multiview"
    chair_front, chair_other = (read_mediapipe_csv(data_file(f"{root}/chair/{f}")) for f in ("P1.csv.gz",
                                                                                              "P2 (3).csv.gz"))
    others = [read_mediapipe_csv(data_file(f"{root}/{a}/P2 (3).csv.gz")) for a in ("cobra", "tree", "downdog")]
    same = compare_sequences(chair_front, chair_other, reps=False).score
    assert all(same > compare_sequences(chair_front, o, reps=False).score for o in others)
    assert (DATA / root / "README.md").is_file()


def test_depth_scale_undoes_an_exaggerated_depth() -> None:
    from posecoach.analysis.compare.features import depth_scale

    seq = make_exercise("squat", reps=1, period_s=2.0, view="front", seed=1)
    pts = np.asarray(seq.subject_world(), dtype=np.float64)
    assert depth_scale(pts) == pytest.approx(1.0, abs=0.1)
    pts[..., 2] *= 2.0  # depth twice too deep, as MediaPipe's image landmarks have it
    assert depth_scale(pts) == pytest.approx(0.5, abs=0.05)


def test_frame_weights_favour_the_turning_point_over_the_start(guide_squat: PoseSequence) -> None:
    from posecoach.analysis.compare.features import sequence_features
    from posecoach.analysis.compare.scoring import angle_matrix, frame_weights

    f = sequence_features(guide_squat)
    w = frame_weights(f)
    knee = angle_matrix(f)[:, 0]
    assert w.shape == knee.shape and np.all((w >= 0) & (w <= 1))
    bottom, start = int(np.argmin(knee)), slice(0, max(2, len(knee) // 20))
    assert w[bottom] > 0.5 and np.all(w[start] < 0.2)


def test_mediapipe_csv_column_number_header_is_not_a_frame(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [",".join(str(k) for k in range(132))] + [",".join(["0.5"] * 132)] * 3
    (tmp_path / "p.csv").write_text("\n".join(rows) + "\n")
    assert read_mediapipe_csv(tmp_path / "p.csv").num_frames == 3
