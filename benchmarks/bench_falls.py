"""Fall-detection benchmark: fall videos, false alarms on every other clip, COCO-17 against BlazePose-33 input,
leave-one-dataset-out on the keypoint sets, the synthetic-only model, live latency.

    .venv/bin/python benchmarks/bench_falls.py [--cache DIR] [--model full] [--fall-model FILE] [--no-lodo]
                                               [--json FILE]

1. Videos in ``falls/`` (gmdcsa24, phone_falls, bed_negative), never trained on: poses estimated (or read from
   ``--cache``) -> `detect_sequence` with the shipped model (or ``--fall-model``). A fall clip counts as detected
   when an alert fires no earlier than 1 s before the labelled start (gmdcsa24 ``labels.csv``; phone_falls has
   no labels); an earlier alert is a false alarm. Delay = alert - labelled start.
2. False alarms per hour over every exercise and daily-activity video in ``../shared/data`` (all videos but the
   fall clips), with the clips that alerted.
3. The same poses as 33 BlazePose landmarks and as the 17 COCO keypoints among them: same events? And why UP-Fall
   is left out (frames out of time order).
4. Leave-one-dataset-out (`validation.leave_one_dataset_out`): for each group of recordings (URFD and MD4FD's
   URFD windows; Le2i from two pose tools and MD4FD's Le2i windows; synthetic; the non-fall videos under
   ``reps/``; every other non-fall video) a model trained on the others, scored per source at event level
   (caught falls, false alarms, delay). Le2i is also scored as raw
   pixels and as normalised coordinates without the frame size, as a user may pass them.
5. The shipped model on the keypoint sources it was trained on (optimistic), and the synthetic-only model
   (``train --synthetic-only``) on every keypoint source (all held out for it).
6. Live detector: time per `LiveFallDetector.update` over a synthetic 30 fps stream.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from clips import PoseCache, bench_parser, data_dir, header, progress, run_clips, save_rows, short_name, table
from posecoach.analysis.falls import LiveFallDetector, default_model, detect_sequence
from posecoach.analysis.falls import datasets as ds
from posecoach.analysis.falls.model import SHIPPED_CONFIG, SYNTHETIC_CONFIG, FallModel
from posecoach.analysis.falls.synthetic import make_clip
from posecoach.analysis.falls.validation import HEADERS, evaluate, leave_one_dataset_out, summarise
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import blazepose33_to_coco17

VIDEO = (".mp4", ".mov", ".avi", ".webm", ".mkv")
EARLY_S = 1.0


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


def as_coco17(seq: PoseSequence) -> PoseSequence:
    """The subject's 17 COCO keypoints of a BlazePose sequence (x, y, visibility as the score), as a COCO-17
    sequence built by `PoseSequence.from_landmarks` (what a YOLO-pose user passes)."""
    lm = np.nan_to_num(seq.subject_landmarks()[..., [0, 1, 3]])
    return PoseSequence.from_landmarks(blazepose33_to_coco17(lm), fps=seq.fps, timestamps=seq.timestamps,
                                       source=seq.source)


def run_videos(cache: PoseCache, model: FallModel) -> dict[str, list[dict[str, Any]]]:
    data = data_dir()
    falls = _fall_videos(data)
    rows, pairs = [], []
    for i, (video, dataset, is_fall, start) in enumerate(falls, 1):
        poses = cache.get(video)
        progress(i, len(falls), short_name(video, data), poses)
        rep = detect_sequence(poses.sequence, model, per_frame=False)
        ok = [e.alert_s for e in rep.events if start is None or e.alert_s >= start - EARLY_S] if is_fall else []
        rows.append({"dataset": dataset, "clip": short_name(video, data), "fall": is_fall, "start_s": start,
                     "alert_s": ok[0] if ok else None, "events": len(rep.events),
                     "false_alarms": len(rep.events) - (1 if ok else 0) if is_fall else len(rep.events),
                     "delay_s": round(ok[0] - start, 2) if ok and start is not None else None,
                     "duration_s": round(poses.sequence.duration, 2)})
        pairs.append(_pair(short_name(video, data), poses.sequence, model))
    negatives = _negative_videos(data, falls)
    neg_rows = []
    for i, video in enumerate(negatives, 1):
        poses = cache.get(video)
        progress(i, len(negatives), short_name(video, data), poses)
        rep = detect_sequence(poses.sequence, model, per_frame=False)
        neg_rows.append({"clip": short_name(video, data), "duration_s": round(poses.sequence.duration, 2),
                         "alerts": len(rep.events), "alert_s": [e.alert_s for e in rep.events]})
        if rep.events:
            pairs.append(_pair(short_name(video, data), poses.sequence, model))
    return {"videos": rows, "negatives": neg_rows, "pairs": pairs}


def _pair(name: str, seq: PoseSequence, model: FallModel) -> dict[str, Any]:
    """Alerts of the same poses given as 33 landmarks and as the 17 COCO keypoints among them."""
    a = [e.alert_s for e in detect_sequence(seq, model, per_frame=False).events]
    b = [e.alert_s for e in detect_sequence(as_coco17(seq), model, per_frame=False).events] if seq.num_people else []
    return {"clip": name, "alerts_33": a, "alerts_17": b}


def coco_rows(pairs: list[dict[str, Any]], label: str) -> list[Any]:
    same = [p for p in pairs if len(p["alerts_33"]) == len(p["alerts_17"])]
    diffs = [abs(x - y) for p in same for x, y in zip(p["alerts_33"], p["alerts_17"], strict=True)]
    return [label, len(pairs), sum(bool(p["alerts_33"]) for p in pairs), sum(bool(p["alerts_17"]) for p in pairs),
            f"{len(same)}/{len(pairs)}", f"{max(diffs):.2f}" if diffs else "-"]


def le2i_pairs(model: FallModel) -> list[dict[str, Any]]:
    """Le2i clips posed by MediaPipe (25 NTU joints in the BlazePose slots) as 33 landmarks and as COCO-17."""
    return [_pair(i.name, i.sequence, model) for i in ds.load("le2i_ntu25")]


def upfall_order() -> list[Any]:
    """How many UP-Fall clips have frames out of time order (why it is neither trained on nor scored)."""
    breaks = [ds.time_order_breaks(i.sequence) for i in ds.load("upfall")]
    urfd = [ds.time_order_breaks(i.sequence) for i in ds.load("urfd")]
    return [f"{sum(b >= 4 for b in breaks)}/{len(breaks)}", f"{np.median(breaks):.0f}",
            f"{sum(b >= 4 for b in urfd)}/{len(urfd)}", f"{np.median(urfd):.0f}"]


def lodo(config: Any, groups: list[str] | None = None) -> dict[str, list[Any]]:
    root = ds.data_root()
    extra = {"le2i_coco17:pixels, no frame size": lambda: list(ds.le2i(root, "coco17", normalise=False)),
             "le2i_coco17:normalised, no frame size": lambda: list(ds.le2i(root, "coco17", with_size=False)),
             "le2i_ntu25:pixels, no frame size": lambda: list(ds.le2i(root, "ntu25", normalise=False))}
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    return leave_one_dataset_out(config, groups=groups, extra=extra, log=log)  # type: ignore[return-value]


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


def print_videos(rows: list[dict[str, Any]], neg: list[dict[str, Any]]) -> None:
    print("\n### Fall videos (never trained on)\n")
    print(table(["dataset", "clip", "fall", "labelled start", "alert", "delay", "false alarms"],
                [[r["dataset"], r["clip"].split("/", 1)[-1], "yes" if r["fall"] else "no",
                  "-" if r["start_s"] is None else f"{r['start_s']:.1f} s",
                  "-" if r["alert_s"] is None else f"{r['alert_s']:.2f} s",
                  "-" if r["delay_s"] is None else f"{r['delay_s']:.2f} s", r["false_alarms"]] for r in rows],
                "lllrrrr"))
    summary = []
    for name in ("gmdcsa24", "phone_falls", "bed_negative", "all"):
        sub = [r for r in rows if name in ("all", r["dataset"])]
        pos, negs = [r for r in sub if r["fall"]], [r for r in sub if not r["fall"]]
        delays = [r["delay_s"] for r in pos if r["delay_s"] is not None]
        summary.append([name, len(sub), f"{sum(r['alert_s'] is not None for r in pos)}/{len(pos)}" if pos else "-",
                        sum(r["false_alarms"] for r in sub),
                        f"{sum(r['events'] == 0 for r in negs)}/{len(negs)}" if negs else "-",
                        f"{np.median(delays):.2f} / {max(delays):.2f} s" if delays else "-"])
    print("\n" + table(["set", "clips", "sensitivity", "false alarms", "silent non-fall clips",
                        "delay median / max"], summary))
    hours = sum(r["duration_s"] for r in neg) / 3600
    alerts = sum(r["alerts"] for r in neg)
    print("\n### False alarms on every exercise and daily-activity video\n")
    print(table(["clips", "hours", "alerts", "false alarms / hour", "clips with an alert"],
                [[len(neg), f"{hours:.3f}", alerts, f"{alerts / hours:.1f}" if hours else "-",
                  ", ".join(f"{r['clip']} ({', '.join(f'{a:.1f}' for a in r['alert_s'])} s)"
                            for r in neg if r["alerts"]) or "none"]]))


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--fall-model", metavar="FILE", help="fall model file (default: the shipped model)")
    parser.add_argument("--no-lodo", action="store_true", help="skip leave-one-dataset-out (minutes of training)")
    parser.add_argument("--groups", help="leave out only these groups, comma-separated (default: every group: "
                        f"{', '.join(sorted(set(ds.GROUPS.values()) - {'upfall'}))})")
    args = parser.parse_args()
    if args.cache:  # the non-fall videos' poses: training negatives of the leave-one-dataset-out folds
        os.environ.setdefault("POSECOACH_POSE_CACHE", args.cache)
    model = FallModel.load(args.fall_model) if args.fall_model else default_model()
    res = run_clips(parser, args, lambda cache: [run_videos(cache, model)])[0]  # type: ignore[arg-type,list-item]
    print(header())
    print(f"model: {model.name} (trained on {model.trained_on or 'synthetic clips'})")
    print_videos(res["videos"], res["negatives"])
    print("\n### The same poses as 33 landmarks and as 17 COCO keypoints\n")
    pairs = le2i_pairs(model)
    print(table(["sequences", "count", "with an alert (33)", "with an alert (17)", "same number of events",
                 "largest alert difference (s)"],
                [coco_rows(res["pairs"], "videos (falls; non-fall clips with an alert)"),
                 coco_rows(pairs, "Le2i, MediaPipe 33 (trained on)")]))
    print("\n### UP-Fall: frames out of time order (hips jumping > 0.8 torso lengths between frames)\n")
    print(table(["UP-Fall clips with >= 4 jumps", "median jumps", "URFD clips with >= 4", "median (URFD)"],
                [upfall_order()]))
    if not args.no_lodo:
        print("\n### Leave one dataset out (trained on the other groups, scored on this source)\n")
        results = lodo(SHIPPED_CONFIG, args.groups.split(",") if args.groups else None)
        print(table(HEADERS, [summarise(k, v).row() for k, v in results.items()]))
        shown = {k: v for k, v in results.items() if ":" not in k and k != "synthetic"}  # not the variants
        missed = [f"{o.source}/{o.name}" for v in shown.values() for o in v if o.fall and not o.caught]
        alarms = [f"{o.source}/{o.name} ({o.false_alarms})" for v in shown.values() for o in v if o.false_alarms]
        print(f"\nmissed ({len(missed)}): {', '.join(missed) or 'none'}")
        print(f"\nwith a false alarm ({len(alarms)}): {', '.join(alarms) or 'none'}")
    print("\n### The shipped model on the keypoint sources it was trained on (in-sample: optimistic)\n")
    root = ds.data_root()
    own = {s: ds.load(s) for s in ds.KEYPOINT_SOURCES}
    own["le2i_coco17:pixels, no frame size"] = list(ds.le2i(root, "coco17", normalise=False))
    own["le2i_coco17:normalised, no frame size"] = list(ds.le2i(root, "coco17", with_size=False))
    rows = [summarise(k, evaluate(model, v)).row() for k, v in own.items()]
    print(table(["source (trained on)", *HEADERS[1:]], rows))
    synthetic = default_model(SYNTHETIC_CONFIG)
    print(f"\n### The synthetic-only model ({synthetic.name}) on the real keypoint sources (all held out)\n")
    print(table(HEADERS, [summarise(s, evaluate(synthetic, ds.load(s))).row() for s in ds.KEYPOINT_SOURCES]))
    print("\n### Live detector latency (per frame, 30 fps stream, pose estimation not included)\n")
    print(table(["frames", "median ms", "p95 ms", "max ms"], [live_latency(model)]))
    save_rows(args.json, [*res["videos"], *res["negatives"], *res["pairs"]])


if __name__ == "__main__":
    main()
