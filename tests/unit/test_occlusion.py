"""Occluded joints: which signals the camera does not see, and recognition that does not trust them to stay still.

A push-up filmed head-on hides the legs behind the body; MediaPipe still places the knees (with visibility near
0), and those guesses wander with the arms. Synthetic push-ups reproduce it.
"""

from __future__ import annotations

import numpy as np

from posecoach.analysis import analyze_sequence, count_repetitions
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.features.signals import hidden_signals
from tests.synthetic import make_exercise

_I = {n: i for i, n in enumerate(BLAZEPOSE_33.names)}
LEGS = [_I[f"{s}_{j}"] for s in ("left", "right") for j in ("knee", "ankle", "heel", "foot_index")]


def _occluded_push_up(wobble: bool = True) -> PoseSequence:
    """A head-on push-up whose legs are unseen (visibility 0.1) and, like MediaPipe's guesses, bend with the arms."""
    seq = make_exercise("push_up", reps=5, view="front")
    lm, world = seq.landmarks.copy(), seq.world.copy()
    lm[:, :, LEGS, 3] = 0.1
    if wobble:  # knees dropping towards the floor in time with the elbows: tens of degrees of fake knee bending
        elbow = seq.subject_landmarks()[:, _I["left_elbow"], 1]
        phase = (elbow - np.nanmin(elbow)) / max(float(np.nanmax(elbow) - np.nanmin(elbow)), 1e-9)
        for side in ("left", "right"):
            knee = _I[f"{side}_knee"]
            world[:, 0, knee, 1] += 0.4 * phase  # metres, y down
            lm[:, 0, knee, 1] += 0.12 * phase
    return PoseSequence(landmarks=lm, world=world, timestamps=seq.timestamps, fps=seq.fps,
                        track_ids=seq.track_ids, subject=seq.subject, source=seq.source)


def test_unseen_legs_hide_their_signals_but_not_the_arms() -> None:
    hidden = hidden_signals(_occluded_push_up(wobble=False))
    assert {"knee", "knee_diff", "knee_left", "ankle", "hip_height"} <= hidden
    assert not {"elbow", "elbow_diff", "shoulder", "trunk_incline", "wrist_height"} & hidden
    assert hidden_signals(make_exercise("push_up", reps=2, view="side")) == frozenset()


def test_one_seen_side_keeps_the_bilateral_signal() -> None:
    seq = _occluded_push_up(wobble=False)
    right_leg = [_I[f"right_{j}"] for j in ("knee", "ankle", "heel", "foot_index")]
    seq.landmarks[:, :, right_leg, 3] = 0.9
    hidden = hidden_signals(seq)
    assert "knee" not in hidden and "knee_diff" not in hidden and "knee_left" in hidden


def test_push_up_with_wandering_unseen_knees_is_still_a_push_up() -> None:
    seq = _occluded_push_up()
    report = analyze_sequence(seq)
    assert report.exercise.name == "push_up", report.exercise.scores
    assert report.reps.count == 5
    assert count_repetitions(seq).count == 5
    # The same wandering knees, claimed to be seen, rule the push-up out (its legs must stay straight).
    seen = PoseSequence(landmarks=seq.landmarks.copy(), world=seq.world, timestamps=seq.timestamps, fps=seq.fps,
                        track_ids=seq.track_ids, subject=seq.subject, source=seq.source)
    seen.landmarks[:, :, LEGS, 3] = 0.9
    assert analyze_sequence(seen).exercise.name != "push_up"
