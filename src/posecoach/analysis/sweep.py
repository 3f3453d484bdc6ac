"""The channel counter's per-frame loop, compiled (Numba): envelopes, band and the extreme on the current side.

`reps.ChannelCounter` keeps its per-frame state in one float vector (the indices below) and hands it with the
frames to `sweep`, which runs frame by frame until the signal changes side of the band (`SIDE`), a gap of
missing frames abandons the repetition in progress (`GAP`), or the frames run out (`END`). The counter handles
the event in Python (a completed repetition, the rare step) and calls `sweep` again from the next frame, so a
10-minute sequence costs a few thousand Python steps instead of one per channel per frame. The loop is exactly the
one the counter ran in Python before (same operations in the same order, IEEE double precision, no fast-math):
counts are identical.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

#: Indices of the counter's state vector.
(HI, LO, LAST_T, SIDE, EXT_V, EXT_F, EXT_T, TOP_V, TOP_F, TOP_T, BOT_V, BOT_F, BOT_T, FIRST_F, FIRST_T, LAST_F,
 LAST_TIME, LAST_V, REST, OPEN, END_F, END_T) = range(22)
STATE_SIZE = 22
#: What stopped `sweep`.
END, CHANGE, GAP = 0, 1, 2


def initial_state(rest: int) -> np.ndarray:
    """The state of a counter that has seen nothing (rest side ``rest``: +1, -1 or 0 unknown)."""
    s = np.zeros(STATE_SIZE)
    s[[HI, LO, LAST_T, EXT_V, TOP_V, BOT_V, LAST_V]] = math.nan
    s[[EXT_F, TOP_F, BOT_F, FIRST_F, LAST_F, END_F]] = -1.0
    s[REST] = rest
    return s


def _sweep(frames: np.ndarray, times: np.ndarray, values: np.ndarray, start: int, s: np.ndarray, tau: float,
           band: float, minimum: float, alternating: bool, max_gap: float) -> tuple[int, int, int]:
    """Run frames ``start..`` through the envelopes and band, updating ``s`` in place; returns ``(index, event,
    new side)``: the frame where `CHANGE` (the signal reached side ``new side``; the frame's envelopes and latest
    value are already in ``s``) or `GAP` (the frame is missing, more than ``max_gap`` s after the last known one;
    nothing of it is in ``s``) happened, or ``(len, END, 0)``."""
    hi, lo, last_t, side = s[HI], s[LO], s[LAST_T], s[SIDE]
    ext_v, ext_f, ext_t = s[EXT_V], s[EXT_F], s[EXT_T]
    top_v, top_f, top_t, bot_v, bot_f, bot_t = s[TOP_V], s[TOP_F], s[TOP_T], s[BOT_V], s[BOT_F], s[BOT_T]
    first_f, first_t = s[FIRST_F], s[FIRST_T]
    last_f, last_time, last_v = s[LAST_F], s[LAST_TIME], s[LAST_V]
    rest, opened, end_f, end_t = s[REST], s[OPEN] != 0.0, s[END_F], s[END_T]
    n = len(values)
    index, event, new_side = n, END, 0
    for i in range(start, n):
        t, v = times[i], values[i]
        if v != v:  # NaN: missing
            if last_t == last_t and t - last_t > max_gap:
                index, event = i, GAP
                break
            continue
        frame = float(frames[i])
        last_f, last_time, last_v = frame, t, v
        if hi != hi:
            hi = lo = v
            last_t = t
            ext_v, ext_f, ext_t = v, frame, t
            top_v, top_f, top_t = v, frame, t
            bot_v, bot_f, bot_t = v, frame, t
            if first_f < 0:
                first_f, first_t = frame, t
            continue
        dt = t - last_t
        k = 1.0 if dt >= tau else (dt / tau if dt > 0.0 else 0.0)
        last_t = t
        hi = v if v > hi else hi + (v - hi) * k
        lo = v if v < lo else lo + (v - lo) * k
        amp = hi - lo
        state = side
        if amp >= minimum:
            if v >= hi - band * amp:
                state = 1.0
            elif v <= lo + band * amp:
                state = -1.0
        if state == side and state != 0:
            # The extreme on the current side (max high, min low); on the rest side the latest frame at the
            # extreme, i.e. the moment the movement leaves it.
            d = (v - ext_v) * state
            if d > 0:
                ext_v, ext_f, ext_t = v, frame, t
                if opened and (state == rest or alternating):  # the rep ends on first reaching the extreme
                    end_f, end_t = frame, t
            elif d == 0 and (state == rest or alternating):
                ext_v, ext_f, ext_t = v, frame, t
        elif state == side:  # side still unknown: remember both extremes
            if v >= top_v:
                top_v, top_f, top_t = v, frame, t
            if v <= bot_v:
                bot_v, bot_f, bot_t = v, frame, t
        else:
            index, event, new_side = i, CHANGE, int(state)
            break
    s[HI], s[LO], s[LAST_T], s[SIDE] = hi, lo, last_t, side
    s[EXT_V], s[EXT_F], s[EXT_T] = ext_v, ext_f, ext_t
    s[TOP_V], s[TOP_F], s[TOP_T], s[BOT_V], s[BOT_F], s[BOT_T] = top_v, top_f, top_t, bot_v, bot_f, bot_t
    s[FIRST_F], s[FIRST_T], s[LAST_F], s[LAST_TIME], s[LAST_V] = first_f, first_t, last_f, last_time, last_v
    s[END_F], s[END_T] = end_f, end_t
    return index, event, new_side


#: `_sweep`'s types: compiled when this module is imported (not on a live session's first frame).
SIGNATURE = "Tuple((int64, int64, int64))(int64[::1], float64[::1], float64[::1], int64, float64[::1], float64, " \
    "float64, float64, boolean, float64)"


def _compile() -> Any:
    """`_sweep` compiled, cached on disk where the package's folder (or Numba's cache folder) is writable."""
    try:
        return numba.njit(SIGNATURE, cache=True, nogil=True)(_sweep)
    except RuntimeError:  # no writable cache location: compile once per process
        return numba.njit(SIGNATURE, nogil=True)(_sweep)


sweep = _compile()
