"""`compare_sequences`: a guide and an attempt in, a `ComparisonReport` out (pure: no I/O).

features (both sides; the attempt also mirrored unless told) -> repetitions -> DTW alignment (the guide's one
repetition against each of the attempt's, or the whole sequences) -> the closer of plain and mirrored ->
scores per joint and phase, the calibrated overall and per-rep scores (`calibration`) -> the largest deviations
in words, tempo. A one-repetition guide's attempt repetitions are merged while the guide matches their union
better (`merge_reps`: a counter may cut one repetition in two).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from posecoach.analysis.compare.alignment import DEFAULT_BAND, Alignment, align, band_frames
from posecoach.analysis.compare.calibration import (
    CHANNELS,
    calibrated_score,
    channel_matrix,
    channel_ranges,
    contributions,
    deviation_features,
    main_channels,
    main_point,
    shape_deviation,
)
from posecoach.analysis.compare.features import SCORED_ANGLES, Features, alignment_matrix, sequence_features
from posecoach.analysis.compare.feedback import (
    Finding,
    contribution_words,
    describe,
    largest,
    score_words,
    tempo_words,
)
from posecoach.analysis.compare.guide import Guide
from posecoach.analysis.compare.scoring import (
    DIRECTION_SHARE,
    PHASES,
    Phases,
    angle_matrix,
    frame_weights,
    joint_weights,
    reference_phases,
    score_pairs,
)
from posecoach.core.sequence import PoseSequence
from posecoach.core.version import __version__
from posecoach.errors import InputError
from posecoach.reports.analysis_report import ModelInfo
from posecoach.reports.comparison_report import (
    AlignmentInfo,
    ComparisonReport,
    Deviation,
    JointScore,
    PhaseScore,
    RepScore,
    SequenceInfo,
    Tempo,
)

#: The mirrored attempt is taken only when it aligns this much better (symmetric movements stay unmirrored) ...
MIRROR_MARGIN = 0.9
#: ... or, when neither side aligns that much better, when it scores this much higher (`_side_score`; a near tie,
#: e.g. a squat with one knee restricted, stays unmirrored so that the restricted side is the one named).
MIRROR_SCORE_MARGIN = 5.0


@dataclass(frozen=True)
class Prepared:
    """A sequence ready to compare: its features (and mirrored ones) and its repetitions ``[start, end]``."""

    seq: PoseSequence
    features: Features
    mirrored: Features | None
    reps: list[tuple[int, int]]

    @property
    def matrix(self) -> np.ndarray:
        return alignment_matrix(self.features)


def _check(seq: PoseSequence, role: str) -> None:
    if not seq.num_people or seq.detection_rate() == 0:
        raise InputError(f"nobody was found in the {role}: there is no movement to compare")


def count_reps(seq: PoseSequence) -> list[tuple[int, int]]:
    """Repetitions ``[start, end]`` frames: the exercise's own counter, else the class-agnostic one."""
    from posecoach.analysis.counting import count_repetitions

    result = count_repetitions(seq)
    if result.count < 2:
        agnostic = count_repetitions(seq, agnostic=True)
        result = agnostic if agnostic.count > result.count else result
    return [(r.start_frame, r.end_frame) for r in result.reps]


def prepare(seq: PoseSequence, *, role: str = "attempt", mirror: bool = True, reps: bool = True) -> Prepared:
    """Features (and mirrored features when ``mirror``) and repetitions (when ``reps``) of ``seq``."""
    _check(seq, role)
    return Prepared(seq, sequence_features(seq), sequence_features(seq, mirror=True) if mirror else None,
                    count_reps(seq) if reps else [])


def _spans(reps: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """Repetitions widened to cover the sequence: boundaries half-way between one end and the next start."""
    cuts = [0] + [(a[1] + b[0]) // 2 for a, b in itertools.pairwise(reps)] + [n]
    return [(cuts[k], cuts[k + 1]) for k in range(len(reps))]


def merge_reps(ref: np.ndarray, att: np.ndarray, reps: list[tuple[int, int]], band: float = DEFAULT_BAND,
               ) -> list[tuple[int, int]]:
    """The attempt's counted repetitions, neighbours merged while the guide's one repetition aligns better with
    their union than with either alone (``(N, D)`` / ``(M, D)`` alignment features): a counter that cut one
    repetition in two (down, then up) must not have each half scored against the whole guide."""
    out = list(reps)
    if len(out) < 2:
        return out

    def cost(k: int) -> float:  # the k-th repetition's span, widened as `_spans` widens it
        a, b = _spans(out, len(att))[k]
        return align(ref, att[a:b], band=band).mean_cost

    costs = [cost(k) for k in range(len(out))]
    while len(out) > 1:
        gains = []
        for k in range(len(out) - 1):
            trial = [*out[:k], (out[k][0], out[k + 1][1]), *out[k + 2:]]
            a, b = _spans(trial, len(att))[k]
            merged = align(ref, att[a:b], band=band).mean_cost
            gains.append((min(costs[k], costs[k + 1]) - merged, k, merged))
        gain, k, merged = max(gains)
        if gain <= 0:
            break
        out[k:k + 2] = [(out[k][0], out[k + 1][1])]
        costs[k:k + 2] = [merged]
    return out


def _match(ref: np.ndarray, att: np.ndarray, spans: list[tuple[int, int]] | None, band: float) -> list[Alignment]:
    if spans is None:
        return [align(ref, att, band=band)]
    return [align(ref, att[a:b], band=band, att_offset=a) for a, b in spans]


def _cost(alignments: list[Alignment]) -> float:
    return float(np.mean([a.mean_cost for a in alignments]))


def _info(seq: PoseSequence, name: str | None = None, description: str | None = None,
          reps: int | None = None) -> SequenceInfo:
    return SequenceInfo(name=name, description=description or None, path=seq.source.get("path"),
                        frames=seq.num_frames, fps=round(seq.fps, 4), duration_s=round(seq.duration, 3),
                        detection_rate=round(seq.detection_rate(), 4), reps=reps)


def _r(x: float) -> float | None:
    return round(float(x), 1) if np.isfinite(x) else None


def _span_s(seq: PoseSequence, a: int, b: int) -> float:
    """Seconds from frame ``a`` to the end of frame ``b``."""
    return float(seq.timestamps[b] - seq.timestamps[a] + 1.0 / seq.fps)


@dataclass(frozen=True)
class Matched:
    """The alignment behind a report, for drawing: the guide frame matched to each attempt frame and the angles."""

    guide_frame: np.ndarray  # (M,) guide frame index per attempt frame
    guide_angles: np.ndarray  # (N, J) degrees, SCORED_ANGLES order
    attempt_angles: np.ndarray  # (M, J) degrees (mirrored when the report says so)
    mirrored: bool
    #: the overall score's deviations (`calibration.FEATURES` order)
    terms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    shape: float = float("nan")  # the joint-angle and segment-direction score (`scoring.score_pairs`), 0-100


def _guide_frame(ref_idx: np.ndarray, att_idx: np.ndarray, m: int) -> np.ndarray:
    """For each of ``m`` attempt frames, the (first) guide frame matched with it; unmatched frames take the
    nearest matched one."""
    out = np.full(m, -1, np.int64)
    order = np.argsort(att_idx, kind="stable")[::-1]
    out[att_idx[order]] = ref_idx[order]
    known = np.flatnonzero(out >= 0)
    nearest = known[np.clip(np.searchsorted(known, np.arange(m)), 0, len(known) - 1)]
    return np.where(out >= 0, out, out[nearest])


def compare_prepared(reference: Prepared, attempt: Prepared, *, guide: Guide | None = None,
                     mirror: bool | None = None, band: float = DEFAULT_BAND) -> ComparisonReport:
    """Compare prepared sequences; ``mirror`` None tries both sides and keeps the closer."""
    return match_prepared(reference, attempt, guide=guide, mirror=mirror, band=band)[0]


def match_prepared(reference: Prepared, attempt: Prepared, *, guide: Guide | None = None,
                   mirror: bool | None = None, band: float = DEFAULT_BAND) -> tuple[ComparisonReport, Matched]:
    """`compare_prepared`, also returning the alignment (`Matched`)."""
    guide_reps = guide.reps if guide and guide.reps else max(len(reference.reps), 1)
    ref_m = reference.matrix
    options = [False, True] if mirror is None else [bool(mirror)]
    if True in options and attempt.mirrored is None:
        raise ValueError("the attempt was prepared without mirrored features")
    att_reps: dict[bool, list[tuple[int, int]]] = {}
    tried: dict[bool, list[Alignment]] = {}
    for m in options:
        att_m = alignment_matrix(attempt.mirrored if m and attempt.mirrored is not None else attempt.features)
        att_reps[m] = merge_reps(ref_m, att_m, attempt.reps, band) if guide_reps == 1 else list(attempt.reps)
        per = guide_reps == 1 and len(att_reps[m]) >= 2
        tried[m] = _match(ref_m, att_m, _spans(att_reps[m], attempt.seq.num_frames) if per else None, band)
    keys = guide.joints if guide else []
    fw = frame_weights(reference.features)  # the guide's held / target frames count most
    mirrored = len(tried) == 2 and _cost(tried[True]) < MIRROR_MARGIN * _cost(tried[False])
    if len(tried) == 1:
        mirrored = options[0]
    elif not mirrored and _cost(tried[True]) < _cost(tried[False]) / MIRROR_MARGIN:  # the alignment can't tell
        mirrored = _side_score(reference, attempt.mirrored, tried[True], keys, fw) > MIRROR_SCORE_MARGIN + _side_score(
            reference, attempt.features, tried[False], keys, fw)
    reps_found = att_reps[mirrored]
    per_rep = guide_reps == 1 and len(reps_found) >= 2
    spans = _spans(reps_found, attempt.seq.num_frames) if per_rep else None
    alignments = [a.shifted() for a in tried[mirrored]]
    att_f = attempt.mirrored if mirrored and attempt.mirrored is not None else attempt.features
    ref_a, att_a = angle_matrix(reference.features), angle_matrix(att_f)
    weights = joint_weights(ref_a, keys)
    ref_idx = np.concatenate([a.ref for a in alignments])
    att_idx = np.concatenate([a.att for a in alignments])
    dirs = (reference.features.directions, att_f.directions)
    overall = score_pairs(ref_a, att_a, ref_idx, att_idx, weights, fw, dirs)
    ref_c, att_c = channel_matrix(reference.features), channel_matrix(att_f)

    def terms_of(ri: np.ndarray, ai: np.ndarray) -> np.ndarray:
        return deviation_features(ref_c, att_c, ri, ai, fw, keys)

    terms = terms_of(ref_idx, att_idx)
    phases = reference_phases(reference.features, keys)

    # repetitions: one alignment each (per-rep), else the whole path cut at the attempt's repetitions
    rep_spans = spans if per_rep else reps_found
    per_rep_pairs = []
    for k, (a, b) in enumerate(rep_spans or []):
        if per_rep:
            per_rep_pairs.append((alignments[k].ref, alignments[k].att))
        else:
            sel = (att_idx >= a) & (att_idx <= b)
            per_rep_pairs.append((ref_idx[sel], att_idx[sel]))
    total = (float(weights.sum()) or 1.0) * (1.0 + DIRECTION_SHARE)  # the segment directions take the rest
    joints = [JointScore(name=n, score=_r(overall.joint_scores[j]), mean_abs_diff_deg=_r(overall.abs_diff[j]),
                         mean_diff_deg=_r(overall.diff[j]), weight=round(float(weights[j]) / total, 4),
                         key=n in keys) for j, n in enumerate(SCORED_ANGLES)]
    reps, findings = [], []
    for k, (ri, ai) in enumerate(per_rep_pairs):
        if not len(ri):
            continue
        s = score_pairs(ref_a, att_a, ri, ai, weights, fw, dirs)
        a0, a1 = int(ai.min()), int(ai.max())
        dur = _span_s(attempt.seq, a0, a1)
        ratio = _pace(reference.seq.timestamps[ri], attempt.seq.timestamps[ai], phases.labels[ri] != 0)
        guide_s = dur / ratio if np.isfinite(ratio) and ratio > 0 else _span_s(reference.seq, int(ri.min()),
                                                                                  int(ri.max()))
        reps.append(RepScore(index=k + 1, start_frame=a0, end_frame=a1, start_s=round(float(
            attempt.seq.timestamps[a0] - attempt.seq.timestamps[0]), 3), end_s=round(float(
                attempt.seq.timestamps[a1] - attempt.seq.timestamps[0]), 3), duration_s=round(dur, 3),
            guide_duration_s=round(guide_s, 3), tempo_ratio=round(dur / guide_s, 3),
            score=_r(calibrated_score(terms_of(ri, ai), shape_deviation(s.score))),
            joints={n: _r(s.joint_scores[j]) for j, n in enumerate(SCORED_ANGLES)}))
        findings += _findings(ref_a, att_a, ri, ai, phases, weights, k + 1 if len(per_rep_pairs) > 1 else None)
    if not per_rep_pairs:
        findings = _findings(ref_a, att_a, ref_idx, att_idx, phases, weights, None)
    phase_scores = []
    for p, name in enumerate(PHASES):
        sel = phases.labels[ref_idx] == p
        if sel.any():
            s = score_pairs(ref_a, att_a, ref_idx[sel], att_idx[sel], weights, directions=dirs)
            phase_scores.append(PhaseScore(name=name, label=phases.words(name), score=_r(s.score),  # type: ignore[arg-type]
                                           share=round(float(np.mean(phases.labels == p)), 3)))
    top = largest(findings)
    deviations = [Deviation(joint=f.joint, rep=f.rep, phase=f.phase, difference_deg=round(f.difference, 1),
                            text=describe(f)) for f in top]
    tempo = _tempo(reference, attempt, reps, per_rep)
    score = _r(calibrated_score(terms, shape_deviation(overall.score)))
    summary = [score_words(score)] + [d.text[0].upper() + d.text[1:] + "." for d in deviations[:3]]
    if score is not None and score < 99.5:
        summary += [f"Lowering the score: {t}." for t in _range_findings(ref_c, att_c, ref_idx, att_idx, terms, keys)]
    if mirrored:
        summary.append("Compared mirrored: the movement was done on the other side from the guide.")
    summary.append(tempo.text)
    report = ComparisonReport(
        posecoach_version=__version__,
        reference=_info(reference.seq, guide.name if guide else None, guide.description if guide else None,
                        guide_reps),
        attempt=_info(attempt.seq, reps=len(reps_found) or None),
        model=ModelInfo(name=attempt.seq.source.get("model"), sha256=attempt.seq.source.get("model_sha256")),
        score=score,
        alignment=AlignmentInfo(method="per_rep" if per_rep else "whole", mirrored=mirrored,
                                band_frames=band_frames(reference.features.num_frames,
                                                        attempt.features.num_frames, band),
                                mean_cost=round(_cost(tried[mirrored]), 4)),
        joints=joints, reps=reps, phases=phase_scores, deviations=deviations, tempo=tempo, summary=summary)
    return report, Matched(_guide_frame(ref_idx, att_idx, attempt.seq.num_frames), ref_a, att_a, mirrored, terms,
                           overall.score)


def _side_score(reference: Prepared, att_f: Features | None, alignments: list[Alignment], keys: list[str],
                fw: np.ndarray) -> float:
    """The calibrated overall score of the attempt's features ``att_f`` (plain or mirrored) along ``alignments``:
    when the plain and the mirrored attempt align about equally well (within `MIRROR_MARGIN` either way), the
    side that scores clearly better is kept (an inline lunge led by the other leg) instead of the plain one by
    default. UI-PRMD leave one subject out: inline lunge 0.789 -> 0.816 (estimated on cached alignments)."""
    if att_f is None:
        return float("-inf")
    ri = np.concatenate([a.shifted().ref for a in alignments])
    ai = np.concatenate([a.shifted().att for a in alignments])
    ref_a, att_a = angle_matrix(reference.features), angle_matrix(att_f)
    shape = score_pairs(ref_a, att_a, ri, ai, joint_weights(ref_a, keys), fw,
                        (reference.features.directions, att_f.directions)).score
    terms = deviation_features(channel_matrix(reference.features), channel_matrix(att_f), ri, ai, fw, keys)
    return calibrated_score(terms, shape_deviation(shape))


def _range_findings(ref_c: np.ndarray, att_c: np.ndarray, ref_idx: np.ndarray, att_idx: np.ndarray,
                    terms: np.ndarray, keys: list[str], limit: int = 2, min_share: float = 0.15) -> list[str]:
    """Plain words for the range-of-motion deviations that lower the calibrated score most (each at least
    ``min_share`` of its deviation), e.g. 'the right shoulder moves 18 % of the torso length sideways against
    the guide's 7 %'."""
    if not np.isfinite(terms).any():
        return []
    ref_rng, att_rng = channel_ranges(ref_c, att_c, ref_idx, att_idx)
    main = [int(k) for k in main_channels(ref_rng, keys)]
    point = main_point(ref_rng, keys)
    out: list[str] = []
    for name, share in contributions(terms):
        if share < min_share or len(out) == limit:
            break
        text = contribution_words(name, CHANNELS, ref_rng, att_rng, main, point)
        if text and text not in out:
            out.append(text)
    return out


def _findings(ref_a: np.ndarray, att_a: np.ndarray, ri: np.ndarray, ai: np.ndarray, phases: Phases,
              weights: np.ndarray, rep: int | None) -> list[Finding]:
    out = []
    for p, name in enumerate(PHASES):
        sel = phases.labels[ri] == p
        if sel.sum() < 2:
            continue
        s = score_pairs(ref_a, att_a, ri[sel], ai[sel], weights)
        out += [Finding(n, rep, name, phases.words(name), float(s.diff[j]), float(weights[j]))
                for j, n in enumerate(SCORED_ANGLES) if np.isfinite(s.diff[j]) and weights[j] > 0]
    return out


def _pace(ref_t: np.ndarray, att_t: np.ndarray, moving: np.ndarray) -> float:
    """Attempt seconds per guide second along the path (least-squares slope over the frames that move)."""
    sel = moving if moving.sum() >= 5 else np.ones(len(ref_t), bool)
    x, y = ref_t[sel], att_t[sel]
    if len(x) < 2 or np.ptp(x) <= 0:
        return float("nan")
    return float(np.polyfit(x, y, 1)[0])


def _tempo(reference: Prepared, attempt: Prepared, reps: list[RepScore], per_rep: bool) -> Tempo:
    if per_rep and reps:
        att_s = float(np.mean([r.duration_s for r in reps]))
        guide_s = att_s / float(np.mean([r.tempo_ratio for r in reps]))
    else:
        guide_s, att_s = reference.seq.duration, attempt.seq.duration
    return Tempo(guide_s=round(guide_s, 3), attempt_s=round(att_s, 3), ratio=round(att_s / guide_s, 3),
                 text=tempo_words(guide_s, att_s, per_rep))


def compare_sequences(reference: PoseSequence, attempt: PoseSequence, *, guide: Guide | None = None,
                      mirror: bool | None = None, band: float = DEFAULT_BAND, reps: bool = True) -> ComparisonReport:
    """Compare an attempt with a guide; see `match_sequences` (which also returns the alignment)."""
    return match_sequences(reference, attempt, guide=guide, mirror=mirror, band=band, reps=reps)[0]


def match_sequences(reference: PoseSequence, attempt: PoseSequence, *, guide: Guide | None = None,
                    mirror: bool | None = None, band: float = DEFAULT_BAND, reps: bool = True,
                    ) -> tuple[ComparisonReport, Matched]:
    """Compare an attempt with a guide (reference) movement.

    ``guide`` gives the joints that matter and the guide's repetitions (else counted); ``mirror`` None (default)
    also tries the attempt mirrored and keeps it when it aligns clearly better; ``band`` is the DTW band as a
    share of the longer sequence; ``reps=False`` skips repetition counting (one alignment of the whole).
    """
    ref = prepare(reference, role="guide", mirror=False, reps=reps and not (guide and guide.reps))
    att = prepare(attempt, role="attempt", mirror=mirror is not False, reps=reps)
    return match_prepared(ref, att, guide=guide, mirror=mirror, band=band)
