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

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.core.atomic import atomic_path
from posecoach.core.skeleton import (
    BLAZEPOSE_33,
    COCO_17,
    NTU_25_POINTS,
    SKELETONS,
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

    # ------------------------------------------------------------------ persistence (the functions below the class)
    def save(self, path: str | Path) -> Path:
        """Save losslessly to ``.npz``."""
        return save_npz(self, path)

    @classmethod
    def load(cls, path: str | Path) -> PoseSequence:
        return load_npz(path)

    def to_dict(self) -> dict[str, Any]:
        return sequence_dict(self)

    def to_json(self, path: str | Path) -> Path:
        return save_json(self, path)

    def to_csv(self, path: str | Path, *, all_people: bool = False) -> Path:
        return save_csv(self, path, all_people=all_people)

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


# ---------------------------------------------------------------------- saving and loading
# Lossless ``.npz``, and exports to JSON and CSV. Every writer goes through `posecoach.core.atomic.atomic_path`, so
# a failure never leaves half a file.

FORMAT = "posecoach.pose_sequence"
FORMAT_VERSION = 1


def _meta(seq: PoseSequence) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "fps": seq.fps,
        "subject": seq.subject,
        "skeleton": seq.skeleton.name,
        "source": seq.source,
    }


def save_npz(seq: PoseSequence, path: str | Path) -> Path:
    arrays: dict[str, np.ndarray] = {
        "landmarks": seq.landmarks,
        "world": seq.world,
        "timestamps": seq.timestamps,
        "track_ids": seq.track_ids,
        "meta": np.frombuffer(json.dumps(_meta(seq)).encode(), dtype=np.uint8),
    }
    if seq.raw_landmarks is not None:
        arrays["raw_landmarks"] = seq.raw_landmarks
    if seq.raw_world is not None:
        arrays["raw_world"] = seq.raw_world
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def load_npz(path: str | Path) -> PoseSequence:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("format") != FORMAT:
                raise ValueError(f"{path} is not a PoseCoach pose sequence")
            if int(meta.get("version", 0)) > FORMAT_VERSION:
                raise ValueError(f"{path} was written by a newer PoseCoach (format {meta['version']})")
            return PoseSequence(
                landmarks=z["landmarks"],
                world=z["world"],
                timestamps=z["timestamps"],
                track_ids=z["track_ids"],
                fps=float(meta["fps"]),
                subject=meta["subject"],
                skeleton=SKELETONS[meta["skeleton"]],
                source=meta["source"],
                raw_landmarks=z["raw_landmarks"] if "raw_landmarks" in z.files else None,
                raw_world=z["raw_world"] if "raw_world" in z.files else None,
            )
    except (KeyError, OSError, EOFError) as exc:
        raise ValueError(f"cannot read pose sequence {path}: {exc}") from None


def _num(v: float) -> float | None:
    return None if math.isnan(v) else round(float(v), 6)


def sequence_dict(seq: PoseSequence) -> dict[str, Any]:
    """A JSON-ready dict: metadata, landmark names, then one entry per frame with each detected person."""
    lm = seq.landmarks.astype(np.float64)
    wd = seq.world.astype(np.float64)
    detected = seq.detected
    frames = []
    for t in range(seq.num_frames):
        people = []
        for p in np.flatnonzero(detected[t]):
            people.append({
                "track_id": int(seq.track_ids[p]),
                "landmarks": [[_num(v) for v in row] for row in lm[t, p]],
                "world": [[_num(v) for v in row] for row in wd[t, p]],
            })
        frames.append({"index": t, "time": round(float(seq.timestamps[t]), 6), "people": people})
    return {
        **_meta(seq),
        "track_ids": seq.track_ids.tolist(),
        "landmark_names": list(seq.skeleton.names),
        "landmark_fields": list(LANDMARK_FIELDS),
        "world_fields": list(WORLD_FIELDS),
        "num_frames": seq.num_frames,
        "frames": frames,
    }


def save_json(seq: PoseSequence, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(sequence_dict(seq), fh, separators=(",", ":"), allow_nan=False)
    return path


def csv_columns(seq: PoseSequence) -> list[str]:
    cols = ["frame", "time_s", "track_id", "is_subject"]
    for name in seq.skeleton.names:
        cols += [f"{name}_{f}" for f in LANDMARK_FIELDS]
    for name in seq.skeleton.names:
        cols += [f"{name}_world_{f}" for f in WORLD_FIELDS]
    return cols


def save_csv(seq: PoseSequence, path: str | Path, *, all_people: bool = False) -> Path:
    """One row per frame for the subject (empty cells where not detected); with ``all_people``, one row per
    frame and detected person."""
    path = Path(path)
    subject = seq.subject_index
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_columns(seq))
        for t in range(seq.num_frames):
            if all_people:
                people = [int(p) for p in np.flatnonzero(seq.detected[t])]
            else:
                people = [subject] if subject is not None else [None]
            for p in people:
                head = [t, f"{seq.timestamps[t]:.6f}"]
                if p is None or not seq.detected[t, p]:
                    tid = "" if p is None else int(seq.track_ids[p])
                    writer.writerow([*head, tid, "" if p is None else int(p == subject)]
                                    + [""] * (len(seq.skeleton.names) * 8))
                    continue
                values = np.concatenate([seq.landmarks[t, p].ravel(), seq.world[t, p].ravel()])
                writer.writerow([*head, int(seq.track_ids[p]), int(p == subject)]
                                + ["" if np.isnan(v) else f"{v:.6g}" for v in values])
    return path
