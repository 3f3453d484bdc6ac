"""Multi-person tracking and the subject rule, on synthetic people."""

from __future__ import annotations

import numpy as np
import pytest

from posecoach.pose.tracking import (
    Tracker,
    body_size,
    box_overlap,
    choose_subject,
    link_fragments,
    movement,
    pose_distance,
    subject_scores,
)


def _person(cx: float, cy: float, height: float, vis: float = 0.9) -> np.ndarray:
    """A crude 33-point figure centred at (cx, cy) with the given height (normalised units)."""
    rng = np.random.default_rng(int(cx * 1000 + cy * 100))
    offsets = rng.uniform(-0.5, 0.5, (33, 2)) * [0.4, 1.0]
    p = np.zeros((33, 5), np.float32)
    p[:, :2] = np.array([cx, cy]) + offsets * height
    p[:, 3] = vis
    p[:, 4] = 1.0
    return p


def test_pose_distance_is_relative_to_body_size() -> None:
    a = _person(0.5, 0.5, 0.6)
    shifted = a.copy()
    shifted[:, 0] += 0.06
    assert pose_distance(a, a) == 0.0
    assert abs(pose_distance(a, shifted) - 0.06 / body_size(a)) < 1e-5
    hidden = a.copy()
    hidden[:, 0] = np.nan
    assert pose_distance(a, hidden) == float("inf")


def test_tracker_keeps_ids_when_people_swap_order_and_one_leaves() -> None:
    tracker = Tracker(max_age=0.5)
    left, right = _person(0.25, 0.5, 0.5), _person(0.75, 0.5, 0.5)
    ids0 = tracker.update(0.0, np.stack([left, right]))
    assert ids0.tolist() == [0, 1]
    for k in range(1, 10):  # both walk right slowly; the detector lists them in either order
        left[:, 0] += 0.01
        right[:, 0] += 0.01
        order = [1, 0] if k % 2 else [0, 1]
        ids = tracker.update(k / 30, np.stack([left, right])[order])
        assert ids.tolist() == [ids0[i] for i in order]
    assert tracker.update(10 / 30, right[None]).tolist() == [1]  # left person gone
    assert tracker.update(2.0, left[None]).tolist() == [2]  # back after max_age: a new id, never reused


def test_subject_is_the_prominent_person_not_the_first_or_briefest() -> None:
    T = 60
    lm = np.full((T, 3, 33, 5), np.nan, np.float32)
    for t in range(T):
        lm[t, 0] = _person(0.9, 0.8, 0.25, vis=0.99)  # small bystander at the edge, always there
        lm[t, 1] = _person(0.5, 0.5, 0.8, vis=0.8)  # the subject: large and central
    lm[:5, 2] = _person(0.5, 0.5, 0.9)  # someone large passing through for 5 frames
    lm[30:35, 1] = np.nan  # the subject missed a few frames
    scores = subject_scores(lm)
    assert scores[1] > scores[0] and scores[1] > scores[2]
    assert choose_subject(lm, np.array([7, 8, 9])) == 8
    assert choose_subject(np.zeros((T, 0, 33, 5)), np.zeros(0, np.int64)) is None


def test_subject_is_the_person_exercising_not_the_coach_standing_beside_them() -> None:
    T = 60
    lm = np.full((T, 2, 33, 5), np.nan, np.float32)
    squatter = _person(0.65, 0.5, 0.8)
    for t in range(T):
        lm[t, 0] = _person(0.4, 0.5, 0.8)  # the coach: large, central, standing still
        height = 0.6 + 0.2 * np.cos(2 * np.pi * t / 30)  # squatting twice: the same figure 0.8 <-> 0.4 tall
        lm[t, 1] = squatter
        lm[t, 1, :, 1] = 0.9 - (0.9 - squatter[:, 1]) * height / 0.8  # feet stay on the floor (y = 0.9)
    assert movement(lm)[0] == pytest.approx(0.0, abs=1e-6) and movement(lm)[1] > 0.1
    assert subject_scores(lm[:, :1]).item() > 0  # alone, someone still is still the subject
    assert choose_subject(lm, np.array([3, 4])) == 4


def test_link_fragments_rejoins_a_person_split_in_two_and_keeps_others_apart() -> None:
    T = 40
    times = np.arange(T) / 30.0
    lm = np.full((T, 4, 33, 5), np.nan, np.float32)
    for t in range(T):
        a = _person(0.3 + 0.002 * t, 0.5, 0.6)  # one person, walking slowly right ...
        if t < 20:
            lm[t, 0] = a  # ... tracked as 0 until frame 19 ...
        elif t >= 22:
            lm[t, 2] = a  # ... and as 2 after a two-frame gap
        if t < 10:
            lm[t, 1] = _person(0.8, 0.5, 0.3)  # someone else, who leaves ...
        if t >= 30:
            lm[t, 3] = _person(0.1, 0.5, 0.3)  # ... and a third person arriving elsewhere
    wd = np.zeros((T, 4, 33, 3), np.float32)
    out_lm, out_wd, ids = link_fragments(lm, wd, np.array([5, 6, 7, 8]), times)
    assert ids.tolist() == [5, 6, 8]
    assert np.isfinite(out_lm[:20, 0, 0, 0]).all() and np.isfinite(out_lm[22:, 0, 0, 0]).all()
    assert np.array_equal(out_lm[25, 0], lm[25, 2])
    assert out_wd.shape == (T, 3, 33, 3)
    # The same two fragments further apart in time than max_age stay two tracks.
    assert link_fragments(lm, wd, np.array([5, 6, 7, 8]), times * 40)[2].tolist() == [5, 6, 7, 8]


def test_box_overlap_tells_two_fits_of_one_person_from_two_people() -> None:
    person = np.full((33, 5), np.nan, np.float32)
    person[:, 0] = np.linspace(0.4, 0.6, 33)
    person[:, 1] = np.linspace(0.2, 0.9, 33)
    arms_only = person.copy()
    arms_only[20:] = np.nan  # a fit of the same person around the upper keypoints only
    other = person.copy()
    other[:, 0] += 0.3  # someone beside them
    assert box_overlap(person, arms_only) == pytest.approx(1.0)
    assert box_overlap(person, other) == 0.0
    assert box_overlap(person, np.full((33, 5), np.nan, np.float32)) == 0.0
