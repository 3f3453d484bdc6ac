"""Gap filling and One Euro smoothing (posecoach.pose.smoothing) on synthetic signals."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from posecoach.core.sequence import PoseSequence
from posecoach.pose.smoothing import (
    DEFAULT_BETA,
    DEFAULT_MIN_CUTOFF,
    OneEuroFilter,
    fill_gaps,
    one_euro,
    smooth_sequence,
)

SIGMA = 0.004  # MediaPipe-like jitter in normalised coordinates (~3 px on a 720p frame)


def rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(a))))


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_noise_reduced_on_slow_signal(fps: float) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(int(10 * fps)) / fps
    clean = 0.5 + 0.02 * np.sin(2 * np.pi * 0.1 * t)  # slow sway, e.g. holding a plank
    noisy = clean[:, None] + rng.normal(0.0, SIGMA, (len(t), 200))
    out = one_euro(noisy, t)
    settled = t > 1.0
    factor = rms(noisy[settled] - clean[settled, None]) / rms(out[settled] - clean[settled, None])
    assert factor > 2.0, f"noise only reduced x{factor:.2f} at {fps} fps"  # measured x2.14 / x2.28 / x2.93


@pytest.mark.parametrize("fps", [25.0, 30.0, 60.0])
def test_fast_step_lags_briefly(fps: float) -> None:
    rng = np.random.default_rng(1)
    t = np.arange(int(3 * fps)) / fps
    step = np.where(t >= 1.0, 0.7, 0.5)  # a limb jumping 20 % of the frame
    out = one_euro(step[:, None] + rng.normal(0.0, SIGMA, (len(t), 200)), t).mean(axis=1)
    after = t >= 1.0
    reached = t[after][np.argmax(out[after] > 0.5 + 0.9 * 0.2)] - 1.0
    # measured 40 / 33 / 17 ms at 25 / 30 / 60 fps: one frame
    assert reached <= 0.070, f"90 % of the step took {reached * 1000:.0f} ms at {fps} fps"
    assert np.all(out[t >= 1.3] > 0.68)  # and it stays there
    assert out.max() < 0.7 + 0.02  # no real overshoot


def test_fast_motion_small_lag() -> None:
    fps = 30.0
    t = np.arange(300) / fps
    clean = 0.5 + 0.15 * np.sin(2 * np.pi * 1.5 * t)  # fast arm swing, peak speed 1.4 widths/s
    speed = 0.15 * 2 * np.pi * 1.5 * np.cos(2 * np.pi * 1.5 * t)
    out = one_euro(clean, t)
    delay = rms(out[30:] - clean[30:]) / rms(speed[30:])  # error expressed as an equivalent time lag
    assert delay < 1.0 / fps, f"lags {delay * 1000:.0f} ms"  # measured 20 ms
    assert np.ptp(out[30:]) == pytest.approx(np.ptp(clean[30:]), rel=0.03)  # amplitude kept


def test_streaming_equals_batch_with_nans_and_variable_dt() -> None:
    rng = np.random.default_rng(2)
    T = 400
    t = np.cumsum(rng.uniform(0.01, 0.06, T))
    x = rng.normal(size=(T, 4, 3)).cumsum(axis=0) * 0.01
    x[rng.random(x.shape) < 0.1] = np.nan
    x[100:130, 2] = np.nan
    params = {"min_cutoff": 0.7, "beta": 5.0, "d_cutoff": 1.3}
    batch = one_euro(x, t, **params)
    filt = OneEuroFilter(**params)
    stream = np.stack([filt(ti, xi) for ti, xi in zip(t, x, strict=True)])
    assert np.array_equal(batch, stream, equal_nan=True)
    assert np.array_equal(np.isnan(batch), np.isnan(x))
    filt.reset()
    assert np.array_equal(filt(0.0, x[5]), x[5], equal_nan=True)


def test_variable_timestamps_use_real_dt() -> None:
    # A first-order low-pass on a ramp lags by slope * tau whatever the sampling interval.
    rng = np.random.default_rng(3)
    slope, mc, beta = 0.3, 1.0, 2.0
    t = np.cumsum(rng.uniform(0.01, 0.06, 600))
    out = one_euro(slope * t, t, min_cutoff=mc, beta=beta)
    tau = 1.0 / (2 * math.pi * (mc + beta * slope))
    lag = slope * t - out
    assert np.allclose(lag[t > 5.0], slope * tau, rtol=0.02)
    # and the same signal at a steady 30 fps agrees
    t2 = np.arange(0, t[-1], 1 / 30)
    out2 = one_euro(slope * t2, t2, min_cutoff=mc, beta=beta)
    assert abs((slope * t2 - out2)[-1] - lag[-1]) < 1e-3


def test_nan_passes_through_and_restarts_cleanly() -> None:
    f = OneEuroFilter()
    assert f(0.0, np.array([0.0, 1.0]))[0] == 0.0
    for i in range(1, 10):
        f(i / 30, np.array([0.0, 1.0]))
    out = f(10 / 30, np.array([np.nan, 1.0]))
    assert np.isnan(out[0]) and out[1] == pytest.approx(1.0)
    out = f(11 / 30, np.array([5.0, 1.0]))  # returns at a new place: no pull towards the old value
    assert out[0] == 5.0
    out = f(12 / 30, np.array([5.0, 1.0]))
    assert out[0] == pytest.approx(5.0)
    with pytest.raises(ValueError, match="increase"):
        f(12 / 30, np.array([5.0, 1.0]))


def test_fill_gaps_linear_exact_edges_and_long_gap() -> None:
    t = np.arange(60) / 30.0
    v = np.stack([2.0 * t + 1.0, -t], axis=1)
    v[10:13, 0] = np.nan  # 3 frames = 0.1 s: filled
    v[20:40, 0] = np.nan  # 20 frames = 0.67 s: kept
    v[:4, 1] = np.nan  # leading
    v[-3:, 1] = np.nan  # trailing
    v[30, 1] = np.nan  # single frame
    filled, mask = fill_gaps(v, t, max_gap=0.25)
    assert np.allclose(filled[10:13, 0], 2.0 * t[10:13] + 1.0, atol=1e-12)
    assert np.isnan(filled[20:40, 0]).all()
    assert np.isnan(filled[:4, 1]).all() and np.isnan(filled[-3:, 1]).all()
    assert filled[30, 1] == pytest.approx(-t[30])
    expected = np.zeros_like(mask)
    expected[10:13, 0] = True
    expected[30, 1] = True
    assert np.array_equal(mask, expected)
    # the limit is inclusive: 7 frames at 30 fps = 0.233 s <= 0.25 s, 8 frames = 0.267 s is not
    w = t.copy()
    w[5:12] = np.nan
    w[30:38] = np.nan
    _, m2 = fill_gaps(w, t)
    assert m2[5:12].all() and not m2[30:38].any()


def test_fill_gaps_variable_dt_and_dtype() -> None:
    t = np.array([0.0, 0.1, 0.15, 0.4, 0.5])
    v = np.array([0.0, np.nan, np.nan, np.nan, 5.0], dtype=np.float32)
    filled, mask = fill_gaps(v, t, max_gap=0.45)
    assert filled.dtype == np.float32
    assert np.allclose(filled, 10.0 * t)  # interpolated in time, not by frame index
    assert mask.tolist() == [False, True, True, True, False]
    _, mask = fill_gaps(v, t, max_gap=0.35)  # the gap lasts 0.1 -> 0.5 = 0.4 s
    assert not mask.any()


def test_fill_gaps_is_fast() -> None:
    rng = np.random.default_rng(4)
    T = 100_000
    t = np.arange(T) / 30.0
    v = rng.normal(size=(T, 33, 5)).astype(np.float32)
    v[rng.random((T, 33)) < 0.03] = np.nan
    v[5000:5005] = np.nan
    start = time.perf_counter()
    filled, mask = fill_gaps(v, t)
    assert time.perf_counter() - start < 1.0  # measured 0.1 s
    assert mask[5000:5005].all() and not np.isnan(filled[5000:5005]).any()


def _walking_person(T: int, fps: float = 30.0, seed: int = 5) -> PoseSequence:
    rng = np.random.default_rng(seed)
    t = np.arange(T) / fps
    base = rng.uniform(0.3, 0.7, (33, 3))
    lm = np.zeros((T, 33, 4))
    lm[..., :3] = base + 0.05 * np.sin(2 * np.pi * 0.5 * t)[:, None, None] + rng.normal(0, SIGMA, (T, 33, 3))
    lm[..., 3] = 0.9
    world = lm[..., :3] - 0.5
    return PoseSequence.from_landmarks(lm, fps, world=world, source={"width": 1280, "height": 720})


def test_smooth_sequence_fills_short_not_long_and_keeps_raw() -> None:
    seq = _walking_person(200)
    lm = seq.landmarks.copy()
    lm[50:54] = np.nan  # the whole person missing for 4 frames (0.13 s)
    lm[100:130] = np.nan  # missing for 1 s: must stay missing
    lm[150:152, 0, 25] = np.nan  # one keypoint (left knee) dropped for 2 frames
    world = seq.world.copy()
    world[np.isnan(lm[..., :3])] = np.nan
    seq = PoseSequence(landmarks=lm, world=world, timestamps=seq.timestamps, fps=seq.fps, source=seq.source)
    out = smooth_sequence(seq)
    assert np.array_equal(out.raw_landmarks, seq.landmarks, equal_nan=True)
    assert np.array_equal(out.raw_world, seq.world, equal_nan=True)
    det = out.detected[:, 0]
    assert det[50:54].all() and not det[100:130].any()
    assert np.isfinite(out.landmarks[150:152, 0, 25]).all()
    assert np.array_equal(np.isnan(out.world[..., 0]), np.isnan(out.landmarks[..., 0]))
    assert np.allclose(out.landmarks[50:54, 0, :, 3], 0.9)  # visibility interpolated in the gap
    noise_in = rms(seq.landmarks[10:50, 0, :, :2] - out.landmarks[10:50, 0, :, :2])
    assert 0 < noise_in < 3 * SIGMA
    s = out.source["smoothing"]
    assert s["min_cutoff"] == DEFAULT_MIN_CUTOFF and s["beta"] == DEFAULT_BETA and s["max_gap"] == 0.25
    assert s["filled_keypoint_frames"] == 4 * 33 + 2
    assert out.source["width"] == 1280 and "smoothing" not in seq.source  # input untouched
    # smoothing again keeps the first raw values
    again = smooth_sequence(out, min_cutoff=2.0)
    assert np.array_equal(again.raw_landmarks, seq.landmarks, equal_nan=True)
    assert again.source["smoothing"]["min_cutoff"] == 2.0


def test_smooth_sequence_two_people_and_empty() -> None:
    a, b = _walking_person(60, seed=6), _walking_person(60, seed=7)
    lm = np.concatenate([a.landmarks, b.landmarks], axis=1)
    lm[20:25, 1] = np.nan
    lm[:30, 0] = np.nan  # person 0 only appears half-way: leading gap stays
    seq = PoseSequence(landmarks=lm, world=np.concatenate([a.world, b.world], axis=1),
                       timestamps=a.timestamps, fps=30.0, track_ids=np.array([3, 8]), subject=8)
    out = smooth_sequence(seq, smooth_visibility=True)
    assert out.detected[20:25, 1].all() and not out.detected[:30, 0].any() and out.detected[30:, 0].all()
    assert out.subject == 8 and out.track_ids.tolist() == [3, 8]
    assert np.nanmax(out.landmarks[..., 3:]) <= 1.0
    empty = smooth_sequence(PoseSequence.empty(10))
    assert empty.num_people == 0 and "smoothing" in empty.source
