"""LiveCoach: the live (frame by frame) exercise coach against the offline analysis, on synthetic sequences of
every catalogue exercise and on a real squat clip; the shown count (never decreasing, corrections recorded)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from posecoach.analysis import live
from posecoach.analysis.counting import count_repetitions
from posecoach.analysis.exercises import catalogue
from posecoach.analysis.live import CountCorrection, LiveCoach, LiveState, ShownCount
from posecoach.analysis.pipeline import analyze_sequence
from posecoach.core.sequence import PoseSequence
from posecoach.features.signals import image_size
from tests.synthetic import make_exercise, make_hold

REP_NAMES = sorted(n for n, ex in catalogue().items() if ex.kind == "reps")


def run(seq: PoseSequence, exercise: str | None) -> tuple[LiveCoach, list[LiveState]]:
    """Feed the sequence to a new LiveCoach frame by frame; the coach and its state after every frame."""
    width, height = image_size(seq)
    coach = LiveCoach(exercise, width=width, height=height)
    lm, world = seq.subject_landmarks(), seq.subject_world()
    states = []
    for i in range(seq.num_frames):
        seen = np.isfinite(lm[i, :, 0]).any()
        states.append(coach.update(lm[i] if seen else None, world[i] if seen else None, seq.timestamps[i]))
    return coach, states


def feed(seq: PoseSequence, exercise: str | None) -> tuple[LiveCoach, list[int]]:
    """`run`, keeping only the estimated count after every frame."""
    coach, states = run(seq, exercise)
    return coach, [s.count for s in states]


def shown_of(estimates: list[int]) -> tuple[list[int], ShownCount]:
    shown = ShownCount()
    return [shown.update(e, i) for i, e in enumerate(estimates)], shown


@pytest.mark.parametrize("name", REP_NAMES)
def test_named_exercise_live_count_equals_offline(name: str) -> None:
    seq = make_exercise(name, reps=5, view="diagonal", dropout=0.05, jitter=0.01)
    coach, counts = feed(seq, name)
    offline = count_repetitions(seq, name)
    assert counts[-1] == offline.count == 5
    # the live count may step back by one when the second rep shows the first was set-up, or when the vote
    # between channels changes; never more
    assert min(np.diff(counts)) >= -1
    state = coach.state()
    assert state.exercise == name and not state.recognised and state.rep_frames is not None
    # the latest rep as judged when it completed; offline, its start and end may still move a little along the
    # flat rest position
    assert abs(state.rep_frames[0] - offline.reps[-1].start_frame) <= 3
    assert offline.reps[-1].turn_frame < state.rep_frames[1] <= offline.reps[-1].end_frame


@pytest.mark.parametrize("name", ["squat", "push_up", "jumping_jack"])
def test_auto_recognises_and_counts(name: str) -> None:
    seq = make_exercise(name, reps=6, view="side")
    coach, counts = feed(seq, None)
    state = coach.state()
    assert state.exercise == name and state.recognised and state.confidence > 0
    assert state.count == analyze_sequence(seq).reps.count == 6
    assert counts[0] == 0 and counts[-1] == 6


def test_form_cues_name_the_broken_rule_of_the_last_rep(monkeypatch: pytest.MonkeyPatch) -> None:
    """A shallow squat (half range): the depth rule is broken in the live cues, as in the offline report (every
    rule taken as supported, whatever the catalogue's evidence says)."""
    from posecoach.analysis.exercises import get_exercise

    base = get_exercise("squat")
    ex = base.model_copy(update={"rules": [r.model_copy(update={"experimental": False}) for r in base.rules]})
    monkeypatch.setattr(live, "get_exercise", lambda name: ex)
    seq = make_exercise("squat", reps=4, amplitude=0.45, view="side")
    coach, _ = feed(seq, "squat")
    offline = analyze_sequence(seq, ex)
    last = {e.rule for e in offline.reps.items[-1].errors}
    assert last, "the shallow squat should break a rule offline"
    assert {c.rule for c in coach.state().cues} == last
    assert all(c.cue and c.rep == offline.reps.count for c in coach.state().cues)


def test_hold_is_timed_live() -> None:
    seq = make_hold("plank", seconds=8.0)
    coach, counts = feed(seq, "plank")
    state = coach.state()
    assert set(counts) == {0} and state.hold_s is not None
    assert abs(state.hold_s - analyze_sequence(seq, "plank").hold.seconds) < 0.6


def test_nobody_in_view_counts_nothing() -> None:
    coach = LiveCoach(None)
    for i in range(90):
        state = coach.update(None, None, i / 30)
    assert state.count == 0 and state.exercise is None and state.cues == []


def test_unknown_exercise_is_refused() -> None:
    from posecoach.errors import InputError

    with pytest.raises(InputError):
        LiveCoach("underwater_basket_weaving")


@pytest.mark.video
def test_real_squat_clip_live_equals_offline(squat_side_clip: Path) -> None:
    from posecoach.pose.engine import estimate_poses

    seq = estimate_poses(squat_side_clip, model="lite", workers=1)
    _, counts = feed(seq, "squat")
    assert counts[-1] == count_repetitions(seq, "squat").count >= 1


def test_shown_count_holds_through_a_step_back_with_one_correction() -> None:
    shown, sc = shown_of([0, 1, 2, 3, 2, 3, 4])
    assert shown == [0, 1, 2, 3, 3, 3, 4]
    assert sc.corrections == (CountCorrection(frame=4, shown=3, estimate=2, reason=live.FEWER),)
    text = sc.corrections[0].text
    assert text.startswith("Count corrected: 3 -> 2 (") and "3 stays on screen until repetition 4" in text


def test_shown_count_records_a_jump_of_more_than_one() -> None:
    shown, sc = shown_of([0, 1, 1, 4, 5])
    assert shown == [0, 1, 1, 4, 5]
    assert [(c.frame, c.shown, c.estimate) for c in sc.corrections] == [(3, 1, 4)]
    assert sc.corrections[0].text == f"Count corrected: 1 -> 4 (+3: {live.MORE})."


def test_shown_count_records_each_new_low_once() -> None:
    """An estimate wavering under the shown count is one correction; a lower one is another; catching up and
    passing the shown count moves it by one, with no correction."""
    shown, sc = shown_of([1, 2, 3, 2, 3, 2, 3, 1, 2, 3, 4, 3, 4])
    assert shown == [1, 2, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4]
    assert [(c.shown, c.estimate) for c in sc.corrections] == [(3, 2), (3, 1), (4, 3)]


def test_a_recount_after_recognition_gives_its_reason() -> None:
    shown, sc = shown_of([0, 5])
    assert shown == [0, 5] and sc.corrections[0].reason == live.MORE
    sc.update(2, 2, reason="recognised Squat, repetitions recounted from the start")
    assert sc.shown == 5 and "Count corrected: 5 -> 2 (recognised Squat" in sc.corrections[-1].text


@pytest.mark.parametrize(("name", "exercise"), [("squat", "squat"), ("lunge", "lunge"), ("jumping_jack", None),
                                                ("shoulder_press", None), ("pull_up", None)])
def test_shown_count_never_decreases_and_every_correction_is_recorded(name: str, exercise: str | None) -> None:
    seq = make_exercise(name, reps=5, view="diagonal", dropout=0.05, jitter=0.01)
    _, states = run(seq, exercise)
    shown = [s.shown for s in states]
    assert min(np.diff(shown)) >= 0 and all(s.shown >= s.count for s in states)
    # the states' shown counts and corrections are those of the rule applied to their estimates, frame by frame
    expected, sc = shown_of([s.count for s in states])
    numbers = [(c.frame, c.shown, c.estimate) for c in states[-1].corrections]
    assert shown == expected and numbers == [(c.frame, c.shown, c.estimate) for c in sc.corrections]
    for frame, before, estimate in numbers:  # at a step back under the count on screen, or a jump of 2 or more
        assert states[frame].count == estimate and states[frame - 1].shown == before
        assert estimate < before or estimate > before + 1
    # every jump has one; while a count stays on screen, the first step under it and the lowest estimate have one
    frames = {f for f, *_ in numbers}
    assert {i for i in range(1, len(states)) if states[i].count > states[i - 1].shown + 1} <= frames
    for value in set(shown):
        under = [(s.count, i) for i, s in enumerate(states) if s.shown == value and s.count < value]
        if under:
            assert under[0][1] in frames and (value, min(under)[0]) in {(b, e) for _, b, e in numbers}
    assert states[-1].correction == (states[-1].corrections[-1] if states[-1].corrections else None)
    if exercise is not None:  # the last state carries the true estimate: the offline count
        assert states[-1].count == count_repetitions(seq, exercise).count


def test_a_recount_by_recognition_is_a_correction_with_its_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """Recognition (scripted) switches to biceps curls after four squats, then back to squats: the count on
    screen holds, then jumps, and both corrections name the exercise recognised."""
    def scripted(signals: object, times: np.ndarray, **_: object) -> SimpleNamespace:
        t = float(times[-1])
        return SimpleNamespace(name="other" if t < 9 else "bicep_curl" if t < 13 else "squat", confidence=0.9)

    monkeypatch.setattr(live, "recognise", scripted)
    # Without the whole body's rhythm (which would keep the squats' count through the wrong guess, see below).
    monkeypatch.setattr(live.LiveCoach, "check_rhythm", lambda self: None)
    seq = make_exercise("squat", reps=8, view="side")
    _, states = run(seq, None)
    assert min(np.diff([s.shown for s in states])) >= 0
    curl = [c for c in states[-1].corrections if "recognised Biceps curl" in c.reason]
    squat = [c for c in states[-1].corrections if "recognised Squat" in c.reason]
    assert len(curl) == 1 and curl[0].estimate < curl[0].shown
    assert len(squat) == 1 and squat[0].estimate > squat[0].shown + 1
    assert states[-1].count == states[-1].shown == count_repetitions(seq, "squat").count


def test_the_whole_body_rhythm_holds_the_count_through_a_wrong_recognition(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same scripted wrong guess (biceps curls in the middle of squats), with the rhythm checked live as
    offline: the curl counter's count disagrees with the body's clear rhythm, so the count stays with the squats
    (at most the repetition under way, which the body has not turned through yet, is held back a moment)."""
    def scripted(signals: object, times: np.ndarray, **_: object) -> SimpleNamespace:
        t = float(times[-1])
        return SimpleNamespace(name="other" if t < 9 else "bicep_curl" if t < 13 else "squat", confidence=0.9)

    monkeypatch.setattr(live, "recognise", scripted)
    seq = make_exercise("squat", reps=8, view="side")
    _, states = run(seq, None)
    during = [s.count for s in states if s.exercise == "bicep_curl"]
    assert during and min(np.diff(during)) >= 0 and during[0] >= 4
    assert all(c.shown - c.estimate <= 1 for c in states[-1].corrections)  # without the rhythm: 6 -> 0
    assert states[-1].count == 8 and states[-1].count_confidence >= 0.5


def test_live_agnostic_count_is_checked_by_the_whole_body() -> None:
    """Exercise unknown and never recognised: the jumping jack's vote counts the wrists twice a cycle (10 of 5);
    the rhythm, measured live, holds the count to the body's 5, as offline."""
    seq = make_exercise("jumping_jack", reps=5, view="side", dropout=0.05, seed=1)
    coach = live.LiveCoach(None, recognise_every_s=1e9)  # never recognised: the class-agnostic path only
    for i, t in enumerate(seq.timestamps):
        coach.update(seq.subject_landmarks()[i], seq.subject_world()[i], t)
    coach.check_rhythm(final=True)
    assert coach.count == count_repetitions(seq, agnostic=True).count == 5
