"""The labelled form sets of ../shared/data/form, as per-rule values of each labelled execution.

Every item is one execution (a clip, a recorded repetition, or a labelled frame) with its label (correct or
incorrect), the person or source it comes from (``group``, for leave-one-group-out), and for every rule of its
exercise the rule's value: its aggregate on the worst repetition (NaN where the rule is not measurable). A rule
flags the item when that value is beyond the rule's limit, exactly as `analyze` flags a repetition.

* ``pushfit``: push-up videos, correct vs wrong (poses from the video, MediaPipe); group = resolution (the label
  is confounded with the source, the resolution tells the sources apart);
* ``kaiakol_squat``: side-view squat videos, correct vs incorrect (one source);
* ``kaiakol_pushup_2d`` / ``kaiakol_squat_2d``: kaiakol's landmark arrays (17 MediaPipe points, x, y, visibility;
  no depth, no frame size); no person ids: 5 groups by file number; a clip too short for the
  counter to find a repetition (most squats: one repetition each) is judged as one segmented repetition;
* every set again as a keypoint file of 17 COCO points, x, y, score (``*_coco17``: no depth, no feet, no frame
  size);
* ``ui_prmd``: UI-PRMD Kinect repetitions of the movements the catalogue has (deep squat, inline and side lunge),
  correct vs deliberately incorrect; group = subject;
* ``exercise_correction``: per-frame labels (bicep curl lean-back, lunge knee over toe, plank hips high / low),
  each frame judged alone (the rule's signal on that frame); group = clip (runs of frames without a jump);
  each rule is scored on the frames whose label is its own error or correct;
* KERAAL (seated low-back exercises) has no catalogue exercise: no rule applies (reported, not scored).
"""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from clips import PoseCache, data_dir
from posecoach.analysis.counting import body_rhythm
from posecoach.analysis.exercises import Exercise, get_exercise
from posecoach.analysis.form import judge_reps
from posecoach.analysis.pipeline import analyze_signals
from posecoach.analysis.reps import Rep
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, blazepose33_to_coco17
from posecoach.features.signals import hidden_signals, sequence_signals


@dataclass
class FormItem:
    set: str
    group: str
    name: str
    exercise: str
    incorrect: bool
    error: str | None = None  # the labelled error (a rule id) where the label names it; None: any
    values: dict[str, float] = field(default_factory=dict)  # rule id -> worst repetition's aggregate (NaN: n/m)
    reps: int = 0


def _worst(ex: Exercise, findings: list[list]) -> dict[str, float]:
    out = {}
    for i, rule in enumerate(ex.rules):
        vals = [f[i].value for f in findings if f[i].status != "not_measurable" and np.isfinite(f[i].value)]
        out[rule.id] = (max(vals) if rule.broken_when == "above" else min(vals)) if vals else float("nan")
    return out


def sequence_values(seq: PoseSequence, exercise: str) -> tuple[dict[str, float], int]:
    """Per rule, the worst repetition's value, as `analyze(seq, exercise)` counts and judges them."""
    ex = get_exercise(exercise)
    signals = sequence_signals(seq)
    body = body_rhythm(seq) if seq.detection_rate() else None
    _, reps, judgements, _, _ = analyze_signals(signals, seq.timestamps, ex, hidden_signals(seq), body)
    return _worst(ex, [j.findings for j in judgements]), reps.count


def single_rep_values(seq: PoseSequence, exercise: str) -> dict[str, float]:
    """Per rule, its value on a sequence that is one segmented repetition (turn: the first counting signal's
    extreme)."""
    ex = get_exercise(exercise)
    signals = sequence_signals(seq)
    drive = ex.count[0]
    s = np.asarray(signals[drive.signal], dtype=np.float64)
    if not np.isfinite(s).any():
        return {r.id: float("nan") for r in ex.rules}
    turn = int(np.nanargmin(s) if drive.rest == "high" else np.nanargmax(s))
    t = seq.timestamps
    n = seq.num_frames
    rep = Rep(1, 0, turn, n - 1, float(t[0]), float(t[turn]), float(t[-1]),
              float(np.nanmax(s) - np.nanmin(s)), drive.signal)
    judged = judge_reps(ex.rules, signals, [rep], drive.signal, ex.profile.posture)
    return _worst(ex, [judged[0].findings])


#: kaiakol's (T, 17, 3) landmark arrays: x, y, visibility of these BlazePose keypoints (the nose and the 16 body
#: points; not the COCO-17 order: their 17 points run nose, shoulders, elbows, wrists, hips, knees, ankles, heels,
#: toes, as the coordinates show).
KAIAKOL_POINTS: tuple[str, ...] = ("nose", *(f"{s}_{p}" for p in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle",
                                                                   "heel", "foot_index") for s in ("left", "right")))


def kaiakol_sequence(arr: np.ndarray, fps: float = 30.0) -> PoseSequence:
    """A kaiakol landmark array as a 2D sequence (no depth, no frame size)."""
    a = np.asarray(arr, dtype=np.float32)
    out = np.zeros((len(a), 33, 4), np.float32)
    for k, name in enumerate(KAIAKOL_POINTS):
        out[:, BLAZEPOSE_33.index(name), [0, 1, 3]] = a[:, k]
    return PoseSequence.from_landmarks(out, fps=fps, source={"format": "kaiakol-landmarks"})


def pushfit_items(cache: PoseCache, data: Path, coco: bool = False) -> Iterator[FormItem]:
    root = data / "form" / "pushfit" / "videos"
    for label in ("correct", "wrong"):
        videos = sorted((root / label).glob("*.mp4"))
        if not videos:
            raise FileNotFoundError(f"no clips in {root / label}")
        for v in videos:
            seq = cache.get(v).sequence
            size = f"{seq.source.get('width')}x{seq.source.get('height')}"
            vals, n = sequence_values(to_coco17(seq) if coco else seq, "push_up")
            yield FormItem("pushfit_coco17" if coco else "pushfit", size, f"{label}/{v.name}", "push_up",
                           label == "wrong", None, vals, n)


def kaiakol_video_items(cache: PoseCache, data: Path) -> Iterator[FormItem]:
    root = data / "form" / "kaiakol" / "data" / "squat"
    for label in ("correct", "incorrect"):
        for v in sorted((root / label).glob("*.mp4")):
            vals, n = sequence_values(cache.get(v).sequence, "squat")
            yield FormItem("kaiakol_squat", "kaiakol", f"{label}/{v.name}", "squat", label == "incorrect", None,
                           vals, n)


def kaiakol_landmark_items(data: Path, coco: bool = False) -> Iterator[FormItem]:
    for exercise, folder in (("push_up", "pushup"), ("squat", "squat")):
        root = data / "form" / "kaiakol" / "data" / folder / "landmarks"
        for label in ("correct", "incorrect"):
            for f in sorted((root / label).glob("*.npy")):
                num = int(re.findall(r"\d+", f.stem)[-1])
                seq = kaiakol_sequence(np.load(f))
                seq = to_coco17(seq) if coco else seq
                vals, n = sequence_values(seq, exercise)
                if n == 0:  # a clip of one repetition too short to count: judged as one segmented repetition
                    vals, n = single_rep_values(seq, exercise), 1
                first = (num - 1) // 10 * 10 + 1
                yield FormItem(f"kaiakol_{folder}_2d{'_coco17' if coco else ''}", f"files {first}-{first + 9}",
                               f"{label}/{f.name}",
                               exercise, label == "incorrect", None, vals, n)


#: UI-PRMD movements the catalogue has an exercise for.
UI_PRMD_EXERCISES: dict[str, str] = {"m01": "squat", "m03": "lunge", "m04": "lunge"}


def ui_prmd_items(data: Path, coco: bool = False) -> Iterator[FormItem]:
    from posecoach.io.landmark_files import read_ui_prmd

    for folder, incorrect in (("Segmented Movements", False), ("Incorrect Segmented Movements", True)):
        pos_dir = data / "form" / "ui_prmd_kinect" / folder / "Kinect" / "Positions"
        files = sorted(pos_dir.glob("m*_s*_e*_positions*.txt*"))
        if not files:
            raise FileNotFoundError(f"no UI-PRMD repetitions in {pos_dir}")
        for pos in files:
            m, s = pos.name.split("_")[:2]
            if m not in UI_PRMD_EXERCISES:
                continue
            ang = pos.parent.parent / "Angles" / pos.name.replace("_positions", "_angles")
            seq = read_ui_prmd(pos, ang)
            if coco:
                seq = to_coco17(seq)
            vals = single_rep_values(seq, UI_PRMD_EXERCISES[m])
            yield FormItem("ui_prmd_coco17" if coco else "ui_prmd", s, f"{m}/{pos.name.split('_positions')[0]}",
                           UI_PRMD_EXERCISES[m], incorrect, None, vals, 1)


def to_coco17(seq: PoseSequence) -> PoseSequence:
    """The same poses as a keypoint file from another 2D tool gives them: 17 COCO keypoints, x, y, score; no depth,
    no frame size."""
    lm = seq.subject_landmarks()
    pts = blazepose33_to_coco17(np.stack([lm[..., 0], lm[..., 1], lm[..., 3]], axis=-1))
    pts = np.nan_to_num(pts, nan=0.0)
    return PoseSequence.from_landmarks(pts, fps=seq.fps, timestamps=seq.timestamps, source={"format": "coco17"})


#: Exercise-Correction sets: (csv under core/, exercise, label letter -> the rule it names; "C" is correct).
EXERCISE_CORRECTION: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("bicep_model/test.csv", "bicep_curl", {"L": "lean_back"}),
    ("lunge_model/err.test.csv", "lunge", {"L": "knee_past_toes"}),
    ("plank_model/test.csv", "plank", {"H": "pike", "L": "hip_sag"}),
)


def _read_frames(path: Path) -> tuple[list[str], np.ndarray]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    labels = [r[0] for r in body]
    arr = np.zeros((len(body), 33, 4), np.float32)
    for c, name in enumerate(head[1:], 1):
        stem, comp = name.rsplit("_", 1)
        arr[:, BLAZEPOSE_33.index(stem), "xyzv".index(comp)] = [float(r[c]) for r in body]
    return labels, arr


def _clips(arr: np.ndarray, jump: float = 0.08) -> np.ndarray:
    """Clip number per frame: a new clip wherever the shoulders jump between consecutive frames."""
    sh = arr[:, [BLAZEPOSE_33.index("left_shoulder"), BLAZEPOSE_33.index("right_shoulder")], :2].mean(1)
    d = np.linalg.norm(np.diff(sh, axis=0), axis=-1)
    return np.concatenate([[0], np.cumsum(d > jump)])


def exercise_correction_items(data: Path, coco: bool = False) -> Iterator[FormItem]:
    """One item per labelled frame: each rule's signal on that frame (rules over a range are not judged)."""
    from posecoach.analysis.form import frame_values

    root = data / "form" / "exercise_correction" / "core"
    for rel, exercise, errors in EXERCISE_CORRECTION:
        labels, arr = _read_frames(root / rel)
        clips = _clips(arr)
        ex = get_exercise(exercise)
        for c in np.unique(clips):
            rows = np.flatnonzero(clips == c)
            seq = PoseSequence.from_landmarks(arr[rows], fps=30.0)
            if coco:
                seq = to_coco17(seq)
            values = frame_values(ex.rules, sequence_signals(seq), ex.profile.posture)
            for k, r in enumerate(rows):
                lab = labels[r]
                yield FormItem(f"exercise_correction{'_coco17' if coco else ''}", f"{exercise} clip {c}",
                               f"{exercise}/{r}", exercise, lab != "C", errors.get(lab),
                               {rid: float(v[k]) for rid, v in values.items()}, 1)


def all_items(cache: PoseCache, coco_only: bool = False) -> list[FormItem]:
    data = data_dir()
    out: list[FormItem] = []
    if not coco_only:
        out += list(pushfit_items(cache, data))
        out += list(kaiakol_video_items(cache, data))
        out += list(ui_prmd_items(data))
        out += list(exercise_correction_items(data))
        out += list(kaiakol_landmark_items(data))
    out += list(pushfit_items(cache, data, coco=True))
    out += list(kaiakol_landmark_items(data, coco=True))
    out += list(ui_prmd_items(data, coco=True))
    out += list(exercise_correction_items(data, coco=True))
    return out
