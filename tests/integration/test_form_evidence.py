"""Form rules on any skeleton and only on good evidence: the view from a 2D skeleton, COCO-17 keypoints, no rule on
an implausible pose, unseen joints or a rest; experimental rules never cues; live and offline judge a real
repetition alike; limits fitted leave-one-group-out."""

from __future__ import annotations

import numpy as np
import pytest

from posecoach.analysis import live
from posecoach.analysis.exercises import Exercise, get_exercise
from posecoach.analysis.form import judge_rule, trusted
from posecoach.analysis.form_calibration import Scores, fit_limit, leave_one_group_out
from posecoach.analysis.live import LiveCoach
from posecoach.analysis.pipeline import analyze_sequence
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, blazepose33_to_coco17
from posecoach.features.signals import estimate_aspect, sequence_signals, signal_size
from posecoach.features.view import view_of
from tests.conftest import data_file
from tests.synthetic import make_exercise

#: kaiakol's landmark arrays hold these 17 BlazePose points (x, y, visibility), not COCO's.
KAIAKOL = ("nose", *(f"{s}_{p}" for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle", "heel", "foot_index")
                     for s in ("left", "right")))


def _kaiakol(relative: str, size: dict[str, int] | None = None) -> PoseSequence:
    """A real kaiakol landmark array as a 2D sequence (no depth); ``size``: its video's frame size."""
    a = np.load(data_file(relative)).astype(np.float32)
    out = np.zeros((len(a), 33, 4), np.float32)
    for k, name in enumerate(KAIAKOL):
        out[:, BLAZEPOSE_33.index(name), [0, 1, 3]] = a[:, k]
    return PoseSequence.from_landmarks(out, fps=30.0, source=size or {})


def _coco(relative: str) -> PoseSequence:
    """A real kaiakol array as a keypoint file from a COCO-17 tool: x, y, score, no depth, no frame size."""
    return _as_coco17(_kaiakol(relative))


def _as_coco17(seq: PoseSequence, keep_size: bool = False) -> PoseSequence:
    lm = seq.subject_landmarks()
    pts = blazepose33_to_coco17(np.stack([lm[..., 0], lm[..., 1], lm[..., 3]], axis=-1))
    size = {k: seq.source[k] for k in ("width", "height") if k in seq.source} if keep_size else {}
    return PoseSequence.from_landmarks(np.nan_to_num(pts), fps=seq.fps, source=size)


def _confident(ex: Exercise) -> Exercise:
    """The exercise with every rule taken as supported (to see every finding as a cue)."""
    return ex.model_copy(update={"rules": [r.model_copy(update={"experimental": False}) for r in ex.rules]})


# ------------------------------------------------------------------------------------------ 2D view, COCO-17
@pytest.mark.parametrize(("view", "expected"), [("front", {"front"}), ("side", {"side"}),
                                                ("diagonal", {"diagonal", "front", "side"})])
def test_view_from_a_2d_skeleton_alone(view: str, expected: set[str]) -> None:
    seq = _as_coco17(make_exercise("squat", reps=2, view=view), keep_size=True)
    signals = sequence_signals(seq)
    assert np.isnan(seq.subject_world()).all()
    assert view_of(signals) in expected


def test_the_frame_shape_of_a_keypoint_file_is_estimated_from_the_skeleton() -> None:
    """kaiakol's squat landmarks come from 1280 x 720 videos; the file does not say so."""
    seq = _coco("form/kaiakol/data/squat/landmarks/correct/squat_correct_002.npy")
    assert "width" not in seq.source
    assert estimate_aspect(seq.subject_landmarks()) == pytest.approx(16 / 9)
    assert signal_size(seq) == (pytest.approx(16 / 9), 1.0)


def test_side_view_squat_keypoints_are_seen_from_the_side() -> None:
    signals = sequence_signals(_coco("form/kaiakol/data/squat/landmarks/correct/squat_correct_002.npy"))
    assert np.isnan(signals["view_yaw"]).mean() < 0.5
    assert view_of(signals) in ("side", "diagonal")


def test_coco17_push_up_rules_are_judged_and_only_foot_rules_are_not() -> None:
    """Real COCO-17 push-ups: rules on joints COCO has are judged; a rule on the heels (which COCO lacks) is not."""
    report = analyze_sequence(_coco("form/kaiakol/data/pushup/landmarks/incorrect/pushup_incorrect_001.npy"),
                              "push_up")
    assert report.reps.count >= 1
    status = {r.id: r.status for r in report.rules}
    assert status["partial_range"] == "judged"
    assert status["hip_sag"] == "judged" or report.exercise.view == "front"
    squat = analyze_sequence(_as_coco17(make_exercise("squat", reps=3, view="side")), "squat")
    st = {r.id: (r.status, r.reason) for r in squat.rules}
    assert st["depth"][0] == "judged" and st["forward_lean"][0] == "judged"
    assert st["heels_rising"][0] == "not_measurable"


# ------------------------------------------------------------------------------------------ bad evidence
def _push_up_signals() -> dict[str, np.ndarray]:
    return sequence_signals(make_exercise("push_up", reps=2, view="side"))


def test_upside_down_and_collapsed_frames_are_not_trusted() -> None:
    seq = make_exercise("squat", reps=2, view="side")
    lm = seq.subject_landmarks().copy()
    flipped = lm.copy()
    flipped[..., 1] = 1.0 - flipped[..., 1]  # upside down in the image
    collapsed = lm.copy()
    for a in (11, 12, 23, 24):  # shoulders and hips on one point
        collapsed[:, a, :2] = lm[:, 23, :2]
    rule = get_exercise("squat").rules[0]
    assert trusted(rule, sequence_signals(seq)).all()
    for bad in (flipped, collapsed):
        s = PoseSequence.from_landmarks(bad[..., :4], fps=seq.fps)
        assert not trusted(rule, sequence_signals(s)).any()


def test_an_upside_down_skeleton_gets_no_cue() -> None:
    seq = make_exercise("squat", reps=3, view="side", amplitude=0.42)  # shallow: depth is broken upright
    ex = _confident(get_exercise("squat"))
    assert any(item.errors for item in analyze_sequence(seq, ex).reps.items)
    lm = seq.subject_landmarks()[..., :4].copy()
    lm[..., 1] = 1.0 - lm[..., 1]
    flipped = analyze_sequence(PoseSequence.from_landmarks(lm, fps=seq.fps), ex)
    assert all(not item.errors for item in flipped.reps.items)


def test_unseen_joints_leave_their_rules_unjudged() -> None:
    seq = make_exercise("push_up", reps=2, view="side")
    lm = seq.subject_landmarks()[..., :4].copy()
    lm[:, 23:25, 3] = 0.1  # hips barely visible
    signals = sequence_signals(PoseSequence.from_landmarks(lm, fps=seq.fps))
    rules = {r.id: r for r in get_exercise("push_up").rules}
    f = judge_rule(rules["hip_sag"], signals, 0, len(lm) - 1, "side")
    assert f.status == "not_measurable" and "plausible pose" in (f.reason or "")
    assert judge_rule(rules["partial_range"], signals, 0, len(lm) - 1, "side").status != "not_measurable"


def test_a_rest_out_of_the_exercise_position_is_not_judged() -> None:
    signals = _push_up_signals()
    ex = get_exercise("push_up")
    rule = next(r for r in ex.rules if r.id == "pike")
    n = len(signals["trunk_incline"])
    assert trusted(rule, signals, posture=ex.profile.posture).all()
    rest = dict(signals)
    rest["trunk_incline"] = np.full(n, 10.0)  # kneeling upright between sets
    assert not trusted(rule, rest, posture=ex.profile.posture).any()


# ------------------------------------------------------------------------------------------ experimental rules
def test_experimental_rules_are_reported_apart_never_as_cues() -> None:
    seq = make_exercise("squat", reps=3, view="side", amplitude=0.42)
    ex = get_exercise("squat")
    exp = ex.model_copy(update={"rules": [r.model_copy(update={"experimental": True}) for r in ex.rules]})
    report = analyze_sequence(seq, exp)
    assert all(not item.errors for item in report.reps.items)
    assert any(e.rule == "depth" for item in report.reps.items for e in item.experimental)
    assert all(r.experimental for r in report.rules)
    assert not any("Depth" in line for line in report.summary if "rep " in line)


# ------------------------------------------------------------------------------------------ live = offline
def test_live_and_offline_judge_a_real_repetition_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real push-ups (kaiakol's landmarks): every repetition's final live cues equal the offline report's errors."""
    seq = _kaiakol("form/kaiakol/data/pushup/landmarks/incorrect/pushup_incorrect_002.npy",
                   {"width": 640, "height": 360})  # as its video, pushup_incorrect_001.mp4
    ex = _confident(get_exercise("push_up"))
    monkeypatch.setattr(live, "get_exercise", lambda name: ex)
    offline = analyze_sequence(seq, ex)
    coach = LiveCoach("push_up", width=640, height=360)
    lm = seq.subject_landmarks()
    final: dict[tuple[int, int], set[str]] = {}
    for i in range(seq.num_frames):
        seen = np.isfinite(lm[i, :, 0]).any()
        state = coach.update(lm[i] if seen else None, None, seq.timestamps[i])
        if state.rep_frames is not None:
            final[state.rep_frames] = {c.rule for c in state.cues}
    matched = [(item, final[(item.start_frame, item.end_frame)]) for item in offline.reps.items
               if (item.start_frame, item.end_frame) in final]
    assert matched, "no repetition with the same frames live and offline"
    assert any(item.errors for item, _ in matched), "the clip should break a rule"
    for item, cues in matched:
        assert cues == {e.rule for e in item.errors}


# ------------------------------------------------------------------------------------------ calibration
def test_fit_limit_separates_and_leave_one_group_out_holds_the_group_out() -> None:
    values = np.array([1.0, 2.0, 3.0, 8.0, 9.0, 10.0, 1.5, 9.5])
    bad = np.array([0, 0, 0, 1, 1, 1, 0, 1], bool)
    limit = fit_limit(values, bad, "above", default=20.0)
    assert 3.0 < limit < 8.0
    assert Scores.of(values > limit, bad).balanced_accuracy == 1.0
    groups = ["a", "a", "b", "b", "c", "c", "d", "d"]
    flags, limits = leave_one_group_out(values, bad, groups, "above", 20.0)
    assert set(limits) == {"a", "b", "c", "d"} and (flags == bad).all()
    # a group whose own values would move the limit does not see them
    odd = values.copy()
    odd[[4, 5]] = [2.5, 2.6]  # group c: incorrect but low
    _, lim = leave_one_group_out(odd, bad, groups, "above", 20.0)
    assert lim["c"] == fit_limit(np.delete(odd, [4, 5]), np.delete(bad, [4, 5]), "above", 20.0)


def test_scores() -> None:
    s = Scores.of([True, True, False, False], [True, False, True, False])
    assert (s.tp, s.fp, s.fn, s.tn) == (1, 1, 1, 1)
    assert s.precision == s.recall == s.balanced_accuracy == 0.5


def test_every_confident_rule_says_where_its_evidence_comes_from() -> None:
    """A rule shown as a cue is supported by labelled executions (bench_form.py wrote its evidence); every other
    catalogue rule is experimental."""
    from posecoach.analysis.exercises import catalogue

    confident = {f"{n}.{r.id}" for n, ex in catalogue().items() for r in ex.rules if not r.experimental}
    assert {"push_up.hip_sag", "bicep_curl.lean_back", "plank.hip_sag"} <= confident
    for name, ex in catalogue().items():
        for rule in ex.rules:
            if not rule.experimental:
                assert "bench_form.py" in rule.evidence or "transferred from" in rule.evidence, f"{name}.{rule.id}"
    assert get_exercise("dip").rules and all(r.experimental for r in get_exercise("dip").rules)
