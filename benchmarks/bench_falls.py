"""Fall-detection benchmark: fall videos, false alarms on every other clip, and the keypoint sets.

    .venv/bin/python benchmarks/bench_falls.py [--cache DIR] [--model full] [--json FILE]

1. Videos in ``falls/`` (gmdcsa24, phone_falls, bed_negative): poses estimated (or read from ``--cache``) ->
   `detect_sequence`. A fall clip counts as detected when an alert fires (gmdcsa24: not before 1 s ahead of the
   labelled start); delay = alert time - labelled fall start (gmdcsa24 ``labels.csv``; phone_falls has no labels).
   Sensitivity = detected falls / falls, specificity = silent non-fall clips / non-fall clips.
2. False alarms per hour over every exercise and daily-activity video in ``../shared/data`` (all videos except
   the fall clips), with the clips that alerted.
3. Keypoint sets (no video): UP-Fall (MediaPipe 33, per-frame onset), URFD AlphaPose 13 joints (official
   per-frame labels: falling or lying = fall) and MD4FD (90-frame windows, fall / no fall). Sequence or window
   level: an alert inside it = fall; frame level: ROC AUC of the smoothed probability.
4. Live detector: time per `LiveFallDetector.update` over a synthetic 30 fps stream.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from clips import PoseCache, bench_parser, data_dir, header, progress, run_clips, save_rows, short_name, table
from posecoach.analysis.falls import LiveFallDetector, default_model, detect_sequence
from posecoach.analysis.falls.model import FallModel
from posecoach.analysis.falls.synthetic import make_clip
from posecoach.core.sequence import PoseSequence
from posecoach.falls_datasets import read_md4fd, read_upfall, read_urfd_alphapose

VIDEO = (".mp4", ".mov", ".avi", ".webm", ".mkv")


def _fall_videos(data: Path) -> list[tuple[Path, str, bool, float | None]]:
    """(video, dataset, is_fall, labelled fall start or None)."""
    root = data / "falls"
    out: list[tuple[Path, str, bool, float | None]] = []
    with open(root / "gmdcsa24" / "labels.csv", newline="") as f:
        for row in csv.DictReader(f):
            start = float(row["fall_start_s"]) if row["fall_start_s"] else None
            out.append((root / "gmdcsa24" / row["path"], "gmdcsa24", row["label"] == "fall", start))
    out += [(v, "phone_falls", True, None) for v in sorted((root / "phone_falls" / "videos").glob("*.mp4"))]
    out += [(v, "bed_negative", False, None) for v in sorted((root / "bed_negative").glob("*.mp4"))]
    return out


def _negative_videos(data: Path, falls: list[tuple[Path, str, bool, float | None]]) -> list[Path]:
    fall_clips = {v.resolve() for v, _, is_fall, _ in falls if is_fall}
    return sorted(p for p in data.rglob("*") if p.suffix.lower() in VIDEO and p.resolve() not in fall_clips)


def run_videos(cache: PoseCache, model: FallModel) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = data_dir()
    falls = _fall_videos(data)
    rows = []
    for i, (video, dataset, is_fall, start) in enumerate(falls, 1):
        poses = cache.get(video)
        progress(i, len(falls), short_name(video, data), poses)
        rep = detect_sequence(poses.sequence, model, per_frame=False)
        alerts = [e.alert_s for e in rep.events if start is None or e.alert_s >= start - 1.0]
        rows.append({"dataset": dataset, "clip": short_name(video, data), "fall": is_fall, "start_s": start,
                     "alert_s": alerts[0] if alerts else None, "events": len(rep.events),
                     "delay_s": round(alerts[0] - start, 2) if alerts and start is not None else None,
                     "duration_s": round(poses.sequence.duration, 2)})
    negatives = _negative_videos(data, falls)
    neg_rows = []
    for i, video in enumerate(negatives, 1):
        poses = cache.get(video)
        progress(i, len(negatives), short_name(video, data), poses)
        rep = detect_sequence(poses.sequence, model, per_frame=False)
        neg_rows.append({"clip": short_name(video, data), "duration_s": round(poses.sequence.duration, 2),
                         "alerts": len(rep.events), "alert_s": [e.alert_s for e in rep.events]})
    return rows, neg_rows


def _scores(name: str, seq_pred: list[bool], seq_true: list[bool], p: list[np.ndarray], y: list[np.ndarray],
            delays: list[float]) -> list[Any]:
    pred, true = np.array(seq_pred), np.array(seq_true)
    sens = f"{np.mean(pred[true]):.3f} ({int(pred[true].sum())}/{int(true.sum())})" if true.any() else "-"
    spec = f"{np.mean(~pred[~true]):.3f} ({int((~pred[~true]).sum())}/{int((~true).sum())})" if (~true).any() else "-"
    pp, yy = np.concatenate(p), np.concatenate(y)
    auc = f"{roc_auc_score(yy, pp):.3f}" if len(set(yy.tolist())) == 2 else "-"
    delay = f"{np.median(delays):.2f} / {np.max(delays):.2f}" if delays else "-"
    return [name, len(seq_true), sens, spec, auc, delay]


def _fall_sequences(name: str, labelled: Iterable[tuple[PoseSequence, np.ndarray]], model: FallModel) -> list[Any]:
    """Scores on fall sequences with per-frame labels (1 from the fall's onset): caught, frame AUC, delay."""
    preds, trues, ps, ys, delays = [], [], [], [], []
    for seq, label in labelled:
        rep = detect_sequence(seq, model)
        preds.append(bool(rep.events))
        trues.append(True)
        ps.append(np.array(rep.smoothed))
        ys.append(label)
        if rep.events and label.any():
            delays.append(rep.events[0].alert_s - float(seq.timestamps[int(np.argmax(label))]))
    return _scores(name, preds, trues, ps, ys, delays)


def _upfall(root: Path, model: FallModel) -> list[Any]:
    files = sorted((root / "upfall_3dskel" / "csv").rglob("*.csv"))
    return _fall_sequences("UP-Fall (82 falls, MediaPipe 33)", (read_upfall(f) for f in files), model)


def _urfd(root: Path, model: FallModel) -> list[Any]:
    videos = read_urfd_alphapose(root / "urfd_pose_alphapose_mynameisphp" / "pose_urfd_3classes.csv",
                                 root / "urfd_labels" / "urfall-cam0-falls.csv")
    return _fall_sequences("URFD AlphaPose (30 falls, 13 joints)", videos.values(), model)


def _md4fd(root: Path, model: FallModel) -> list[list[Any]]:
    out = []
    for f in sorted((root / "md4fd").glob("*.json.xz")):
        if f.name.startswith("ur_fall_FALL"):
            continue  # the same fall windows as URFD_normalized
        preds, trues, ps, ys = [], [], [], []
        for seq, label in read_md4fd(f):
            rep = detect_sequence(seq, model)
            preds.append(bool(rep.events))
            trues.append(label)
            ps.append(np.array([max(rep.smoothed)]))
            ys.append(np.array([int(label)]))
        out.append(_scores(f"MD4FD {f.name.split('.')[0]} (windows)", preds, trues, ps, ys, []))
    return out


def live_latency(model: FallModel, frames: int = 900) -> list[Any]:
    """Per-frame time of `LiveFallDetector.update` over a 30 s synthetic stream (falls and activities)."""
    rng = np.random.default_rng(5)
    clips = []
    while sum(c.sequence.num_frames for c in clips) < frames:
        clips.append(make_clip(rng, bool(rng.random() < 0.5), fps=30.0))
    live = LiveFallDetector(model, fps=30.0, width=1280, height=720)
    times, offset = [], 0.0
    for c in clips:
        lm = c.sequence.subject_landmarks()
        for i in range(c.sequence.num_frames):
            t0 = time.perf_counter()
            live.update(lm[i], offset + float(c.sequence.timestamps[i]))
            times.append(time.perf_counter() - t0)
        offset += c.sequence.duration + 1.0
    ms = np.array(times) * 1000
    return [len(ms), f"{np.median(ms):.1f}", f"{np.percentile(ms, 95):.1f}", f"{ms.max():.1f}"]


def main() -> None:
    parser = bench_parser(__doc__)
    args = parser.parse_args()
    model = default_model()
    rows, neg = run_clips(parser, args, lambda cache: list(run_videos(cache, model)))  # type: ignore[arg-type]
    print(header())
    print(f"model: {model.name}\n\n### Fall videos\n")
    print(table(["dataset", "clip", "fall", "labelled start", "alert", "delay"],
                [[r["dataset"], r["clip"].split("/", 1)[-1], "yes" if r["fall"] else "no",
                  "-" if r["start_s"] is None else f"{r['start_s']:.1f} s",
                  "-" if r["alert_s"] is None else f"{r['alert_s']:.2f} s",
                  "-" if r["delay_s"] is None else f"{r['delay_s']:.2f} s"] for r in rows], "lllrrr"))
    summary = []
    for ds in ("gmdcsa24", "phone_falls", "bed_negative", "all"):
        sub = [r for r in rows if ds in ("all", r["dataset"])]
        pos, negs = [r for r in sub if r["fall"]], [r for r in sub if not r["fall"]]
        delays = [r["delay_s"] for r in pos if r["delay_s"] is not None]
        summary.append([ds, len(sub),
                        f"{sum(r['alert_s'] is not None for r in pos)}/{len(pos)}" if pos else "-",
                        f"{sum(r['events'] == 0 for r in negs)}/{len(negs)}" if negs else "-",
                        f"{np.median(delays):.2f} / {max(delays):.2f} s" if delays else "-"])
    print("\n" + table(["set", "clips", "sensitivity", "specificity", "delay median / max"], summary))
    hours = sum(r["duration_s"] for r in neg) / 3600
    alerts = sum(r["alerts"] for r in neg)
    print("\n### False alarms on exercise and daily-activity clips\n")
    print(table(["clips", "hours", "alerts", "false alarms / hour", "clips with an alert"],
                [[len(neg), f"{hours:.3f}", alerts, f"{alerts / hours:.1f}" if hours else "-",
                  ", ".join(r["clip"] for r in neg if r["alerts"]) or "none"]]))
    root = data_dir() / "falls"
    print("\n### Keypoint sets\n")
    kp = [_upfall(root, model), _urfd(root, model), *_md4fd(root, model)]
    print(table(["set", "sequences", "sensitivity", "specificity", "frame ROC AUC", "delay median / max (s)"], kp))
    print("\n### Live detector latency (per frame, 30 fps stream, pose estimation not included)\n")
    print(table(["frames", "median ms", "p95 ms", "max ms"], [live_latency(model)]))
    save_rows(args.json, [*rows, *neg])


if __name__ == "__main__":
    main()
