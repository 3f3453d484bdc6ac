"""Every catalogue exercise on synthetic but realistic pose sequences (see tests/synthetic.py).

Counts from the side and from other views (mirrored too), class-agnostic counting, the live counter against the
offline one, robustness (noise, missing frames, a standing setup, a half rep, a tempo change) and form rules.
"""

from __future__ import annotations

import numpy as np
import pytest

from posecoach.analysis.counting import count_repetitions
from posecoach.analysis.exercises import catalogue, get_exercise
from posecoach.analysis.pipeline import analyze_sequence
from posecoach.analysis.recognition import recognise
from posecoach.analysis.reps import RepCounter, count_signals
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.features.signals import sequence_signals
from tests.synthetic import make_exercise, make_hold

NAMES = sorted(catalogue())
REP_NAMES = [n for n in NAMES if catalogue()[n].kind == "reps"]
HOLD_NAMES = [n for n in NAMES if catalogue()[n].kind == "hold"]
REPS, PERIOD_S, FPS = 5, 2.0, 30.0
HOLD_S, HOLD_TOLERANCE_S = 10.0, 0.5

#: Views in which every counting signal of the exercise is view-independent (3D angles, world heights, vertical
#: image displacements). The sit-up also counts on trunk_incline, measured in the world x-y plane: not from the
#: front, where the lying trunk points at the camera.
VIEWS: dict[str, tuple[str, ...]] = {n: ("front", "diagonal", "side") for n in NAMES}
VIEWS["sit_up"] = ("diagonal", "side")

#: Amplitude (share of the keyframe motion) of a "half rep": the largest share of the full range it reaches in
#: any of the exercise's counting signals is about one half (checked by `test_half_rep_is_half_range`). Where
#: hands or feet are on fixed targets, joint angles are not linear in the motion, hence less than 0.5.
HALF: dict[str, float] = {"bicep_curl": 0.49, "dip": 0.27, "glute_bridge": 0.27, "jumping_jack": 0.48,
                          "lunge": 0.61, "pull_up": 0.25, "push_up": 0.35, "shoulder_press": 0.39, "sit_up": 0.38,
                          "squat": 0.49}
HALF_AT = 3  # index of the half rep among 6

ROBUSTNESS: dict[str, tuple[dict, int]] = {  # scenario -> (make_exercise arguments, true count)
    "jitter_2cm": ({"jitter": 0.02}, REPS),
    "dropouts_10pct": ({"dropout": 0.10}, REPS),
    "standing_setup_3s": ({"setup_s": 3.0, "setup": "stand"}, REPS),
    "walk_in_3s": ({"setup_s": 3.0, "setup": "walk"}, REPS),
    "half_rep": ({"reps": 6, "amplitude": "half"}, 5),
    "speed_change": ({"reps": 6, "period_s": [1.2] * 3 + [3.0] * 3}, 6),
}


def _half_amplitudes(name: str) -> list[float]:
    return [HALF[name] if i == HALF_AT else 1.0 for i in range(6)]


def _sequence(name: str, **kw) -> PoseSequence:
    if name in HOLD_NAMES:
        return make_hold(name, HOLD_S, fps=FPS, **kw)
    if kw.get("amplitude") == "half":
        kw["amplitude"] = _half_amplitudes(name)
    return make_exercise(name, **{"reps": REPS, "period_s": PERIOD_S, "fps": FPS, **kw})


def _check_truth(name: str, seq: PoseSequence, count: int = REPS) -> None:
    report = analyze_sequence(seq, name)
    if name in HOLD_NAMES:
        assert report.hold is not None
        assert abs(report.hold.seconds - HOLD_S) <= HOLD_TOLERANCE_S, report.hold
    else:
        spans = [(r.start_frame, r.turn_frame, r.end_frame, r.rom) for r in report.reps.items]
        assert report.reps.count == count, (report.reps.signal, spans)


def test_catalogue_is_covered() -> None:
    assert len(NAMES) == 12
    assert set(HALF) == set(REP_NAMES)
    assert set(HOLD_NAMES) == {"plank", "wall_sit"}


# ------------------------------------------------------------------------------------------------ the generator
STANDING = ("squat", "lunge", "jumping_jack", "bicep_curl", "shoulder_press", "wall_sit")


@pytest.mark.parametrize("name", NAMES)
def test_generated_body_is_complete_rigid_and_in_frame(name: str) -> None:
    seq = _sequence(name, view="diagonal", jitter=0.0)
    world, lm = seq.subject_world().astype(np.float64), seq.subject_landmarks()
    assert np.isfinite(world).all() and np.isfinite(lm).all()
    assert lm[..., :2].min() > 0.0 and lm[..., :2].max() < 1.0

    def at(name: str) -> np.ndarray:
        return world[:, BLAZEPOSE_33.index(name)]

    def dist(a: str, b: str) -> np.ndarray:
        return np.linalg.norm(at(a) - at(b), axis=-1)

    for side in ("left", "right"):
        for a, b in (("hip", "knee"), ("knee", "ankle"), ("shoulder", "elbow"), ("elbow", "wrist"),
                     ("ankle", "heel"), ("ankle", "foot_index"), ("shoulder", "hip")):
            d = dist(f"{side}_{a}", f"{side}_{b}")
            assert np.ptp(d) < 2e-3, (side, a, b)  # bones keep their length
        for part in ("pinky", "index", "thumb"):
            assert dist(f"{side}_{part}", f"{side}_wrist").max() < 0.1
        foot = at(f"{side}_foot_index") - at(f"{side}_ankle")
        assert (np.sum(foot * (at(f"{side}_ankle") - at(f"{side}_heel")), -1) > 0).all()  # heel behind, toes ahead
        if name in STANDING:  # toes point the way the face does
            facing = at("nose") - (at("left_ear") + at("right_ear")) / 2
            assert (np.sum(foot[:, [0, 2]] * facing[:, [0, 2]], -1) > 0).all()
    face = world[:, :11]
    assert np.linalg.norm(face - at("nose")[:, None], axis=-1).max() < 0.15
    assert (dist("nose", "left_shoulder") < 0.4).all()


# ------------------------------------------------------------------------------------------------ counts
@pytest.mark.parametrize("name", NAMES)
def test_side_view_count_and_timing(name: str) -> None:
    seq = _sequence(name, view="side")
    report = analyze_sequence(seq, name)
    assert report.exercise.view == "side"
    if name in HOLD_NAMES:
        assert report.hold is not None and report.hold.start_s is not None
        assert abs(report.hold.seconds - HOLD_S) <= HOLD_TOLERANCE_S, report.hold
        assert abs(report.hold.start_s - 2.0) <= HOLD_TOLERANCE_S  # make_hold's default setup
        return
    assert report.reps.count == REPS, report.reps.signal
    period = round(PERIOD_S * FPS)
    turns = [r.turn_frame for r in report.reps.items]
    expected = [k * period + period // 2 for k in range(REPS)]
    assert np.abs(np.subtract(turns, expected)).max() <= 0.1 * period, (turns, expected)


@pytest.mark.parametrize("mirrored", [False, True], ids=["plain", "mirrored"])
@pytest.mark.parametrize(("name", "view"), [(n, v) for n in NAMES for v in VIEWS[n]])
def test_count_from_other_views(name: str, view: str, mirrored: bool) -> None:
    seq = _sequence(name, view=view, mirrored=mirrored)
    assert analyze_sequence(seq, name).exercise.view == view
    _check_truth(name, seq)


@pytest.mark.parametrize("name", REP_NAMES)
def test_count_with_exercise_unknown(name: str) -> None:
    result = count_repetitions(_sequence(name))
    assert result.exercise == name
    assert result.count == REPS, (result.signal, result.count, result.scores)


@pytest.mark.parametrize("mirrored", [False, True], ids=["", "mirrored"])
@pytest.mark.parametrize("view", ["front", "diagonal", "side"])
@pytest.mark.parametrize("name", NAMES)
def test_recognised_from_every_view(name: str, view: str, mirrored: bool) -> None:
    seq = _sequence(name, view=view, mirrored=mirrored)
    rec = recognise(sequence_signals(seq), times=seq.timestamps)
    assert rec.name == name, sorted(rec.scores.items(), key=lambda kv: -kv[1])[:3]


def test_clear_mismatches_are_not_counted_and_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recognition skips counting exercises whose profile fails on the whole sequence (a push-up's posture in a
    standing squat), and skipping them gives the same answer as counting everything."""
    import posecoach.analysis.recognition as recognition

    seq = _sequence("squat")
    signals = sequence_signals(seq)
    pruned = recognise(signals, times=seq.timestamps)
    assert pruned.name == "squat"
    assert "push_up" not in pruned.counts and "pull_up" not in pruned.counts
    monkeypatch.setattr(recognition, "PRUNE_SCORE", 0.0)
    full = recognise(signals, times=seq.timestamps)
    assert "push_up" in full.counts
    assert (full.name, full.count.count) == (pruned.name, pruned.count.count)


def test_standing_still_is_other() -> None:
    seq = _sequence("squat")
    signals = sequence_signals(seq)
    still = {k: np.full_like(v, v[0]) for k, v in signals.items()}  # the first (standing) frame, held
    assert recognise(still, times=seq.timestamps).name == "other"


# ------------------------------------------------------------------------------------------------ live
@pytest.mark.parametrize("agnostic", [False, True], ids=["exercise", "agnostic"])
@pytest.mark.parametrize("name", REP_NAMES)
def test_live_counter_matches_offline(name: str, agnostic: bool) -> None:
    """The live counter runs the same code as the offline count on the exercise's signals; class-agnostic, that is
    the channel vote (`count_signals`), before the whole-body rhythm checks it (offline only, see below)."""
    seq = _sequence(name, dropout=0.05, seed=1)
    exercise = None if agnostic else name
    signals = sequence_signals(seq)
    offline = count_signals(signals, seq.timestamps) if agnostic else count_repetitions(seq, exercise)
    live = RepCounter(None if agnostic else get_exercise(name).counting_channels(), exercise=exercise)
    for i, t in enumerate(seq.timestamps):
        live.update({k: float(v[i]) for k, v in signals.items()}, t)
    result = live.result()
    assert result.count == offline.count
    assert result.signal == offline.signal
    assert [(r.start_frame, r.turn_frame, r.end_frame) for r in result.reps] == [
        (r.start_frame, r.turn_frame, r.end_frame) for r in offline.reps]
    if not agnostic:
        assert offline.count == REPS


@pytest.mark.parametrize("name", REP_NAMES)
def test_agnostic_count_checked_by_the_whole_body(name: str) -> None:
    """Exercise unknown and not recognised (agnostic), the count is right: the whole-body rhythm checks the vote
    (the jumping jack's vote counts the wrists twice a cycle; the body's rhythm overrides it)."""
    seq = _sequence(name, dropout=0.05, seed=1)
    result = count_repetitions(seq, agnostic=True)
    assert result.count == REPS, (result.signal, result.method, result.note)
    assert result.confidence >= 0.5


# ------------------------------------------------------------------------------------------------ robustness
#: Known failure, open in issue 3: getting down from standing to the floor is one large excursion of the glute
#: bridge's hip height; its envelope, still stretched by the standing height, misses the first real repetition
#: (4 of 5; the hip angle counts 5 but loses the tie-break by a hair). The dip's climb onto the bars, the other
#: case listed here before, now counts right (partial reps are judged against the recent ones).
KNOWN_SETUP_FAILURES = {("glute_bridge", "standing_setup_3s")}


@pytest.mark.parametrize(("name", "scenario"), [(n, s) for n in REP_NAMES for s in ROBUSTNESS
                                                if (n, s) not in KNOWN_SETUP_FAILURES])
def test_robustness(name: str, scenario: str) -> None:
    kwargs, truth = ROBUSTNESS[scenario]
    _check_truth(name, _sequence(name, **kwargs), truth)


@pytest.mark.parametrize("kwargs", [{"jitter": 0.02}, {"dropout": 0.10}, {"setup": "walk"}],
                         ids=["jitter_2cm", "dropouts_10pct", "walk_in"])
@pytest.mark.parametrize("name", HOLD_NAMES)
def test_hold_robustness(name: str, kwargs: dict) -> None:
    _check_truth(name, _sequence(name, **kwargs))


@pytest.mark.parametrize("name", REP_NAMES)
def test_half_rep_is_half_range(name: str) -> None:
    """The robustness scenario's half rep reaches about half the full range of the counting signals, no more."""
    seq = make_exercise(name, reps=6, period_s=PERIOD_S, fps=FPS, amplitude=_half_amplitudes(name), jitter=0.0)
    signals, period = sequence_signals(seq), round(PERIOD_S * FPS)
    shares = {}
    for c in get_exercise(name).count:
        v = signals[c.signal]
        full = np.ptp(v[:period + 1])
        shares[c.signal] = np.ptp(v[HALF_AT * period:(HALF_AT + 1) * period + 1]) / full
    assert max(shares.values()) <= 0.52, shares
    assert max(shares.values()) >= 0.45, shares


# ------------------------------------------------------------------------------------------------ form
def _found(item) -> list:
    """A repetition's broken rules, cues and experimental ones alike (the judgement, whatever the evidence)."""
    return [*item.errors, *item.experimental]


def _errors(report) -> list[tuple[int, str, str, float]]:
    return [(item.index, e.rule, e.severity, e.value) for item in report.reps.items for e in _found(item)]


def _rule(report, rule_id: str):
    return next(r for r in report.rules if r.id == rule_id)


@pytest.mark.parametrize("name", ["squat", "push_up"])
def test_correct_reps_have_no_error_severity_findings(name: str) -> None:
    report = analyze_sequence(_sequence(name, view="side"), name)
    assert report.reps.count == REPS
    assert [e for e in _errors(report) if e[2] == "error"] == []
    judged = {r.id for r in report.rules if r.status == "judged"}
    assert {"depth", "forward_lean"} <= judged if name == "squat" else "hip_sag" in judged


def test_correct_squat_from_the_front_keeps_knees_out() -> None:
    report = analyze_sequence(_sequence("squat", view="front"), "squat")
    assert _rule(report, "knee_valgus").status == "judged"
    assert [e for e in _errors(report) if e[2] == "error"] == []


def test_sagging_push_up_gets_the_hip_sag_error() -> None:
    report = analyze_sequence(_sequence("push_up", view="side", adjust={"hip": -25}), "push_up")
    assert report.reps.count == REPS
    assert _rule(report, "hip_sag").reps_broken == list(range(1, REPS + 1))
    assert {e[1] for e in _errors(report) if e[2] == "error"} == {"hip_sag"}


SHALLOW = 0.42  # of the squat's keyframe motion: the knee bends to about 130 degrees


def test_shallow_squat_bends_the_knee_to_about_130_degrees() -> None:
    knee = sequence_signals(make_exercise("squat", amplitude=SHALLOW, jitter=0.0))["knee"]
    assert 125 <= np.nanmin(knee) <= 135


def test_shallow_squat_gets_the_depth_error_from_the_side() -> None:
    report = analyze_sequence(_sequence("squat", view="side", amplitude=SHALLOW), "squat")
    assert report.reps.count == REPS
    depth = _rule(report, "depth")
    assert depth.status == "judged"
    assert depth.reps_broken == list(range(1, REPS + 1))
    assert all("depth" in {e.rule for e in _found(item)} for item in report.reps.items)


def test_shallow_squat_depth_is_not_measurable_from_the_front() -> None:
    report = analyze_sequence(_sequence("squat", view="front", amplitude=SHALLOW), "squat")
    assert report.reps.count == REPS
    depth = _rule(report, "depth")
    assert depth.status == "not_measurable"
    assert depth.reps_broken == []
    assert not any("depth" in {e.rule for e in _found(item)} for item in report.reps.items)


def test_a_collapsed_pose_estimate_has_no_heights() -> None:
    """A frame whose 3D torso is a few centimetres long (a pose-estimation failure) would divide every height by
    almost nothing; its heights are unknown instead."""
    from posecoach.features.signals import MIN_TORSO_M

    seq = _sequence("squat")
    good = sequence_signals(seq)
    world = seq.world.copy()
    hips = [BLAZEPOSE_33.index(n) for n in ("left_hip", "right_hip")]
    shoulders = [BLAZEPOSE_33.index(n) for n in ("left_shoulder", "right_shoulder")]
    bad = 40
    world[bad, :, shoulders] = world[bad, :, hips] + np.array([0.0, -0.5 * MIN_TORSO_M, 0.0])
    broken = sequence_signals(PoseSequence(landmarks=seq.landmarks, world=world, timestamps=seq.timestamps,
                                           fps=seq.fps, track_ids=seq.track_ids, subject=seq.subject,
                                           skeleton=seq.skeleton))
    for name in ("hip_height", "ankle_height", "body_height", "wrist_height"):
        assert np.isnan(broken[name][bad]) and np.isfinite(good[name][bad])
        assert np.isfinite(np.delete(broken[name], bad)).all()
    for name in ("hip_height", "wrist_height"):  # relative heights: of each frame alone
        np.testing.assert_allclose(np.delete(broken[name], bad), np.delete(good[name], bad))
