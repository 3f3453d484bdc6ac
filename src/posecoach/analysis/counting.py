"""Which repetition count to report, and how sure it is: the exercise's own counter checked against the whole
body's rhythm.

Two counts come from every sequence:

* the **whole-body rhythm** (`periodicity.whole_body_count`): the cycles of every body joint together, the same
  for any landmark normalisation, pose tool or camera distance, and blind to what the exercise is;
* the **exercise's counter** (`reps`, the catalogue's signals, rest sides and `cut_reps` conventions), when the
  exercise is named or recognised: precise about where a repetition starts and ends, and about a repetition the
  video cuts, but only as right as the exercise.

`reconcile` keeps the exercise's count where the rhythm agrees with it (or says nothing), and otherwise trusts
the one with the evidence: a recognised exercise whose count disagrees with a clear whole-body rhythm gives way
to the rhythm (a wrong guess of the exercise, or one joint cycling on its own); a named exercise keeps its count
but is marked unreliable. With no exercise, the class-agnostic channel vote (`reps.RepCounter`) is checked the
same way; without a rhythm to check it, a vote far above the body's few large movements is rejected. Every
result carries a ``confidence`` (0-1) and, below `RELIABLE`, a ``note`` that says why it is unsure; a sequence
with no periodic movement and no large movement is "not measurable" (count 0, confidence 0).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from posecoach.analysis.counter_settings import CounterSettings
from posecoach.analysis.periodicity import WHOLE_BODY, Periodicity, whole_body_count
from posecoach.analysis.recognition import OTHER, Recognition, resolve_exercise
from posecoach.analysis.reps import RepResult, count_signals
from posecoach.core.sequence import PoseSequence
from posecoach.features.signals import hidden_signals, sequence_signals

if TYPE_CHECKING:
    from posecoach.analysis.exercises import Exercise

#: Below this confidence a count is reported as unreliable (with its note).
RELIABLE = 0.5
#: Counts agree when within one, or within this share of the larger one.
AGREE_SHARE = 0.2
#: Confidence of an exercise's count the rhythm cannot check (too short, aperiodic): the recognition's or 1 when
#: named, times this.
UNCHECKED = 0.8
#: Confidence of the class-agnostic channel vote before the rhythm checks it (one signal, no exercise).
VOTE_CONFIDENCE = 0.6
#: A repetition needs at least this many input frames to be counted reliably (`too_fast`); below, the count's
#: confidence is at most `TOO_FAST_CONFIDENCE`.
MIN_SAMPLES_PER_REP = 3.0
TOO_FAST_CONFIDENCE = 0.4
#: Without a rhythm, a count more than this many times the whole body's large movements (plus one) is one signal
#: cycling on its own.
IMPLAUSIBLE = 2


@dataclass(frozen=True)
class RhythmCheck:
    """When the whole-body rhythm checks, and overrides, an exercise's count (`reconcile`).

    The defaults come from `benchmarks/bench_reps.py --loso` (leave one source out over a small grid).
    """

    min_confidence: float = 0.5  # the rhythm's confidence needed to check an exercise's count
    min_reps: int = 3  # ... and its cycles
    vote_confidence: float = 0.5  # the rhythm's confidence needed to check the class-agnostic vote
    per_side: bool = True  # a count on an alternating (left-right) signal twice the rhythm's agrees too: one
    #                        repetition per side of the body's cycle (steps in jump rope, alternating lunges) ...
    half_similarity: float = 0.3  # ... where the body half a period later is this alike to itself (sides
    #                               exchanged or not); a symmetric movement is anti-phase there (negative)
    rhythm_from: int = 0  # > 0: a recognised exercise's count that agrees with a rhythm of this many cycles or
    #                       more reports the rhythm's count (0: the exercise's)


def checkable(body: Periodicity, needed: float, check: RhythmCheck) -> bool:
    """The whole-body rhythm is clear enough to check a count: periodic, `RhythmCheck.min_reps` cycles or more,
    confidence ``needed`` or more."""
    return body.rhythmic and body.count >= check.min_reps and body.confidence >= needed


def body_rhythm(seq: PoseSequence) -> Periodicity:
    """The whole-body periodicity of the sequence's subject."""
    return whole_body_count(seq.subject_landmarks(), seq.timestamps)


def agree(a: int, b: int) -> bool:
    """Two counts agree: within one, or within `AGREE_SHARE` of the larger."""
    return abs(a - b) <= max(1.0, AGREE_SHARE * max(a, b))


def rhythm_result(body: Periodicity, exercise: str | None = None) -> RepResult:
    """The whole-body count as a `RepResult` (each cycle a repetition, its range in typical-cycle units)."""
    reps = [dataclasses.replace(c) for c in body.cycles]  # copies: a result's repetitions may be renumbered
    note = body.reason or ("" if body.confidence >= RELIABLE else
                           f"weak rhythm (periodicity {body.periodicity:.2f}, regularity {body.regularity:.2f})")
    return RepResult(count=len(reps), reps=reps, signal=WHOLE_BODY if reps else None, exercise=exercise,
                     confidence=body.confidence, note=note, method="whole_body" if body.rhythmic else "excursions",
                     rhythm=body.count)


def reconcile(result: RepResult | None, body: Periodicity, *, given: bool, confidence: float = 1.0,
              check: RhythmCheck | None = None) -> RepResult:
    """The count to report from a count on the exercise's signals (``result``: the exercise's counter, or the
    class-agnostic channel vote; None: none) and the whole-body rhythm ``body``.

    ``given``: the exercise was named by the caller, so its count stands (marked unreliable when the rhythm
    disagrees); else ``confidence`` is how sure the exercise (or the vote) is. Whatever is chosen, a movement
    too fast for the input's frame rate (`too_fast`) is reported as unreliable.
    """
    check = check or RhythmCheck()
    out = _reconcile(result, body, given=given, confidence=confidence, check=check)
    samples = body.samples_per_rep(check.half_similarity)
    if not too_fast(samples) or out.confidence < RELIABLE:
        return out
    return dataclasses.replace(out, confidence=min(out.confidence, TOO_FAST_CONFIDENCE), note=(
        f"too fast for the frame rate: {samples:.1f} frames per repetition at {body.rate:.0f} fps "
        "(a higher frame rate would count it)"))


def too_fast(samples_per_rep: float) -> bool:
    """Fewer than `MIN_SAMPLES_PER_REP` input frames per repetition: at two or fewer a repetition cannot be told
    from the next (the sampling theorem's limit), and the count of any signal depends on which frames were kept."""
    return samples_per_rep < MIN_SAMPLES_PER_REP


def _reconcile(result: RepResult | None, body: Periodicity, *, given: bool, confidence: float,
               check: RhythmCheck) -> RepResult:
    if result is None:
        return rhythm_result(body)
    needed = check.vote_confidence if result.method == "signals" else check.min_confidence
    if not checkable(body, needed, check):
        if not given and not body.rhythmic and result.count > IMPLAUSIBLE * max(body.count, 1) + 1:
            # No rhythm, a few large movements of the whole body, and many more cycles on some signal: that
            # signal is cycling on its own (a free arm, tracking jitter), not the body repeating a movement.
            out = rhythm_result(body, result.exercise)
            return dataclasses.replace(out, confidence=min(out.confidence, UNCHECKED * confidence), note=(
                f"{result.count} cycles on {result.signal} alone, against {body.count} large movements of the "
                "whole body"))
        conf = round(confidence * UNCHECKED, 3)
        note = "" if conf >= RELIABLE else result.note or "no whole-body rhythm to check the count against"
        return dataclasses.replace(result, confidence=conf, rhythm=body.count, note=note)
    per_side = (check.per_side and (result.signal or "").endswith("_diff") and agree(result.count, 2 * body.count)
                and body.half_similarity >= check.half_similarity)
    agreeing = agree(result.count, body.count)
    if agreeing and not per_side and (result.method == "signals" or (
            not given and check.rhythm_from and body.count >= check.rhythm_from)):
        # The vote knows no exercise's conventions, and over a long set a recognised exercise's conventions for
        # a cut repetition matter less than one joint's miscount: where they agree, the rhythm of every joint is
        # the better count.
        return dataclasses.replace(rhythm_result(body, result.exercise), confidence=round(
            max(confidence, body.confidence), 3))
    if agreeing or per_side:
        conf = max(confidence, body.confidence)
        return dataclasses.replace(result, confidence=round(conf, 3), rhythm=body.count)
    if given:
        return dataclasses.replace(
            result, confidence=round(min(confidence, 1.0 - body.confidence) * UNCHECKED, 3), rhythm=body.count,
            note=f"the whole body's rhythm suggests {body.count} repetitions, not {result.count}")
    out = rhythm_result(body, result.exercise)
    what = f"the count on {result.signal}" if result.signal else f"the {result.exercise or 'signals'} count"
    note = f"{what} ({result.count}) disagrees with the whole body's rhythm"
    return dataclasses.replace(out, note=note)


@dataclass(frozen=True)
class Candidates:
    """What `reconcile` chooses from: the count on the exercise's signals (or the vote), the whole-body rhythm,
    whether the exercise was named and how sure the count on signals is. ``final``: already decided (nobody in
    the video, a hold)."""

    result: RepResult | None
    body: Periodicity | None  # None only with ``final``
    given: bool = False
    confidence: float = 1.0
    final: RepResult | None = None

    @classmethod
    def of(cls, result: RepResult, body: Periodicity, exercise: bool, recognition: Recognition | None
           ) -> Candidates:
        """The count on signals to check: an exercise's (``exercise``; named when there is no ``recognition``,
        else as sure as it) or the class-agnostic vote (`VOTE_CONFIDENCE`)."""
        if not exercise:
            return cls(dataclasses.replace(result, method="signals"), body, False, VOTE_CONFIDENCE)
        return cls(dataclasses.replace(result, method="exercise"), body, recognition is None,
                   recognition.confidence if recognition else 1.0)

    @classmethod
    def held(cls, exercise: str, body: Periodicity, recognition: Recognition | None,
             check: RhythmCheck | None = None) -> Candidates:
        """A hold (no repetitions: count 0), named (no ``recognition``) or recognised, as sure as its recognition.
        The rhythm checks its count of 0 as any exercise's: a named hold the body's rhythm contradicts is marked
        unreliable (a recognised one is not a hold: `hold_contradicted`); no rhythm is what a hold looks like."""
        conf = recognition.confidence if recognition else 1.0
        hold = RepResult(count=0, reps=[], signal=None, exercise=exercise, method="hold", confidence=round(conf, 3),
                         note="" if conf >= RELIABLE else "the hold was recognised with low confidence")
        if recognition is None and _overrules_zero(body, check or RhythmCheck()):
            hold = reconcile(hold, body, given=True, check=check)  # kept, marked unsure with the rhythm's count
        return cls(None, body, final=hold)

    def decide(self, check: RhythmCheck | None = None) -> RepResult:
        if self.final is not None:
            return self.final
        assert self.body is not None, "Candidates without a rhythm must be final"
        return reconcile(self.result, self.body, given=self.given, confidence=self.confidence, check=check)


def hold_contradicted(body: Periodicity | None, recognition: Recognition | None,
                      check: RhythmCheck | None = None) -> bool:
    """A recognised (not named) hold whose count of 0 the whole body's rhythm overrides as it would any recognised
    exercise's count (`reconcile`): the body repeats a movement, so the posture that looked like a hold (jump rope
    smoothed over 5 frames looked like a wall sit) is not one. Real holds have no such rhythm (the planks of
    ``../shared/data``: rhythm confidence <= 0.31 under every transformation of `bench_invariance`)."""
    return recognition is not None and body is not None and _overrules_zero(body, check or RhythmCheck())


def _overrules_zero(body: Periodicity, check: RhythmCheck) -> bool:
    """A count of 0 (a hold) is one `reconcile` overrides (recognised) or marks unsure (named): a clear rhythm of
    more than one cycle."""
    return checkable(body, check.min_confidence, check) and not agree(0, body.count)


def not_a_hold(ex: Exercise | None, rec: Recognition | None, body: Periodicity | None
               ) -> tuple[Exercise | None, Recognition | None]:
    """``(ex, rec)`` as resolved, or, for a recognised hold the whole body's rhythm contradicts
    (`hold_contradicted`), no exercise and the recognition as "other" (its scores kept): counted as "other"."""
    if ex is None or ex.kind != "hold" or not hold_contradicted(body, rec):
        return ex, rec
    return None, dataclasses.replace(rec, name=OTHER) if rec is not None else None


def count_candidates(seq: PoseSequence, exercise: str | None = None, *, agnostic: bool = False,
                     settings: CounterSettings | None = None) -> Candidates:
    """The counts `count_repetitions` chooses from (see there), before choosing."""
    if not seq.num_people or not seq.detection_rate():
        return Candidates(None, None, final=RepResult(
            count=0, reps=[], signal=None, exercise=exercise, confidence=0.0,
            note="nobody in the video: not measurable", method="none"))
    body = body_rhythm(seq)
    signals = sequence_signals(seq)
    if agnostic and exercise is None:
        return Candidates.of(count_signals(signals, seq.timestamps, settings=settings), body, False, None)
    ex, rec = resolve_exercise(signals, seq.timestamps, exercise, hidden_signals(seq))
    ex, rec = not_a_hold(ex, rec, body)
    if ex is not None and ex.kind == "hold":
        return Candidates.held(ex.name, body, rec)
    counted = rec.count if rec is not None and settings is None else None  # recognition counted it already
    if counted is None:
        counted = ex.count_reps(signals, seq.timestamps, settings) if ex is not None else count_signals(
            signals, seq.timestamps, settings=settings)
    return Candidates.of(counted, body, ex is not None, rec)


def count_repetitions(seq: PoseSequence, exercise: str | None = None, *, agnostic: bool = False,
                      settings: CounterSettings | None = None, check: RhythmCheck | None = None) -> RepResult:
    """Count the subject's repetitions, with a confidence (`RepResult.confidence`, `RepResult.note`).

    ``exercise`` (a catalogue name or alias) narrows the signals and sets the rest sides and how a repetition the
    video cuts counts (`Exercise.counter_settings`); its count is checked against the whole body's rhythm
    (`reconcile`). Without it the exercise is recognised first; a catalogue exercise is counted as such (a hold
    has no repetitions) unless the whole body's rhythm clearly disagrees, and a movement outside the catalogue
    ("other") is counted by the class-agnostic channel vote checked against the whole body's rhythm.
    ``agnostic=True`` skips recognition. ``settings``: used as they are, for every exercise. ``check``: when the
    rhythm checks and overrides a count.
    """
    return count_candidates(seq, exercise, agnostic=agnostic, settings=settings).decide(check)
