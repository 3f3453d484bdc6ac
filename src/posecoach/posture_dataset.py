"""Posture dataset folders: labelled pose sequences for training posture classifiers (I/O, at the edge).

Layout::

    DIR/dataset.json              format, version, and one entry per item: name, group, source, frame counts
    DIR/sequences/<name>.npz      the item's PoseSequence (lossless)
    DIR/labels/<name>.csv         frame,time_s,label: one row per labelled frame

Items come from labelling time ranges of a video (``00:03-00:07=down``, or a ranges file with rows
``start,end,label``) or from importing a keypoint table (`read_keypoint_table`: one row per frame, as the ML Kit
fitness samples). Every file is written atomically; a bad label file or range is one `InputError` naming the
file and row.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posecoach.core.atomic import atomic_path
from posecoach.core.sequence import PoseSequence
from posecoach.errors import InputError

FORMAT = "posecoach-posture-dataset"
FORMAT_VERSION = "1.0"
MANIFEST = "dataset.json"
_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_TIME = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)$")


@dataclass(frozen=True)
class LabelRange:
    start_s: float
    end_s: float
    label: str


def parse_time(text: str) -> float:
    """Seconds from ``SS[.s]``, ``MM:SS[.s]`` or ``HH:MM:SS[.s]``."""
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(f"not a time: {text!r} (use SS, MM:SS or HH:MM:SS)")
    a, b, s = m.groups()
    hours, minutes = (int(a), int(b)) if b is not None else (0, int(a or 0))
    return hours * 3600 + minutes * 60 + float(s)


def _label_range(start: str, end: str, label: str) -> LabelRange:
    t0, t1, label = parse_time(start), parse_time(end), label.strip()
    if not label:
        raise ValueError("the label is empty")
    if t1 <= t0:
        raise ValueError(f"the range ends ({end.strip()}) before it starts ({start.strip()})")
    return LabelRange(t0, t1, label)


def parse_range(text: str) -> LabelRange:
    """``START-END=LABEL`` (e.g. ``00:03-00:07=down``) as a `LabelRange`."""
    m = re.match(r"^\s*([^=]+?)\s*-\s*([^=-]+?)\s*=\s*(.*)$", text)
    if not m:
        raise InputError(f"bad range {text!r}: write START-END=LABEL, e.g. 00:03-00:07=down")
    try:
        return _label_range(*m.groups())
    except ValueError as exc:
        raise InputError(f"bad range {text!r}: {exc}") from None


def _open_text(path: Path) -> io.TextIOBase:
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return gzip.open(path, "rt", encoding="utf-8", newline="") if path.suffix == ".gz" else \
        open(path, encoding="utf-8", newline="")


def read_ranges_file(path: Path) -> list[LabelRange]:
    """Rows ``start,end,label`` (a header row naming them is optional; ``#`` starts a comment)."""
    out = []
    try:
        with _open_text(path) as fh:
            for row_no, row in enumerate(csv.reader(fh), start=1):
                cells = [c.strip() for c in row]
                if not any(cells) or cells[0].startswith("#"):
                    continue
                if row_no == 1 and [c.lower() for c in cells[:3]] == ["start", "end", "label"]:
                    continue
                if len(cells) != 3:
                    raise InputError(f"{path}, row {row_no}: expected start,end,label, got {len(cells)} cell(s)")
                try:
                    out.append(_label_range(*cells))
                except ValueError as exc:
                    raise InputError(f"{path}, row {row_no}: {exc}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text (CSV) file") from None
    if not out:
        raise InputError(f"{path}: no label ranges in it (rows start,end,label)")
    return out


def frame_labels(seq: PoseSequence, ranges: list[LabelRange], where: str = "the ranges") -> np.ndarray:
    """``(T,)`` labels: a frame gets a range's label when its time is in ``[start, end)``; others ``""``."""
    labels = np.full(seq.num_frames, "", dtype=object)
    t = seq.timestamps - (seq.timestamps[0] if seq.num_frames else 0.0)
    for r in ranges:
        inside = (t >= r.start_s) & (t < r.end_s)
        if not np.any(inside):
            raise InputError(f"{where}: {r.start_s:g}-{r.end_s:g} s holds no frame (the video lasts "
                             f"{seq.duration:.2f} s)")
        clash = inside & (labels != "") & (labels != r.label)
        if np.any(clash):
            other = labels[np.flatnonzero(clash)[0]]
            raise InputError(f"{where}: {r.start_s:g}-{r.end_s:g} s = {r.label!r} overlaps a range labelled {other!r}")
        labels[inside] = r.label
    return labels.astype(str)


def range_groups(seq: PoseSequence, ranges: list[LabelRange], prefix: str = "") -> np.ndarray:
    """``(T,)`` cross-validation groups: one per labelled range (``prefix:i``), so that with a single video whole
    ranges are held out together (neighbouring frames, nearly identical, never sit on both sides of a fold)."""
    groups = np.full(seq.num_frames, "", dtype=object)
    t = seq.timestamps - (seq.timestamps[0] if seq.num_frames else 0.0)
    for i, r in enumerate(ranges):
        groups[(t >= r.start_s) & (t < r.end_s)] = f"{prefix}:{i}"
    return groups.astype(str)


@dataclass(frozen=True)
class TableRow:
    name: str
    label: str
    points: np.ndarray  # (33, 3|4)


def _floats(cells: list[str]) -> list[float | None]:
    out: list[float | None] = []
    for c in cells:
        try:
            out.append(float(c))
        except ValueError:
            out.append(None)
    return out


def read_keypoint_table(path: Path) -> list[TableRow]:
    """A CSV (or .csv.gz) of labelled frames: 99 (x, y, z) or 132 (x, y, z, visibility) numbers in BlazePose order
    and text cells: the label alone, or a sample name then the label (ML Kit's ``fitness_pose_samples.csv``).
    A first row of column names (text, or the numbers 0, 1, 2...) is skipped."""
    rows: list[TableRow] = []
    width: int | None = None
    try:
        with _open_text(path) as fh:
            for row_no, row in enumerate(csv.reader(fh), start=1):
                if not any(c.strip() for c in row):
                    continue
                values = _floats(row)
                numbers = [v for v in values if v is not None]
                texts = [c.strip() for c, v in zip(row, values, strict=True) if v is None]
                if row_no == 1 and (numbers == list(range(len(numbers))) or len(texts) > 2):
                    continue  # a header
                if len(numbers) not in (99, 132):
                    raise InputError(f"{path}, row {row_no}: {len(numbers)} numbers; a keypoint row has 99 "
                                     "(33 x, y, z) or 132 (33 x, y, z, visibility)")
                if width is not None and len(numbers) != width:
                    raise InputError(f"{path}, row {row_no}: {len(numbers)} numbers, earlier rows have {width}")
                if len(texts) not in (1, 2) or not texts[-1]:
                    raise InputError(f"{path}, row {row_no}: expected a label (or a sample name and a label) "
                                     f"besides the numbers, got {len(texts)} text cell(s)")
                arr = np.asarray(numbers, dtype=np.float64).reshape(33, -1)
                if not np.all(np.isfinite(arr)):
                    raise InputError(f"{path}, row {row_no}: a coordinate is not a finite number")
                width = len(numbers)
                rows.append(TableRow(texts[0] if len(texts) == 2 else f"row{row_no}", texts[-1], arr))
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text (CSV) file") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise InputError(f"{path}: no labelled keypoint rows in it")
    return rows


def table_sequence(rows: list[TableRow], source: str) -> PoseSequence:
    """Frames of a keypoint table as one sequence; pixel coordinates are scaled into [0, 1] with a square frame
    of the largest coordinate, so image angles and embeddings see the original proportions."""
    pts = np.stack([r.points for r in rows])
    scale = max(1.0, float(np.max(np.abs(pts[..., :2]))))
    pts = pts.copy()
    pts[..., :3] /= scale
    size = {"width": scale, "height": scale} if scale > 1.0 else {}
    return PoseSequence.from_landmarks(pts, fps=1.0, source={"input": source, **size})


def safe_name(text: str) -> str:
    return _NAME.sub("_", text).strip("._") or "item"


class Dataset:
    """A posture dataset folder (see the module docstring)."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = Path(root)
        self.manifest = manifest

    @classmethod
    def open(cls, root: str | Path, *, create: bool = False) -> Dataset:
        root = Path(root)
        path = root / MANIFEST
        if not path.is_file():
            if create and (not root.exists() or (root.is_dir() and not any(root.iterdir()))):
                return cls(root, {"format": FORMAT, "format_version": FORMAT_VERSION, "items": []})
            what = "a folder that is not a posture dataset" if root.exists() else "no such dataset"
            raise InputError(f"{root}: {what} (no {MANIFEST})")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: damaged dataset manifest ({exc})") from None
        if manifest.get("format") != FORMAT or not isinstance(manifest.get("items"), list):
            raise InputError(f"{path}: not a posture dataset manifest")
        if int(str(manifest.get("format_version", "0")).split(".")[0]) > int(FORMAT_VERSION.split(".")[0]):
            raise InputError(f"{path}: written by a newer PoseCoach (format {manifest['format_version']}): upgrade")
        return cls(root, manifest)

    @property
    def items(self) -> list[dict[str, Any]]:
        return list(self.manifest["items"])

    def _unique(self, name: str) -> str:
        taken = {i["name"].lower() for i in self.manifest["items"]}
        base, n, out = safe_name(name), 1, safe_name(name)
        while out.lower() in taken:
            n += 1
            out = f"{base}-{n}"
        return out

    def add(self, name: str, seq: PoseSequence, labels: np.ndarray, group: str, source: str) -> dict[str, Any]:
        """Store one labelled sequence (and the manifest) atomically; returns its manifest entry."""
        if len(labels) != seq.num_frames:
            raise ValueError(f"{len(labels)} labels for {seq.num_frames} frames")
        name = self._unique(name)
        (self.root / "sequences").mkdir(parents=True, exist_ok=True)
        (self.root / "labels").mkdir(parents=True, exist_ok=True)
        labelled = [(i, lab) for i, lab in enumerate(labels) if lab]
        seq.save(self.root / "sequences" / f"{name}.npz")
        with atomic_path(self.root / "labels" / f"{name}.csv") as tmp, open(tmp, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["frame", "time_s", "label"])
            w.writerows([i, f"{seq.timestamps[i] - seq.timestamps[0]:.4f}", lab] for i, lab in labelled)
        counts = {str(k): int(v) for k, v in zip(*np.unique([lab for _, lab in labelled], return_counts=True),
                                                    strict=True)}
        entry = {"name": name, "group": group, "source": source, "frames": seq.num_frames, "labels": counts}
        self.manifest["items"].append(entry)
        with atomic_path(self.root / MANIFEST) as tmp:
            tmp.write_text(json.dumps(self.manifest, indent=2) + "\n", encoding="utf-8")
        return entry

    def _labels(self, name: str, num_frames: int) -> np.ndarray:
        path = self.root / "labels" / f"{name}.csv"
        labels = np.full(num_frames, "", dtype=object)
        with _open_text(path) as fh:
            for row_no, row in enumerate(csv.reader(fh), start=1):
                if row_no == 1 and row and row[0] == "frame":
                    continue
                try:
                    frame, label = int(row[0]), row[2].strip()
                except (IndexError, ValueError):
                    raise InputError(f"{path}, row {row_no}: expected frame,time_s,label") from None
                if not 0 <= frame < num_frames:
                    raise InputError(f"{path}, row {row_no}: frame {frame} is outside the sequence "
                                     f"(0-{num_frames - 1})")
                labels[frame] = label
        return labels.astype(str)

    def load(self) -> Iterator[tuple[dict[str, Any], PoseSequence, np.ndarray]]:
        """Each item's manifest entry, pose sequence and per-frame labels."""
        for item in self.manifest["items"]:
            path = self.root / "sequences" / f"{item['name']}.npz"
            if not path.is_file():
                raise InputError(f"{self.root}: item {item['name']!r} has no pose sequence ({path} is missing)")
            try:
                seq = PoseSequence.load(path)
            except (ValueError, OSError) as exc:
                raise InputError(f"{path}: unreadable pose sequence ({exc})") from None
            yield item, seq, self._labels(item["name"], seq.num_frames)
