"""MediaPipe Tasks `PoseLandmarker` backend: one frame in, every person's landmarks out.

``preprocess`` (RGB array -> mp.Image), ``inference`` (the Tasks call) and ``postprocess`` (result -> arrays)
are separate so each can be understood and tested alone.

Speed: in VIDEO mode MediaPipe tracks people from frame to frame and only runs its person detector while
it tracks fewer people than ``num_poses``. Asking for several people therefore runs the detector on every
frame when only one person is in view (28 instead of 17 ms per 720p frame here). `MediaPipeBackend` keeps
``num_poses`` equal to the number of people actually in view: every ``scan_interval`` seconds (default 2;
four times as often over the first `WARMUP_SCANS` scans, since short clips often open with the subject hidden
behind someone or still entering) it looks for up to ``max_people`` people with a separate IMAGE-mode
landmarker, and re-creates the tracking landmarker when that number changes (more people: at once; fewer: after
two scans agree). It is also re-created when a scan finds someone the tracker is not following: once tracking
holds, MediaPipe never looks for anyone else, so a bystander picked up first (a crowded gym, the subject entering
late) would otherwise be followed for the rest of the video while the subject goes unseen.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.core.quiet import quiet_native_stderr
from posecoach.pose import models
from posecoach.pose.tracking import Tracker, box_overlap, pose_distance

log = logging.getLogger(__name__)
NUM_KEYPOINTS = 33
#: A scanned person whose keypoint box overlaps a tracked one's by more than this share is not someone new.
MAX_OVERLAP = 0.3
#: Scans at a quarter of ``scan_interval`` at the start of a video or segment.
WARMUP_SCANS = 4


@dataclass
class FramePoses:
    """The people found in one frame: ``landmarks (n, 33, 5)`` and ``world (n, 33, 3)``, float32."""

    landmarks: np.ndarray
    world: np.ndarray

    @classmethod
    def none(cls) -> FramePoses:
        return cls(np.zeros((0, NUM_KEYPOINTS, 5), np.float32), np.zeros((0, NUM_KEYPOINTS, 3), np.float32))

    def __len__(self) -> int:
        return int(self.landmarks.shape[0])


class MediaPipeBackend:
    """Pose landmarks for successive frames of one video (VIDEO mode) or for single images.

    Parameters are MediaPipe's, plus ``max_people`` (how many people to look for) and ``scan_interval``.
    Use as a context manager, or call ``close()``: a landmarker left to the garbage collector prints a
    traceback at interpreter exit.
    """

    def __init__(
        self,
        model: str = models.DEFAULT_MODEL,
        *,
        max_people: int = 2,
        video: bool = True,
        min_detection_confidence: float = 0.5,
        min_presence_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        scan_interval: float = 2.0,
        verify_model: bool = True,
    ) -> None:
        if max_people < 1:
            raise ValueError("max_people must be at least 1")
        self.model = model
        self.model_path, self.model_sha256 = models.resolve(model, verify=verify_model)
        self._asset = Path(self.model_path).read_bytes()
        self.max_people = max_people
        self.video = video
        self.scan_interval = scan_interval
        self._conf = dict(
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._tracker: Any = None
        self._scanner: Any = None
        self._num_poses = max_people
        self._last_scan: float | None = None
        self._scans = 0
        self._fewer_scans = 0
        self._last_ms = -1
        self._last_result: Any = None  # the tracker's latest result (who it follows)
        if not video:
            self._tracker = self._create(max_people, video=False)

    # ------------------------------------------------------------------ MediaPipe objects
    def _create(self, num_poses: int, *, video: bool) -> Any:
        from mediapipe.tasks.python import BaseOptions, vision

        opts = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=self._asset),
            running_mode=vision.RunningMode.VIDEO if video else vision.RunningMode.IMAGE,
            num_poses=num_poses,
            **self._conf,
        )
        with quiet_native_stderr():
            return vision.PoseLandmarker.create_from_options(opts)

    def reset(self) -> None:
        """Forget the tracking state (before a new video or segment); the models stay loaded."""
        if self._tracker is not None and self.video:
            self._tracker.close()
            self._tracker = None
        self._num_poses = self.max_people
        self._last_scan = None
        self._scans = 0
        self._fewer_scans = 0
        self._last_ms = -1
        self._last_result = None

    def close(self) -> None:
        for name in ("_tracker", "_scanner"):
            obj = getattr(self, name, None)
            if obj is not None:
                obj.close()
                setattr(self, name, None)

    def __enter__(self) -> MediaPipeBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # ------------------------------------------------------------------ the three steps
    @staticmethod
    def preprocess(image: np.ndarray) -> Any:
        import mediapipe as mp

        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image.dtype} {image.shape}")
        return mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(image))

    def inference(self, mp_image: Any, time_s: float | None = None) -> Any:
        if not self.video:
            return self._tracker.detect(mp_image)
        if time_s is None:
            raise ValueError("VIDEO mode needs the frame's time")
        ms = round(time_s * 1000.0)
        ms = max(ms, self._last_ms + 1)  # Tasks needs strictly increasing timestamps
        self._last_ms = ms
        self._maybe_rescan(mp_image, time_s)
        if self._tracker is None:
            with quiet_native_stderr():
                self._tracker = self._create(self._num_poses, video=True)
                result = self._tracker.detect_for_video(mp_image, ms)
        else:
            result = self._tracker.detect_for_video(mp_image, ms)
        self._last_result = result
        return result

    @staticmethod
    def postprocess(result: Any) -> FramePoses:
        n = len(result.pose_landmarks)
        if not n:
            return FramePoses.none()
        lm = np.empty((n, NUM_KEYPOINTS, 5), np.float32)
        wd = np.empty((n, NUM_KEYPOINTS, 3), np.float32)
        for p, (pose, world) in enumerate(zip(result.pose_landmarks, result.pose_world_landmarks, strict=True)):
            lm[p] = [(q.x, q.y, q.z, _score(q.visibility), _score(q.presence)) for q in pose]
            wd[p] = [(q.x, q.y, q.z) for q in world]
        return FramePoses(lm, wd)

    def __call__(self, image: np.ndarray, time_s: float | None = None) -> FramePoses:
        return self.postprocess(self.inference(self.preprocess(image), time_s))

    # ------------------------------------------------------------------ adaptive number of poses
    def _maybe_rescan(self, mp_image: Any, time_s: float) -> None:
        if self.max_people == 1:
            self._num_poses = 1
            return
        interval = self.scan_interval / 4 if self._scans < WARMUP_SCANS else self.scan_interval
        if self._last_scan is not None and time_s - self._last_scan < interval:
            return
        self._last_scan = time_s
        self._scans += 1
        if self._scanner is None:
            self._scanner = self._create(self.max_people, video=False)
            with quiet_native_stderr():  # first inference logs from native code
                scanned = self.postprocess(self._scanner.detect(mp_image)).landmarks
        else:
            scanned = self.postprocess(self._scanner.detect(mp_image)).landmarks
        found = max(1, len(scanned))
        tracked = self.postprocess(self._last_result).landmarks if self._last_result is not None else scanned[:0]
        missed = self._untracked(scanned, tracked, mp_image.width / max(mp_image.height, 1))
        if missed and len(tracked):  # follow them too (up to max_people), re-detecting everyone
            self._set_num_poses(min(self.max_people, max(found, len(tracked) + missed)), renew=True)
        elif found > self._num_poses or self._tracker is None:
            self._set_num_poses(found)
        elif found < self._num_poses:
            self._fewer_scans += 1
            if self._fewer_scans >= 2:
                self._set_num_poses(found)
        else:
            self._fewer_scans = 0

    @staticmethod
    def _untracked(scanned: np.ndarray, tracked: np.ndarray, aspect: float) -> int:
        """How many of the scanned people the tracker is not following: no tracked pose is within the distance at
        which `Tracker` would call them the same person, nor overlaps them (the scan can fit one person's
        skeleton differently, around the arms only say; that is no one new)."""
        return sum(all(pose_distance(t, p, aspect) > Tracker.max_distance and box_overlap(t, p) < MAX_OVERLAP
                       for t in tracked) for p in scanned)

    def _set_num_poses(self, n: int, *, renew: bool = False) -> None:
        self._fewer_scans = 0
        if n == self._num_poses and self._tracker is not None and not renew:
            return
        self._num_poses = n
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None


def _score(v: float | None) -> float:
    return float("nan") if v is None else float(v)
