"""The benchmark clips (which real videos, with which ground truth) and a pose cache shared by the scripts.

The clips are read at run time from the shared data directory: ``$POSECOACH_DATA``, else ``../shared/data``
beside the checkout, else ``/work/shared/data`` (as ``tests/conftest.py`` does); nothing is copied into the
repository.

* `rep_clips`: repetition-counting clips with their true count (and exercise, where known);
* `recognition_clips`: every clip whose exercise is known, with the catalogue name it should be recognised
  as ("other" for movements outside the catalogue);
* `form_clips`: side-view squats labelled correct / incorrect;
* `PoseCache`: poses of a video, from a cache directory when one is given, else estimated with one shared
  `PoseEngine` (so every script runs end to end from video by default).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import os
import re
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np

from posecoach.core.sequence import PoseSequence

REPO = Path(__file__).resolve().parents[1]

#: WorkoutTracker folder name -> catalogue exercise.
WORKOUTTRACKER_EXERCISES: dict[str, str] = {"dips": "dip", "pull-ups": "pull_up", "push-ups": "push_up",
                                            "squats": "squat"}

OTHER = "other"

#: Clips outside the rep-counting sets whose exercise is known: path under the data dir -> expected name.
RECOGNITION_EXTRA: dict[str, str] = {
    "misc_exercise_clips/rjsong/jumpingjacks.mp4": "jumping_jack",
    "misc_exercise_clips/rjsong/plank2.mp4": "plank",
    "misc_exercise_clips/rjsong/pushups-front2.mp4": "push_up",
    "misc_exercise_clips/rjsong/squat.mp4": "squat",
    "misc_exercise_clips/rjsong/squat2.mp4": "squat",
    "misc_exercise_clips/wissem/bicep_curls.mp4": "bicep_curl",
    "misc_exercise_clips/wissem/squat.mp4": "squat",
    "misc_exercise_clips/yolanda_rehab/squat.mp4": "squat",
    "misc_exercise_clips/yolanda_rehab/stance.mp4": OTHER,  # standing still: not an exercise
    "rehab/physioplus/physiocore/tests/bridging.mp4": "glute_bridge",
    "reps/quva/videos/033_hometrainer.mp4": OTHER,  # cycling
    "reps/quva/videos/041_monkey_bars.mp4": OTHER,
}

#: Folders of form/kaiakol/data (every .mp4 below them) -> expected name.
KAIAKOL_FOLDERS: dict[str, str] = {
    "squat/correct": "squat",
    "squat/incorrect": "squat",
    "plank/correct": "plank",
    "pullup/correct": "pull_up",
    "russiantwist/correct": OTHER,
}

#: File-name patterns in form/kaiakol/data/videos -> expected name.
KAIAKOL_VIDEOS: dict[str, str] = {"jumpingjack_*.mp4": "jumping_jack", "pushup_*.mp4": "push_up"}


class RepClip(NamedTuple):
    dataset: str
    video: Path
    count: int
    exercise: str | None


class LandmarkRepClip(NamedTuple):
    """A repetition-counting sequence built from keypoint files (no video): consecutive recorded repetitions of one
    person and movement, joined end to end."""

    dataset: str
    name: str
    count: int
    parts: tuple[tuple[Path, Path], ...]  # (positions, angles) per repetition, in order

    def load(self) -> PoseSequence:
        from posecoach.io.landmark_files import read_ui_prmd

        seqs = [read_ui_prmd(pos, ang) for pos, ang in self.parts]
        landmarks = np.concatenate([s.landmarks for s in seqs])
        world = np.concatenate([s.world for s in seqs])
        fps = seqs[0].fps
        return PoseSequence(landmarks, world, np.arange(len(landmarks)) / fps, fps,
                            source={**seqs[0].source, "path": self.name, "repetitions_joined": len(seqs)})


#: UI-PRMD's Kinect sets: folder -> dataset name.
UI_PRMD_SETS: dict[str, str] = {"Segmented Movements": "ui_prmd", "Incorrect Segmented Movements": "ui_prmd_incorrect"}


def ui_prmd_rep_clips(data: Path | None = None) -> list[LandmarkRepClip]:
    """UI-PRMD (Kinect v2, another pose tool): for each movement and subject, its recorded repetitions (each file one
    segmented repetition, e01..e10) joined into one sequence whose count is the number of files."""
    data = data or data_dir()
    out = []
    for folder, dataset in UI_PRMD_SETS.items():
        kinect = data / "form" / "ui_prmd_kinect" / folder / "Kinect"
        groups: dict[str, list[tuple[Path, Path]]] = {}
        for pos in sorted((kinect / "Positions").glob("m*_s*_e*_positions*.txt*")):
            key = pos.name.split("_e")[0]  # m01_s02
            ang = kinect / "Angles" / pos.name.replace("_positions", "_angles")
            groups.setdefault(key, []).append((_existing(pos), _existing(ang)))
        if not groups:
            raise FileNotFoundError(f"no UI-PRMD repetitions in {kinect}")
        out += [LandmarkRepClip(dataset, f"{dataset}/{key}", len(parts), tuple(parts))
                for key, parts in sorted(groups.items())]
    return out


class RecognitionClip(NamedTuple):
    video: Path
    expected: str


class FormClip(NamedTuple):
    video: Path
    label: str  # "correct" | "incorrect"


def data_dir() -> Path:
    """The shared data directory: $POSECOACH_DATA, ../shared/data beside the checkout, /work/shared/data."""
    for c in (os.environ.get("POSECOACH_DATA"), REPO.parent / "shared" / "data", "/work/shared/data"):
        if c and Path(c).is_dir():
            return Path(c)
    raise FileNotFoundError("no data directory: set $POSECOACH_DATA or put the shared data in ../shared/data")


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"benchmark clip missing: {path}")
    return path


def _annotation(video: Path) -> Path:
    """A QUVA or jump-rope clip's cycle ends: ``<set>/annotations/<clip>.npy`` beside ``<set>/videos/``."""
    return video.parents[1] / "annotations" / f"{video.stem}.npy"


def _annotated(root: Path, dataset: str) -> list[RepClip]:
    """Clips of a set with ``videos/<clip>.mp4`` and ``annotations/<clip>.npy`` (one entry per cycle)."""
    out = []
    for video in sorted((root / "videos").glob("*.mp4")):
        ann = _annotation(video)
        if ann.is_file():
            out.append(RepClip(dataset, video, len(np.load(ann)), None))
    if not out:
        raise FileNotFoundError(f"no annotated clips in {root}")
    return out


def rep_clips(data: Path | None = None) -> list[RepClip]:
    """(dataset, video, true count, exercise or None) for reps/workouttracker, reps/quva and reps/jump_rope."""
    data = data or data_dir()
    root = data / "reps" / "workouttracker"
    out = []
    with open(_existing(root / "labels.csv"), newline="") as f:
        for row in csv.DictReader(f):
            video = _existing(root / "videos" / row["exercise"] / row["video"])
            out.append(RepClip("workouttracker", video, int(row["rep_count"]),
                               WORKOUTTRACKER_EXERCISES[row["exercise"]]))
    out += _annotated(data / "reps" / "quva", "quva")
    out += _annotated(data / "reps" / "jump_rope", "jump_rope")
    return out


def truth_frames(clip: RepClip) -> list[int]:
    """The frames the ground truth marks: WorkoutTracker's labelled frames (``frame_labels/<ex>/<clip>.csv``,
    label 1: where its author put a repetition), QUVA's and jump rope's cycle ends; [] where there is no file."""
    if clip.dataset == "workouttracker":  # <root>/videos/<exercise>/<clip>.mp4
        labels = clip.video.parents[2] / "frame_labels" / clip.video.parent.name / f"{clip.video.stem}.csv"
        if not labels.is_file():
            return []
        with open(labels, newline="") as f:
            return [int(r["frame"]) for r in csv.DictReader(f) if float(r["label"] or 0) > 0]
    ann = _annotation(clip.video)
    return [int(x) for x in np.load(ann)] if ann.is_file() else []


def recognition_clips(data: Path | None = None) -> list[RecognitionClip]:
    """(video, expected catalogue name or "other") for every clip whose exercise is known."""
    data = data or data_dir()
    out = [RecognitionClip(c.video, c.exercise) for c in rep_clips(data) if c.dataset == "workouttracker"
           and c.exercise]
    out += [RecognitionClip(_existing(data / rel), name) for rel, name in RECOGNITION_EXTRA.items()]
    kaiakol = data / "form" / "kaiakol" / "data"
    for folder, name in KAIAKOL_FOLDERS.items():
        videos = sorted((kaiakol / folder).glob("*.mp4"))
        if not videos:
            raise FileNotFoundError(f"no clips in {kaiakol / folder}")
        out += [RecognitionClip(v, name) for v in videos]
    for pattern, name in KAIAKOL_VIDEOS.items():
        videos = sorted((kaiakol / "videos").glob(pattern))
        if not videos:
            raise FileNotFoundError(f"no clips {kaiakol / 'videos' / pattern}")
        out += [RecognitionClip(v, name) for v in videos]
    out += [RecognitionClip(v, OTHER) for v in sorted((data / "reps" / "jump_rope" / "videos").glob("*.mp4"))]
    return out


def form_clips(data: Path | None = None) -> list[FormClip]:
    """(video, "correct" | "incorrect") for the kaiakol side-view squats."""
    data = data or data_dir()
    out = []
    for label in ("correct", "incorrect"):
        videos = sorted((data / "form" / "kaiakol" / "data" / "squat" / label).glob("*.mp4"))
        if not videos:
            raise FileNotFoundError(f"no {label} squat clips in {data / 'form/kaiakol/data/squat' / label}")
        out += [FormClip(v, label) for v in videos]
    return out


def short_name(video: Path, data: Path | None = None) -> str:
    """The clip's path relative to the data directory (or its name when outside it)."""
    try:
        return str(Path(video).resolve().relative_to((data or data_dir()).resolve()))
    except (ValueError, FileNotFoundError):
        return Path(video).name


class Poses(NamedTuple):
    sequence: PoseSequence
    seconds: float  # wall time of the pose estimation (for a cached clip: as recorded when it was cached)
    cached: bool


class PoseCache:
    """Poses of a video: from ``cache_dir`` when it holds them, else estimated (and stored there, if given).

    A cache entry is keyed by the video's resolved path, size and modification time and the model name, so a
    changed video or another model is estimated afresh. One `PoseEngine` (started on first need) serves every
    clip; use as a context manager, or call `close`, to stop its worker processes.
    """

    def __init__(self, cache_dir: str | Path | None = None, model: str = "full") -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.model = model
        self._engine: Any = None
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> PoseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def key(self, video: str | Path) -> dict[str, Any]:
        path = Path(video).resolve()
        st = path.stat()
        return {"video": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "model": self.model}

    def entry(self, video: str | Path) -> Path | None:
        """Where the cache keeps (or would keep) this video's poses; None without a cache directory."""
        if self.cache_dir is None:
            return None
        key = self.key(video)
        digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(video).stem)
        return self.cache_dir / f"{stem}.{self.model}.{digest}.npz"

    def engine(self) -> Any:
        if self._engine is None:
            from posecoach.pose.engine import PoseEngine

            self._engine = PoseEngine(self.model)
        return self._engine

    def get(self, video: str | Path) -> Poses:
        """The video's poses, how long estimating them took and whether they came from the cache."""
        entry = self.entry(video)
        meta = entry.with_suffix(".json") if entry else None
        if entry is not None and meta is not None and entry.is_file() and meta.is_file():
            info = json.loads(meta.read_text())
            if {k: info.get(k) for k in self.key(video)} == self.key(video):
                return Poses(PoseSequence.load(entry), float(info["pose_seconds"]), True)
        t0 = time.perf_counter()
        seq = self.engine().process(video)
        seconds = time.perf_counter() - t0
        if entry is not None and meta is not None:
            seq.save(entry)  # atomic
            meta.write_text(json.dumps({**self.key(video), "pose_seconds": seconds, "frames": seq.num_frames},
                                       indent=1))
        return Poses(seq, seconds, False)


def header() -> str:
    """The line every benchmark prints first: the date and the command that produced the tables."""
    return f"date: {datetime.date.today()}  command: python {shlex.join(sys.argv)}"


def table(headers: list[str], rows: list[list[Any]], align: str | None = None) -> str:
    """A Markdown table; ``align`` is one of l / r per column (default: first column left, others right)."""
    align = align or "l" + "r" * (len(headers) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


ClipT = TypeVar("ClipT", RepClip, RecognitionClip, FormClip)


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """The options every per-clip benchmark takes: ``--cache DIR``, ``--model``, ``--json FILE``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", metavar="DIR", help="pose cache directory (default: estimate every clip)")
    parser.add_argument("--model", default="full", help="pose model: lite | full | heavy")
    parser.add_argument("--json", metavar="FILE", help="write the raw per-clip results to FILE")
    return parser


def run_clips(parser: argparse.ArgumentParser, args: argparse.Namespace,
              run: Callable[[PoseCache], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """``run(cache)`` with the pose cache the options ask for; a missing clip is a usage error."""
    try:
        with PoseCache(args.cache, args.model) as cache:
            return run(cache)
    except FileNotFoundError as e:
        parser.error(str(e))


def save_rows(path: str | None, rows: list[dict[str, Any]]) -> None:
    """Write the raw per-clip results when ``--json FILE`` was given."""
    if path:
        Path(path).write_text(json.dumps(rows, indent=1))
        print(f"\nper-clip results: {path}")


def each_clip(cache: PoseCache, clips: Sequence[ClipT], data: Path) -> Iterator[tuple[ClipT, str, Poses]]:
    """``(clip, short name, poses)`` for every clip, with a progress line per clip on stderr."""
    for i, clip in enumerate(clips, 1):
        name = short_name(clip.video, data)
        poses = cache.get(clip.video)
        progress(i, len(clips), name, poses)
        yield clip, name, poses


def progress(i: int, n: int, name: str, poses: Poses) -> None:
    """One line per clip on stderr, so long runs show where they are without disturbing the tables."""
    how = "cache" if poses.cached else f"{poses.seconds:.1f} s"
    print(f"[{i}/{n}] {name}: {poses.sequence.num_frames} frames ({how})", file=sys.stderr, flush=True)
