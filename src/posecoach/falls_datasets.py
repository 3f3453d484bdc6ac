"""Readers for the public fall keypoint sets (no video): each sequence as a `PoseSequence` with its labels.

* UP-Fall 3D-skeleton CSVs: 33 MediaPipe landmarks (x, y, z) per row and a per-frame ``LABEL`` (1 from the
  fall's onset), about 18 fps;
* URFD AlphaPose CSV: 13 joints (x, y, score) per row, frames named by number (gaps are frames without a pose);
  labels re-taken from the official URFD per-frame CSV (-1 not lying, 0 falling, 1 lying) when given;
* MD4FD JSON(.xz): 90-frame windows of 11 joints (x, y) and a body aspect ratio, one label per window.

Coordinates are image-normalised; the frames are 640 x 480 (4:3).
"""

from __future__ import annotations

import csv
import json
import lzma
from pathlib import Path

import numpy as np

from posecoach.core.sequence import PoseSequence

SIZE = {"width": 640, "height": 480}
ALPHAPOSE_TO_33 = [0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]
MD4FD_TO_33 = [0, 11, 12, 23, 24, 25, 26, 28, 27, 15, 16]
UPFALL_FPS, URFD_FPS, MD4FD_FPS = 18.0, 30.0, 30.0


def read_upfall(path: str | Path) -> tuple[PoseSequence, np.ndarray]:
    """One UP-Fall trial: the sequence and its per-frame 0/1 labels."""
    arr = np.loadtxt(path, delimiter=",", skiprows=1)
    seq = PoseSequence.from_landmarks(arr[:, :99].reshape(-1, 33, 3), fps=UPFALL_FPS,
                                      source={**SIZE, "input": str(path)})
    return seq, arr[:, 99].astype(int)


def read_urfd_alphapose(path: str | Path, official_labels: str | Path | None = None,
                        ) -> dict[str, tuple[PoseSequence, np.ndarray]]:
    """Every video of the CSV: its sequence (missing frames: no pose) and per-frame labels, 1 = falling or
    lying (from ``official_labels`` when given, else the CSV's own 3-class label)."""
    official: dict[tuple[str, int], int] = {}
    if official_labels is not None:
        with open(official_labels, newline="") as f:
            official = {(r[0], int(r[1])): int(r[2]) for r in csv.reader(f) if r}
    by_video: dict[str, list[list[str]]] = {}
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        for row in reader:
            by_video.setdefault(row[0], []).append(row)
    out = {}
    for video, rows in sorted(by_video.items()):
        frames = np.array([int(r[1]) for r in rows])
        first = int(frames.min())
        lm = np.zeros((int(frames.max()) - first + 1, 33, 4))
        own = np.zeros(len(lm), dtype=int)
        for r, fr in zip(rows, frames, strict=True):
            j = np.array(r[2:41], dtype=float).reshape(13, 3)
            lm[fr - first, ALPHAPOSE_TO_33, :2] = j[:, :2]
            lm[fr - first, ALPHAPOSE_TO_33, 2] = 1e-3  # no depth: non-zero so the keypoint counts as present
            lm[fr - first, ALPHAPOSE_TO_33, 3] = j[:, 2]
            own[fr - first] = int(r[41]) > 0
        labels = (np.array([official.get((video, first + i), -1) >= 0 for i in range(len(lm))], dtype=int)
                  if official else own)
        out[video] = (PoseSequence.from_landmarks(lm, fps=URFD_FPS, source={**SIZE, "input": video}), labels)
    return out


def read_md4fd(path: str | Path) -> list[tuple[PoseSequence, bool]]:
    """The windows of one MD4FD file: (sequence, is_fall)."""
    raw = Path(path).read_bytes()
    windows = json.loads(lzma.decompress(raw) if str(path).endswith(".xz") else raw)
    out = []
    for w in windows:
        frames = np.array(w[:-1], dtype=float)
        lm = np.zeros((len(frames), 33, 3))
        lm[:, MD4FD_TO_33, :2] = frames[:, :22].reshape(-1, 11, 2)
        lm[:, MD4FD_TO_33, 2] = 1e-3
        out.append((PoseSequence.from_landmarks(lm, fps=MD4FD_FPS, source=dict(SIZE)), bool(w[-1])))
    return out
