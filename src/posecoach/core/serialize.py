"""Saving and loading `PoseSequence`: lossless ``.npz``, and exports to JSON and CSV.

Every writer goes through `posecoach.core.atomic.atomic_path`, so a failure never leaves half a file.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from posecoach.core.atomic import atomic_path
from posecoach.core.sequence import LANDMARK_FIELDS, WORLD_FIELDS
from posecoach.core.skeleton import SKELETONS

if TYPE_CHECKING:
    from posecoach.core.sequence import PoseSequence

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
    from posecoach.core.sequence import PoseSequence

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


def to_dict(seq: PoseSequence) -> dict[str, Any]:
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
        json.dump(to_dict(seq), fh, separators=(",", ":"), allow_nan=False)
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
