"""Exercise coaching on a stream (a webcam): one frame at a time -> count, exercise, form cues.

`LiveCoach` is the live form of `analyze_sequence` and, like the other analyses, pure: no I/O, no clock (the
caller gives each frame's time). Per frame it computes the frame's signals and feeds the repetition counters
(`RepCounter`, the same code as offline, so with the exercise named the live count equals
`count_repetitions` on the same frames). With the exercise unknown, a class-agnostic counter runs from the
first frame, and the exercise is recognised every ``recognise_every_s`` on the last ``window_s`` of signals;
once recognised, that exercise's counter is replayed over everything seen so far and goes on live. Each
completed repetition is judged against the exercise's form rules; its broken rules are the current cues.

Two counts: ``LiveState.count`` is the coach's best current estimate (equal to the offline count on the same
frames; it may step back, e.g. when the second movement shows the first was set-up, or jump when a recognised
exercise's counter recounts the session), and ``LiveState.shown`` is what a screen shows, which never decreases.
`ShownCount` keeps the shown count and records every change that is not a plain step of one as a
`CountCorrection`, in plain words, so a correction is shown as one instead of as a silent jump.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from posecoach.analysis.counting import VOTE_CONFIDENCE, reconcile
from posecoach.analysis.exercises import Exercise, catalogue, get_exercise
from posecoach.analysis.form import Judgement, judge_reps, judge_span
from posecoach.analysis.holds import measure_hold
from posecoach.analysis.periodicity import BODY_POINTS, Periodicity, body_embedding, embedding_rhythm
from posecoach.analysis.recognition import OTHER, recognise
from posecoach.analysis.reps import RepCounter, RepResult
from posecoach.features.signals import SIGNAL_UNITS, frame_signals


@dataclass(frozen=True)
class LiveCue:
    """A form rule broken in the latest repetition (or, for a hold, in the hold so far)."""

    rule: str
    title: str
    cue: str
    severity: str
    rep: int  # the repetition it was seen in (0 for a hold)


@dataclass(frozen=True)
class CountCorrection:
    """A change of the estimated count that is not one step up, as shown next to the count.

    ``shown`` is the count on screen when it happened, ``estimate`` the coach's new estimate: below ``shown``
    (the screen keeps ``shown``) or more than one above it (the screen jumps to ``estimate``).
    """

    frame: int
    shown: int
    estimate: int
    reason: str

    @property
    def text(self) -> str:
        """The correction in plain words, e.g. "Count corrected: 11 -> 10 (...); 11 stays on screen until
        repetition 12." or "Count corrected: 11 -> 14 (+3: ...)."."""
        if self.estimate < self.shown:
            return (f"Count corrected: {self.shown} -> {self.estimate} ({self.reason}); {self.shown} stays on "
                    f"screen until repetition {self.shown + 1}.")
        return f"Count corrected: {self.shown} -> {self.estimate} (+{self.estimate - self.shown}: {self.reason})."


#: Reasons of a correction made by the same counter (not by a change of the recognised exercise).
FEWER = "an earlier movement no longer counts as a repetition"
MORE = "earlier movements now count as repetitions"


class ShownCount:
    """The count to show: never decreasing, every change other than a step of one recorded as a correction.

    The rule, per frame, with ``estimate`` the coach's best current count:

    * ``estimate`` above the shown count: the shown count becomes ``estimate``; a rise of more than one at once
      is recorded as a correction (shown -> estimate);
    * ``estimate`` at or below the shown count: the shown count stays. An estimate below it is recorded as a
      correction (shown -> estimate) when it is lower than any estimate already recorded since the shown count
      last changed, so an estimate wavering between 2 and 3 under a shown 3 is one correction, not one per
      frame; the shown count moves again once the estimate passes it.

    So the estimates 1, 2, 3, 2, 3, 4 are shown as 1, 2, 3, 3, 3, 4 with one correction (3 -> 2). The
    corrections stay in `corrections` for the whole session, latest last.
    """

    def __init__(self) -> None:
        self.shown = 0
        self.corrections: tuple[CountCorrection, ...] = ()
        self._low = 0  # the lowest estimate recorded (or the shown count) since the shown count last changed

    def update(self, estimate: int, frame: int, reason: str | None = None) -> int:
        """Take the frame's estimate; return the count to show. ``reason``: why the estimate may have changed
        on this frame (a recount after recognition), else the counter's own revision is assumed."""
        if estimate > self.shown:
            if estimate > self.shown + 1:
                self._record(frame, estimate, reason or MORE)
            self.shown = self._low = estimate
        elif estimate < self._low:
            self._record(frame, estimate, reason or FEWER)
            self._low = estimate
        return self.shown

    def _record(self, frame: int, estimate: int, reason: str) -> None:
        self.corrections = (*self.corrections, CountCorrection(frame, self.shown, estimate, reason))


@dataclass
class LiveState:
    """What the coach knows after a frame.

    ``count`` is the best current estimate (the true count so far: use it for a summary at the end), ``shown``
    the count to display (never decreasing, see `ShownCount`), ``corrections`` every correction of the session
    (latest last) to display next to it.
    """

    frame: int
    count: int
    exercise: str | None  # catalogue name; None while unknown or not a catalogue exercise
    title: str
    recognised: bool  # True: found by recognition; False: named by the caller (or not known yet)
    confidence: float
    hold_s: float | None = None  # seconds held, for a hold exercise
    cues: list[LiveCue] = field(default_factory=list)
    rep_frames: tuple[int, int] | None = None  # (start, end) frame of the latest repetition
    shown: int = 0
    corrections: tuple[CountCorrection, ...] = ()
    count_confidence: float = 1.0  # 0-1, once the whole body's rhythm has checked the count (`counting.reconcile`)
    count_note: str = ""  # why the count is unsure, when it is

    @property
    def correction(self) -> CountCorrection | None:
        """The latest correction of the session, None when there was none."""
        return self.corrections[-1] if self.corrections else None


def _recount_reason(exercise: Exercise | None) -> str:
    """Why the count changes when recognition switches to ``exercise`` (None: not a catalogue exercise)."""
    if exercise is None:
        return "exercise no longer recognised, repetitions recounted as a general movement"
    if exercise.kind == "hold":
        return f"recognised {exercise.title}, a hold that is timed, not counted"
    return f"recognised {exercise.title}, repetitions recounted from the start"


def _cues(judgement: Judgement, rep: int) -> list[LiveCue]:
    """The rules a judgement found broken, as cues for repetition ``rep`` (0: the hold); experimental rules are
    never cues."""
    return [LiveCue(f.rule.id, f.rule.title, f.rule.cue, f.rule.severity, rep) for f in judgement.errors]


class _Columns:
    """Growing per-signal arrays (amortised doubling), readable as views of the first ``n`` frames."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names
        self.data = np.full((len(names), 256), np.nan)
        self.times = np.zeros(256)
        self.n = 0

    def append(self, values: Mapping[str, float], t: float) -> None:
        self.append_row([values.get(k, math.nan) for k in self.names], t)

    def append_row(self, row: np.ndarray | list[float], t: float) -> None:
        """One frame's values in the order of ``names``."""
        if self.n == self.data.shape[1]:
            self.data = np.concatenate([self.data, np.full_like(self.data, np.nan)], axis=1)
            self.times = np.concatenate([self.times, np.zeros_like(self.times)])
        self.data[:, self.n] = row
        self.times[self.n] = t
        self.n += 1

    def view(self, start: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
        return ({k: self.data[i, start:self.n] for i, k in enumerate(self.names)}, self.times[start:self.n])


class LiveCoach:
    """Feed `update(landmarks, world, t)` per frame; read the returned `LiveState` (its ``shown`` count for a
    screen, its ``count`` for the result).

    ``exercise``: a catalogue name or alias, or None / "auto" to recognise it. ``width`` / ``height``: the frame's
    size (the landmarks are normalised to it). ``landmarks``: ``(33, 3..5)`` normalised image landmarks of the
    subject, or None when nobody is seen; ``world``: ``(33, 3)`` metric landmarks or None.
    """

    def __init__(self, exercise: str | None = None, *, width: float = 1.0, height: float = 1.0,
                 recognise_every_s: float = 2.0, window_s: float = 30.0) -> None:
        named = exercise is not None and exercise.strip().lower() not in ("", "auto")
        self.size = (float(width), float(height))
        self.recognise_every_s, self.window_s = recognise_every_s, window_s
        self._columns = _Columns(tuple(SIGNAL_UNITS))
        self._agnostic = RepCounter()
        self._exercise: Exercise | None = get_exercise(exercise) if named else None  # type: ignore[arg-type]
        self._named = named
        self._confidence = 1.0 if named else 0.0
        self._counter: RepCounter | None = self._exercise_counter(self._exercise)
        self._next_recognition = recognise_every_s
        self._judged = 0
        self._cues: list[LiveCue] = []
        self._rep_frames: tuple[int, int] | None = None
        self._rep_open = False  # the latest judged repetition ends on the current frame: judge it again
        self._hold_s: float | None = None
        self._next_hold = 0.0
        self._shown = ShownCount()
        self._body_points = _Columns(tuple(f"b{i}" for i in range(2 * len(BODY_POINTS))))  # `body_embedding`
        self._body: Periodicity | None = None  # the whole body's rhythm so far (`check_rhythm`)
        self._next_rhythm = recognise_every_s
        self._rhythm_at = 0  # the count on signals when the rhythm was last measured
        self._rhythm_t = 0.0  # ... and the time of the latest frame it saw
        self._rhythm_final = False  # measured at the end of the session (`check_rhythm(final=True)`)
        self._decided: tuple[tuple[int, int, int], RepResult] | None = None  # (key, reconciled count)
        self._recount: str | None = None  # why the count was recounted on this frame (recognition), if it was

    @staticmethod
    def _exercise_counter(ex: Exercise | None) -> RepCounter | None:
        if ex is None or ex.kind == "hold":
            return None
        return ex.counter()

    @property
    def exercise(self) -> Exercise | None:
        return self._exercise

    def update(self, landmarks: np.ndarray | None, world: np.ndarray | None, t: float) -> LiveState:
        t = float(t)
        if landmarks is None or not np.isfinite(np.asarray(landmarks, dtype=np.float64)[:, :2]).any():
            values: dict[str, float] = {}
        else:
            lm = np.asarray(landmarks, dtype=np.float64)
            if lm.shape[-1] < 5:  # (x, y[, z]) -> add presence / visibility of 1
                lm = np.concatenate([lm, np.ones((lm.shape[0], 5 - lm.shape[-1]))], axis=-1)
            values = frame_signals(lm, world, width=self.size[0], height=self.size[1])
        self._columns.append(values, t)
        self._append_body(landmarks, t)
        self._agnostic.update(values, t)
        if self._counter is not None:
            self._counter.update(values, t)
        if not self._named and t >= self._next_recognition:
            self._next_recognition = t + self.recognise_every_s
            self._recognise(t)
        counted = (self._counter or self._agnostic).count
        if t >= self._next_rhythm or counted != self._rhythm_at:  # periodically, and as soon as a count changes
            self._next_rhythm, self._rhythm_at = t + self.recognise_every_s, counted
            self.check_rhythm()
        self._judge_new_reps()
        if self._exercise is not None and self._exercise.kind == "hold" and t >= self._next_hold:
            self._next_hold = t + 0.5
            self._measure_hold()
        self._shown.update(self.count, self._columns.n - 1, self._recount)
        self._recount = None
        return self.state()

    def _recognise(self, t: float) -> None:
        start = int(np.searchsorted(self._columns.times[:self._columns.n], t - self.window_s))
        signals, times = self._columns.view(start)
        rec = recognise(signals, times=times)
        self._confidence = float(rec.confidence)
        name = None if rec.name == OTHER else rec.name
        current = self._exercise.name if self._exercise else None
        if name == current:
            return
        self._exercise = catalogue()[name] if name else None
        self._recount = _recount_reason(self._exercise)
        self._counter = self._exercise_counter(self._exercise)
        if self._counter is not None:  # replay everything seen so far: the same count as offline
            signals, times = self._columns.view()
            self._counter.feed(signals, times)
        self._judged, self._cues, self._rep_frames, self._hold_s = 0, [], None, None
        self._rep_open = False

    def _judge_new_reps(self) -> None:
        """Judge the latest repetition once it counts, and again on every frame while it is still under way (it
        counts at its turn for an exercise whose `Exercise.cut_reps` is "turn", and ends on the current frame
        until it is back at rest) or its end moves on along the rest position, so its final judgement is over the
        same frames as offline."""
        counter = self._counter or self._agnostic
        count = counter.count
        if count < self._judged or (count == self._judged and not self._rep_open and not self._rep_moved(counter)):
            self._judged = count
            return
        result = counter.result()
        self._judged = result.count
        if not result.reps:
            return
        rep = result.reps[-1]
        self._rep_open = rep.end_frame >= counter.frames - 1
        self._rep_frames = (rep.start_frame, rep.end_frame)
        if self._exercise is None or counter is self._agnostic:
            self._cues = []
            return
        signals, _ = self._columns.view()
        judged = judge_reps(self._exercise.rules, signals, [rep], result.signal, self._exercise.profile.posture)
        self._cues = _cues(judged[0], rep.index)

    def _rep_moved(self, counter: RepCounter) -> bool:
        """The latest judged repetition's end has moved on along the rest position since it was judged (so offline
        would judge it over more frames): judge it again."""
        best = counter.best
        return (self._rep_frames is not None and best is not None and bool(best.reps)
                and best.reps[-1].end_frame != self._rep_frames[1])

    def _measure_hold(self) -> None:
        assert self._exercise is not None and self._exercise.hold is not None
        signals, times = self._columns.view()
        res = measure_hold(signals, times, self._exercise.hold)
        self._hold_s = float(res.seconds)
        if res.start_frame is not None and res.end_frame is not None:
            ex = self._exercise
            span = judge_span(ex.rules, signals, res.start_frame, res.end_frame, ex.profile.posture)
            self._cues = _cues(span, 0)

    def _append_body(self, landmarks: np.ndarray | None, t: float) -> None:
        if landmarks is None:
            emb = np.full(2 * len(BODY_POINTS), np.nan)
        else:
            emb = body_embedding(np.asarray(landmarks, dtype=np.float64)[None, :, :2])[0]
        self._body_points.append_row(emb, t)

    def check_rhythm(self, final: bool = False) -> Periodicity:
        """Measure the whole body's rhythm over the session so far (`analysis.periodicity`): from then on the count
        is checked against it as offline (`counting.reconcile`). `update` calls it every ``recognise_every_s`` and
        whenever the count on signals changes. ``final``: the session is over (call it once at the end): the count
        is then decided as offline, on the whole session."""
        self._rhythm_final = final
        n = self._body_points.n
        self._body = embedding_rhythm(self._body_points.data[:, :n].T, self._body_points.times[:n])
        self._rhythm_t = float(self._body_points.times[n - 1]) if n else 0.0
        return self._body

    def result(self) -> RepResult:
        """The repetitions so far, checked against the whole body's rhythm as last measured (`check_rhythm`)."""
        counter = self._counter or self._agnostic
        if self._exercise is not None and self._exercise.kind == "hold":
            return RepResult(count=0, reps=[], signal=None, exercise=self._exercise.name, method="hold")
        key = (counter.count, counter.frames, id(self._body))
        if self._decided is None or self._decided[0] != key:
            res = dataclasses.replace(counter.result(), method="signals" if counter is self._agnostic else "exercise")
            if self._body is not None:
                res = self._reconciled(res, self._body, counter is self._agnostic)
            self._decided = (key, res)
        return self._decided[1]

    def _reconciled(self, res: RepResult, body: Periodicity, vote: bool) -> RepResult:
        """`counting.reconcile` on a stream: the body's cycles are known only up to its last turn, so the count on
        signals is compared up to there; the repetitions counted since are added to whichever count stands."""
        # The body could not yet have counted a repetition that ended after its last cycle and less than half a
        # period before it was measured.
        seen = body.cycles[-1].end_s if body.cycles else -math.inf
        fresh = max(seen, self._rhythm_t - 0.5 * body.period_s) if math.isfinite(body.period_s) else seen
        fresh = math.inf if self._rhythm_final else fresh  # the session is over: decide as offline
        upto = [r for r in res.reps if r.end_s <= fresh + 1e-9]
        since = [r for r in res.reps if r.end_s > fresh + 1e-9]
        then = dataclasses.replace(res, count=len(upto), reps=upto)
        decided = reconcile(then, body, given=self._named, confidence=VOTE_CONFIDENCE if vote else self._confidence)
        if decided.method in ("exercise", "signals"):
            return dataclasses.replace(decided, count=res.count, reps=res.reps)
        return dataclasses.replace(decided, count=decided.count + len(since), reps=decided.reps + since)

    def rep_items(self) -> list[dict[str, object]]:
        """The session's repetitions as decided (`result`), each judged against the exercise's form rules: index,
        start, end and duration (s) and the broken rules (title, cue, severity); for a live set's summary."""
        res = self.result()
        if not res.reps:
            return []
        errors: list[list[dict[str, str]]] = [[] for _ in res.reps]
        counter = self._counter or self._agnostic
        if self._exercise is not None and counter is not self._agnostic:
            signals, _ = self._columns.view()
            judged = judge_reps(self._exercise.rules, signals, res.reps, res.signal, self._exercise.profile.posture)
            errors = [[{"title": f.rule.title, "cue": f.rule.cue, "severity": f.rule.severity} for f in j.errors]
                      for j in judged]
        return [{"index": r.index, "start_s": round(r.start_s, 2), "end_s": round(r.end_s, 2),
                 "duration_s": round(r.duration_s, 2), "errors": e} for r, e in zip(res.reps, errors, strict=True)]

    @property
    def count(self) -> int:
        if self._exercise is not None and self._exercise.kind == "hold":
            return 0
        counter = self._counter or self._agnostic
        if self._body is None:
            return counter.count
        return self.result().count

    def state(self) -> LiveState:
        ex = self._exercise
        title = ex.title if ex else ("Recognising…" if not self._named and self._confidence == 0 else "Other movement")
        return LiveState(frame=self._columns.n - 1, count=self.count, exercise=ex.name if ex else None, title=title,
                         recognised=not self._named and ex is not None, confidence=round(self._confidence, 3),
                         hold_s=self._hold_s, cues=list(self._cues), rep_frames=self._rep_frames,
                         shown=self._shown.shown, corrections=self._shown.corrections,
                         **self._count_trust())

    def _count_trust(self) -> dict[str, float | str]:
        if self._body is None or (self._exercise is not None and self._exercise.kind == "hold"):
            return {}
        res = self.result()
        return {"count_confidence": res.confidence, "count_note": res.note}
