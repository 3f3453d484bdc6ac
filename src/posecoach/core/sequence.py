"""`PoseSequence`: the one data type every PoseCoach component shares.

Layout (T frames, P tracked people, K keypoints):

* ``landmarks``  ``(T, P, K, 5)`` float32: normalised image x, y (origin top-left, [0, 1]), z (MediaPipe's
  relative depth), visibility, presence. NaN where that person was not detected in that frame.
* ``world``      ``(T, P, K, 3)`` float32: world landmarks in metres, hip-centred. NaN where unknown.
* ``timestamps`` ``(T,)`` float64: seconds from the first frame (real timestamps, variable frame rate kept).
* ``track_ids``  ``(P,)`` int64: a stable id per person across the sequence.
* ``subject``    the track id of "the subject" (see ``posecoach.pose.tracking.choose_subject``).
* ``raw_landmarks`` / ``raw_world``: the values before gap filling and smoothing, when those were applied.
* ``source``     JSON-serialisable metadata: input path, size, rotation, codec, model name and sha256...

A person's keypoint is "missing" when its x is NaN. Most analyses want one person: ``seq.subject_landmarks()``
returns ``(T, K, 5)`` for the subject, ``seq.person(track_id)`` a one-person sequence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.core.skeleton import (
    BLAZEPOSE_33,
    COCO_17,
    NTU_25_POINTS,
    Skeleton,
    coco17_to_blazepose33,
    ntu25_to_blazepose33,
)

LANDMARK_FIELDS: tuple[str, ...] = ("x", "y", "z", "visibility", "presence")
WORLD_FIELDS: tuple[str, ...] = ("x", "y", "z")


@dataclass(eq=False)
class PoseSequence:
    landmarks: np.ndarray
    world: np.ndarray
    timestamps: np.ndarray
    fps: float
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    subject: int | None = None
    skeleton: Skeleton = BLAZEPOSE_33
    source: dict[str, Any] = field(default_factory=dict)
    raw_landmarks: np.ndarray | None = None
    raw_world: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.landmarks = np.asarray(self.landmarks, dtype=np.float32)
        self.world = np.asarray(self.world, dtype=np.float32)
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
        self.track_ids = np.asarray(self.track_ids, dtype=np.int64).reshape(-1)
        T, P, K = self.landmarks.shape[:3] if self.landmarks.ndim == 4 else (None, None, None)
        if self.landmarks.ndim != 4 or self.landmarks.shape[3] != len(LANDMARK_FIELDS):
            raise ValueError(f"landmarks must be (T, P, K, 5), got {self.landmarks.shape}")
        if self.world.shape != (T, P, K, 3):
            raise ValueError(f"world must be {(T, P, K, 3)}, got {self.world.shape}")
        if self.timestamps.shape != (T,):
            raise ValueError(f"timestamps must be ({T},), got {self.timestamps.shape}")
        if self.track_ids.shape != (P,):
            raise ValueError(f"track_ids must have one id per person ({P}), got {self.track_ids.shape}")
        if len(set(self.track_ids.tolist())) != P:
            raise ValueError(f"track ids must be unique, got {self.track_ids.tolist()}")
        if self.skeleton.num_keypoints != K:
            raise ValueError(f"{self.skeleton.name} has {self.skeleton.num_keypoints} keypoints, arrays have {K}")
        if not np.isfinite(self.fps) or self.fps <= 0:
            raise ValueError(f"fps must be a positive number, got {self.fps}")
        if T and np.any(np.diff(self.timestamps) <= 0):
            raise ValueError("timestamps must be strictly increasing")
        for name in ("raw_landmarks", "raw_world"):
            arr = getattr(self, name)
            if arr is not None:
                arr = np.asarray(arr, dtype=np.float32)
                ref = self.landmarks if name == "raw_landmarks" else self.world
                if arr.shape != ref.shape:
                    raise ValueError(f"{name} must have shape {ref.shape}, got {arr.shape}")
                setattr(self, name, arr)
        if self.subject is None and P:
            self.subject = int(self.track_ids[0])
        if self.subject is not None and P and int(self.subject) not in self.track_ids.tolist():
            raise ValueError(f"subject {self.subject} is not one of the track ids {self.track_ids.tolist()}")

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_landmarks(
        cls,
        array: np.ndarray,
        fps: float = 30.0,
        *,
        timestamps: np.ndarray | None = None,
        world: np.ndarray | None = None,
        source: Mapping[str, Any] | None = None,
    ) -> PoseSequence:
        """Build a one-person sequence from a ``(T, 33, 3|4)`` (or COCO ``(T, 17, 2|3|4)``, or NTU RGB+D
        ``(T, 25, 2|3|4)``) array.

        Components are x, y[, z[, visibility]] (normalised to the image, or pixels); a COCO or NTU array with three
        components is x, y, score (as COCO keypoint files and YOLO-pose give it): the score is the visibility and
        z is 0, unless the third component leaves 0-1 (then it is depth, and the keypoints given are seen). NTU's
        head, shoulders, elbows, wrists, hips, knees and ankles are used (`NTU25_TO_BLAZEPOSE33`). A keypoint
        whose components are all zero is missing; a frame whose keypoints are all zero is "no detection".
        Visibility defaults to 1 and presence is 1 for every keypoint given. ``world`` is an optional
        ``(T, 33, 3)`` array in metres.
        """
        arr = np.asarray(array, dtype=np.float32)
        partial = (COCO_17.num_keypoints, NTU_25_POINTS)
        if arr.ndim != 3 or arr.shape[1] not in (*partial, 33) or not 2 <= arr.shape[2] <= 4:
            raise ValueError("expected a (T, 33, 3|4), COCO (T, 17, 2|3|4) or NTU (T, 25, 2|3|4) landmark array, "
                             f"got shape {arr.shape}")
        if arr.shape[1] == 33 and arr.shape[2] < 3:
            raise ValueError(f"33-point landmarks need x, y, z[, visibility]; got {arr.shape[2]} components")
        T = arr.shape[0]
        missing = np.all(arr == 0, axis=-1) | np.any(~np.isfinite(arr), axis=-1)
        full = np.full((T, arr.shape[1], 5), np.nan, dtype=np.float32)
        three = arr.shape[1] in partial and arr.shape[2] == 3  # x, y and a score or a depth
        coco_score = three and bool(np.all((arr[..., 2][~missing] >= 0.0) & (arr[..., 2][~missing] <= 1.0)))
        if three and not coco_score:  # x, y, depth: seen where given
            arr = np.concatenate([arr, np.ones_like(arr[..., :1])], axis=-1)
        c = 2 if coco_score else min(arr.shape[2], 3)
        full[..., :c] = arr[..., :c]
        if c == 2:
            full[..., 2] = 0.0
        full[..., 3] = arr[..., 3] if arr.shape[2] == 4 else arr[..., 2] if coco_score else 1.0
        full[..., 4] = 1.0
        full[missing] = np.nan
        if arr.shape[1] == COCO_17.num_keypoints:
            full = coco17_to_blazepose33(full)
        elif arr.shape[1] == NTU_25_POINTS:
            full = ntu25_to_blazepose33(full)
        if world is None:
            w = np.full((T, 33, 3), np.nan, dtype=np.float32)
        else:
            w = np.asarray(world, dtype=np.float32)
            if w.shape != (T, 33, 3):
                raise ValueError(f"world must be (T, 33, 3) = {(T, 33, 3)}, got {w.shape}")
            w = w.copy()
            w[np.isnan(full[..., 0])] = np.nan
        ts = np.arange(T, dtype=np.float64) / float(fps) if timestamps is None else np.asarray(timestamps)
        return cls(
            landmarks=full[:, None],
            world=w[:, None],
            timestamps=ts,
            fps=float(fps),
            track_ids=np.zeros(1, dtype=np.int64),
            subject=0,
            source=dict(source or {}),
        )

    @classmethod
    def empty(cls, num_frames: int = 0, fps: float = 30.0, timestamps: np.ndarray | None = None,
              source: Mapping[str, Any] | None = None) -> PoseSequence:
        """A sequence with no people (a video where nobody was found)."""
        ts = np.arange(num_frames) / float(fps) if timestamps is None else np.asarray(timestamps)
        K = BLAZEPOSE_33.num_keypoints
        return cls(
            landmarks=np.zeros((len(ts), 0, K, 5), np.float32),
            world=np.zeros((len(ts), 0, K, 3), np.float32),
            timestamps=ts, fps=float(fps), track_ids=np.zeros(0, np.int64), subject=None,
            source=dict(source or {}),
        )

    # ------------------------------------------------------------------ shape and selection
    @property
    def num_frames(self) -> int:
        return int(self.landmarks.shape[0])

    @property
    def num_people(self) -> int:
        return int(self.landmarks.shape[1])

    def __len__(self) -> int:
        return self.num_frames

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the end of the last one."""
        if not self.num_frames:
            return 0.0
        return float(self.timestamps[-1] - self.timestamps[0] + 1.0 / self.fps)

    @property
    def detected(self) -> np.ndarray:
        """``(T, P)`` bool: the person was detected (or gap-filled) in the frame."""
        return np.any(np.isfinite(self.landmarks[..., 0]), axis=-1)

    @property
    def subject_index(self) -> int | None:
        """Index on the person axis of the subject, or None when nobody was found."""
        if self.subject is None or not self.num_people:
            return None
        return int(np.flatnonzero(self.track_ids == self.subject)[0])

    def person_index(self, track_id: int | None = None) -> int:
        if track_id is None:
            idx = self.subject_index
            if idx is None:
                raise ValueError("this sequence has no people")
            return idx
        hits = np.flatnonzero(self.track_ids == track_id)
        if not len(hits):
            raise KeyError(f"no track {track_id}; tracks: {self.track_ids.tolist()}")
        return int(hits[0])

    def subject_landmarks(self, track_id: int | None = None) -> np.ndarray:
        """``(T, K, 5)`` image landmarks of the subject (or of ``track_id``); NaN rows where not detected."""
        if not self.num_people:
            return np.full((self.num_frames, self.skeleton.num_keypoints, 5), np.nan, np.float32)
        return self.landmarks[:, self.person_index(track_id)]

    def subject_world(self, track_id: int | None = None) -> np.ndarray:
        """``(T, K, 3)`` world landmarks (metres) of the subject (or of ``track_id``)."""
        if not self.num_people:
            return np.full((self.num_frames, self.skeleton.num_keypoints, 3), np.nan, np.float32)
        return self.world[:, self.person_index(track_id)]

    def person(self, track_id: int | None = None) -> PoseSequence:
        """A one-person sequence holding only ``track_id`` (default: the subject)."""
        i = self.person_index(track_id)
        sel = slice(i, i + 1)
        return replace(
            self,
            landmarks=self.landmarks[:, sel],
            world=self.world[:, sel],
            track_ids=self.track_ids[sel],
            subject=int(self.track_ids[i]),
            raw_landmarks=None if self.raw_landmarks is None else self.raw_landmarks[:, sel],
            raw_world=None if self.raw_world is None else self.raw_world[:, sel],
            source=dict(self.source),
        )

    def frames(self, start: int | None = None, stop: int | None = None) -> PoseSequence:
        """The frames ``[start, stop)``; timestamps keep their original values."""
        sel = slice(start, stop)
        return replace(
            self,
            landmarks=self.landmarks[sel],
            world=self.world[sel],
            timestamps=self.timestamps[sel],
            raw_landmarks=None if self.raw_landmarks is None else self.raw_landmarks[sel],
            raw_world=None if self.raw_world is None else self.raw_world[sel],
            source=dict(self.source),
        )

    def frame_at(self, t: float) -> int:
        """Index of the frame shown at time ``t`` seconds."""
        return int(np.clip(np.searchsorted(self.timestamps, t, side="right") - 1, 0, max(self.num_frames - 1, 0)))

    def detection_rate(self, track_id: int | None = None) -> float:
        """Share of frames in which the subject (or ``track_id``) was detected."""
        if not self.num_frames or not self.num_people:
            return 0.0
        return float(self.detected[:, self.person_index(track_id)].mean())

    # ------------------------------------------------------------------ persistence (see core/serialize.py)
    def save(self, path: str | Path) -> Path:
        """Save losslessly to ``.npz``."""
        from posecoach.core import serialize

        return serialize.save_npz(self, path)

    @classmethod
    def load(cls, path: str | Path) -> PoseSequence:
        from posecoach.core import serialize

        return serialize.load_npz(path)

    def to_dict(self) -> dict[str, Any]:
        from posecoach.core import serialize

        return serialize.to_dict(self)

    def to_json(self, path: str | Path) -> Path:
        from posecoach.core import serialize

        return serialize.save_json(self, path)

    def to_csv(self, path: str | Path, *, all_people: bool = False) -> Path:
        from posecoach.core import serialize

        return serialize.save_csv(self, path, all_people=all_people)

    def equals(self, other: PoseSequence) -> bool:
        """Exact equality of every array (NaN equal to NaN) and of the metadata."""
        def same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
            if a is None or b is None:
                return a is None and b is None
            return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=True))

        return (
            same(self.landmarks, other.landmarks) and same(self.world, other.world)
            and same(self.timestamps, other.timestamps) and same(self.track_ids, other.track_ids)
            and same(self.raw_landmarks, other.raw_landmarks) and same(self.raw_world, other.raw_world)
            and self.fps == other.fps and self.subject == other.subject
            and self.skeleton == other.skeleton and self.source == other.source
        )
