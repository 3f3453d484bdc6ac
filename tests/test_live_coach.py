"""LiveCoach: the live (frame by frame) exercise coach against the offline analysis, on synthetic sequences of
every catalogue exercise and on a real squat clip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posecoach.analysis.exercises import catalogue
from posecoach.analysis.live import LiveCoach
from posecoach.analysis.pipeline import analyze_sequence
from posecoach.analysis.reps import count_repetitions
from posecoach.core.sequence import PoseSequence
from posecoach.features.signals import image_size
from tests.synthetic import make_exercise, make_hold

REP_NAMES = sorted(n for n, ex in catalogue().items() if ex.kind == "reps")


def feed(seq: PoseSequence, exercise: str | None) -> tuple[LiveCoach, list[int]]:
    width, height = image_size(seq)
    coach = LiveCoach(exercise, width=width, height=height)
    lm, world = seq.subject_landmarks(), seq.subject_world()
    counts = []
    for i in range(seq.num_frames):
        seen = np.isfinite(lm[i, :, 0]).any()
        counts.append(coach.update(lm[i] if seen else None, world[i] if seen else None, seq.timestamps[i]).count)
    return coach, counts


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


def test_form_cues_name_the_broken_rule_of_the_last_rep() -> None:
    """A shallow squat (half range): the depth rule is broken in the live cues, as in the offline report."""
    seq = make_exercise("squat", reps=4, amplitude=0.45, view="side")
    coach, _ = feed(seq, "squat")
    offline = analyze_sequence(seq, "squat")
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
