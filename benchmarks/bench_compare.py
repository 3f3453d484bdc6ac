"""Comparison with a guide: does the score separate same from different movements, and fall as a movement is
changed by known amounts?

    .venv/bin/python benchmarks/bench_compare.py [--skip-yoga] [--fit] [--json FILE]

* **yoga_multiview** (``poses/yoga_multiview``: 6 asanas, participants P1-P4, 4 camera views, MediaPipe
  landmarks): every pair of sequences is compared (`compare_prepared`, no repetition counting: each file is one
  movement into and out of the pose, mirroring allowed); same-asana pairs should score above different-asana
  pairs. ROC AUC overall, by view relation and by view pair; beside it the naive method (cosine similarity of
  raw keypoints frame by frame, both resampled to the same length).
* **rehab references** (UI-PRMD Kinect, 10 movements; KERAAL BlazePose, 3 exercises): each scored against
  itself, against the other movements of its set, and against degraded copies: slowed 1.5x and 2x, moved and
  shrunk in the frame, mirrored, and its most moving joint restricted by 10 / 20 / 30 / 45 degrees (is that
  joint named as the largest deviation?).
* **correct vs incorrect** (`compare_labelled`): UI-PRMD Kinect (10 movements, subjects 1-5; guide = one correct
  repetition of one subject, scored = the other subjects' correct and incorrect repetitions) per movement ROC AUC
  and median scores, with the calibration fitted leaving the scored subject out; KERAAL group 3 correct vs error
  repetitions. ``--fit`` refits the shipped calibration (``analysis/compare/calibration.json``) on all of UI-PRMD.
* **speed**: two 2-minute sequences (KERAAL poses tiled) compared end to end, repetitions counted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench_analysis_speed import tile
from clips import data_dir, header, table
from compare_labelled import UI_PRMD_NAMES, auc, bench_keraal, bench_ui_prmd
from posecoach.analysis.compare import compare_prepared, compare_sequences, degrade, prepare
from posecoach.analysis.compare.features import SCORED_ANGLES, sequence_features
from posecoach.analysis.compare.scoring import angle_matrix
from posecoach.core.sequence import PoseSequence
from posecoach.io.landmark_files import read_keraal_blazepose, read_mediapipe_csv, read_ui_prmd

KERAAL_NAMES = {"CTK": "CTK (torso tilt)", "ELK": "ELK (arm/flank stretch)", "RTK": "RTK (torso rotation)"}
RESTRICT_DEG = (10, 20, 30, 45)
RESTRICTABLE = [n for n in SCORED_ANGLES if n != "trunk_lean"]


def yoga_sequences(root: Path) -> list[tuple[str, str, int, PoseSequence]]:
    """(asana, person, view, sequence) for every file; ``P1.csv.gz`` is view 1, ``P1 (3).csv.gz`` view 3."""
    out = []
    for path in sorted(root.glob("*/*.csv.gz")):
        m = re.match(r"(P\d+)(?: \((\d)\))?\.csv\.gz$", path.name)
        if m:
            out.append((path.parent.name, m.group(1), int(m.group(2) or 1), read_mediapipe_csv(path)))
    return out


def naive_score(a: PoseSequence, b: PoseSequence) -> float:
    """Mean cosine similarity of the raw keypoint vectors, frame by frame after resampling to one length."""
    pa, pb = (np.nan_to_num(s.subject_landmarks()[..., :2].reshape(s.num_frames, -1)) for s in (a, b))
    n = max(len(pa), len(pb))
    ia, ib = (np.round(np.linspace(0, len(p) - 1, n)).astype(int) for p in (pa, pb))
    x, y = pa[ia], pb[ib]
    cos = np.sum(x * y, 1) / np.maximum(np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1), 1e-9)
    return float(np.mean(cos))


def bench_yoga(root: Path) -> dict[str, Any]:
    seqs = yoga_sequences(root)
    prepared = [prepare(s, reps=False) for *_, s in seqs]
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for i, j in itertools.combinations(range(len(seqs)), 2):
        (pa, ia, va, sa), (pb, ib, vb, sb) = seqs[i], seqs[j]
        r = compare_prepared(prepared[i], prepared[j])
        rows.append({"same": pa == pb, "same_person": ia == ib, "views": tuple(sorted((va, vb))), "score": r.score,
                     "naive": naive_score(sa, sb), "mirrored": r.alignment.mirrored})
    seconds = time.perf_counter() - t0

    def line(label: str, sel: list[dict[str, Any]]) -> list[Any]:
        pos = [r["score"] for r in sel if r["same"]]
        neg = [r["score"] for r in sel if not r["same"]]
        npos, nneg = [r["naive"] for r in sel if r["same"]], [r["naive"] for r in sel if not r["same"]]
        return [label, len(pos), len(neg), f"{auc(pos, neg):.3f}", f"{np.mean(pos):.1f}", f"{np.mean(neg):.1f}",
                f"{auc(npos, nneg):.3f}"]

    heads = ["pairs", "same-pose", "different-pose", "AUC", "mean score, same", "mean score, different",
             "AUC naive cosine"]
    relation = [line("all", rows),
                line("same view", [r for r in rows if r["views"][0] == r["views"][1]]),
                line("different views", [r for r in rows if r["views"][0] != r["views"][1]]),
                line("same person, different views", [r for r in rows if r["same_person"]
                                                      and r["views"][0] != r["views"][1]]),
                line("different people, different views", [r for r in rows if not r["same_person"]
                                                           and r["views"][0] != r["views"][1]])]
    by_view = [line(f"view {a} - view {b}", [r for r in rows if r["views"] == (a, b)])
               for a, b in sorted({r["views"] for r in rows})]
    print(f"\n### yoga_multiview: {len(seqs)} sequences, {len(rows)} pairs ({seconds:.1f} s, "
          f"{1000 * seconds / len(rows):.1f} ms per comparison)\n")
    print(table(heads, relation))
    print("\nBy camera view pair:\n")
    print(table(heads, by_view))
    a = auc([r["score"] for r in rows if r["same"]], [r["score"] for r in rows if not r["same"]])
    return {"auc": a, "pairs": len(rows), "relation": relation, "by_view": by_view}


def main_joint(seq: PoseSequence) -> str:
    ang = angle_matrix(sequence_features(seq))
    rom = np.nanpercentile(ang, 95, axis=0) - np.nanpercentile(ang, 5, axis=0)
    return max(RESTRICTABLE, key=lambda n: rom[SCORED_ANGLES.index(n)])


def bench_rehab(name: str, refs: dict[str, PoseSequence]) -> list[dict[str, Any]]:
    results = []
    for key, seq in refs.items():
        joint = main_joint(seq)
        others = [compare_sequences(seq, o, reps=False).score for k, o in refs.items() if k != key]
        row: dict[str, Any] = {"movement": key, "joint": joint, "self": compare_sequences(seq, seq, reps=False).score,
                               "best other": max(s for s in others if s is not None)}
        variants = {"slowed 1.5x": degrade.slowed(seq, 1.5), "slowed 2x": degrade.slowed(seq, 2.0),
                    "shifted+scaled": degrade.shifted(seq), "mirrored": degrade.mirrored(seq)}
        for label, v in variants.items():
            row[label] = compare_sequences(seq, v, reps=False).score
        row["mirrored, no mirroring"] = compare_sequences(seq, degrade.mirrored(seq), reps=False, mirror=False).score
        for deg in RESTRICT_DEG:
            r = compare_sequences(seq, degrade.restricted(seq, joint, deg), reps=False)
            js = next(j.score for j in r.joints if j.name == joint)
            row[f"r{deg}"] = (r.score, js, bool(r.deviations) and r.deviations[0].joint == joint)
        results.append(row)
    heads = ["movement", "self", "best other", "slowed 1.5x", "slowed 2x", "shifted+scaled", "mirrored",
             "mirrored, no mirroring", "restricted joint"] + [f"-{d}°: score / joint / named" for d in RESTRICT_DEG]
    rows = [[r["movement"], r["self"], r["best other"], r["slowed 1.5x"], r["slowed 2x"], r["shifted+scaled"],
             r["mirrored"], r["mirrored, no mirroring"], r["joint"]]
            + [f"{r[f'r{d}'][0]:.1f} / {r[f'r{d}'][1]:.0f} / {'yes' if r[f'r{d}'][2] else 'no'}" for d in RESTRICT_DEG]
            for r in results]
    print(f"\n### {name}: each reference against itself, the others and degraded copies (scores 0-100)\n")
    print(table(heads, rows))
    summary = [[f"-{d}°", f"{np.mean([r[f'r{d}'][0] for r in results]):.1f}",
                f"{np.mean([r[f'r{d}'][1] for r in results]):.1f}",
                f"{sum(r[f'r{d}'][2] for r in results)}/{len(results)}"] for d in RESTRICT_DEG]
    print(f"\n{name}, one joint restricted (mean over movements):\n")
    print(table(["restriction", "overall score", "restricted joint's score", "named as largest deviation"],
                summary))
    top = sum(r["self"] > r["best other"] for r in results)
    print(f"\nself scores above every other movement: {top}/{len(results)}")
    return results


def bench_speed(seq_a: PoseSequence, seq_b: PoseSequence, minutes: float = 2.0) -> dict[str, float]:
    a, b = tile(seq_a, 60 * minutes), tile(seq_b, 60 * minutes)
    t0 = time.perf_counter()
    r = compare_sequences(a, b)
    t_full = time.perf_counter() - t0
    t0 = time.perf_counter()
    compare_sequences(a, b, reps=False, mirror=False)
    t_plain = time.perf_counter() - t0
    print(f"\n### speed: two {minutes:g}-minute sequences ({a.num_frames} and {b.num_frames} frames)\n")
    print(table(["what", "seconds"], [["compare_sequences (reps counted, mirroring tried)", f"{t_full:.2f}"],
                                      ["one alignment, no reps, no mirroring", f"{t_plain:.2f}"]]))
    print(f"(alignment: {r.alignment.method}, band {r.alignment.band_frames} frames)")
    return {"full_s": t_full, "plain_s": t_plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-yoga", action="store_true", help="skip the 4000-pair yoga benchmark")
    parser.add_argument("--fit", action="store_true", help="refit the shipped calibration on UI-PRMD and write it")
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args()
    data = data_dir()
    print(header())
    out: dict[str, Any] = {}
    if not args.skip_yoga:
        out["yoga"] = bench_yoga(data / "poses" / "yoga_multiview")
    ui = {UI_PRMD_NAMES[p.name[:3]]: read_ui_prmd(p)
          for p in sorted((data / "rehab" / "ui_prmd" / "data").glob("m*_positions.txt"))}
    keraal_dir = data / "rehab" / "keraal" / "draw_skeleton" / "dataSampleKeraal"
    keraal = {KERAAL_NAMES[k]: read_keraal_blazepose(keraal_dir / f"G3-BP-{k}-P1T1-Unknown-C-0.json")
              for k in KERAAL_NAMES}
    out["ui_prmd_labelled"] = bench_ui_prmd(data / "form" / "ui_prmd_kinect", table, fit=args.fit)
    out["keraal_labelled"] = bench_keraal(data / "form" / "keraal_errors", table)
    out["ui_prmd"] = bench_rehab("UI-PRMD (Kinect)", ui)
    out["keraal"] = bench_rehab("KERAAL (BlazePose)", keraal)
    seqs = list(keraal.values())
    out["speed"] = bench_speed(seqs[0], seqs[2])
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=lambda o: None if isinstance(o, float)
                                              and math.isnan(o) else str(o)))


if __name__ == "__main__":
    main()
