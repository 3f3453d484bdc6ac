"""Posture-classifier benchmark: grouped cross-validation on real keypoint sets.

    .venv/bin/python benchmarks/bench_posture.py [--models auto,logreg,knn] [--json FILE]

* ML Kit fitness samples (``poses/mlkit_fitness``, 812 frames: push-up and squat, up and down): grouped 5-fold
  accuracy. Groups from the sample names: ``frame__<YouTube id>__<n>.jpg`` is one group per video; screenshots
  (``Screenshot_<date> at <hh.mm.ss>.png``) taken less than 20 s after the previous one are one group (a
  down/up pair grabbed from the same video), so no video is in its own test fold.
* Yoga (``poses/yoga_multiview``, 6 asanas, 4 participants x 4 camera views, every frame of each recording):
  participants held out (leave one participant out), then camera views held out (leave one view out). Each
  recording shows the whole movement from standing into the asana, so besides every frame's accuracy the table
  gives the held phase's (the recording's second half) and each recording's (argmax of its frames' mean
  probabilities).

Every figure is out-of-fold: a fresh `PostureClassifier` per fold, whose own model choice (``auto``) is a
nested grouped cross-validation on the training folds only. ECE = expected calibration error of the
out-of-fold probabilities (0 = a probability p is right a share p of the time).
"""

from __future__ import annotations

import argparse
import datetime
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from clips import data_dir, header, save_rows, table
from posecoach.analysis.posture import FeatureSpec, PostureClassifier
from posecoach.analysis.posture.embedding import frame_points
from posecoach.analysis.posture.evaluation import CrossValidation, cross_validate
from posecoach.analysis.posture.models import expected_calibration_error
from posecoach.posture_dataset import read_keypoint_table

MLKIT = "poses/mlkit_fitness/android/vision-quickstart/app/src/main/assets/pose/fitness_pose_samples.csv"
YOGA = "poses/yoga_multiview"
_SHOT = re.compile(r"(\d{4}-\d\d-\d\d)[ _]at[ _](\d\d?)\.(\d\d)\.(\d\d)")


def mlkit_groups(names: list[str], gap_s: float = 20.0) -> np.ndarray:
    """One group per YouTube video; screenshots chained while each follows the previous within ``gap_s``."""
    groups: list[str] = []
    shots: dict[int, datetime.datetime] = {}
    for i, name in enumerate(names):
        m = re.match(r"frame__(.+)__\d+", name)
        s = _SHOT.search(name)
        if m:
            groups.append(f"video:{m.group(1)}")
        elif s:
            shots[i] = datetime.datetime.strptime(" ".join(s.groups()), "%Y-%m-%d %H %M %S")
            groups.append("")
        else:
            groups.append(f"sample:{name}")
    chain, previous = 0, None
    for i in sorted(shots, key=shots.__getitem__):
        if previous is None or (shots[i] - previous).total_seconds() > gap_s:
            chain += 1
        groups[i], previous = f"screenshots:{chain}", shots[i]
    return np.asarray(groups)


def load_mlkit(data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = read_keypoint_table(data / MLKIT)
    return (frame_points(np.stack([r.points for r in rows])), np.array([r.label for r in rows]),
            mlkit_groups([r.name for r in rows]))


def load_yoga(data: Path) -> dict[str, np.ndarray]:
    """Every frame with its asana, participant, camera view, recording and position (0-1) in the recording."""
    cols: dict[str, list[Any]] = {k: [] for k in ("points", "label", "person", "view", "recording", "position")}
    files = sorted((data / YOGA).glob("*/*.csv.gz"))
    if not files:
        raise SystemExit(f"no yoga recordings under {data / YOGA}")
    for f in files:
        m = re.fullmatch(r"(P\d+)(?: \((\d+)\))?\.csv\.gz", f.name)
        if not m:
            raise SystemExit(f"unexpected yoga file name {f}")
        rows = read_keypoint_table(f)
        n = len(rows)
        cols["points"].append(frame_points(np.stack([r.points for r in rows])))
        cols["label"] += [f.parent.name] * n
        cols["person"] += [m.group(1)] * n
        cols["view"] += [f"view {m.group(2) or 1}"] * n
        cols["recording"] += [f"{f.parent.name}/{f.name}"] * n
        cols["position"] += list(np.linspace(0.0, 1.0, n))
    out = {k: np.asarray(v) for k, v in cols.items() if k != "points"}
    out["points"] = np.concatenate(cols["points"])
    return out


def maker(model: str, use_z: bool = False) -> Callable[[], PostureClassifier]:
    return lambda: PostureClassifier(model=model, spec=FeatureSpec(use_z=use_z))


def _ece(cv: CrossValidation, labels: np.ndarray) -> float:
    return expected_calibration_error(cv.proba, np.searchsorted(cv.classes, labels))


def bench_mlkit(data: Path, models: list[str], use_z: bool) -> list[dict[str, Any]]:
    points, labels, groups = load_mlkit(data)
    rows = []
    for model in models:
        t0 = time.perf_counter()
        cv = cross_validate(points, labels, groups, 5, maker(model, use_z))
        rows.append({"dataset": "mlkit_fitness", "split": "grouped 5-fold", "model": model, "frames": len(labels),
                     "groups": len(np.unique(groups)), "accuracy": float(np.mean(cv.predicted == labels)),
                     "ece": _ece(cv, labels), "seconds": time.perf_counter() - t0})
    return rows


def bench_yoga(data: Path, models: list[str], use_z: bool) -> list[dict[str, Any]]:
    d = load_yoga(data)
    labels, rec = d["label"], d["recording"]
    held = d["position"] >= 0.5
    rows = []
    for split, key in (("participants held out", "person"), ("views held out", "view")):
        for model in models:
            t0 = time.perf_counter()
            cv = cross_validate(d["points"], labels, d[key], 99, maker(model, use_z))
            recordings = np.unique(rec)
            right = [cv.classes[int(np.argmax(cv.proba[rec == r].mean(axis=0)))] == labels[rec == r][0]
                     for r in recordings]
            ok = cv.predicted == labels
            rows.append({"dataset": "yoga_multiview", "split": split, "model": model, "frames": len(labels),
                         "groups": cv.folds, "accuracy": float(ok.mean()), "held_accuracy": float(ok[held].mean()),
                         "recordings": len(recordings), "recording_accuracy": float(np.mean(right)),
                         "ece": _ece(cv, labels), "seconds": time.perf_counter() - t0})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="auto,logreg,knn", help="comma-separated: auto, logreg, knn")
    parser.add_argument("--z", action="store_true", help="embed with MediaPipe's z too (off by default)")
    parser.add_argument("--json", help="write the rows as JSON")
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    data = data_dir()
    mlkit = bench_mlkit(data, models, args.z)
    yoga = bench_yoga(data, models, args.z)
    print(header())
    print(f"\nEmbedding: {'x, y, z' if args.z else 'x, y (no z)'}, image frame, mirror augmentation.")
    print("\nML Kit fitness samples (pushups/squats up/down), grouped 5-fold cross-validation:\n")
    print(table(["model", "frames", "groups", "accuracy", "ECE", "seconds"],
                [[r["model"], r["frames"], r["groups"], f"{r['accuracy']:.3f}", f"{r['ece']:.3f}",
                  f"{r['seconds']:.1f}"] for r in mlkit]))
    print("\nYoga multiview (6 asanas), leave one participant / one camera view out:\n")
    print(table(["held out", "model", "folds", "frame accuracy", "held-phase frames", "recordings",
                 "recording accuracy", "ECE", "seconds"],
                [[r["split"], r["model"], r["groups"], f"{r['accuracy']:.3f}", f"{r['held_accuracy']:.3f}",
                  r["recordings"], f"{r['recording_accuracy']:.3f}", f"{r['ece']:.3f}", f"{r['seconds']:.1f}"]
                 for r in yoga], "llrrrrrrr"))
    save_rows(args.json, mlkit + yoga)


if __name__ == "__main__":
    main()
