"""Repetition counting: a causal, jitter-proof cycle counter, the same offline and live.

Each candidate signal (a joint angle, a height in torso lengths, ...) feeds a `ChannelCounter`: adaptive upper
and lower envelopes (they follow the signal at once outwards and relax towards it with a time constant) and a
hysteresis band between them. A repetition is one excursion from the rest side across the band to the far side
and back; jitter inside the band, set-up drift smaller than the minimum range and half-way (partial) movements
never complete a cycle. The rest side is the exercise's (squat: knee straight) or, when unknown, the side the
signal starts on.

`RepCounter` runs one channel per candidate signal at once: the exercise's driving signals when it is known,
every movement signal when not (class-agnostic). The reported count comes from the channel with the strongest
consistent cycling (the sum of its repetitions' ranges, in comparable units). Offline counting is the live
counter fed every frame, so both give the same count by construction.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from posecoach.analysis import sweep
from posecoach.analysis.counter_settings import CounterSettings
from posecoach.analysis.rep import Rep
from posecoach.analysis.rhythm import MIN_REPS, missed_cycles, regularity, split_rep
from posecoach.features.signals import SIGNAL_UNITS

#: Signal units -> (range worth 1 point of score, default minimum range of a repetition).
UNIT_SCALE: dict[str, tuple[float, float]] = {"deg": (90.0, 20.0), "torso": (1.0, 0.15)}

#: Score weight of alternating (left minus right) signals, which also pick up one-sided tracking noise.
DIFF_WEIGHT = 0.5

#: A channel with at least `rhythm.MIN_REPS` repetitions has its vote weighted by their regularity to the power
#: `REGULAR_POWER` (`rhythm.regularity`) instead of by `DIFF_WEIGHT`: a long periodic movement is regular, pose noise
#: counted as cycles (motion blur in fast jump rope, one-sided tracking glitches) is not, so the evidence replaces
#: the prior.
REGULAR_POWER = 4.0

#: Signals a class-agnostic count considers (the bilateral means plus the alternating differences).
AGNOSTIC_SIGNALS: tuple[str, ...] = (
    "knee", "hip", "elbow", "shoulder", "knee_diff", "hip_diff", "elbow_diff", "shoulder_diff",
    "trunk_incline", "hip_height", "shoulder_height", "body_height", "nose_height", "wrist_height",
    "wrist_height_diff", "ankle_spread", "wrist_spread", "ankle_height",
)


@dataclass(frozen=True)
class ChannelSpec:
    """One signal to count on: its name, the rest side (+1 high, -1 low, 0 = the side it starts on) and range."""

    signal: str
    rest: int = 0
    min_rom: float | None = None  # in the signal's units; default from `UNIT_SCALE`

    @property
    def unit(self) -> str:
        return SIGNAL_UNITS.get(self.signal, "deg")

    @property
    def scale(self) -> float:
        return UNIT_SCALE[self.unit][0]

    @property
    def alternating(self) -> bool:
        """A left-minus-right signal: each side's movement is one repetition (a step, one arm's curl)."""
        return self.signal.endswith("_diff")

    @property
    def weight(self) -> float:
        """Alternating (left minus right) signals pick up one-sided noise: they need more evidence to win."""
        return DIFF_WEIGHT if self.alternating else 1.0

    @property
    def minimum(self) -> float:
        return self.min_rom if self.min_rom is not None else UNIT_SCALE[self.unit][1]


def _array(values: Iterable[float], dtype: type) -> np.ndarray:
    """``values`` (an array, a sequence or any iterable) as a contiguous array of ``dtype``, as `sweep` takes it."""
    return np.ascontiguousarray(values if isinstance(values, np.ndarray) else list(values), dtype=dtype)


class ChannelCounter:
    """Hysteresis cycle counter on one scalar signal (see the module docstring)."""

    def __init__(self, spec: ChannelSpec, settings: CounterSettings | None = None) -> None:
        self.spec = spec
        self.settings = settings or CounterSettings()
        self.reps: list[Rep] = []  # completed; the last one's end is provisional while `_open` is True
        self.score = 0.0
        self._roms: list[float] = []
        self._recent: list[float] = []  # every cycle's range, partial ones included
        # The per-frame state (envelopes, side, extremes, latest value) lives in one vector that the compiled
        # loop (`sweep`) updates; the properties below read and write it.
        self._s = sweep.initial_state(spec.rest)
        self._start = (math.nan, -1, 0.0)  # rest-side extreme where the current excursion began
        self._turn = (math.nan, -1, 0.0)
        self.frames_seen = 0
        self._first_checked = False
        self._lead_turn = math.nan  # the turn of a repetition the video opened in (`CounterSettings.lead_s`)
        self._crossed_t = math.nan  # when the signal last changed side (an alternating repetition's start in time)
        self._missed: tuple[tuple[int, float], int] = ((0, 0.0), 0)  # (whole reps, last end) -> `missed`

    # The state vector's fields: side of the band (+1 high, -1 low, 0 not yet known), rest side, whether the last
    # repetition's end may still move to a later rest-side extreme, (value, frame, time) of the extreme on the
    # current side, of the extremes seen before the side is known, and (frame, time) of the first and latest known
    # values.
    @property
    def _state(self) -> int:
        return int(self._s[sweep.SIDE])

    @_state.setter
    def _state(self, side: int) -> None:
        self._s[sweep.SIDE] = side

    @property
    def _rest(self) -> int:
        return int(self._s[sweep.REST])

    @_rest.setter
    def _rest(self, rest: int) -> None:
        self._s[sweep.REST] = rest

    @property
    def _open(self) -> bool:
        return bool(self._s[sweep.OPEN])

    @_open.setter
    def _open(self, opened: bool) -> None:
        self._s[sweep.OPEN] = opened

    def _point(self, at: int) -> tuple[float, int, float]:
        return float(self._s[at]), int(self._s[at + 1]), float(self._s[at + 2])

    @property
    def _ext(self) -> tuple[float, int, float]:
        return self._point(sweep.EXT_V)

    @_ext.setter
    def _ext(self, point: tuple[float, int, float]) -> None:
        self._s[sweep.EXT_V:sweep.EXT_V + 3] = point

    @property
    def _top(self) -> tuple[float, int, float]:
        return self._point(sweep.TOP_V)

    @property
    def _bottom(self) -> tuple[float, int, float]:
        return self._point(sweep.BOT_V)

    @property
    def _first(self) -> tuple[int, float]:
        return int(self._s[sweep.FIRST_F]), float(self._s[sweep.FIRST_T])

    @property
    def _last(self) -> tuple[int, float]:
        return int(self._s[sweep.LAST_F]), float(self._s[sweep.LAST_TIME])

    @property
    def _last_v(self) -> float:
        return float(self._s[sweep.LAST_V])

    @property
    def count(self) -> int:
        pending, ends = self.pending(), self._whole_ends()
        return len(ends) + self.missed(ends) + (pending is not None and not pending.partial)

    def missed(self, ends: list[float] | None = None) -> int:
        """Cycles lost in a fast steady rhythm (`rhythm.missed_cycles`) between the whole repetitions (``ends``:
        their end times, when the caller has them)."""
        ends = self._whole_ends() if ends is None else ends
        key = (len(ends), ends[-1] if ends else 0.0)
        if self._missed[0] != key:
            self._missed = (key, sum(missed_cycles(ends)))
        return self._missed[1]

    def pending(self) -> Rep | None:
        """The repetition in progress once it has turned: away from rest and past the far side's band.

        It counts once it has come back `end_return` of its range from the turn, so a video that ends on the way
        up ends with it; one that ends at the bottom does not.
        """
        if not self.settings.edge_reps or self.spec.rest == 0 or self._state != -self._rest:
            return None
        start_v, start_f, start_t = self._start
        turn_v, turn_f, turn_t = self._ext
        if start_f < 0 or turn_f < 0 or self._last[1] - start_t < self.settings.min_rep_s:
            return None
        rom = abs(turn_v - start_v)
        if abs(self._last_v - turn_v) < self.settings.end_return * rom:
            return None
        return Rep(index=0, start_frame=start_f, turn_frame=turn_f, end_frame=self._last[0], start_s=start_t,
                   turn_s=turn_t, end_s=self._last[1], rom=float(rom), signal=self.spec.signal,
                   partial=self._is_partial(rom))

    def vote(self) -> float:
        """The channel's weight in `RepCounter.best`: a long count's range score times its regularity to the power
        `REGULAR_POWER` (without the alternating penalty); a short count's score as it is."""
        ends = self._whole_ends()
        if len(ends) < MIN_REPS:
            return self.score
        return self.score / self.spec.weight * regularity(ends) ** REGULAR_POWER

    def regularity(self) -> float:
        """`rhythm.regularity` of the whole repetitions' ends."""
        return regularity(self._whole_ends())

    def _whole_ends(self) -> list[float]:
        return [r.end_s for r in self.reps if not r.partial]

    def _points(self, rom: float) -> float:
        """A whole repetition's share of the channel's score: its range in comparable units, times the weight."""
        return rom / self.spec.scale * self.spec.weight

    def _is_partial(self, rom: float) -> bool:
        ref = self._recent[-max(self.settings.rom_window, 1):]
        return bool(ref) and rom < self.settings.min_rel_rom * statistics.median(ref)

    def update(self, frame: int, t: float, v: float) -> bool:
        """Feed one frame; True when a repetition was completed on this frame."""
        return self.feed((frame,), (t,), (v,)) > 0

    def feed(self, frames: Iterable[int], times: Iterable[float], values: Iterable[float]) -> int:
        """Feed frames in order (exactly `update` frame by frame); returns how many repetitions they completed.

        The compiled loop (`sweep.sweep`) runs the frames until the signal changes side of the band or a long gap
        abandons the repetition in progress; those rare events are handled here, in Python.
        """
        f, t, v = _array(frames, np.int64), _array(times, np.float64), _array(values, np.float64)
        if not len(f) == len(t) == len(v):
            raise ValueError(f"frames, times and values differ in length: {len(f)}, {len(t)}, {len(v)}")
        s, done, i = self._s, 0, 0
        s[sweep.END_F] = -1.0  # where the last repetition's end moved to (applied before it is read)
        settings = self.settings
        while True:
            i, event, side = sweep.sweep(f, t, v, i, s, settings.tau_s, settings.hysteresis, self.spec.minimum,
                                         self.spec.alternating, settings.max_gap_s)
            if s[sweep.END_F] >= 0:  # the last repetition's end moved: applied before anything reads it
                self._extend_last(int(s[sweep.END_F]), float(s[sweep.END_T]), float(s[sweep.EXT_V]))
                s[sweep.END_F] = -1.0
            if event == sweep.END:
                break
            if event == sweep.GAP:  # a long gap abandons the repetition in progress
                s[[sweep.HI, sweep.LO, sweep.LAST_T]] = math.nan
                s[sweep.SIDE] = s[sweep.OPEN] = 0.0
            else:
                done += self._change_side(side, int(f[i]), float(t[i]), float(v[i]))
            i += 1
        self.frames_seen += len(v)
        return done

    def _change_side(self, state: int, frame: int, t: float, v: float) -> bool:
        """The signal crossed to the other side of the band (or first left the unknown middle)."""
        done = False
        if self._state == 0:
            if self._rest == 0:
                self._rest = -state  # the movement leaves the side it started on
            if state != self._rest:
                self._start = self._top if self._rest > 0 else self._bottom
            elif self._opens_in_rep(t):
                # The video opened away from rest and the signal came back: a repetition already under way, from
                # the first frame through its turn (the far extreme seen so far) to here.
                self._start = (math.nan, *self._first)
                self._turn = self._bottom if self._rest > 0 else self._top
                done = self._complete(frame, t, v)
                if self.reps:  # recorded (not too short)
                    self._lead_turn = self._turn[0]
        elif self.spec.alternating:  # from one side to the other: one repetition, turning where it crosses
            self._start, self._turn = self._ext, (v, frame, t)
            done = self._complete(frame, t, v, since=self._crossed_t)
        elif state == self._rest:  # back at rest: one cycle
            self._turn = self._ext
            done = self._complete(frame, t, v)
        else:  # leaving rest
            self._open = False
            self._start = self._ext
        self._state = state
        self._ext = (v, frame, t)
        self._crossed_t = t
        return done

    def _opens_in_rep(self, t: float) -> bool:
        """The signal reached the (known) rest side first, before any cycle, within `lead_s` of the first frame."""
        lead_s = self.settings.lead_s
        return lead_s > 0 and self.spec.rest != 0 and not self._recent and t - self._first[1] <= lead_s

    def _complete(self, frame: int, t: float, v: float, since: float = math.nan) -> bool:
        """Record the repetition that ends now; ``since``: when it began, if not at its start extreme (an
        alternating repetition runs from one change of side to the next: a fast step's far extreme may be only a
        frame or two before this crossing)."""
        s = self.settings
        start_v, start_f, start_t = self._start
        turn_v, turn_f, turn_t = self._turn
        rom = abs(turn_v - start_v) if start_v == start_v else abs(turn_v - v)
        if t - (since if since == since else start_t) < s.min_rep_s or start_f < 0:
            return False
        partial = self._is_partial(rom)
        if start_v == start_v:  # not one the video opened in: its range, from before the video, is no reference
            self._recent.append(rom)
        if not partial:
            self._roms.append(rom)
            self.score += self._points(rom)
        self.reps.append(Rep(index=0, start_frame=start_f, turn_frame=turn_f, end_frame=frame, start_s=start_t,
                             turn_s=turn_t, end_s=t, rom=float(rom), signal=self.spec.signal, partial=partial))
        self._open = True
        if not partial and len(self._roms) == 2 and not self._first_checked:
            self._first_checked = True
            self._recheck_first()
        return not partial

    def _recheck_first(self) -> None:
        """The first repetition had nothing to be compared with: the second one confirms it or makes it partial.

        A noise blip at the start or a half-way movement while getting into position is much smaller or much
        shorter than the repetitions that follow; the live count drops by one when the second repetition shows it.
        A repetition the video opened in (`CounterSettings.lead_s`) may be cut short, but not much larger: getting
        into position from further away (standing, then reaching up to hang from a bar) is no repetition.
        """
        first, second = (r for r in self.reps if not r.partial)
        s = self.settings
        lead = self._lead_turn == self._lead_turn
        long_enough = lead or first.duration_s >= s.min_rel_rom * second.duration_s
        in_range = first.rom >= s.min_rel_rom * second.rom and (not lead or first.rom * s.min_rel_rom <= second.rom)
        if in_range and long_enough:
            return
        first.partial = True
        self._roms.pop(0)
        self.score -= self._points(first.rom)

    def _extend_last(self, frame: int, t: float, v: float) -> None:
        last = self.reps[-1]
        last.end_frame, last.end_s = frame, t
        if self._lead_turn == self._lead_turn and len(self.reps) == 1:
            # A repetition the video opened in: its range runs from its turn to the rest extreme it comes back to.
            rom = abs(v - self._lead_turn)
            if rom > last.rom:
                if not last.partial:
                    self.score += self._points(rom) - self._points(last.rom)
                    self._roms[0] = rom
                last.rom = float(rom)


@dataclass
class RepResult:
    """What `count_repetitions` returns: the count, the repetitions and the signal they were counted on."""

    count: int
    reps: list[Rep]
    signal: str | None
    exercise: str | None = None
    partial: list[Rep] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    #: 0-1: how far the count can be trusted (`posecoach.analysis.counting.reconcile`); 1 when not checked.
    confidence: float = 1.0
    #: Why the count is unsure or not measurable ("" when it is reliable).
    note: str = ""
    #: How it was counted: "exercise" (the exercise's signals), "whole_body" (the body's rhythm), "excursions"
    #: (large movements one by one, no rhythm) or "signals" (the channel vote alone).
    method: str = "signals"
    #: The whole-body rhythm's count, when it was measured (for comparison).
    rhythm: int | None = None


class RepCounter:
    """Live repetition counter: feed it one frame of signals at a time (`update`), read `count` at any time.

    ``channels`` are the signals to count on (default: every class-agnostic signal, rest side unknown).
    """

    def __init__(self, channels: Sequence[ChannelSpec] | None = None, settings: CounterSettings | None = None,
                 exercise: str | None = None) -> None:
        specs = list(channels) if channels else [ChannelSpec(s) for s in AGNOSTIC_SIGNALS]
        self.exercise = exercise
        self.channels = [ChannelCounter(spec, settings) for spec in specs]
        self.frames = 0

    @property
    def best(self) -> ChannelCounter | None:
        """The channel whose count most of the movement agrees with (score-weighted vote over channels, long
        counts weighted by their regularity too, see `REGULAR_POWER`).

        Counts within one (10 % for long sets) support each other; between equally supported counts, the one
        more channels give exactly wins (a pose glitch adding a cycle to one joint is outvoted by the others).
        """
        live = [c for c in self.channels if c.score > 0]
        if not live:
            return None
        counts = [c.count for c in live]
        weights = [c.vote() for c in live]

        def support(i: int, exact: bool = False) -> float:
            n = counts[i]
            tol = 0.0 if exact else max(1.0, 0.1 * n)
            return sum(w for w, m in zip(weights, counts, strict=True) if abs(m - n) <= tol)

        return live[max(range(len(live)), key=lambda i: (support(i), support(i, True), weights[i], -i))]

    @property
    def count(self) -> int:
        best = self.best
        return best.count if best else 0

    def update(self, signals: Mapping[str, float], t: float | None = None) -> int:
        """Feed one frame (``{signal: value}``, NaN or absent = missing); returns the count so far."""
        frame = self.frames
        t = frame / 30.0 if t is None else float(t)
        for ch in self.channels:
            ch.update(frame, t, float(signals.get(ch.spec.signal, math.nan)))
        self.frames += 1
        return self.count

    def feed(self, columns: Mapping[str, np.ndarray], times: Iterable[float]) -> None:
        """Feed many frames at once (``{signal: (T,)}``), exactly as `update` frame by frame would."""
        times = _array(times, np.float64)
        first = self.frames
        for ch in self.channels:
            values = columns.get(ch.spec.signal)
            if values is None:
                continue
            arr = np.asarray(values, dtype=np.float64)
            if np.isfinite(arr).any() and np.nanmax(arr) - np.nanmin(arr) < ch.spec.minimum and ch.frames_seen == 0:
                continue  # the range never reaches the band: no frame could change this channel's count
            ch.feed(np.arange(first, first + len(times)), times, arr)
        self.frames += len(times)

    def result(self) -> RepResult:
        best = self.best
        pending = best.pending() if best else None
        whole = [r for r in best.reps if not r.partial] if best else []
        missed = missed_cycles([r.end_s for r in whole])
        every = (best.reps + ([pending] if pending else [])) if best else []
        reps = [r for i, rep in enumerate(whole) for r in split_rep(rep, 1 + (missed[i - 1] if i else 0))]
        reps += [pending] if pending and not pending.partial else []
        for i, r in enumerate(reps, 1):
            r.index = i
        return RepResult(count=len(reps), reps=reps, signal=best.spec.signal if best else None,
                         exercise=self.exercise, partial=[r for r in every if r.partial],
                         scores={c.spec.signal: round(c.score, 3) for c in self.channels if c.score > 0})


def count_signals(columns: Mapping[str, np.ndarray], times: np.ndarray,
                  channels: Sequence[ChannelSpec] | None = None, *, exercise: str | None = None,
                  settings: CounterSettings | None = None) -> RepResult:
    """Count repetitions in precomputed signals (``{name: (T,)}``) at ``times`` seconds."""
    counter = RepCounter(channels, settings, exercise)
    counter.feed(columns, np.asarray(times, dtype=np.float64))
    return counter.result()
