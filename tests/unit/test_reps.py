"""Repetition counter on synthetic signals: jitter, partial reps, set-up, gaps, speed changes, live == offline."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posecoach.analysis.counter_settings import TURN_LEAD_S, cut_rep_settings
from posecoach.analysis.exercises import get_exercise
from posecoach.analysis.reps import ChannelCounter, ChannelSpec, CounterSettings, RepCounter, count_signals


def _cycles(n: int, period_s: float, fps: float = 30.0, low: float = 90.0, high: float = 170.0) -> np.ndarray:
    """``n`` cosine cycles starting and ending at ``high`` (a knee angle: standing -> bottom -> standing)."""
    t = np.arange(round(n * period_s * fps)) / fps
    return low + (high - low) * (0.5 + 0.5 * np.cos(2 * math.pi * t / period_s))


def _still(seconds: float, value: float = 170.0, fps: float = 30.0) -> np.ndarray:
    return np.full(round(seconds * fps), value)


def _count(knee: np.ndarray, channels: list[ChannelSpec] | None = None, fps: float = 30.0) -> int:
    times = np.arange(len(knee)) / fps
    return count_signals({"knee": knee}, times, channels or [ChannelSpec("knee", rest=1)]).count


def test_counts_clean_cycles_and_reports_phases() -> None:
    knee = np.concatenate([_still(1), _cycles(5, 2.0), _still(1)])
    res = count_signals({"knee": knee}, np.arange(len(knee)) / 30, [ChannelSpec("knee", rest=1)])
    assert res.count == 5
    for i, rep in enumerate(res.reps):
        assert rep.index == i + 1
        assert rep.start_frame < rep.turn_frame < rep.end_frame
        assert knee[rep.turn_frame] == pytest.approx(90, abs=2)  # the bottom
        assert rep.rom == pytest.approx(80, abs=3)
        assert rep.eccentric_s == pytest.approx(1.0, abs=0.25)
        assert rep.concentric_s == pytest.approx(1.0, abs=0.25)


def test_jitter_around_a_threshold_does_not_count() -> None:
    rng = np.random.default_rng(0)
    knee = _cycles(4, 2.0) + rng.normal(0, 4.0, size=len(_cycles(4, 2.0)))
    assert _count(knee) == 4
    # Standing still with tracking jitter (a few degrees, as after smoothing): nothing counts.
    assert _count(130 + rng.normal(0, 3.0, size=600)) == 0


def test_partial_rep_is_not_counted() -> None:
    half = _cycles(1, 2.0, low=135.0)  # half the range of the full reps
    knee = np.concatenate([_cycles(3, 2.0), half, _cycles(3, 2.0)])
    res = count_signals({"knee": knee}, np.arange(len(knee)) / 30, [ChannelSpec("knee", rest=1)])
    assert res.count == 6
    assert len(res.partial) <= 1


def test_setup_and_rest_do_not_count() -> None:
    # Walking in (slow drift far smaller than a rep), reps, a long rest, reps.
    drift = np.linspace(160, 170, 90)
    knee = np.concatenate([drift, _cycles(3, 2.0), _still(8), _cycles(2, 2.0), _still(2)])
    assert _count(knee) == 5


def test_missing_frames_and_speed_changes() -> None:
    knee = np.concatenate([_cycles(3, 1.2), _cycles(3, 3.0), _cycles(2, 1.5)])
    knee[100:106] = np.nan  # a short dropout inside a rep
    assert _count(knee) == 8


def test_long_gap_abandons_the_rep_in_progress() -> None:
    knee = _cycles(3, 2.0)
    knee[75:150] = np.nan  # 2.5 s lost across the second rep's return
    assert _count(knee) <= 2


def test_class_agnostic_finds_the_moving_signal() -> None:
    rng = np.random.default_rng(1)
    knee = _cycles(6, 2.0)
    n = len(knee)
    cols = {"knee": knee, "hip": knee - 20, "elbow": 160 + rng.normal(0, 2, n),
            "wrist_height": rng.normal(-0.8, 0.02, n)}
    res = count_signals(cols, np.arange(n) / 30)
    assert res.count == 6
    assert res.signal in ("knee", "hip")


def test_live_counting_equals_offline() -> None:
    rng = np.random.default_rng(2)
    knee = np.concatenate([_still(1), _cycles(4, 1.8), _still(2), _cycles(3, 2.5)])
    knee = knee + rng.normal(0, 2, len(knee))
    hip = knee - 15 + rng.normal(0, 3, len(knee))
    times = np.arange(len(knee)) / 30
    offline = count_signals({"knee": knee, "hip": hip}, times)
    live = RepCounter()
    seen = []
    for i in range(len(knee)):
        seen.append(live.update({"knee": float(knee[i]), "hip": float(hip[i])}, float(times[i])))
    assert offline.count == 7
    assert live.count == offline.count
    assert [(r.start_frame, r.end_frame) for r in live.result().reps] == [
        (r.start_frame, r.end_frame) for r in offline.reps]
    assert seen == sorted(seen)  # the live count never goes down here


@pytest.mark.parametrize("signal", ["knee", "knee_diff"])
def test_any_split_of_the_frames_gives_the_same_repetitions(signal: str) -> None:
    """The compiled loop stops at every change of side and long gap and resumes where it stopped: fed in one go,
    in uneven chunks or frame by frame (with a 1.5 s gap and short dropouts), a channel records the same
    repetitions, ends included, and the same score."""
    rng = np.random.default_rng(5)
    values = np.concatenate([_cycles(3, 1.5), _still(0.5), _cycles(4, 2.2)])
    values = values + rng.normal(0, 1.5, len(values))
    values[100:145] = np.nan  # 1.5 s lost: the repetition in progress is abandoned
    values[[20, 21, 250]] = np.nan
    times = np.arange(len(values)) / 30

    def run(cuts: list[int]) -> tuple[list[tuple[int, int, int, float, bool]], float, int]:
        ch = ChannelCounter(ChannelSpec(signal, rest=0 if signal.endswith("_diff") else 1))
        for a, b in zip([0, *cuts], [*cuts, len(values)], strict=True):
            ch.feed(range(a, b), times[a:b], values[a:b])
        return [(r.start_frame, r.turn_frame, r.end_frame, r.rom, r.partial) for r in ch.reps], ch.score, ch.count

    whole = run([])
    assert whole[2] >= 4
    assert run([7, 100, 101, 250, 333]) == whole
    assert run(list(range(1, len(values)))) == whole


def test_the_frame_after_a_change_of_side_is_not_skipped() -> None:
    """Square steps whose extreme is the frame right after each crossing: each repetition turns and ends there."""
    cycle = [170.0] * 10 + [95.0, 80.0] + [95.0] * 10 + [165.0, 180.0] + [165.0] * 8
    values = np.array(cycle * 4)
    res = count_signals({"knee": values}, np.arange(len(values)) / 30, [ChannelSpec("knee", rest=1)])
    # the first cycle (from 170, not 180, and shorter) is made partial by the second
    assert [(r.start_frame, r.turn_frame, r.end_frame, r.rom) for r in res.reps] == [
        (23 + 32 * k, 43 + 32 * k, 55 + 32 * k, 100.0) for k in range(3)]


def test_rest_side_given_by_exercise() -> None:
    # A curl-like signal resting LOW: counting with rest=-1 gives turning points at the top.
    sig = 250 - _cycles(3, 2.0)
    res = count_signals({"knee": sig}, np.arange(len(sig)) / 30, [ChannelSpec("knee", rest=-1)])
    assert res.count == 3
    assert all(sig[r.turn_frame] > 150 for r in res.reps)


def test_minimum_range_is_respected() -> None:
    small = _cycles(5, 2.0, low=150.0)  # 20 degrees
    assert _count(small, [ChannelSpec("knee", rest=1, min_rom=30)]) == 0
    assert _count(small, [ChannelSpec("knee", rest=1, min_rom=10)]) == 5


def test_settings_are_parameters() -> None:
    knee = _cycles(4, 2.0)
    strict = CounterSettings(min_rep_s=5.0)
    times = np.arange(len(knee)) / 30
    assert count_signals({"knee": knee}, times, [ChannelSpec("knee", 1)], settings=strict).count == 0


def test_a_small_first_movement_is_made_partial_by_the_second_rep() -> None:
    blip = _cycles(1, 0.6, low=140.0)  # a 30-degree dip while getting ready, then full 80-degree reps
    knee = np.concatenate([_still(1), blip, _still(1), _cycles(4, 2.0), _still(1)])
    res = count_signals({"knee": knee}, np.arange(len(knee)) / 30, [ChannelSpec("knee", rest=1)])
    assert res.count == 4
    assert len(res.partial) == 1 and res.partial[0].end_frame < 30 + len(blip) + 30


def test_a_rep_cut_by_the_end_counts_once_half_way_back() -> None:
    full = _cycles(3, 2.0)
    assert _count(full[30:]) == 2  # the video starts at the bottom of the first squat: only the half is seen
    assert _count(full[:-30]) == 2  # it ends at the bottom of the third: not counted
    assert _count(full[:-13]) == 3  # ... but counted once it has come half-way back up (60 %)


def _lead(knee: np.ndarray, lead_s: float = 2.0) -> list:
    times = np.arange(len(knee)) / 30
    return count_signals({"knee": knee}, times, [ChannelSpec("knee", rest=1)],
                         settings=CounterSettings(lead_s=lead_s)).reps


def test_a_rep_the_video_opens_in_counts_when_asked() -> None:
    full = _cycles(3, 2.0)
    reps = _lead(full[30:])  # opens at the bottom of the first squat, stands up, two more squats
    assert len(reps) == 3
    first = reps[0]
    assert first.start_frame == 0 and first.turn_frame <= 1  # the turn is the first frame
    assert full[30 + first.end_frame] > 165  # it ends standing, like the others
    assert first.rom == pytest.approx(80, abs=3)  # bottom to standing, not to the band edge
    assert [r.start_frame for r in reps[1:]] == [r.end_frame for r in reps[:-1]]


def test_a_video_that_opens_half_way_up_or_in_the_set_up_adds_no_rep() -> None:
    full = _cycles(3, 2.0)
    assert len(_lead(full[45:])) == 2  # half-way up: 40 of 80 degrees, partial next to the full reps
    bottom = np.concatenate([_still(4, value=90.0), np.linspace(90, 170, 30), _still(1), _cycles(2, 2.0)])
    assert len(_lead(bottom)) == 2  # 4 s down before standing up (getting into position): over lead_s
    assert len(_lead(full[30:], lead_s=0.0)) == 2  # off by default


def test_an_opening_excursion_much_larger_than_a_rep_is_getting_into_position() -> None:
    """Rising from the floor (knee 20 degrees) before 80-degree squats: the opening 'repetition' is dropped once the
    next one shows it was much larger, and its range does not make the real ones look partial."""
    knee = np.concatenate([np.linspace(20, 170, 30), _still(1), _cycles(3, 2.0)])
    reps = _lead(knee)
    assert len(reps) == 3 and all(r.rom == pytest.approx(80, abs=3) for r in reps)
    assert reps[0].start_frame >= 30


def test_cut_rep_conventions() -> None:
    base = CounterSettings(hysteresis=0.25)
    assert cut_rep_settings("return", base) is base
    turn = cut_rep_settings("turn", base)
    assert (turn.lead_s, turn.end_return, turn.hysteresis) == (TURN_LEAD_S, 0.0, 0.25)
    with pytest.raises(ValueError, match="cut_reps"):
        cut_rep_settings("half")
    full = _cycles(3, 2.0)
    times = np.arange(len(full)) / 30

    def count(knee: np.ndarray, convention: str) -> int:
        return count_signals({"knee": knee}, times[:len(knee)], [ChannelSpec("knee", rest=1)],
                             settings=cut_rep_settings(convention)).count

    # Opening at the bottom of the first squat, or ending at the bottom of the third: counted only at the turn.
    assert [count(full[30:], c) for c in ("return", "turn")] == [2, 3]
    assert [count(full[:-30], c) for c in ("return", "turn")] == [2, 3]
    assert [count(full[:-50], c) for c in ("return", "turn")] == [2, 2]  # a third of the way down: not yet
    # The catalogue says which: a squat counts at depth, a push-up once seen coming back up.
    assert get_exercise("squat").counter_settings() == cut_rep_settings("turn")
    assert get_exercise("push_up").counter_settings() == CounterSettings()


def test_live_equals_offline_with_a_rep_the_video_opens_in() -> None:
    rng = np.random.default_rng(5)
    knee = _cycles(4, 1.8)[20:] + rng.normal(0, 2, len(_cycles(4, 1.8)) - 20)
    settings = CounterSettings(lead_s=2.0)
    times = np.arange(len(knee)) / 30
    offline = count_signals({"knee": knee}, times, [ChannelSpec("knee", rest=1)], settings=settings)
    live = RepCounter([ChannelSpec("knee", rest=1)], settings)
    for i in range(len(knee)):
        live.update({"knee": float(knee[i])}, float(times[i]))
    assert offline.count == 4
    assert [(r.start_frame, r.end_frame) for r in live.result().reps] == [
        (r.start_frame, r.end_frame) for r in offline.reps]


def test_alternating_signal_counts_each_side() -> None:
    t = np.arange(300) / 30.0  # 10 s of stepping, a left-right cycle every second: 20 steps
    diff = 40.0 * np.sin(2 * math.pi * t)
    res = count_signals({"knee_diff": diff}, t, [ChannelSpec("knee_diff")])
    assert abs(res.count - 20) <= 1


@pytest.mark.parametrize("steps_per_s", [3.0, 7.5])
def test_fast_alternating_steps_count_each_step(steps_per_s: float) -> None:
    """Speed stepping (a rope turn per step, 4 frames per step at 30 fps): each change of side is one step, even
    when the far extreme is only a frame before the next crossing."""
    t = np.arange(300) / 30.0
    diff = 30.0 + 30.0 * np.sin(math.pi * steps_per_s * t)  # one-sided: the other knee is hidden
    res = count_signals({"knee_diff": diff}, t, [ChannelSpec("knee_diff")])
    assert abs(res.count - steps_per_s * 10) <= 2, res.count


def test_a_lasting_change_of_range_is_followed_but_a_lone_half_rep_is_not() -> None:
    """Big movements while getting set (climbing onto the bars), then many small fast reps (jump rope): once the
    small ones are the norm over the last `rom_window` cycles they count; a lone half rep among full ones does not."""
    settings = CounterSettings()
    big, small = _cycles(5, 2.0, low=40.0), _cycles(20, 0.5, low=130.0)  # 130 vs 40 degrees of range
    res = count_signals({"knee": np.concatenate([big, small])}, np.arange(len(big) + len(small)) / 30,
                        [ChannelSpec("knee", rest=1)])
    small_counted = [r for r in res.reps if r.start_frame >= len(big)]
    # The small ones are partial only until they are the norm (the envelopes also take a few seconds to shrink).
    assert 0 < len(res.partial) < settings.rom_window
    assert len(small_counted) >= 10 and all(r.start_frame >= len(big) for r in res.partial)
    # A longer memory takes longer to follow the change.
    slow = count_signals({"knee": np.concatenate([big, small])}, np.arange(len(big) + len(small)) / 30,
                         [ChannelSpec("knee", rest=1)], settings=CounterSettings(rom_window=12))
    assert len(slow.partial) > len(res.partial) and slow.count < res.count
    # A lone half rep among full ones does not count.
    half = _cycles(1, 2.0, low=135.0)
    knee = np.concatenate([_cycles(8, 2.0), half, _cycles(2, 2.0)])
    res = count_signals({"knee": knee}, np.arange(len(knee)) / 30, [ChannelSpec("knee", rest=1)])
    assert res.count == 10


def test_a_glitch_in_one_channel_is_outvoted_by_the_channels_that_agree() -> None:
    """One squat; the knee also gets a pose glitch (a second, smaller dip). Hips and hip height, together, outweigh
    the knee: the count is theirs, although the knee alone moves the most."""
    t = np.arange(150) / 30.0
    one = 0.5 + 0.5 * np.cos(2 * math.pi * np.clip(t - 0.5, 0.0, 2.0) / 2.0)  # 1 -> 0 -> 1 between 0.5 s and 2.5 s
    glitch = np.where((t > 3.2) & (t < 3.8), np.sin(math.pi * (t - 3.2) / 0.6), 0.0)
    columns = {"knee": 90.0 + 80.0 * one - 50.0 * glitch, "hip": 100.0 + 70.0 * one, "hip_height": 0.3 + 0.7 * one}
    channels = [ChannelSpec("knee", rest=1), ChannelSpec("hip", rest=1), ChannelSpec("hip_height", rest=1)]
    counter = RepCounter(channels, exercise="squat")
    counter.feed(columns, t)
    assert {c.spec.signal: c.count for c in counter.channels} == {"knee": 2, "hip": 1, "hip_height": 1}
    assert max(counter.channels, key=lambda c: c.score).spec.signal == "knee"
    assert counter.count == 1


def test_a_long_regular_count_outvotes_larger_irregular_noise() -> None:
    """40 regular knee cycles of 40 degrees against a height channel with 20 big, irregularly spaced glitches
    (pose noise): the glitches carry more range (score), but their irregular timing loses the vote."""
    fps, n = 30.0, 40
    knee = _cycles(n, 0.5, fps, low=130.0, high=170.0)
    rng = np.random.default_rng(3)
    height = np.full(len(knee), 1.0)
    starts = np.sort(rng.choice(np.arange(10, len(knee) - 10), 20, replace=False))
    for s in starts:
        height[s:s + 3] = 3.0  # a 2-torso jump for 3 frames
    counter = RepCounter([ChannelSpec("knee", rest=1), ChannelSpec("hip_height", rest=-1)])
    counter.feed({"knee": knee, "hip_height": height}, np.arange(len(knee)) / fps)
    by_signal = {c.spec.signal: c for c in counter.channels}
    noise, regular = by_signal["hip_height"], by_signal["knee"]
    assert noise.count >= 12 and noise.score > regular.score  # the noise would win on range alone
    assert regular.regularity() > 0.9 > noise.regularity()
    assert counter.result().signal == "knee" and counter.count == n


def test_a_long_regular_alternating_count_is_not_discounted() -> None:
    """Fast alternating steps (jump rope, running in place): 30 regular side changes of the knees against 15
    larger cycles of the hips; the alternating penalty is a prior for short counts only, so the long regular
    step count wins on its evidence."""
    fps = 30.0
    t = np.arange(int(15 * fps)) / fps
    knee_diff = 25.0 * np.sin(2 * math.pi * 1.0 * t + 0.3)  # one left and one right step per second
    hip = _cycles(15, 1.0, fps, low=120.0, high=170.0)[:len(t)]
    counter = RepCounter([ChannelSpec("knee_diff"), ChannelSpec("hip", rest=1)])
    counter.feed({"knee_diff": knee_diff, "hip": hip}, t)
    by_signal = {c.spec.signal: c for c in counter.channels}
    steps, hips = by_signal["knee_diff"], by_signal["hip"]
    assert steps.count >= 28 and hips.count == 15
    assert steps.score < hips.score < steps.score / steps.spec.weight  # loses with the penalty, wins without
    assert counter.result().signal == "knee_diff"
