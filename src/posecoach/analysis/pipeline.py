"""`analyze`: a video (or pose sequence) in, an `AnalysisReport` out.

signals -> recognition (unless the exercise is given) -> repetitions (or the hold) -> form rules per rep ->
report. `analyze_sequence` is pure; `analyze` adds the edge: estimating poses when given a video file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from posecoach.analysis.counting import RELIABLE, Candidates, body_rhythm, not_a_hold
from posecoach.analysis.doubts import exercise_warning, pose_warnings, video_warnings
from posecoach.analysis.exercises import Exercise, catalogue
from posecoach.analysis.form import Judgement, judge_reps, judge_span
from posecoach.analysis.holds import measure_hold
from posecoach.analysis.periodicity import WHOLE_BODY, Periodicity
from posecoach.analysis.recognition import OTHER, recognise, resolve_exercise
from posecoach.analysis.reps import RepResult, count_signals
from posecoach.core.sequence import PoseSequence
from posecoach.core.version import __version__
from posecoach.features.display import TYPICAL_TORSO_M, display_unit, span_range, torso_length_m
from posecoach.features.signals import SIGNAL_UNITS, hidden_signals, sequence_signals
from posecoach.features.view import view_of
from posecoach.reports.analysis_report import (
    AnalysisReport,
    Candidate,
    ExerciseInfo,
    FormError,
    Hold,
    InputInfo,
    ModelInfo,
    RepItem,
    RepPhase,
    Reps,
    RuleSummary,
)

ProgressFn = Callable[[int, int], None]


def _errors(j: Judgement, experimental: bool = False) -> list[FormError]:
    """The judgement's cues (``experimental``: its broken experimental rules instead)."""
    return [FormError(rule=f.rule.id, title=f.rule.title, severity=f.rule.severity, cue=f.rule.cue,
                      value=round(f.value, 3), limit=f.rule.limit, frames=list(f.frames), joints=f.rule.joints)
            for f in (j.experimental if experimental else j.errors)]


def _rule_summaries(ex: Exercise | None, judgements: list[Judgement]) -> list[RuleSummary]:
    if ex is None:
        return []
    out = []
    for i, rule in enumerate(ex.rules):
        found = [j.findings[i] for j in judgements]
        judged = [f for f in found if f.status != "not_measurable"]
        reason = None if judged or not found else found[0].reason
        if not found:
            reason = "no repetition or hold to judge"
        broken = [j.rep.index if j.rep else 0 for j, f in zip(judgements, found, strict=True) if f.broken]
        out.append(RuleSummary(id=rule.id, title=rule.title, severity=rule.severity,
                               status="judged" if judged else "not_measurable", reason=reason, reps_broken=broken,
                               experimental=rule.experimental))
    return out


def _summary(ex_title: str, reps: Reps, hold: Hold | None, rules: list[RuleSummary], ex: Exercise | None,
             view: str) -> list[str]:
    lines = []
    if hold is not None:
        lines.append(f"{ex_title}: held for {hold.seconds:.1f} s ({view} view).")
    else:
        lines.append(f"{ex_title}: {reps.count} repetition{'s' if reps.count != 1 else ''} ({view} view).")
        if not reps.reliable:
            lines.append(f"The count is unsure (confidence {reps.confidence:.0%})"
                         + (f": {reps.note}." if reps.note else "."))
    order = {"error": 0, "warning": 1, "info": 2}
    cues = {r.id: r.cue for r in ex.rules} if ex else {}
    for r in sorted(rules, key=lambda r: order[r.severity]):
        if r.reps_broken and not r.experimental:
            where = "the hold" if hold is not None else "rep " + ", ".join(map(str, r.reps_broken))
            lines.append(f"{r.title} ({r.severity}) in {where}: {cues.get(r.id, '')}")
    for r in rules:
        if r.status == "not_measurable":
            lines.append(f"{r.title}: {r.reason}.")
    return lines


def _input_info(seq: PoseSequence) -> tuple[InputInfo, ModelInfo]:
    src = seq.source
    info = InputInfo(path=src.get("path"), frames=seq.num_frames, fps=round(seq.fps, 4),
                     duration_s=round(seq.duration, 3), width=src.get("width"), height=src.get("height"),
                     detection_rate=round(seq.detection_rate() if seq.num_people else 0.0, 4))
    return info, ModelInfo(name=src.get("model"), sha256=src.get("model_sha256"))


def _exercise_info(ex: Exercise | None, given: bool, confidence: float, scores: Mapping[str, float],
                   view: str) -> ExerciseInfo:
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])[:5]
    return ExerciseInfo(
        name=ex.name if ex else OTHER, title=ex.title if ex else "Unrecognised movement",
        kind=ex.kind if ex else "unknown", given=given, confidence=round(min(max(confidence, 0.0), 1.0), 4),
        candidates=[Candidate(name=n, score=s) for n, s in ranked], view=view)  # type: ignore[arg-type]


def _phases(r: Any, ex: Exercise | None) -> tuple[list[RepPhase], float | None, float | None]:
    """The repetition's two parts named and directed by the exercise's data; lowering and lifting times."""
    names = (ex.phases.away, ex.phases.back) if ex else ("away from rest", "back to rest")
    dirs = ex.phases.directions() if ex else ("other", "other")
    spans = ((r.start_s, r.turn_s), (r.turn_s, r.end_s))
    phases = [RepPhase(name=n, direction=d, start_s=round(a, 3), end_s=round(b, 3), duration_s=round(b - a, 3))
              for n, d, (a, b) in zip(names, dirs, spans, strict=True)]  # type: ignore[arg-type]
    by = {p.direction: p.duration_s for p in phases}
    return phases, by.get("lowering"), by.get("lifting")


def _rep_items(result: RepResult, judgements: list[Judgement], ex: Exercise | None = None,
               signals: Mapping[str, np.ndarray] | None = None, torso_m: float = TYPICAL_TORSO_M) -> list[RepItem]:
    """The report's repetitions. Ranges are what every output shows (`features.display.span_range` of the
    counting signal: degrees, or centimetres estimated); phases and their times come from the exercise's data."""
    sig = result.signal or ""
    shown = signals is not None and sig in signals and sig != WHOLE_BODY
    unit = "x typical" if sig == WHOLE_BODY else (display_unit(sig) if shown else SIGNAL_UNITS.get(sig, "deg"))
    items = []
    for r, j in zip(result.reps, judgements, strict=True):
        rom = span_range(sig, signals[sig], r.start_frame, r.end_frame, torso_m) if shown else None  # type: ignore[index]
        phases, lowering, lifting = _phases(r, ex)
        ecc = lowering if lowering is not None else r.eccentric_s
        con = lifting if lifting is not None else r.concentric_s
        items.append(RepItem(
            index=r.index, start_frame=r.start_frame, turn_frame=r.turn_frame, end_frame=r.end_frame,
            start_s=round(r.start_s, 3), turn_s=round(r.turn_s, 3), end_s=round(r.end_s, 3),
            duration_s=round(r.duration_s, 3), eccentric_s=round(ecc, 3), concentric_s=round(con, 3),
            phases=phases, lowering_s=lowering, lifting_s=lifting,
            rom=round(rom if rom is not None else r.rom, 3), rom_unit=unit, rom_estimated=unit == "cm",
            rom_signal=sig or None, view=j.view, errors=_errors(j),  # type: ignore[arg-type]
            experimental=_errors(j, True)))
    return items


def analyze_signals(signals: Mapping[str, np.ndarray], times: np.ndarray, exercise: str | Exercise | None = None,
                    hidden: frozenset[str] = frozenset(), body: Periodicity | None = None,
                    ) -> tuple[Exercise | None, RepResult, list[Judgement], Hold | None, ExerciseInfo]:
    """The analysis proper (pure): exercise, repetitions, per-rep judgements, hold.

    ``hidden``: signals of joints the camera does not see (`hidden_signals`), for recognition. ``body``: the whole
    body's rhythm (`counting.body_rhythm`), which checks the count (`counting.reconcile`); without it the count
    is the exercise's (or the channel vote's, for "other") as it is.
    """
    view = view_of(signals)
    ex, rec = resolve_exercise(signals, times, exercise, hidden)
    ex, rec = not_a_hold(ex, rec, body)
    counted = rec.count if rec else None
    info = (_exercise_info(ex, False, rec.confidence, rec.scores, view) if rec else
            _exercise_info(ex, True, 1.0, {}, view))
    hold = None
    if ex is not None and ex.kind == "hold":
        res = measure_hold(signals, times, ex.hold)
        reps = (Candidates.held(ex.name, body, rec).decide() if body is not None else
                RepResult(count=0, reps=[], signal=None, exercise=ex.name, method="hold"))
        judgements = []
        if res.start_frame is not None and res.end_frame is not None:
            judgements = [judge_span(ex.rules, signals, res.start_frame, res.end_frame, ex.profile.posture)]
        hold = Hold(seconds=res.seconds, start_s=res.start_s, end_s=res.end_s, start_frame=res.start_frame,
                    end_frame=res.end_frame, errors=_errors(judgements[0]) if judgements else [],
                    experimental=_errors(judgements[0], True) if judgements else [])
        return ex, reps, judgements, hold, info
    if counted is not None:
        reps = counted
    else:
        reps = ex.count_reps(signals, times) if ex is not None else count_signals(signals, times)
    if body is not None:
        reps = Candidates.of(reps, body, ex is not None, rec).decide()
    judgements = judge_reps(ex.rules, signals, reps.reps, reps.signal, ex.profile.posture) if ex else [
        Judgement(r, view_of(signals, r.start_frame, r.end_frame + 1)) for r in reps.reps]
    return ex, reps, judgements, hold, info


def analyze_sequence(seq: PoseSequence, exercise: str | Exercise | None = None) -> AnalysisReport:
    """Analyse a pose sequence (pure: no I/O)."""
    signals = sequence_signals(seq) if seq.num_people else {}
    inp, model = _input_info(seq)
    if not signals:
        signals = {name: np.full(seq.num_frames, np.nan) for name in SIGNAL_UNITS}
    hidden = hidden_signals(seq) if seq.num_people else frozenset()
    nobody = not seq.num_people or not seq.detection_rate()
    body = None if nobody else body_rhythm(seq)
    ex, result, judgements, hold, info = analyze_signals(signals, seq.timestamps, exercise, hidden, body)
    if nobody and hold is None:
        result = dataclasses.replace(result, confidence=0.0, note="nobody in the video: not measurable")
    if nobody:  # nothing was recognised: no confidence in "other" either
        info = info.model_copy(update={"confidence": 0.0, "candidates": []})
    torso_m, measured = torso_length_m(seq)
    inp = inp.model_copy(update={"torso_m": round(torso_m, 4), "torso_measured": measured})
    items = _rep_items(result, judgements, ex, signals, torso_m) if hold is None else []
    reps = Reps(count=result.count, signal=result.signal, items=items,
                partial=len(result.partial), confidence=result.confidence, reliable=result.confidence >= RELIABLE,
                method=result.method, note=result.note or None, rhythm=result.rhythm)
    rules = _rule_summaries(ex, judgements)
    report = AnalysisReport(posecoach_version=__version__, input=inp, model=model, exercise=info, reps=reps,
                            hold=hold, rules=rules)
    report.summary = _summary(info.title, reps, hold, rules, ex, info.view)
    if nobody:  # not "Unrecognised movement: 0 repetitions": nothing was measured
        report.summary = ["Nobody was found in the video: no pose to analyse."]
    report.warnings = video_warnings(seq) + pose_warnings(seq)
    if info.given and ex is not None and not nobody:  # a check only: the named exercise is still what is counted
        rec = recognise(signals, times=seq.timestamps, hidden=hidden)
        wrong = exercise_warning(ex.name, ex.title, rec, {n: e.title for n, e in catalogue().items()})
        if wrong is not None:
            report.warnings.insert(0, wrong)
    return report
