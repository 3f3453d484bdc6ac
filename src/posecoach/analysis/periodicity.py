"""Whole-body periodicity: the class-agnostic repetition count, from every body joint at once.

A repetition is one cycle of the whole body's shape, not of one chosen joint. The steps:

1. **Embedding** (`body_embedding`): the 13 body keypoints every pose tool gives (nose, shoulders, elbows,
   wrists, hips, knees, ankles; COCO-17 has them, so do BlazePose-33 and the NTU/Kinect mappings), image x and y
   only, standardised per frame and per axis over the keypoints (minus their mean, over their spread). That makes
   the embedding the same for image-normalised landmarks, landmarks normalised per frame to the person's box,
   another zoom, camera distance or image aspect ratio: each of those is a per-frame, per-axis affine map of x
   and y, which the standardisation removes.
2. **Resampling** onto a uniform time grid (dropped frames, variable frame rate, 15 fps streams), short gaps
   filled by interpolation.
3. **Period** (`estimate_period`): the autocorrelation of the whole embedding (every coordinate together, the
   trace of the lagged self-similarity), whose first strong peak is the dominant period. Its height there is
   how periodic the body's movement is.
4. **Periodic component**: the projection of the embedding that repeats best at that period (the leading
   solution of ``C_P w = lambda C_0 w``, C_0 the covariance and C_P the lag-P covariance; "periodic component
   analysis"), band-limited around the period.
5. **Repetitions**: the cycles of that component, peak to peak, at least half a period apart and with a range
   comparable to the set's typical repetition (pauses, set-up and small jitters are not cycles).

The result carries a confidence: the periodicity, the regularity of the intervals and how much of the movement
the rhythm explains. Pure functions of a pose sequence (or arrays), NumPy and SciPy only.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import fftconvolve, find_peaks

from posecoach.analysis.reps import Rep

#: The signal name of a whole-body repetition.
WHOLE_BODY = "whole_body"
#: BlazePose-33 indices of the body keypoints every pose tool gives: nose, shoulders, elbows, wrists, hips,
#: knees, ankles (the COCO-17 body without eyes and ears).
BODY_POINTS: tuple[int, ...] = (0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)
#: Each body point's mirror image (left <-> right), as positions in `BODY_POINTS`.
_MIRROR: tuple[int, ...] = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11)
#: A frame needs this many of them to be embedded.
MIN_POINTS = 8
#: Grid rate bounds (Hz): the embedding is resampled at the input's median rate within these.
MIN_RATE, MAX_RATE = 10.0, 60.0
#: Shortest and longest period considered (seconds); at least `MIN_CYCLES` cycles must fit in the sequence.
MIN_PERIOD_S, MAX_PERIOD_S = 0.12, 12.0
MIN_CYCLES = 1.6
#: The period is the shortest lag whose autocorrelation peak reaches this share of the highest peak.
FIRST_PEAK_SHARE = 0.85
#: ... or this share where the highest peak lies at a whole multiple of it (within this share of the multiple):
#: a harmonic of the period, not a longer one (`estimate_period`).
HARMONIC_SHARE, HARMONIC_TOLERANCE = 0.75, 0.12
#: Below this RMS movement of the embedding (a share of the body's spread) the body is still: not measurable.
MIN_MOTION = 0.01
#: Missing stretches longer than this (seconds) are not bridged: the movement there is unknown.
MAX_GAP_S = 1.0
#: A cycle counts when its range reaches this share of the set's typical cycle range.
MIN_REL_RANGE = 0.35
#: Peaks closer than this share of the period are one cycle.
MIN_SPACING = 0.5
#: Alternating sides: the mirror image's correlation at ALT_WINDOW of the period reaches ALT_SHARE of the
#: period's autocorrelation (and at least ALT_MIN).
ALT_WINDOW, ALT_SHARE, ALT_MIN = (0.35, 0.65), 0.8, 0.3
#: Without a rhythm: excursions at least this far apart (seconds) spanning this share of the main movement's range
#: count, with this confidence.
EXCURSION_S, EXCURSION_RANGE, EXCURSION_CONFIDENCE = 0.5, 0.5, 0.3


@dataclass(frozen=True)
class Periodicity:
    """What `whole_body_count` found: the count, its cycles, the period and how much to trust them."""

    count: int
    cycles: tuple[Rep, ...]  # each cycle a repetition (signal `WHOLE_BODY`, ``rom``: its range against the set's
    #                          typical cycle range; ``index`` 1-based)
    period_s: float  # NaN when no periodic movement was found
    periodicity: float  # autocorrelation of the whole embedding at the period, 0-1
    regularity: float  # share of the intervals between cycles within 0.5-1.6 of their median, 0-1
    confidence: float  # 0-1: see `confidence`
    reason: str = ""  # why the count is not measurable or has no rhythm, when it is
    alternating: bool = False  # one repetition per side (the cycle's halves mirror each other)
    half_similarity: float = 0.0  # the body half a period later vs itself, sides exchanged or not (-1 to 1)
    rate: float = math.nan  # samples per second of the input the rhythm was measured on (its median rate)

    @property
    def rhythmic(self) -> bool:
        """A period was found (else the count, if any, is of separate large movements)."""
        return math.isfinite(self.period_s)

    def samples_per_rep(self, half_similarity: float) -> float:
        """Input samples per repetition: per period, or per half period where the body half a period later is
        ``half_similarity`` or more alike to itself (a repetition per side may be what is counted, as in jump
        rope's steps); NaN without a rhythm or a rate. An alternating rhythm's period is already one side's
        repetition (half the body's cycle): it is not halved again."""
        per = self.period_s * self.rate
        halve = self.half_similarity >= half_similarity and not self.alternating
        return per / 2.0 if halve else per


def body_embedding(landmarks: np.ndarray) -> np.ndarray:
    """``(T, 2 * len(BODY_POINTS))`` per-frame, per-axis standardised body keypoints (NaN rows where fewer than
    `MIN_POINTS` are known). ``landmarks``: ``(T, 33, >=2)`` image x, y (any per-frame axis scaling)."""
    pts = np.asarray(landmarks, dtype=np.float64)[:, BODY_POINTS, :2]
    known = np.isfinite(pts).all(axis=-1)
    pts = np.where(known[..., None], pts, np.nan)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # frames with no keypoint: NaN, masked below
        mean = np.nanmean(pts, axis=1, keepdims=True) if pts.size else pts
        std = np.nanstd(pts, axis=1, keepdims=True) if pts.size else pts
        emb = (pts - mean) / np.where(std > 1e-9, std, np.nan)
    emb[known.sum(axis=1) < MIN_POINTS] = np.nan
    return emb.reshape(len(emb), -1)


def _resample(emb: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grid times, values on the grid, known mask)``: linear interpolation per coordinate, gaps longer than
    `MAX_GAP_S` left unknown (filled with the coordinate's mean so filters can run, and masked)."""
    ok = np.isfinite(emb).all(axis=1)
    if ok.sum() < 2:
        return np.zeros(0), np.zeros((0, emb.shape[1])), np.zeros(0, dtype=bool)
    t = times[ok]
    dt = float(np.median(np.diff(t)))
    rate = min(max(1.0 / dt if dt > 0 else 30.0, MIN_RATE), MAX_RATE)
    grid = np.arange(t[0], t[-1] + 0.5 / rate, 1.0 / rate)
    vals = np.stack([np.interp(grid, t, emb[ok, d]) for d in range(emb.shape[1])], axis=1)
    # Unknown where the nearest known frames are more than MAX_GAP_S apart.
    idx = np.clip(np.searchsorted(t, grid), 1, len(t) - 1)
    gap = t[idx] - t[idx - 1]
    known = gap <= MAX_GAP_S + 1e-9
    if not known.all():
        vals[~known] = vals[known].mean(axis=0) if known.any() else 0.0
    return grid, vals, known


def input_rate(times: np.ndarray) -> float:
    """Median samples per second of the input (NaN under two samples): a 15 fps stream's rate is 15 even where
    the rhythm's grid runs faster (`MIN_RATE`)."""
    dt = np.diff(np.asarray(times, dtype=np.float64))
    dt = dt[dt > 0]
    return 1.0 / float(np.median(dt)) if len(dt) else math.nan


def _drift(x: np.ndarray, sigma: float) -> np.ndarray:
    """``gaussian_filter1d(x, sigma, axis=0, mode="nearest")`` (the same truncated kernel, edges repeated) by FFT
    convolution: the same values to rounding, several times faster at a period's width (hundreds of taps)."""
    radius = int(4.0 * sigma + 0.5)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    padded = np.pad(x, ((radius, radius), (0, 0)), mode="edge")
    return fftconvolve(padded, (kernel / kernel.sum())[:, None], mode="valid", axes=0)


def _mirror(x: np.ndarray, flip: bool = True) -> np.ndarray:
    """The embedding with left and right keypoints swapped and, with ``flip``, x negated: the mirror image (the
    other side's turn, seen from the front); without: the sides' roles exchanged (seen from the side)."""
    pts = x.reshape(len(x), len(BODY_POINTS), 2)[:, _MIRROR].copy()
    if flip:
        pts[..., 0] *= -1.0
    return pts.reshape(len(x), -1)


def _autocorrelation(x: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
    """Normalised autocorrelation of a multichannel signal ``(N, D)`` (centred), summed over channels: the trace
    of the lagged self-similarity, per lag 0..N-1, each lag normalised by the energy of its overlap. With ``y``
    (same shape): the cross-correlation of ``x[t]`` with ``y[t + lag]``."""
    n = len(x)
    y = x if y is None else y
    size = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(x, size, axis=0)
    g = f if y is x else np.fft.rfft(y, size, axis=0)
    acf = np.fft.irfft((f.conj() * g).sum(axis=1), size)[:n]
    energy = np.cumsum((x ** 2).sum(axis=1))  # y's is the same for the mirror image (a permutation, a sign)
    head = energy[::-1]  # energy of x[:n-L] (for lag L: first n-L samples)
    tail = energy[-1] - np.concatenate(([0.0], energy[:-1]))  # energy of x[L:]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = acf / np.sqrt(head * tail)
    return np.nan_to_num(out)


def estimate_period(acf: np.ndarray, rate: float) -> tuple[float, float]:
    """``(period in samples, autocorrelation there)`` from a signal's `_autocorrelation` (one value per lag, the
    signal's length) sampled at ``rate``; (NaN, 0) if none."""
    n = len(acf)
    lo = max(2, int(MIN_PERIOD_S * rate))
    hi = min(int(MAX_PERIOD_S * rate), int(n / MIN_CYCLES))
    if hi <= lo + 1:
        return math.nan, 0.0
    seg = acf[: hi + 2]
    peaks, _ = find_peaks(seg)
    peaks = peaks[(peaks >= lo) & (peaks <= hi)]
    if not len(peaks):
        return math.nan, 0.0
    heights = seg[peaks]
    best = float(heights.max())
    if best <= 0:
        return math.nan, 0.0
    # The highest peak at a whole multiple of an earlier one is that one's harmonic: its period repeats there
    # too. Smoothing (a moving average, a slower stream) lowers the peaks a little and unevenly, so the
    # fundamental needs less of the best peak's height (`HARMONIC_SHARE`) than any other earlier peak.
    ratio = peaks[np.argmax(heights)] / peaks
    harmonic = (ratio >= 1.5) & (np.abs(ratio - np.rint(ratio)) <= HARMONIC_TOLERANCE * np.rint(ratio))
    strong = (heights >= FIRST_PEAK_SHARE * best) | (harmonic & (heights >= HARMONIC_SHARE * best))
    first = int(peaks[np.argmax(strong)])
    # Refine the lag by a parabola through the peak and its neighbours.
    a, b, c = seg[first - 1], seg[first], seg[first + 1]
    denom = a - 2 * b + c
    shift = 0.5 * (a - c) / denom if denom < 0 else 0.0
    return first + float(np.clip(shift, -0.5, 0.5)), float(b)


def _alternation(x: np.ndarray, acf: np.ndarray, lag: float, strength: float) -> tuple[float, bool, float]:
    """``(lag of half a cycle in samples, flip, similarity)`` when the movement alternates sides: the body half a
    period later is itself with the sides exchanged, as in alternating lunges, arm raises or steps; half is 0.0
    when it does not.

    The sides exchange as a mirror image seen from the front (``flip``: x negated too) or as a plain swap seen from
    the side. The heights (y) must match on their own as well: in a symmetric movement they are anti-phase half
    a period apart, whatever the sign of x does. ``similarity``: how alike the body is to itself half a period
    later, as it is or with the heights of its sides exchanged (the best of the two): evidence that a cycle holds
    two repetitions, even where the exchange is not clean enough to count them on the body. ``acf``: ``x``'s
    `_autocorrelation`.
    """
    lo, hi = max(int(ALT_WINDOW[0] * lag), 1), math.ceil(ALT_WINDOW[1] * lag)
    if hi <= lo:
        return 0.0, False, 0.0
    need = max(ALT_SHARE * strength, ALT_MIN)
    y = x.reshape(len(x), len(BODY_POINTS), 2)[..., 1]
    heights = _autocorrelation(y, y[:, _MIRROR])[lo:hi + 1]
    similarity = float(max(heights.max(), acf[lo:hi + 1].max()))
    best = (0.0, 0.0, False)
    for flip in (True, False):
        both = np.minimum(_autocorrelation(x, _mirror(x, flip))[lo:hi + 1], heights)
        i = int(np.argmax(both))
        if both[i] > best[0]:
            best = (float(both[i]), float(lo + i), flip)
    value, half, flip = best
    return (half, flip, similarity) if value >= need else (0.0, False, similarity)


def _periodic_component(x: np.ndarray, lag: int) -> np.ndarray:
    """The unit projection of ``x`` (N, D) that repeats best at ``lag`` samples (top generalised eigenvector of
    the symmetrised lag covariance against the covariance, lightly regularised)."""
    c0 = x.T @ x / len(x)
    a, b = x[:-lag], x[lag:]
    cp = (a.T @ b + b.T @ a) / (2 * len(a))
    reg = 1e-3 * np.trace(c0) / len(c0) + 1e-12
    # Whiten by C_0 (regularised), then the top eigenvector of the whitened lag covariance.
    evals, evecs = np.linalg.eigh(c0 + reg * np.eye(len(c0)))
    white = evecs / np.sqrt(np.maximum(evals, 1e-12))
    m = white.T @ cp @ white
    _, v = np.linalg.eigh((m + m.T) / 2)
    w = white @ v[:, -1]
    return w / (np.linalg.norm(w) + 1e-12)


def regularity(intervals: np.ndarray) -> float:
    """Share of intervals within 0.5-1.6 of their median (1 under three intervals)."""
    if len(intervals) < 3:
        return 1.0
    mid = float(np.median(intervals))
    return float(np.mean((intervals >= 0.5 * mid) & (intervals <= 1.6 * mid))) if mid > 0 else 0.0


def confidence(periodicity: float, regular: float, count: int) -> float:
    """0-1: how periodic the whole body is at the period found, times how regular the cycles are; a count of
    one or two says little about a rhythm, so it keeps the periodicity alone."""
    p = min(max(periodicity, 0.0), 1.0)
    return round(p * (regular if count >= 4 else 1.0), 3)


NOT_MEASURABLE = Periodicity(0, (), math.nan, 0.0, 0.0, 0.0, "no periodic whole-body movement")


def whole_body_count(landmarks: np.ndarray, times: np.ndarray) -> Periodicity:
    """Count the cycles of the whole body's movement (see the module docstring).

    ``landmarks``: ``(T, 33, >=2)`` image landmarks of one person (NaN where unknown); ``times``: ``(T,)``
    seconds, increasing.
    """
    return embedding_rhythm(body_embedding(landmarks), times)


def embedding_rhythm(emb: np.ndarray, times: np.ndarray) -> Periodicity:
    """`whole_body_count` of an embedding already computed (`body_embedding`, frame by frame for a live stream)."""
    times = np.asarray(times, dtype=np.float64)
    grid, x, known = _resample(np.asarray(emb, dtype=np.float64), times)
    if len(grid) < 8:
        return NOT_MEASURABLE
    rate = 1.0 / float(grid[1] - grid[0])
    x = gaussian_filter1d(x, sigma=max(0.03 * rate, 0.5), axis=0)
    x = x - x.mean(axis=0)
    if float(np.sqrt(np.mean(x ** 2))) < MIN_MOTION:
        return NOT_MEASURABLE
    acf = _autocorrelation(x)
    lag, strength = estimate_period(acf, rate)
    if not math.isfinite(lag):
        return _excursions(x, grid, times, rate)
    half, flip, similarity = _alternation(x, acf, lag, strength)
    if half:  # one side, then the other: a repetition per side, in the body's mirror-symmetric part
        x, lag = (x + _mirror(x, flip)) / 2.0, half
    # Band-limit around the period: smooth fast jitter, remove posture drift slower than a few cycles.
    xb = gaussian_filter1d(x, sigma=max(lag / 10.0, 0.5), axis=0)
    xb = xb - _drift(xb, sigma=lag)
    w = _periodic_component(xb, max(round(lag), 1))
    s = xb @ w
    s[~known] = 0.0
    cycles = _cycles(s, grid, times, lag)
    intervals = np.diff([c.turn_s for c in cycles]) if len(cycles) > 1 else np.zeros(0)
    regular = regularity(intervals)
    conf = confidence(strength, regular, len(cycles)) if cycles else 0.0
    return Periodicity(len(cycles), tuple(cycles), lag / rate, round(strength, 3), round(regular, 3), conf,
                       alternating=bool(half), half_similarity=round(similarity, 3), rate=input_rate(times))


def _turning_up(s: np.ndarray) -> np.ndarray:
    """``s`` with its excursions pointing up: the side whose extremes lie further from the median (the sharper
    side, where a repetition turns) made the maxima."""
    return -s if np.median(s) > 0.5 * (s.max() + s.min()) else s


def _rep(i: int, frames: np.ndarray, grid: np.ndarray, start: int, turn: int, end: int, rom: float) -> Rep:
    """Repetition ``i`` from grid indices: frames of the input (the first at or after each grid time) and times."""
    return Rep(index=i, start_frame=int(frames[start]), turn_frame=int(frames[turn]), end_frame=int(frames[end]),
               start_s=float(grid[start]), turn_s=float(grid[turn]), end_s=float(grid[end]), rom=round(rom, 3),
               signal=WHOLE_BODY)


def _excursions(x: np.ndarray, grid: np.ndarray, times: np.ndarray, rate: float) -> Periodicity:
    """No rhythm (too short for two cycles, or aperiodic): the large excursions of the body's main movement
    (first principal component), each at least `EXCURSION_S` apart and spanning most of its range."""
    xs = gaussian_filter1d(x, sigma=max(0.1 * rate, 0.5), axis=0)
    xs = xs - xs.mean(axis=0)
    _, sv, vt = np.linalg.svd(xs, full_matrices=False)
    if not len(sv) or sv[0] <= 0:
        return NOT_MEASURABLE
    s = _turning_up(xs @ vt[0])
    span = float(np.percentile(s, 98) - np.percentile(s, 2))
    if span <= 0:
        return NOT_MEASURABLE
    peaks, props = find_peaks(s, distance=max(int(EXCURSION_S * rate), 1), prominence=EXCURSION_RANGE * span)
    frames = np.clip(np.searchsorted(times, grid), 0, len(times) - 1)
    cycles = [_rep(i + 1, frames, grid, int(props["left_bases"][i]), int(p), int(props["right_bases"][i]),
                   float(props["prominences"][i] / span)) for i, p in enumerate(peaks)]
    return Periodicity(len(cycles), tuple(cycles), math.nan, 0.0, 0.0, EXCURSION_CONFIDENCE,
                       "no rhythm: large movements counted one by one")


def _cycles(s: np.ndarray, grid: np.ndarray, times: np.ndarray, lag: float) -> list[Rep]:
    """Peak-to-peak cycles of the periodic component ``s`` on the grid, turning on the side of its excursions
    (`_turning_up`)."""
    s = _turning_up(s)
    dist = max(int(MIN_SPACING * lag), 1)
    peaks, props = find_peaks(s, distance=dist, prominence=0)
    if not len(peaks):
        return []
    prom = props["prominences"]
    typical = float(np.percentile(prom, 75))
    keep = prom >= MIN_REL_RANGE * typical
    peaks, prom = peaks[keep], prom[keep]
    frames = np.clip(np.searchsorted(times, grid), 0, len(times) - 1)
    out = []
    for i, p in enumerate(peaks):
        a = int(peaks[i - 1]) if i else max(int(p - lag / 2), 0)
        b = int(peaks[i + 1]) if i + 1 < len(peaks) else min(int(p + lag / 2), len(s) - 1)
        start = a + int(np.argmin(s[a:p + 1])) if p > a else a
        end = p + int(np.argmin(s[p:b + 1])) if b > p else b
        out.append(_rep(i + 1, frames, grid, start, int(p), end, float(prom[i] / typical)))
    return out
