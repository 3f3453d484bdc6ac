"""A trained posture classifier over a whole sequence: per-frame postures, steady segments, repetitions.

`classify_postures(seq, clf)` is a pure function of the sequence and the classifier and returns a
`PostureReport`: the classifier's calibrated probabilities per frame, smoothed (EMA + hysteresis, unless
``smoothing=None``), cut into segments of one steady posture, with the time spent in each and, when two postures
are named, the repetitions between them; every change of posture is counted (`transitions`). `LivePostures`
does the same one frame at a time.
"""

from __future__ import annotations

import numpy as np

from posecoach.analysis.posture.classifier import UNKNOWN, PostureClassifier
from posecoach.analysis.posture.embedding import frame_points
from posecoach.analysis.posture.smoothing import PostureSmoother, SmoothingParams, smooth_postures
from posecoach.analysis.posture.transitions import TransitionCounter, count_transitions, transition_counts
from posecoach.core.sequence import PoseSequence
from posecoach.reports.posture_report import (
    ClassifierInfo,
    PostureFrame,
    PostureReport,
    Repetitions,
    Segment,
    TransitionCount,
    TransitionRep,
)


def classifier_info(clf: PostureClassifier, path: str | None = None) -> ClassifierInfo:
    sel = clf.selection_
    chosen = [s for s in sel.scores if s.get("chosen")]
    return ClassifierInfo(path=path, model=sel.kind, params=sel.params, classes=clf.classes_,
                          cv_accuracy=chosen[0]["accuracy"] if chosen else None, temperature=sel.temperature)


def segments(states: np.ndarray, times: np.ndarray) -> list[Segment]:
    """Runs of one posture (frames without one, "", are left out)."""
    out: list[Segment] = []
    start = 0
    for i in range(1, len(states) + 1):
        if i == len(states) or states[i] != states[start]:
            if states[start] != UNKNOWN:
                out.append(Segment(posture=str(states[start]), start_frame=start, end_frame=i - 1,
                                   start_s=float(times[start]), end_s=float(times[i - 1])))
            start = i
    return out


def classify_postures(seq: PoseSequence, clf: PostureClassifier, *, smoothing: SmoothingParams | None = None,
                      count: tuple[str, str] | None = None, per_frame: bool = True,
                      model_path: str | None = None) -> PostureReport:
    """Postures of the subject of ``seq``; ``count=(first, second)`` counts ``first -> second -> first`` cycles."""

    if count is not None:
        unknown = [c for c in count if c not in clf.classes_]
        if unknown:
            raise ValueError(f"the classifier has no posture {', '.join(map(repr, unknown))}; "
                             f"it knows: {', '.join(clf.classes_)}")
    times = seq.timestamps - (seq.timestamps[0] if seq.num_frames else 0.0)
    proba = clf.predict_proba(seq)
    raw = clf.labels_of(proba)
    if smoothing is not None:
        smoothed, states = smooth_postures(proba, times, clf.classes_, smoothing)
    else:
        smoothed, states = proba, raw
    segs = segments(states, times)
    found_pose = np.all(np.isfinite(proba), axis=1)
    mean_p = proba[found_pose].mean(axis=0) if np.any(found_pose) else np.full(len(clf.classes_), np.nan)
    overall = clf.classes_[int(np.argmax(mean_p))] if np.any(found_pose) else UNKNOWN
    frame_s = np.diff(np.append(times, times[-1] + 1.0 / seq.fps)) if seq.num_frames else np.zeros(0)
    time_in = {c: float(np.sum(frame_s[states == c])) for c in clf.classes_}
    reps = None
    if count is not None:
        found = count_transitions(states, *count)
        reps = Repetitions(first=count[0], second=count[1], count=len(found), items=[
            TransitionRep(index=i + 1, start_frame=r.start_frame, turn_frame=r.turn_frame, end_frame=r.end_frame,
                          start_s=float(times[r.start_frame]), turn_s=float(times[r.turn_frame]),
                          end_s=float(times[r.end_frame])) for i, r in enumerate(found)])
    frames = []
    if per_frame:
        for i in range(seq.num_frames):
            probs = ({c: round(float(v), 5) for c, v in zip(clf.classes_, smoothed[i], strict=True)}
                     if np.all(np.isfinite(smoothed[i])) else {})
            frames.append(PostureFrame(frame=i, time_s=round(float(times[i]), 5), posture=str(states[i]),
                                       raw=str(raw[i]), probabilities=probs))
    return PostureReport(
        **PostureReport.header(seq),
        classifier=classifier_info(clf, model_path),
        smoothing={} if smoothing is None else {k: float(v) for k, v in vars(smoothing).items()},
        overall=overall, overall_probabilities={c: float(v) for c, v in zip(clf.classes_, mean_p, strict=True)
                                                if np.isfinite(v)},
        time_per_posture_s=time_in, segments=segs, repetitions=reps, per_frame=frames,
        transitions=[TransitionCount(from_posture=a, to_posture=b, count=n)
                     for (a, b), n in transition_counts(states).items()])


class LivePostures:
    """The live form of `classify_postures`: one frame at a time (e.g. from a camera), same postures and reps.

    ``update(landmarks, t)`` takes one frame's ``(33, 3|4|5)`` normalised landmarks (NaN or zeros: nobody) at
    ``t`` seconds, with the frame's ``width`` / ``height`` for its proportions, and returns the steady posture.
    """

    def __init__(self, clf: PostureClassifier, *, smoothing: SmoothingParams | None = None,
                 count: tuple[str, str] | None = None, width: float = 1.0, height: float = 1.0) -> None:
        self.clf = clf
        self.smoother = PostureSmoother(clf.classes_, smoothing or SmoothingParams())
        self.counter = TransitionCounter(*count) if count is not None else None
        self.scale = np.array([width, height, width], dtype=np.float64)
        self.frame = 0

    def update(self, landmarks: np.ndarray, t: float) -> str:
        points = frame_points(np.asarray(landmarks, dtype=np.float64)[None, :, :3] * self.scale)
        state = self.smoother.update(self.clf.predict_points(points)[0], t)
        if self.counter is not None:
            self.counter.update(self.frame, state)
        self.frame += 1
        return state

    @property
    def count(self) -> int:
        return self.counter.count if self.counter is not None else 0
