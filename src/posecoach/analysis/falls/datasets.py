"""The labelled fall sources the model is trained and validated on, read from the shared data at run time.

Every source gives `Labelled` sequences: the pose sequence, whether it holds a fall, the labelled fall's onset and
the end of the window an alert must fall in, and per-frame training labels (1 falling or just fallen, 0 not,
-1 left out of training: lying long after a fall looks like lying in bed, and a window label says nothing about
which of its frames fell).

| source | what | group (same recordings) |
| --- | --- | --- |
| ``upfall`` | UP-Fall, 82 falls, MediaPipe 33, ~18 fps, onset per frame: **not used** (see below) | upfall |
| ``urfd`` | URFD, 30 falls, AlphaPose 13 joints, 30 fps, official per-frame labels | urfd |
| ``md4fd_urfd`` | MD4FD windows of URFD (fall / daily activity), 11 joints | urfd |
| ``le2i_coco17`` | Le2i, 97 clips, YOLOv8-pose COCO-17 pixels, 25 fps, official fall frames | le2i |
| ``le2i_ntu25`` | Le2i, 99 clips, MediaPipe mapped to 25 NTU joints | le2i |
| ``md4fd_le2i`` | MD4FD windows of Le2i Home_01/02 | le2i |
| ``synthetic`` | the repository's generator (`synthetic.make_clips`) | synthetic |
| ``videos_reps`` | every video under ``reps/`` (push-ups, pull-ups, squats, dips, QUVA, jump rope) | videos_reps |
| ``videos_other`` | every other non-fall video (form, exercise, rehab, GMDCSA24 daily activities, bed) | videos_other |

The two video sources are negatives only, posed by PoseCoach's own engine (``full`` model) and kept in a pose
cache (`pose_cache_dir`; entries shared with ``benchmarks/clips.PoseCache``): estimating them takes about an
hour on two cores the first time. The fall videos (GMDCSA24 falls, phone falls) are never trained on: they are
the end-to-end check.

UP-Fall (``upfall_3dskel``) is read but neither trained on nor scored: its frames are not in time order (in 73 of
its 82 clips the hips jump by more than 0.8 torso lengths between consecutive frames at least 4 times, standing
and lying frames interleaved, and "fall" labels on standing frames), so no temporal feature means anything there
(`time_order_breaks` measures it).

A *group* is a set of recordings: leave-one-dataset-out holds a whole group out (URFD's AlphaPose poses and
MD4FD's URFD windows are the same videos; so are the two Le2i pose tools and MD4FD's Le2i windows). The
licences differ: UP-Fall, URFD (CC BY-NC-SA 4.0), Le2i and MD4FD are research / non-commercial use; only the
synthetic clips carry no third-party terms (see the model card).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.falls_datasets import read_md4fd, read_upfall, read_urfd_alphapose

SOURCES: tuple[str, ...] = ("urfd", "md4fd_urfd", "le2i_coco17", "le2i_ntu25", "md4fd_le2i", "synthetic",
                             "videos_reps", "videos_other")
GROUPS: dict[str, str] = {"upfall": "upfall", "urfd": "urfd", "md4fd_urfd": "urfd", "le2i_coco17": "le2i",
                          "le2i_ntu25": "le2i", "md4fd_le2i": "le2i", "synthetic": "synthetic",
                          "videos_reps": "videos_reps", "videos_other": "videos_other"}
REAL_SOURCES: tuple[str, ...] = tuple(s for s in SOURCES if s != "synthetic")
KEYPOINT_SOURCES: tuple[str, ...] = tuple(s for s in REAL_SOURCES if not s.startswith("videos_"))
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".webm", ".mkv")
AFTER_S = 3.0  # an alert may come this long after the labelled fall ends
POSITIVE_AFTER_S = 1.0  # training positives last this long after the fall ends (then: left out, lying is not falling)
LE2I_SIZE, LE2I_FPS = (320.0, 240.0), 25.0
#: NTU RGB+D joint -> BlazePose-33 slot (head -> nose; spine, hands and feet have no common counterpart).
NTU25_TO_33: dict[int, int] = {3: 0, 4: 11, 5: 13, 6: 15, 8: 12, 9: 14, 10: 16, 12: 23, 13: 25, 14: 27, 16: 24,
                               17: 26, 18: 28}


@dataclass(frozen=True)
class Labelled:
    source: str
    name: str
    sequence: PoseSequence
    fall: bool
    labels: np.ndarray  # (T,) int8: 1 fall, 0 no fall, -1 not used for training
    onset: int | None = None  # first frame of the labelled fall (None: unknown or no fall)
    window_end: int | None = None  # last frame an alert for this fall may come on (None: the end)

    @property
    def group(self) -> str:
        return GROUPS[self.source]


def data_root() -> Path:
    """The shared data: ``$POSECOACH_DATA``, ``../shared/data`` beside the checkout, or ``/work/shared/data``."""
    repo = Path(__file__).resolve().parents[4]
    for c in (os.environ.get("POSECOACH_DATA"), repo.parent / "shared" / "data", "/work/shared/data"):
        if c and Path(c).is_dir():
            return Path(c)
    raise FileNotFoundError("no shared data: set $POSECOACH_DATA or put the data in ../shared/data")


def _fall_labels(n: int, fps: float, onset: int | None, end: int | None) -> np.ndarray:
    """0 before ``onset``, 1 from it to ``end`` + `POSITIVE_AFTER_S`, -1 after."""
    y = np.zeros(n, dtype=np.int8)
    if onset is None:
        return y
    stop = min(n, (end if end is not None else onset) + round(POSITIVE_AFTER_S * fps) + 1)
    y[onset:stop] = 1
    y[stop:] = -1
    return y


def time_order_breaks(seq: PoseSequence, jump: float = 0.8) -> int:
    """Frames whose hip centre moved more than ``jump`` median torso lengths since the previous frame (a person
    does not move that far in 1/18 s: frames out of time order, or another person)."""
    from posecoach.analysis.falls.features import frame_measures, frame_size

    m = frame_measures(seq.subject_landmarks(), *frame_size(seq))
    torso = float(np.nanmedian(m["torso"]))
    return int(np.sum(np.abs(np.diff(m["hip_y"])) > jump * torso))


def upfall(root: Path) -> Iterator[Labelled]:
    for f in sorted((root / "falls" / "upfall_3dskel" / "csv").rglob("*.csv")):
        seq, label = read_upfall(f)
        onset = int(np.argmax(label)) if label.any() else None
        yield Labelled("upfall", f.stem, seq, True, _fall_labels(len(label), seq.fps, onset, onset), onset, None)


def urfd(root: Path) -> Iterator[Labelled]:
    falls = root / "falls"
    videos = read_urfd_alphapose(falls / "urfd_pose_alphapose_mynameisphp" / "pose_urfd_3classes.csv",
                                 falls / "urfd_labels" / "urfall-cam0-falls.csv")
    for name, (seq, label) in videos.items():
        onset = int(np.argmax(label)) if label.any() else None
        end = None if onset is None else onset + round(seq.fps)  # the falling phase: about 1 s, then lying
        yield Labelled("urfd", name, seq, True, _fall_labels(len(label), seq.fps, onset, end), onset, None)


def md4fd(root: Path, which: str) -> Iterator[Labelled]:
    """MD4FD windows of URFD (``which="urfd"``) or Le2i (``"le2i"``); a fall window's frames are left out of
    training (no frame labels), a daily-activity window is all negatives."""
    files = ["URFD_normalized.json.xz"] if which == "urfd" else ["le2i_home_01.json.xz", "le2i_home_02.json.xz"]
    for f in files:
        for i, (seq, fall) in enumerate(read_md4fd(root / "falls" / "md4fd" / f)):
            labels = np.full(seq.num_frames, -1 if fall else 0, dtype=np.int8)
            yield Labelled(f"md4fd_{which}", f"{f.split('.')[0]}#{i}", seq, fall, labels)


def le2i_labels(root: Path) -> dict[str, dict[str, object]]:
    """``labels.json`` keyed by the keypoint files' stem (``Coffee_room_01_video_10``)."""
    raw = json.loads((root / "falls" / "le2i_keypoints" / "labels.json").read_text())["videos"]
    out = {}
    for key, v in raw.items():
        m = re.fullmatch(r"(.+)_\1_Videos_video \((\d+)\)", key)
        if m:
            out[f"{m.group(1)}_video_{m.group(2)}"] = v
    return out


def ntu25_to_33(points: np.ndarray) -> np.ndarray:
    """``(T, 25, C)`` NTU joints placed in a ``(T, 33, C)`` BlazePose array (zeros elsewhere: missing)."""
    out = np.zeros((points.shape[0], 33, points.shape[-1]), dtype=np.float32)
    for ntu, bp in NTU25_TO_33.items():
        out[:, bp] = points[:, ntu]
    return out


def le2i_sequence(keypoints: np.ndarray, confs: np.ndarray, *, normalise: bool = True,
                  with_size: bool = True) -> PoseSequence:
    """A Le2i keypoint clip (pixels in the 320 x 240 frame; COCO-17 or NTU-25) as a sequence: normalised with the
    frame size in its metadata; or, as a user might pass them, pixels (``normalise=False``) or normalised
    coordinates without the frame size (``with_size=False``: the 4:3 frame read as square).

    The NTU-25 files' "confidences" are not confidences: they range about -0.5..0.5 and follow the body's depth
    (MediaPipe's z, it seems), so they are kept as z and every joint given counts as seen."""
    kp = np.asarray(keypoints, dtype=np.float32)
    if normalise:
        kp = kp / np.array(LE2I_SIZE, dtype=np.float32)
    third = np.asarray(confs, dtype=np.float32)[..., None]
    missing = np.all(np.asarray(keypoints) == 0, axis=-1)
    if kp.shape[1] == 25:  # x, y, z, visibility 1 -> BlazePose slots
        arr = np.concatenate([kp, third, np.ones_like(third)], axis=-1)
        arr[missing] = 0.0  # no keypoint: all zero (missing)
        arr = ntu25_to_33(arr)
    else:  # COCO x, y, score
        arr = np.concatenate([kp, third], axis=-1)
        arr[missing] = 0.0
    source = {"width": LE2I_SIZE[0], "height": LE2I_SIZE[1]} if normalise and with_size else {}
    return PoseSequence.from_landmarks(arr, fps=LE2I_FPS, source=source)


def le2i(root: Path, tool: str, *, normalise: bool = True, with_size: bool = True) -> Iterator[Labelled]:
    """Le2i clips from one pose tool (``"coco17"`` or ``"ntu25"``), with the official fall frames."""
    folder = root / "falls" / "le2i_keypoints" / ("coco17_yolov8" if tool == "coco17" else "ntu25_mediapipe")
    labels = le2i_labels(root)
    for kp_file in sorted(folder.glob("*_keypoints.npy")):
        stem = kp_file.name.removesuffix("_keypoints.npy")
        info = labels[stem]
        seq = le2i_sequence(np.load(kp_file), np.load(folder / f"{stem}_confs.npy"), normalise=normalise,
                            with_size=with_size)
        fall = bool(info["is_fall"])
        onset = int(info["fall_start"]) - 1 if fall else None  # type: ignore[call-overload]
        end = int(info["fall_end"]) - 1 if fall else None  # type: ignore[call-overload]
        window_end = None if end is None else min(seq.num_frames - 1, end + round(AFTER_S * LE2I_FPS))
        yield Labelled(f"le2i_{tool}", stem, seq, fall, _fall_labels(seq.num_frames, LE2I_FPS, onset, end), onset,
                       window_end)


def synthetic(clips: int = 900, seed: int = 7, fall_share: float = 0.4) -> Iterator[Labelled]:
    from posecoach.analysis.falls.synthetic import AFTER_IMPACT_S, make_clips

    for i, c in enumerate(make_clips(clips, seed=seed, fall_share=fall_share)):
        labels = c.labels.astype(np.int8)
        onset = int(np.argmax(labels)) if c.fall and labels.any() else None
        if onset is not None:  # the generator marks 3 s after impact: keep `POSITIVE_AFTER_S`, leave the rest out
            last = len(labels) - 1 - int(np.argmax(labels[::-1]))
            cut = last - round((AFTER_IMPACT_S - POSITIVE_AFTER_S) * c.sequence.fps)
            labels[max(onset + 1, cut + 1):last + 1] = -1
        yield Labelled("synthetic", f"{c.kind}#{i}", c.sequence, c.fall, labels, onset, None)


def fall_videos(root: Path) -> set[Path]:
    """The fall clips among the videos (GMDCSA24 ``Fall/``, phone falls): never negatives."""
    falls = root / "falls"
    return {p.resolve() for p in [*(falls / "gmdcsa24").rglob("Fall/*.mp4"), *(falls / "phone_falls").rglob("*.mp4")]}


def non_fall_videos(root: Path) -> list[Path]:
    """Every video in the shared data that holds no fall (exercise, rehab, daily activities, lying on a bed)."""
    falls = fall_videos(root)
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.resolve() not in falls)


def pose_cache_dir() -> Path:
    """``$POSECOACH_POSE_CACHE``, else ``poses/`` in the user cache (``$POSECOACH_CACHE`` or ~/.cache/posecoach)."""
    if os.environ.get("POSECOACH_POSE_CACHE"):
        return Path(os.environ["POSECOACH_POSE_CACHE"])
    base = os.environ.get("POSECOACH_CACHE") or Path.home() / ".cache" / "posecoach"
    return Path(base) / "poses"


def cached_poses(video: Path, cache: Path, model: str = "full", engine: list[object] | None = None) -> PoseSequence:
    """The video's poses from ``cache`` (the layout of ``benchmarks/clips.PoseCache``), else estimated and stored."""
    import hashlib
    import time

    path = video.resolve()
    st = path.stat()
    key = {"video": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "model": model}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    entry = cache / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', video.stem)}.{model}.{digest}.npz"
    meta = entry.with_suffix(".json")
    if entry.is_file() and meta.is_file() and {k: json.loads(meta.read_text()).get(k) for k in key} == key:
        return PoseSequence.load(entry)
    if engine is None:
        engine = []
    if not engine:
        from posecoach.pose.engine import PoseEngine

        engine.append(PoseEngine(model))
    t0 = time.perf_counter()
    seq = engine[0].process(video)  # type: ignore[attr-defined]
    cache.mkdir(parents=True, exist_ok=True)
    seq.save(entry)
    meta.write_text(json.dumps({**key, "pose_seconds": time.perf_counter() - t0, "frames": seq.num_frames}, indent=1))
    return seq


def videos(root: Path, which: str, cache: Path | None = None) -> Iterator[Labelled]:
    """Non-fall videos under ``reps/`` (``which="reps"``) or everywhere else (``"other"``), as negatives."""
    cache = cache or pose_cache_dir()
    engine: list[object] = []
    try:
        for video in non_fall_videos(root):
            in_reps = video.relative_to(root).parts[0] == "reps"
            if in_reps != (which == "reps"):
                continue
            seq = cached_poses(video, cache, engine=engine)
            name = str(video.relative_to(root))
            yield Labelled(f"videos_{which}", name, seq, False, np.zeros(seq.num_frames, dtype=np.int8))
    finally:
        for e in engine:
            e.close()  # type: ignore[attr-defined]


def load(source: str, root: Path | None = None, *, synthetic_clips: int = 900, seed: int = 7,
         pose_cache: Path | None = None) -> list[Labelled]:
    """Every labelled sequence of one source (see `SOURCES`)."""
    if source == "synthetic":
        return list(synthetic(synthetic_clips, seed))
    root = root or data_root()
    if source.startswith("videos_"):
        return list(videos(root, source.removeprefix("videos_"), pose_cache))
    if source == "upfall":  # not in `SOURCES`: frames out of time order
        return list(upfall(root))
    if source == "urfd":
        return list(urfd(root))
    if source.startswith("md4fd_"):
        return list(md4fd(root, source.removeprefix("md4fd_")))
    if source.startswith("le2i_"):
        return list(le2i(root, source.removeprefix("le2i_")))
    raise ValueError(f"unknown fall source {source!r}; known: {', '.join(SOURCES)}")


def half_rate(item: Labelled) -> Labelled:
    """Every second frame (a 25-30 fps source seen at 12-15 fps, like night-time webcams)."""
    seq = item.sequence
    keep = np.arange(0, seq.num_frames, 2)
    sub = PoseSequence(seq.landmarks[keep], seq.world[keep], seq.timestamps[keep], seq.fps / 2, seq.track_ids,
                       seq.subject, seq.skeleton, dict(seq.source))
    scale = lambda f: None if f is None else int(f) // 2  # noqa: E731
    return replace(item, name=f"{item.name}@half", sequence=sub, labels=item.labels[keep], onset=scale(item.onset),
                   window_end=scale(item.window_end))


def stretch_x(item: Labelled, factor: float) -> Labelled:
    """The same body with x scaled by ``factor`` about the centre: normalised coordinates read without the frame
    size (a 4:3 or 16:9 frame taken as square) distort the body this way."""
    seq = item.sequence
    lm = seq.landmarks.copy()
    lm[..., 0] = 0.5 + (lm[..., 0] - 0.5) * factor
    return replace(item, name=f"{item.name}@x{factor:.2f}",
                   sequence=PoseSequence(lm, seq.world, seq.timestamps, seq.fps, seq.track_ids, seq.subject,
                                         seq.skeleton, dict(seq.source)))
