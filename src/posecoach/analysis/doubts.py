"""Why an analysis may be doubtful: warnings with their reason for the `AnalysisReport`.

The input: a video cut short or partly unreadable, the person lost for part of the clip, a pose the model is
unsure of. The choice: an exercise named by the caller that the movement clearly is not (recognition disagrees).
Warnings never change what was counted; they say how far to trust it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from posecoach.analysis.recognition import OTHER, Recognition
from posecoach.core.sequence import PoseSequence
from posecoach.reports.analysis_report import FrameRange, ReportWarning

#: Share of the clip (or longest gap, seconds) without the person that is worth a warning.
LOST_SHARE = 0.10
LOST_GAP_S = 1.0
#: Median visibility of the body's main joints (each on its better-seen side) under which the pose is unsure.
LOW_VISIBILITY = 0.5
#: The recognised exercise must score at least this, and the named one at most `WRONG_RATIO` of it.
WRONG_MIN_SCORE = 0.4
WRONG_RATIO = 0.5
_BODY = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")


def _runs(mask: np.ndarray) -> list[FrameRange]:
    """Inclusive ``(first, last)`` frame ranges where ``mask`` is true."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _a(title: str) -> str:
    t = title[:1].lower() + title[1:]
    return f"an {t}" if t[:1] in "aeiou" else f"a {t}"


def video_warnings(seq: PoseSequence) -> list[ReportWarning]:
    """A video the reader could not read whole (`VideoReader.truncated`, frames short of the planned)."""
    src = seq.source
    out = []
    declared, n = src.get("declared_frames"), seq.num_frames
    if src.get("truncated"):
        of = f" of the {declared} it declares" if declared else ""
        out.append(ReportWarning(code="truncated_video", message=f"The video file is cut short or damaged: only "
                                 f"{n} frames{of} could be read; the analysis covers that part only."))
    if "truncated_at_frame" in src and not src.get("truncated"):
        out.append(ReportWarning(code="unreadable_frames", message=f"Frames from {src['truncated_at_frame']} on "
                                 "could not be decoded (a damaged file); the analysis covers the frames before."))
    return out


def pose_warnings(seq: PoseSequence) -> list[ReportWarning]:
    """Nobody in the video; the person lost for part of it; a pose the model is unsure of."""
    if not seq.num_frames:
        return []
    if not seq.num_people or not seq.detection_rate():
        return [ReportWarning(code="no_person", message="Nobody was found in the video: nothing could be measured "
                              "(check that the whole body is in view and lit).")]
    out = []
    seen = seq.detected[:, seq.person_index()]
    lost = _runs(~seen)
    times = seq.timestamps
    longest = max((float(times[b] - times[a]) + 1 / max(seq.fps, 1e-6) for a, b in lost), default=0.0)
    share = 1.0 - float(seen.mean())
    if lost and (share >= LOST_SHARE or longest >= LOST_GAP_S):
        out.append(ReportWarning(code="person_lost", message=f"The person was not found in {share:.0%} of the "
                                 f"video (longest gap {longest:.1f} s): repetitions or errors there are not "
                                 "counted.", frames=lost))
    names = seq.skeleton.names
    pairs = [(names.index(f"left_{j}"), names.index(f"right_{j}")) for j in _BODY
             if f"left_{j}" in names and f"right_{j}" in names]
    if pairs and seq.landmarks.shape[-1] > 3:
        lm = seq.subject_landmarks()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # each joint on its better-seen side: the far side of a side view is hidden, not unsure
            vis = np.stack([np.fmax(lm[:, a, 3], lm[:, b, 3]) for a, b in pairs], axis=1)
            per_frame = np.nanmedian(vis, axis=1)
        rows = per_frame[seen & np.isfinite(per_frame)]
        if rows.size and float(np.median(rows)) < LOW_VISIBILITY:
            low = _runs(seen & (np.nan_to_num(per_frame, nan=1.0) < LOW_VISIBILITY))
            out.append(ReportWarning(code="low_confidence", message=f"The pose model is unsure of the body (median "
                                     f"visibility {float(np.median(rows)):.2f}, under {LOW_VISIBILITY}): the camera "
                                     "may not see the whole body well; angles and counts may be off.", frames=low))
    return out


def exercise_warning(given: str, given_title: str, rec: Recognition | None, titles: Mapping[str, str],
                     ) -> ReportWarning | None:
    """A warning when recognition clearly disagrees with the exercise the caller named."""
    if rec is None or rec.name in (OTHER, given):
        return None
    top, mine = rec.scores.get(rec.name, 0.0), rec.scores.get(given, 0.0)
    if top < WRONG_MIN_SCORE or mine > WRONG_RATIO * top:
        return None
    seen = titles.get(rec.name, rec.name)
    return ReportWarning(code="wrong_exercise", message=f"This looks like {_a(seen)}, not {_a(given_title)} "
                         f"(match {top:.2f} against {mine:.2f}): check the exercise chosen; the counts and form "
                         f"checks are those of {_a(given_title)}.")
