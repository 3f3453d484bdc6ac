"""Side-by-side video: the guide's real frame matched to each attempt frame by the comparison's alignment
(`Matched.guide_frame`) on the left, the attempt's real frame on the right, each cropped to its person (one crop
for the whole clip) and drawn with its skeleton; the attempt's
joints deviating by more than `HIGHLIGHT_DEG` are drawn in red with their difference, and the same joints are
ringed in amber on the guide. A side given without a video (poses only, or a video that cannot be read or does not
match its poses) is drawn as a stick figure on a plain background, and its caption says so.

One output frame per attempt frame, at the attempt's times. Frames are streamed (`IndexedFrames`: one decoded
frame per side in memory) and the file appears only when complete (`VideoWriter` writes to a temporary file and
renames it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posecoach.analysis.compare import Matched
from posecoach.analysis.compare.features import SCORED_ANGLES
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.errors import PoseCoachError
from posecoach.features.angles import ANGLE_JOINT, image_size
from posecoach.io.writer import VideoWriter
from posecoach.render.aligned_frames import IndexedFrames
from posecoach.render.overlay_video import OVERLAY_PRESET
from posecoach.reports.comparison_report import ComparisonReport

HIGHLIGHT_DEG = 15.0
PANEL = 480  # panel height in pixels; its width follows the videos' shape (square for poses only)
MIN_VISIBILITY = 0.5  # keypoints less visible than this are not drawn on a real frame
RGB = tuple[int, int, int]
RED: RGB = (230, 40, 40)  # a deviating joint of the attempt
AMBER: RGB = (255, 190, 0)  # the same joint on the guide
_BONE, _JOINT, _TEXT, _DARK, _PLAIN = (90, 170, 255), (240, 240, 240), (255, 255, 255), (0, 0, 0), 24
_BODY = [(a, b) for a, b in BLAZEPOSE_33.edges if min(a, b) >= 11]  # no face
_FONT = cv2.FONT_HERSHEY_SIMPLEX
NO_VIDEO = "poses only: no video"
CROP_MARGIN = 0.15  # around the person's extent over the clip, as a share of its larger side
Box = tuple[int, int, int, int]


@dataclass
class Side:
    """One half of the picture: the skeleton's panel positions per frame and, when shown, the real frames."""

    name: str
    px: np.ndarray  # (T, 33, 2) pixel positions in the panel, NaN where unknown
    shown: np.ndarray  # (T, 33) bool: seen well enough to draw (a deviating joint is drawn whenever known)
    frames: IndexedFrames | None  # None: the stick figure on a plain background
    note: str  # why there is no video ("" when there is one)
    box: Box  # where the (cropped) frame goes in the panel: x, y, width, height
    crop: Box  # the part of the frame shown: x, y, width, height in the frame's pixels
    flip: bool  # mirrored left-right (the guide, when the attempt was matched mirrored)

    def image(self, index: int, width: int) -> np.ndarray:
        """The panel's background: the real frame ``index``, cropped to the person and fitted, or a plain one."""
        panel = np.full((PANEL, width, 3), _PLAIN, np.uint8)
        frame = self.frames.get(index) if self.frames is not None else None
        if frame is not None:
            (x, y, w, h), (cx, cy, cw, ch) = self.box, self.crop
            panel[y : y + h, x : x + w] = cv2.resize(
                frame[cy : cy + ch, cx : cx + cw], (w, h), interpolation=cv2.INTER_AREA
            )
        return panel[:, ::-1].copy() if self.flip else panel


def panel_width(aspects: list[float]) -> int:
    """Panel width (even) for the wider side, between portrait 9:16 and landscape 16:9."""
    return round(PANEL * float(np.clip(max(aspects), 9 / 16, 16 / 9)) / 2) * 2


def _stick_positions(seq: PoseSequence, width: int) -> np.ndarray:
    """Pixel positions for a stick figure: one scale for the whole sequence, the body filling ~80 % of the panel."""
    lm = np.asarray(seq.subject_landmarks(), dtype=np.float64)
    w, h = image_size(seq)
    xy = lm[..., :2] * [w, h]
    body = xy[:, 11:].reshape(-1, 2)
    if not np.isfinite(body).any():
        return xy
    lo, hi = np.nanmin(body, 0), np.nanmax(body, 0)
    scale = 0.8 * min(width / max(float(hi[0] - lo[0]), 1e-9), PANEL / max(float(hi[1] - lo[1]), 1e-9))
    return (xy - (lo + hi) / 2) * scale + [width / 2, PANEL / 2]


def _seen(lm: np.ndarray) -> np.ndarray:
    """``(T, K)``: keypoints seen well enough to draw on a real frame (an unknown visibility counts as seen)."""
    return ~((lm[..., 3] < MIN_VISIBILITY) | (lm[..., 4] < MIN_VISIBILITY)) & np.isfinite(lm[..., :2]).all(axis=-1)


def person_crop(seq: PoseSequence, frame_w: int, frame_h: int) -> Box:
    """The part of the frame the subject uses over the whole clip, with a margin (one crop for all frames, so
    the picture does not move); the whole frame when nobody was seen. A few stray frames are ignored."""
    lm = np.asarray(seq.subject_landmarks(), dtype=np.float64)
    xy, seen = lm[..., :2] * [frame_w, frame_h], _seen(lm)
    frames = np.flatnonzero(seen.sum(axis=1) >= 3)
    if not len(frames):
        return 0, 0, frame_w, frame_h
    lows = np.array([xy[t][seen[t]].min(axis=0) for t in frames])
    highs = np.array([xy[t][seen[t]].max(axis=0) for t in frames])
    lo, hi = np.percentile(lows, 2, axis=0), np.percentile(highs, 98, axis=0)
    pad = CROP_MARGIN * float(np.max(hi - lo))
    lo = np.clip(np.floor(lo - pad), 0, [frame_w - 1, frame_h - 1]).astype(int)
    hi = np.clip(np.ceil(hi + pad), lo + 1, [frame_w, frame_h]).astype(int)
    return int(lo[0]), int(lo[1]), int(hi[0] - lo[0]), int(hi[1] - lo[1])


def widen(crop: Box, aspect: float, frame_w: int, frame_h: int) -> Box:
    """``crop`` grown (centred, kept inside the frame) towards width / height = ``aspect``, so that the panel is
    filled with picture rather than bars where the frame allows."""
    x, y, w, h = crop
    want_w, want_h = max(w, min(frame_w, round(h * aspect))), max(h, min(frame_h, round(w / aspect)))
    x = int(np.clip(x + w / 2 - want_w / 2, 0, frame_w - want_w))
    y = int(np.clip(y + h / 2 - want_h / 2, 0, frame_h - want_h))
    return x, y, want_w, want_h


def _video_positions(seq: PoseSequence, frames: IndexedFrames, crop: Box, box: Box) -> tuple[np.ndarray, np.ndarray]:
    """Pixel positions on the cropped and fitted real frame, and which keypoints are seen well enough to draw."""
    lm = np.asarray(seq.subject_landmarks(), dtype=np.float64)
    (cx, cy, cw, _), (x, y, w, _) = crop, box
    return (lm[..., :2] * [frames.width, frames.height] - [cx, cy]) * (w / cw) + [x, y], _seen(lm)


def _open_video(seq: PoseSequence, video: str | Path | None) -> tuple[IndexedFrames | None, str]:
    """The frames of ``video`` when they are the ones ``seq`` was estimated from, else None and the reason."""
    if video is None:
        return None, NO_VIDEO
    try:
        frames = IndexedFrames(video)
    except PoseCoachError:
        return None, "poses only: its video cannot be read"
    w, h = seq.source.get("width"), seq.source.get("height")
    if len(frames) != seq.num_frames or (w and h and (int(w), int(h)) != (frames.width, frames.height)):
        frames.close()
        return None, "poses only: its video does not match them"
    return frames, ""


def _fit_box(frame_w: int, frame_h: int, width: int) -> Box:
    scale = min(width / frame_w, PANEL / frame_h)
    w, h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
    return (width - w) // 2, (PANEL - h) // 2, w, h


def make_sides(
    reference: PoseSequence,
    attempt: PoseSequence,
    matched: Matched,
    reference_video: str | Path | None,
    attempt_video: str | Path | None,
) -> tuple[Side, Side, int]:
    """The guide's and the attempt's sides, and the panel width. Close their ``frames`` when done."""
    opened = [_open_video(reference, reference_video), _open_video(attempt, attempt_video)]
    crops = [
        person_crop(seq, f.width, f.height) if f is not None else None
        for seq, (f, _) in zip((reference, attempt), opened, strict=True)
    ]
    width = panel_width([c[2] / c[3] if c is not None else 1.0 for c in crops])
    sides = []
    for name, seq, (frames, note), crop, flip in (
        ("guide", reference, opened[0], crops[0], matched.mirrored),
        ("attempt", attempt, opened[1], crops[1], False),
    ):
        if frames is not None and crop is not None:
            crop = widen(crop, width / PANEL, frames.width, frames.height)
            box = _fit_box(crop[2], crop[3], width)
            px, shown = _video_positions(seq, frames, crop, box)
        else:
            crop, box, px = (0, 0, 0, 0), (0, 0, width, PANEL), _stick_positions(seq, width)
            shown = np.ones(px.shape[:2], bool)
        if flip:  # the guide mirrored too, so both move on the same side of the screen
            px[..., 0] = width - px[..., 0]
        sides.append(Side(name, px, shown & np.isfinite(px).all(axis=-1), frames, note, box, crop, flip))
    return sides[0], sides[1], width


def deviations(matched: Matched) -> tuple[np.ndarray, list[int], list[int]]:
    """``(M, J)`` attempt minus matched guide angle (degrees), and each angle's keypoint on the attempt and on
    the guide as drawn."""
    diff = matched.attempt_angles - matched.guide_angles[matched.guide_frame]
    guide_kp = [ANGLE_JOINT[n] for n in SCORED_ANGLES]
    attempt_kp = list(guide_kp)
    if matched.mirrored:  # the attempt's angles are named after the mirrored body: name them as drawn
        attempt_kp = [int(BLAZEPOSE_33.mirror_indices()[k]) for k in guide_kp]
    return diff, attempt_kp, guide_kp


def _point(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def _text(
    img: np.ndarray, text: str, at: tuple[int, int], color: RGB, scale: float = 0.6, outline: bool = True
) -> None:
    if outline:  # readable on any frame
        cv2.putText(img, text, at, _FONT, scale, _DARK, 4, cv2.LINE_AA)
    cv2.putText(img, text, at, _FONT, scale, color, 2 if scale >= 0.55 else 1, cv2.LINE_AA)


def draw_skeleton(img: np.ndarray, pts: np.ndarray, shown: np.ndarray, red: dict[int, float], amber: set[int]) -> None:
    """Bones and joints of one person (those ``shown``); ``red`` joints (with their difference in degrees) and
    ``amber`` rings, drawn wherever their position is known: the deviation is the message."""
    for a, b in _BODY:
        if shown[a] and shown[b]:
            cv2.line(img, _point(pts[a]), _point(pts[b]), _DARK, 5, cv2.LINE_AA)
            cv2.line(img, _point(pts[a]), _point(pts[b]), _BONE, 3, cv2.LINE_AA)
    known = [k for k in range(11, 33) if shown[k] or ((k in red or k in amber) and np.isfinite(pts[k]).all())]
    for k in known:
        if k not in red:
            cv2.circle(img, _point(pts[k]), 5, _DARK, -1, cv2.LINE_AA)
            cv2.circle(img, _point(pts[k]), 4, _JOINT, -1, cv2.LINE_AA)
    flagged = [k for k in known if k in red]
    labels: list[tuple[int, int]] = []
    for k in flagged:  # the differences, then the red dots over them: a dot is never hidden by a label
        p = _point(pts[k])
        at = (p[0] + 12, p[1] - 10)
        while any(abs(at[0] - x) < 40 and abs(at[1] - y) < 20 for x, y in labels):  # joints side by side
            at = (at[0], at[1] + 20)
        labels.append(at)
        _text(img, f"{red[k]:+.0f}", at, RED)
    for k in flagged:
        cv2.circle(img, _point(pts[k]), 11, _TEXT, -1, cv2.LINE_AA)
    for k in flagged:
        cv2.circle(img, _point(pts[k]), 9, RED, -1, cv2.LINE_AA)
    for k in known:
        if k in amber:
            cv2.circle(img, _point(pts[k]), 12, AMBER, 3, cv2.LINE_AA)


def _captions(img: np.ndarray, top: list[str], bottom: str) -> None:
    """A dark strip with ``top`` lines at the top of a panel, and a one-line key at the bottom."""
    strip = 14 + 24 * len(top)
    img[:strip] = (img[:strip] * 0.45).astype(np.uint8)
    for n, line in enumerate(top):
        _text(img, line, (10, 26 + 24 * n), _TEXT, 0.6 if n == 0 else 0.5, outline=False)
    if bottom:
        img[-28:] = (img[-28:] * 0.45).astype(np.uint8)
        _text(img, bottom, (10, PANEL - 9), _TEXT, 0.45, outline=False)


class SideBySide:
    """Draws output frame ``i``: the attempt's frame ``i`` beside the guide frame matched to it."""

    def __init__(
        self,
        reference: PoseSequence,
        attempt: PoseSequence,
        report: ComparisonReport,
        matched: Matched,
        *,
        reference_video: str | Path | None = None,
        attempt_video: str | Path | None = None,
    ) -> None:
        self.attempt = attempt
        self.matched = matched
        self.guide, self.attempt_side, self.width = make_sides(
            reference, attempt, matched, reference_video, attempt_video
        )
        self.diff, self.attempt_kp, self.guide_kp = deviations(matched)
        self.score = f"{report.score:.0f}/100" if report.score is not None else "n/a"
        self.guide_frames = reference.num_frames
        self.t0 = float(attempt.timestamps[0]) if attempt.num_frames else 0.0

    def highlighted(self, i: int) -> list[int]:
        """Indices (in `SCORED_ANGLES`) of the joints over `HIGHLIGHT_DEG` from the guide in attempt frame ``i``."""
        row = self.diff[i]
        return [j for j in range(len(SCORED_ANGLES)) if np.isfinite(row[j]) and abs(row[j]) > HIGHLIGHT_DEG]

    def frame(self, i: int) -> np.ndarray:
        g = int(self.matched.guide_frame[i])
        joints = self.highlighted(i)
        left = self.guide.image(g, self.width)
        draw_skeleton(left, self.guide.px[g], self.guide.shown[g], {}, {self.guide_kp[j] for j in joints})
        _captions(
            left,
            [f"guide  frame {g}/{self.guide_frames - 1}"] + [self.guide.note] * bool(self.guide.note),
            "amber: the joints to match" if joints else "",
        )
        right = self.attempt_side.image(i, self.width)
        draw_skeleton(
            right,
            self.attempt_side.px[i],
            self.attempt_side.shown[i],
            {self.attempt_kp[j]: float(self.diff[i, j]) for j in joints},
            set(),
        )
        t = float(self.attempt.timestamps[i]) - self.t0
        _captions(
            right,
            [f"attempt  frame {i}  {t:.1f} s", f"score {self.score}"]
            + [self.attempt_side.note] * bool(self.attempt_side.note),
            f"red: over {HIGHLIGHT_DEG:.0f} deg off the guide",
        )
        img = np.concatenate([left, right], axis=1)
        img[:, self.width - 1 : self.width + 1] = 80
        return img

    def close(self) -> None:
        for side in (self.guide, self.attempt_side):
            if side.frames is not None:
                side.frames.close()


def render_side_by_side(
    reference: PoseSequence,
    attempt: PoseSequence,
    report: ComparisonReport,
    matched: Matched,
    out: str | Path,
    *,
    reference_video: str | Path | None = None,
    attempt_video: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the video (one frame per attempt frame, at the attempt's times); returns its path.

    ``reference_video`` / ``attempt_video``: the videos the sequences were estimated from, shown behind the
    skeletons (a side without one shows its stick figure on a plain background).
    """
    drawer = SideBySide(
        reference, attempt, report, matched, reference_video=reference_video, attempt_video=attempt_video
    )
    total = attempt.num_frames
    try:
        with VideoWriter(out, attempt.fps, width=2 * drawer.width, height=PANEL, preset=OVERLAY_PRESET) as writer:
            for i in range(total):
                writer.write(drawer.frame(i), float(attempt.timestamps[i]) - drawer.t0)
                if progress is not None and (i % 8 == 7 or i == total - 1):
                    progress(i + 1, total)
    finally:
        drawer.close()
    return Path(out)
