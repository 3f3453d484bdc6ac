"""Give each person a stable track id across frames, and choose "the subject" of a sequence.

Tracking: each frame's people are matched to the live tracks by the Hungarian algorithm on a pose distance
(mean image distance of the keypoints both poses see, divided by the track's body size); pairs further
apart than ``max_distance`` body sizes are not matched. Unmatched people start new tracks; a track unseen
for ``max_age`` seconds ends. Ids are never reused.

Subject rule (`choose_subject`): the person the video is about is the one most present and most
prominent over the whole sequence, not the one with the highest detector score in some frame. Each track
scores the sum over its frames of ``visible share x body height (fraction of the frame) x centrality``,
where centrality falls linearly from 1 at the frame centre to 0.5 at the edge, times its movement relative to
the most moving person's (at least `MIN_MOVEMENT_WEIGHT`): how far its keypoints move about its own centre, in
body sizes. The highest score wins, so a small, peripheral or briefly seen bystander does not become the
subject, nor does a coach standing beside the person exercising.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

VISIBLE = 0.5
#: The least weight movement gives a person (one who stands still beside someone exercising).
MIN_MOVEMENT_WEIGHT = 0.25


def body_size(landmarks: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """Height of the visible-keypoint box in normalised units (``(..., K, 5)`` -> ``(...)``), at least 0.02.

    ``aspect`` = width / height scales x so that distances are isotropic.
    """
    x = landmarks[..., 0] * aspect
    y = landmarks[..., 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        w = np.nanmax(x, axis=-1) - np.nanmin(x, axis=-1)
        h = np.nanmax(y, axis=-1) - np.nanmin(y, axis=-1)
    return np.maximum(np.fmax(h, w), 0.02)


def pose_distance(a: np.ndarray, b: np.ndarray, aspect: float = 1.0) -> float:
    """Mean distance between the keypoints two poses (``(K, 5)``) both see, in units of a's body size."""
    both = (a[:, 3] >= VISIBLE) & (b[:, 3] >= VISIBLE) & np.isfinite(a[:, 0]) & np.isfinite(b[:, 0])
    if both.sum() < 3:
        both = np.isfinite(a[:, 0]) & np.isfinite(b[:, 0])
    if not both.any():
        return float("inf")
    d = (a[both, :2] - b[both, :2]) * np.array([aspect, 1.0], np.float32)
    return float(np.linalg.norm(d, axis=1).mean() / body_size(a, aspect))


def box_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection of two poses' keypoint boxes (``(K, 5)``) over the smaller box's area, 0-1 (0 when either
    pose has no keypoints): near 1 when one pose lies within the other, as two fits of one person do."""
    boxes = []
    for pose in (a, b):
        xy = pose[np.isfinite(pose[:, 0]), :2]
        if not len(xy):
            return 0.0
        boxes.append((xy.min(axis=0), xy.max(axis=0)))
    (lo_a, hi_a), (lo_b, hi_b) = boxes
    inter = np.clip(np.minimum(hi_a, hi_b) - np.maximum(lo_a, lo_b), 0.0, None).prod()
    smaller = min(float((hi_a - lo_a).prod()), float((hi_b - lo_b).prod()))
    return float(inter / smaller) if smaller > 0 else 0.0


@dataclass
class _Track:
    id: int
    last: np.ndarray
    last_time: float


@dataclass
class Tracker:
    """Online multi-person tracker: ``update(time, landmarks (n, K, 5)) -> ids (n,)``."""

    max_distance: float = 0.5
    max_age: float = 1.0
    aspect: float = 1.0
    next_id: int = 0
    tracks: list[_Track] = field(default_factory=list)

    def update(self, time_s: float, landmarks: np.ndarray) -> np.ndarray:
        self.tracks = [t for t in self.tracks if time_s - t.last_time <= self.max_age]
        n = len(landmarks)
        ids = np.full(n, -1, dtype=np.int64)
        if n and self.tracks:
            cost = np.array([[pose_distance(t.last, p, self.aspect) for p in landmarks] for t in self.tracks])
            rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9))
            for r, c in zip(rows, cols, strict=True):
                if cost[r, c] <= self.max_distance:
                    ids[c] = self.tracks[r].id
                    self.tracks[r].last = landmarks[c]
                    self.tracks[r].last_time = time_s
        for c in np.flatnonzero(ids < 0):
            ids[c] = self.next_id
            self.tracks.append(_Track(self.next_id, landmarks[c], time_s))
            self.next_id += 1
        return ids


def subject_scores(landmarks: np.ndarray, aspect: float = 1.0) -> np.ndarray:
    """Per-person prominence score of a ``(T, P, K, 5)`` array (see the module docstring)."""
    detected = np.isfinite(landmarks[..., 0]).any(axis=-1)  # (T, P)
    vis = np.where(np.isfinite(landmarks[..., 3]), landmarks[..., 3], 0.0)
    visible_share = (vis >= VISIBLE).mean(axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cx = np.nanmean(landmarks[..., 0], axis=-1)
        cy = np.nanmean(landmarks[..., 1], axis=-1)
    off = np.clip(np.maximum(np.abs(cx - 0.5), np.abs(cy - 0.5)) * 2.0, 0.0, 1.0)
    centrality = 1.0 - 0.5 * off
    size = body_size(landmarks, 1.0)  # height as a fraction of the frame
    per_frame = np.where(detected, visible_share * size * centrality, 0.0)
    moved = movement(landmarks)
    weight = np.maximum(moved / moved.max(), MIN_MOVEMENT_WEIGHT) if moved.size and moved.max() > 0 else 1.0
    return np.nansum(per_frame, axis=0) * weight


def movement(landmarks: np.ndarray) -> np.ndarray:
    """How much each person of a ``(T, P, K, 5)`` array moves: the mean over keypoints of the range (5th to 95th
    percentile over frames) of the keypoint's position about the person's centre, in units of the person's median
    body size (0 for someone seen in under 5 frames). Walking across the picture is not movement; squatting is."""
    out = np.zeros(landmarks.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for p in range(landmarks.shape[1]):
            lm = landmarks[:, p]
            lm = lm[np.isfinite(lm[..., 0]).any(axis=-1)]
            if len(lm) < 5:
                continue
            rel = (lm[..., :2] - np.nanmean(lm[..., :2], axis=1, keepdims=True)) / np.nanmedian(body_size(lm))
            lo, hi = np.nanpercentile(rel, [5, 95], axis=0)
            out[p] = np.nan_to_num(np.nanmean(np.linalg.norm(hi - lo, axis=-1)))
    return out


def choose_subject(landmarks: np.ndarray, track_ids: np.ndarray) -> int | None:
    """Track id of the subject of a ``(T, P, K, 5)`` sequence, or None when nobody was found."""
    if landmarks.shape[1] == 0:
        return None
    return int(track_ids[int(np.argmax(subject_scores(landmarks)))])


def link_fragments(landmarks: np.ndarray, world: np.ndarray, track_ids: np.ndarray, times: np.ndarray,
                   aspect: float = 1.0, max_distance: float = Tracker.max_distance,
                   max_age: float = Tracker.max_age) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join track fragments that are one person: a track that starts after another ended, within ``max_age``
    seconds and ``max_distance`` body sizes of where it ended, continues it (the rule `Tracker` applies frame by
    frame). Parallel segments of a long video are tracked apart and matched on a few overlap frames; when the
    new segment's tracker picks the person up only after them, this rejoins the two halves.

    ``landmarks (T, P, K, 5)``, ``world (T, P, K, 3)``, ``track_ids (P,)`` and ``times (T,)`` seconds; returns the
    arrays with merged columns removed (the earlier fragment keeps its id).
    """
    lm, wd = landmarks.copy(), world.copy()
    alive = list(range(lm.shape[1]))
    seen = np.isfinite(lm[..., 0]).any(axis=-1)  # (T, P)

    def span(p: int) -> tuple[int, int]:
        f = np.flatnonzero(seen[:, p])
        return int(f[0]), int(f[-1])

    while True:
        spans = {p: span(p) for p in alive if seen[:, p].any()}
        best: tuple[float, int, int] | None = None
        for b, (b0, _) in spans.items():
            for a, (_, a1) in spans.items():
                if a == b or a1 >= b0 or times[b0] - times[a1] > max_age:
                    continue
                d = pose_distance(lm[a1, a], lm[b0, b], aspect)
                if d <= max_distance and (best is None or d < best[0]):
                    best = (d, a, b)
        if best is None:
            break
        _, a, b = best
        rows = seen[:, b]
        lm[rows, a], wd[rows, a] = lm[rows, b], wd[rows, b]
        seen[rows, a] = True
        seen[:, b] = False
        alive.remove(b)
    return lm[:, alive], wd[:, alive], track_ids[alive]
