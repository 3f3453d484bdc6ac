"""Side-by-side video: the guide (at the frame aligned with each attempt frame) beside the attempt, as stick
figures, joints deviating by more than `HIGHLIGHT_DEG` drawn in red with their difference. Written atomically."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from posecoach.analysis.compare import Matched
from posecoach.analysis.compare.features import SCORED_ANGLES
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.features.angles import ANGLE_JOINT, image_size
from posecoach.io.writer import VideoWriter
from posecoach.reports.comparison_report import ComparisonReport

HIGHLIGHT_DEG = 15.0
PANEL = 480  # pixels per side (square panels)
_RED, _BONE, _JOINT, _TEXT = (230, 40, 40), (90, 170, 255), (240, 240, 240), (255, 255, 255)
_BODY = [(a, b) for a, b in BLAZEPOSE_33.edges if min(a, b) >= 11]  # no face


def _fit(seq: PoseSequence) -> np.ndarray:
    """``(T, 33, 2)`` pixel positions in a panel, one scale for the whole sequence (the body fills ~80 %)."""
    lm = np.asarray(seq.subject_landmarks(), dtype=np.float64)
    w, h = image_size(seq)
    xy = lm[..., :2] * [w, h]
    body = xy[:, 11:]
    lo, hi = np.nanmin(body.reshape(-1, 2), 0), np.nanmax(body.reshape(-1, 2), 0)
    scale = 0.8 * PANEL / max(float(np.max(hi - lo)), 1e-9)
    return (xy - (lo + hi) / 2) * scale + PANEL / 2


def _draw(img: np.ndarray, pts: np.ndarray, red: dict[int, float]) -> None:
    for a, b in _BODY:
        if np.isfinite(pts[[a, b]]).all():
            cv2.line(img, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), _BONE, 3, cv2.LINE_AA)
    for k in range(11, 33):
        if np.isfinite(pts[k]).all():
            p = tuple(int(v) for v in pts[k])
            cv2.circle(img, p, 9 if k in red else 4, _RED if k in red else _JOINT, -1, cv2.LINE_AA)
            if k in red:
                cv2.putText(img, f"{red[k]:+.0f}", (p[0] + 10, p[1] - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.55, _RED, 2,
                            cv2.LINE_AA)


def render_side_by_side(reference: PoseSequence, attempt: PoseSequence, report: ComparisonReport,
                        matched: Matched, out: str | Path) -> Path:
    """Write the video (one frame per attempt frame, at the attempt's frame rate); returns its path."""
    ref_px, att_px = _fit(reference), _fit(attempt)
    if matched.mirrored:  # show the guide mirrored too, so both move on the same side of the screen
        ref_px[..., 0] = PANEL - ref_px[..., 0]
    joint_kp = [ANGLE_JOINT[n] for n in SCORED_ANGLES]
    diff = matched.attempt_angles - matched.guide_angles[matched.guide_frame]
    if matched.mirrored:  # the attempt's angles are named after the mirrored body: name them as drawn
        joint_kp = [int(BLAZEPOSE_33.mirror_indices()[k]) for k in joint_kp]
    t0 = float(attempt.timestamps[0]) if attempt.num_frames else 0.0
    with VideoWriter(out, attempt.fps, width=2 * PANEL, height=PANEL) as writer:
        for i in range(attempt.num_frames):
            img = np.full((PANEL, 2 * PANEL, 3), 24, np.uint8)
            g = int(matched.guide_frame[i])
            red = {joint_kp[j]: float(diff[i, j]) for j in range(len(SCORED_ANGLES))
                   if np.isfinite(diff[i, j]) and abs(diff[i, j]) > HIGHLIGHT_DEG}
            _draw(img[:, :PANEL], ref_px[g], {})
            _draw(img[:, PANEL:], att_px[i], red)
            cv2.line(img, (PANEL, 0), (PANEL, PANEL), (80, 80, 80), 1)
            score = f"{report.score:.0f}/100" if report.score is not None else "n/a"
            cv2.putText(img, f"guide  frame {g}", (12, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.65, _TEXT, 2, cv2.LINE_AA)
            cv2.putText(img, f"attempt  {attempt.timestamps[i] - t0:5.1f} s   score {score}", (PANEL + 12, 26),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.65, _TEXT, 2, cv2.LINE_AA)
            writer.write(img, float(attempt.timestamps[i] - t0))
    return Path(out)
