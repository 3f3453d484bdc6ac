"""The rhythm of a set: regularity, and cycles missed in a fast steady one (synthetic and real jump rope)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posecoach.analysis.reps import ChannelSpec, Rep, RepCounter, count_signals
from posecoach.analysis.rhythm import MIN_REPS, missed_cycles, regularity, split_rep
from tests.conftest import data_file


def _ends(intervals: list[float]) -> list[float]:
    return [0.0, *np.cumsum(intervals).tolist()]


def test_a_doubled_interval_in_a_fast_steady_set_is_one_missed_cycle() -> None:
    intervals = [0.2] * 20
    intervals[7] = 0.4  # one beat dropped
    intervals[14] = 0.41
    missed = missed_cycles(_ends(intervals))
    assert len(missed) == 20
    assert [i for i, k in enumerate(missed) if k] == [7, 14] and sum(missed) == 2


def test_a_stop_a_slow_set_or_a_short_one_hides_nothing() -> None:
    stop = [0.2] * 20
    stop[10] = 1.0  # a one-second stop in a 0.2-second rhythm: not dropped beats
    assert sum(missed_cycles(_ends(stop))) == 0
    slow = [2.0] * 20
    slow[10] = 4.0  # a squat set with a pause at the top: a pause, not a missed squat
    assert sum(missed_cycles(_ends(slow))) == 0
    short = [0.2] * (MIN_REPS - 2)
    short[3] = 0.4
    assert missed_cycles(_ends(short)) == [0] * len(short)


def test_regularity() -> None:
    assert regularity(_ends([0.5] * 30)) == 1.0
    rng = np.random.default_rng(0)
    assert regularity(_ends(rng.exponential(0.5, 30).tolist())) < 0.6
    assert regularity(_ends([0.5, 3.0, 0.1])) == 1.0  # too few repetitions to say


def test_split_rep_divides_frames_and_times_evenly() -> None:
    rep = Rep(3, 100, 105, 110, 10.0, 10.5, 11.0, 30.0, "knee_diff")
    parts = split_rep(rep, 2)
    assert [(p.start_frame, p.turn_frame, p.end_frame) for p in parts] == [(100, 102, 105), (105, 108, 110)]
    assert [(p.start_s, p.end_s) for p in parts] == [(10.0, 10.5), (10.5, 11.0)]
    assert all(p.rom == 30.0 and p.signal == "knee_diff" for p in parts)
    assert split_rep(rep, 1) == [rep]


def _fast_set(n: int, weak: tuple[int, ...], fps: float = 30.0, hz: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` knee cycles at ``hz`` (a jump every 7.5 frames), the ``weak`` ones only a tenth as deep (blurred)."""
    t = np.arange(round(n / hz * fps)) / fps
    depth = np.ones(len(t))
    for i in weak:
        depth[(t >= i / hz) & (t < (i + 1) / hz)] = 0.1
    return 150.0 - 30.0 * depth * (0.5 - 0.5 * np.cos(2 * math.pi * hz * t)), t


def test_the_counter_adds_cycles_lost_in_a_fast_set_live_and_offline() -> None:
    knee, t = _fast_set(40, weak=(10, 25))
    spec = [ChannelSpec("knee", rest=1)]
    offline = count_signals({"knee": knee}, t, spec)
    assert offline.count == 40  # 38 seen, 2 lost in the blur
    assert len(offline.reps) == offline.count
    assert [r.index for r in offline.reps] == list(range(1, 41))
    assert all(a.end_frame <= b.start_frame + 1 for a, b in zip(offline.reps, offline.reps[1:], strict=False))
    live = RepCounter(spec)
    for i in range(len(t)):
        live.update({"knee": float(knee[i])}, float(t[i]))
    assert live.count == offline.count
    assert [(r.start_frame, r.end_frame) for r in live.result().reps] == [
        (r.start_frame, r.end_frame) for r in offline.reps]


def test_a_slow_set_with_a_pause_gains_nothing() -> None:
    knee, t = _fast_set(16, weak=(8,), hz=0.5)  # squats every 2 s; one only a tenth as deep (a pause)
    assert count_signals({"knee": knee}, t, [ChannelSpec("knee", rest=1)]).count == 15


@pytest.mark.video
def test_a_real_jump_rope_clip_counted_exactly_gains_nothing() -> None:
    from posecoach.analysis import count_repetitions
    from posecoach.pose.engine import PoseEngine

    with PoseEngine("full") as engine:  # hiro_1: 320 frames, 78 rope turns (annotated), front view
        seq = engine.process(data_file("reps/jump_rope/videos/hiro_1.mp4"))
    true = len(np.load(data_file("reps/jump_rope/annotations/hiro_1.npy")))
    res = count_repetitions(seq)
    assert abs(res.count - true) <= 1 and len(res.reps) == res.count


@pytest.mark.video
@pytest.mark.slow
def test_a_real_jump_rope_clip_with_dropped_beats() -> None:
    from posecoach.analysis import count_repetitions
    from posecoach.features.signals import sequence_signals
    from posecoach.pose.engine import PoseEngine

    with PoseEngine("full") as engine:  # china_1: 933 frames, 211 rope turns, blurred legs
        seq = engine.process(data_file("reps/jump_rope/videos/china_1.mp4"))
    true = len(np.load(data_file("reps/jump_rope/annotations/china_1.npy")))
    res = count_repetitions(seq)
    counter = RepCounter()
    counter.feed(sequence_signals(seq), seq.timestamps)
    best = counter.best
    assert best is not None and best.missed() >= 5  # dropped beats found ...
    seen = sum(not r.partial for r in best.reps)
    assert abs(res.count - true) < abs(seen - true)  # ... and the count is closer to the truth with them
    assert len(res.reps) == res.count
