"""The pose engine: a video or image in, a `PoseSequence` out.

video -> parallel segments (decode on a thread, MediaPipe VIDEO mode, per-segment tracking) -> stitched
tracks -> subject choice -> short gaps filled and One Euro smoothing (raw values kept).
"""

from __future__ import annotations

import atexit
import contextlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from posecoach.core.parallel import (
    Segment,
    WorkerPool,
    counted,
    default_workers,
    plan_segments,
    prefetch,
    run_in_process,
)
from posecoach.core.sequence import PoseSequence
from posecoach.core.version import __version__
from posecoach.errors import InputError
from posecoach.pose.landmarker import NUM_KEYPOINTS, MediaPipeBackend
from posecoach.pose.smoothing import smooth_sequence
from posecoach.pose.tracking import Tracker, choose_subject, link_fragments, pose_distance

ProgressFn = Callable[[int, int], None]  # (frames done, frames total)


@dataclass(frozen=True)
class BackendOptions:
    """What a worker process needs to build its MediaPipe backend (picklable)."""

    model: str = "full"
    max_people: int = 2
    min_detection_confidence: float = 0.5
    min_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


@dataclass
class SegmentResult:
    """One segment's poses with segment-local track ids; frame ``i`` is video frame ``first + i``."""

    first: int
    landmarks: np.ndarray  # (n, P, 33, 5)
    world: np.ndarray  # (n, P, 33, 3)
    track_ids: np.ndarray  # (P,)


_backends: dict[BackendOptions, MediaPipeBackend] = {}


def _close_backends() -> None:
    for backend in _backends.values():
        # At interpreter exit MediaPipe may have shut its own dispatcher down first (its exit hook is registered
        # when it is first used, after ours, so it runs before): its resources are gone with the process anyway,
        # and a traceback on the way out would only alarm the user.
        with contextlib.suppress(RuntimeError):
            backend.close()
    _backends.clear()


atexit.register(_close_backends)


def _backend(opts: BackendOptions) -> MediaPipeBackend:
    """A backend per process and options, reset for each new segment (creating one costs ~0.2 s)."""
    backend = _backends.get(opts)
    if backend is None:
        backend = _backends[opts] = MediaPipeBackend(**asdict(opts))
    backend.reset()
    return backend


def densify(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame ``(ids, landmarks, world)`` lists -> dense ``(T, P, 33, 5)``, ``(T, P, 33, 3)``, ids ``(P,)``."""
    ids = np.unique(np.concatenate([r[0] for r in rows])) if rows else np.zeros(0, np.int64)
    column = {int(t): i for i, t in enumerate(ids)}
    lm = np.full((len(rows), len(ids), NUM_KEYPOINTS, 5), np.nan, np.float32)
    wd = np.full((len(rows), len(ids), NUM_KEYPOINTS, 3), np.nan, np.float32)
    for t, (frame_ids, frame_lm, frame_wd) in enumerate(rows):
        for j, tid in enumerate(frame_ids):
            lm[t, column[int(tid)]] = frame_lm[j]
            wd[t, column[int(tid)]] = frame_wd[j]
    return lm, wd, ids.astype(np.int64)


#: The part of the frame (left, top, right, bottom; normalised) looked at again when nobody was found in the
#: whole frame: MediaPipe's person detector sees the frame at 224 px, where someone filmed from afar in a wide
#: frame is too small to find (QUVA's backlit barbell clips: 0 of 15 sampled frames, 15 of 15 zoomed in).
ZOOM = (1 / 6, 1 / 6, 5 / 6, 5 / 6)


def crop_box(crop: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """A normalised ``(left, top, right, bottom)`` crop in whole pixels: ``(x0, y0, x1, y1)``."""
    x0, y0 = round(crop[0] * width), round(crop[1] * height)
    return x0, y0, max(round(crop[2] * width), x0 + 1), max(round(crop[3] * height), y0 + 1)


def uncrop(landmarks: np.ndarray, box: tuple[int, int, int, int], width: int, height: int) -> np.ndarray:
    """Landmarks ``(..., 33, 5)`` found in the ``box`` of a ``width x height`` frame, in whole-frame units."""
    x0, y0, x1, y1 = box
    out = landmarks.copy()
    out[..., 0] = (x0 + landmarks[..., 0] * (x1 - x0)) / width
    out[..., 1] = (y0 + landmarks[..., 1] * (y1 - y0)) / height
    out[..., 2] = landmarks[..., 2] * (x1 - x0) / width  # MediaPipe's z is in the image's x scale
    return out


def pose_segment(path: str, seg: Segment, opts: BackendOptions, aspect: float,
                 crop: tuple[float, float, float, float] | None = None) -> SegmentResult:
    """Run the backend and a tracker over one segment of a video (executed inside a worker process), on the
    whole frame or on a ``crop`` of it (landmarks still in whole-frame units)."""
    from posecoach.io import VideoReader

    backend = _backend(opts)
    tracker = Tracker(aspect=aspect)
    rows = []
    with VideoReader(path, threads=1) as reader:
        for frame in counted(prefetch(reader.frames(seg.warmup_start, seg.stop))):
            if crop is None:
                poses = backend(frame.image, frame.time)
                lm = poses.landmarks
            else:
                h, w = frame.image.shape[:2]
                box = crop_box(crop, w, h)
                poses = backend(np.ascontiguousarray(frame.image[box[1]:box[3], box[0]:box[2]]), frame.time)
                lm = uncrop(poses.landmarks, box, w, h)
            rows.append((tracker.update(frame.time, lm), lm, poses.world))
    lm, wd, ids = densify(rows)
    return SegmentResult(seg.warmup_start, lm, wd, ids)


def _match_tracks(prev_lm: np.ndarray, next_lm: np.ndarray, aspect: float, max_distance: float) -> dict[int, int]:
    """Column matches between two ``(n, P, 33, 5)`` views of the same overlap frames."""
    if not prev_lm.size or not next_lm.size:
        return {}
    cost = np.full((prev_lm.shape[1], next_lm.shape[1]), np.inf)
    for a in range(prev_lm.shape[1]):
        for b in range(next_lm.shape[1]):
            d = [pose_distance(prev_lm[t, a], next_lm[t, b], aspect) for t in range(len(prev_lm))]
            d = [v for v in d if np.isfinite(v)]
            if d:
                cost[a, b] = float(np.median(d))
    rows, cols = linear_sum_assignment(np.where(np.isfinite(cost), cost, 1e9))
    return {int(c): int(r) for r, c in zip(rows, cols, strict=True) if cost[r, c] <= max_distance}


def stitch(segments: list[SegmentResult], starts: list[int], aspect: float,
           max_distance: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join segment results into one ``(T, P, ...)`` array set with global track ids.

    Segment k counts from ``starts[k]``; its earlier (warm-up) frames overlap segment k-1 and are used only
    to match its tracks to k-1's. Tracks without a match get new ids.
    """
    glm: list[np.ndarray] = []  # per segment, columns in global id order
    gwd: list[np.ndarray] = []
    P = 0  # global tracks so far; global ids are 0..P-1
    prev: SegmentResult | None = None
    prev_cols: list[int] = []  # global column of each of prev's local columns
    for seg, start in zip(segments, starts, strict=True):
        skip = start - seg.first
        mapping: dict[int, int] = {}
        if prev is not None and skip > 0:
            tail = prev.landmarks[len(prev.landmarks) - skip:]
            mapping = {b: prev_cols[a] for b, a in _match_tracks(tail, seg.landmarks[:skip], aspect,
                                                                  max_distance).items()}
        cols = []
        for b in range(len(seg.track_ids)):
            if b not in mapping:
                mapping[b] = P
                P += 1
            cols.append(mapping[b])
        body_lm = np.full((len(seg.landmarks) - skip, P, NUM_KEYPOINTS, 5), np.nan, np.float32)
        body_wd = np.full((len(seg.landmarks) - skip, P, NUM_KEYPOINTS, 3), np.nan, np.float32)
        body_lm[:, cols] = seg.landmarks[skip:]
        body_wd[:, cols] = seg.world[skip:]
        glm.append(body_lm)
        gwd.append(body_wd)
        prev, prev_cols = seg, cols
    lm = np.concatenate([_pad_people(a, P) for a in glm]) if glm else np.zeros((0, 0, NUM_KEYPOINTS, 5), np.float32)
    wd = np.concatenate([_pad_people(a, P) for a in gwd]) if gwd else np.zeros((0, 0, NUM_KEYPOINTS, 3), np.float32)
    return lm, wd, np.arange(P, dtype=np.int64)


def _pad_people(a: np.ndarray, P: int) -> np.ndarray:
    if a.shape[1] == P:
        return a
    pad = np.full((a.shape[0], P - a.shape[1], *a.shape[2:]), np.nan, a.dtype)
    return np.concatenate([a, pad], axis=1)


def drop_short_tracks(lm: np.ndarray, wd: np.ndarray, ids: np.ndarray, min_frames: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Remove tracks seen in fewer than ``min_frames`` frames (spurious detections), keeping at least one."""
    seen = np.isfinite(lm[..., 0]).any(axis=-1).sum(axis=0)
    keep = seen >= min_frames
    if not keep.any() and len(ids):
        keep = seen == seen.max()
    return lm[:, keep], wd[:, keep], ids[keep]


class PoseEngine:
    """Estimate poses in videos and images.

    ``model``: lite | full | heavy. ``max_people``: how many people to track (the subject is chosen among
    them, see `posecoach.pose.tracking`). ``workers``: processes for long videos (default: one per core).
    ``smooth``: fill short dropouts (<= ``max_gap`` s) and apply a One Euro filter, keeping raw values.
    ``zoom``: when nobody is found in the whole frame, look again at its centre (`ZOOM`), where someone small
    and far away is big enough for the person detector.
    Use as a context manager so worker processes are reused across videos and closed at the end.
    """

    def __init__(self, model: str = "full", *, max_people: int = 2, workers: int | None = None,
                 smooth: bool = True, max_gap: float = 0.25, min_cutoff: float | None = None,
                 beta: float | None = None, min_detection_confidence: float = 0.5,
                 min_segment_frames: int = 300, overlap: int = 10, zoom: bool = True) -> None:
        from posecoach.pose import models

        self.options = BackendOptions(model, max_people, min_detection_confidence)
        self.model_path, self.model_sha256 = models.resolve(model)
        self.workers = workers or default_workers()
        self.smooth = smooth
        self.smoothing: dict[str, Any] = {"max_gap": max_gap}
        if min_cutoff is not None:
            self.smoothing["min_cutoff"] = min_cutoff
        if beta is not None:
            self.smoothing["beta"] = beta
        self.min_segment_frames = min_segment_frames
        self.overlap = overlap
        self.zoom = zoom
        self._pool: WorkerPool | None = None

    def __enter__(self) -> PoseEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pool(self) -> WorkerPool:
        """The engine's worker processes (started on first use; other parallel stages may share them)."""
        if self._pool is None:
            self._pool = WorkerPool(self.workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _source(self, info: dict[str, Any]) -> dict[str, Any]:
        return {**info, "model": self.options.model, "model_sha256": self.model_sha256,
                "posecoach_version": __version__, "max_people": self.options.max_people}

    def process(self, path: str | Path, progress: ProgressFn | None = None) -> PoseSequence:
        """Poses for every frame of a video (or the single frame of an image)."""
        from posecoach.io import VideoReader, is_image

        if is_image(path):
            return self.process_image(path)
        with VideoReader(path) as reader:
            info = reader.info
            timestamps = np.asarray(reader.timestamps, dtype=np.float64)
        total = len(timestamps)
        aspect = info.width / info.height
        segments = plan_segments(total, self.workers, overlap=self.overlap, min_frames=self.min_segment_frames)
        counted = sum(seg.num_frames for seg in segments)

        def tick(done: int) -> None:
            if progress is not None:
                progress(min(total, round(done * total / max(counted, 1))), total)

        def run(crop: tuple[float, float, float, float] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            jobs = [(str(path), seg, self.options, aspect, crop) for seg in segments]
            if len(segments) > 1:
                results = self.pool().run(pose_segment, jobs, progress=tick)
            else:
                results = run_in_process(pose_segment, jobs, progress=tick)
            return stitch(results, [s.start for s in segments], aspect)

        lm, wd, ids = run(None)
        source = self._source(info.to_dict())
        if self.zoom and len(lm) and not np.isfinite(lm[..., 0]).any():  # nobody: look again, zoomed in
            zoomed = run(ZOOM)
            if np.isfinite(zoomed[0][..., 0]).any():
                lm, wd, ids = zoomed
                source["zoom"] = [round(c, 4) for c in ZOOM]
        n = len(lm)  # fewer than planned when the file is truncated
        if n < total:
            source["truncated_at_frame"] = n
        lm, wd, ids = link_fragments(lm, wd, ids, timestamps[:n], aspect)
        lm, wd, ids = drop_short_tracks(lm, wd, ids, min_frames=max(3, round(0.2 * info.fps)))
        seq = PoseSequence(landmarks=lm, world=wd, timestamps=timestamps[:n] - timestamps[0] if n else
                           timestamps[:0], fps=float(info.fps), track_ids=ids,
                           subject=choose_subject(lm, ids), source=source)
        if self.smooth and seq.num_people:
            seq = smooth_sequence(seq, **self.smoothing)
        return seq

    def process_image(self, path_or_image: str | Path | np.ndarray) -> PoseSequence:
        """Poses of every person in one image (a one-frame sequence)."""
        from posecoach.io import read_image

        if isinstance(path_or_image, np.ndarray):
            image, info = path_or_image, {"width": path_or_image.shape[1], "height": path_or_image.shape[0]}
        else:
            image = read_image(path_or_image)
            info = {"path": str(path_or_image), "width": image.shape[1], "height": image.shape[0],
                    "is_image": True}
        with MediaPipeBackend(**asdict(self.options), video=False) as backend:
            poses = backend(image)
        ids = np.arange(len(poses), dtype=np.int64)
        lm, wd = poses.landmarks[None], poses.world[None]
        return PoseSequence(landmarks=lm, world=wd, timestamps=np.zeros(1), fps=1.0, track_ids=ids,
                            subject=choose_subject(lm, ids), source=self._source(info))


def estimate_poses(path: str | Path, *, model: str = "full", progress: ProgressFn | None = None,
                   **options: Any) -> PoseSequence:
    """One-shot convenience: ``PoseEngine(model, **options).process(path)``."""
    with PoseEngine(model, **options) as engine:
        return engine.process(path, progress)


def load_sequence(path_or_sequence: str | Path | PoseSequence, *, model: str = "full",
                  progress: ProgressFn | None = None, **engine_options: Any) -> PoseSequence:
    """A `PoseSequence` from a sequence, a saved ``.npz`` sequence, or a video / image (poses estimated)."""
    if isinstance(path_or_sequence, PoseSequence):
        return path_or_sequence
    path = Path(path_or_sequence)
    if path.suffix.lower() == ".npz":
        return PoseSequence.load(path)
    from posecoach.io import is_image, is_video

    if not path.exists():
        raise InputError(f"{path}: no such file")
    if not (is_video(path) or is_image(path)):
        raise InputError(f"{path}: not a video, an image or a saved pose sequence (.npz)")
    return estimate_poses(path, model=model, progress=progress, **engine_options)
