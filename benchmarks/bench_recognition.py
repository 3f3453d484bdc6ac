"""Exercise-recognition benchmark on every real clip whose exercise is known.

    .venv/bin/python benchmarks/bench_recognition.py [--cache DIR] [--model full] [--inputs A,B] [--json FILE]

For every clip (see `clips.recognition_clips`: WorkoutTracker, the assorted clips, kaiakol's form videos, the
glute bridge, and movements outside the catalogue that must come out as "other": jump rope, a hometrainer,
monkey bars, russian twists, standing still): poses from the video (or ``--cache DIR``) ->
`recognise(sequence_signals(seq), times=seq.timestamps, hidden=hidden_signals(seq))`. Prints the accuracy overall
and per expected class, a confusion matrix (rows: true class, columns: predicted) and the misclassified clips
with their best scores. ``--inputs box,coco17,...`` also recognises each clip's poses handed in another way
(`benchmarks/transforms.py`: the baseline ``identity_from_landmarks`` without world landmarks or frame size,
box-normalised, world landmarks, COCO-17, 5-frame average, dropped frames, 15 fps, mirrored) and prints the
accuracy per way and the clips whose class changes against the baseline (issue 22, point 4).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from clips import PoseCache, bench_parser, data_dir, each_clip, header, recognition_clips, run_clips, save_rows, table
from posecoach.analysis import recognise
from posecoach.core.sequence import PoseSequence
from posecoach.features.signals import hidden_signals, sequence_signals
from transforms import BASELINE, TRANSFORMS


def _recognised(seq: PoseSequence) -> str:
    return recognise(sequence_signals(seq), times=seq.timestamps, hidden=hidden_signals(seq)).name


def run(cache: PoseCache, inputs: Sequence[str] = ()) -> list[dict[str, Any]]:
    data = data_dir()
    clips = recognition_clips(data)
    out = []
    for clip, name, poses in each_clip(cache, clips, data):
        t0 = time.perf_counter()
        seq = poses.sequence
        rec = recognise(sequence_signals(seq), times=seq.timestamps, hidden=hidden_signals(seq))
        seconds = time.perf_counter() - t0
        top = sorted(rec.scores.items(), key=lambda kv: -kv[1])[:3]
        out.append({"clip": name, "expected": clip.expected, "predicted": rec.name,
                    "confidence": rec.confidence, "top": top, "scores": rec.scores,
                    "frames": poses.sequence.num_frames, "recognise_s": round(seconds, 4),
                    "inputs": {t: _recognised(TRANSFORMS[t](seq)) for t in dict.fromkeys([BASELINE, *inputs])
                               if inputs}})
    return out


def parse_inputs(text: str | None) -> list[str]:
    """``a,b`` -> the transformations' names (ValueError naming the unknown ones)."""
    names = [t.strip() for t in (text or "").split(",") if t.strip()]
    unknown = [t for t in names if t not in TRANSFORMS]
    if unknown:
        raise ValueError(f"unknown transformation(s) {', '.join(unknown)}; known: {', '.join(TRANSFORMS)}")
    return names


def by_input(rows: list[dict[str, Any]]) -> str:
    """Per way of handing the poses in: accuracy, and the clips whose class differs from the baseline's."""
    body = []
    for t in rows[0]["inputs"] if rows else []:
        ok = sum(r["inputs"][t] == r["expected"] for r in rows)
        changed = [f"{r['clip'].split('/')[-1]}: {r['inputs'][BASELINE]} -> {r['inputs'][t]}" for r in rows
                   if r["inputs"][t] != r["inputs"][BASELINE]]
        body.append([t, len(rows), ok, f"{ok / len(rows):.3f}", len(changed), "; ".join(changed) or "-"])
    return table(["input", "clips", "correct", "accuracy", "class changed", "changed (baseline -> this)"], body,
                 "lrrrrl")


def per_class(rows: list[dict[str, Any]]) -> str:
    classes = sorted({r["expected"] for r in rows})
    body = []
    for c in classes:
        g = [r for r in rows if r["expected"] == c]
        ok = sum(r["predicted"] == c for r in g)
        body.append([c, len(g), ok, f"{ok / len(g):.3f}"])
    ok = sum(r["predicted"] == r["expected"] for r in rows)
    body.append(["**all**", len(rows), ok, f"{ok / len(rows):.3f}"])
    return table(["expected", "clips", "correct", "accuracy"], body)


def confusion(rows: list[dict[str, Any]]) -> str:
    true = sorted({r["expected"] for r in rows})
    pred = true + sorted({r["predicted"] for r in rows} - set(true))
    body = []
    for t in true:
        counts = [sum(r["expected"] == t and r["predicted"] == p for r in rows) for p in pred]
        body.append([t, *(c if c else "." for c in counts)])
    return table(["true \\ predicted", *pred], body)


def misclassified(rows: list[dict[str, Any]]) -> str:
    wrong = [r for r in rows if r["predicted"] != r["expected"]]
    if not wrong:
        return "No misclassified clips."
    body = [[r["clip"], r["expected"], r["predicted"], f"{r['confidence']:.2f}",
             ", ".join(f"{n} {s:.2f}" for n, s in r["top"])] for r in wrong]
    return table(["clip", "expected", "predicted", "confidence", "best scores"], body, "lllrl")


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--inputs", metavar="A,B", help="also recognise the poses handed in these ways: "
                        + ", ".join(TRANSFORMS) + " (benchmarks/transforms.py)")
    args = parser.parse_args()
    try:
        inputs = parse_inputs(args.inputs)
    except ValueError as exc:
        parser.error(str(exc))
    rows = run_clips(parser, args, lambda cache: run(cache, inputs))
    print(header())
    ok = sum(r["predicted"] == r["expected"] for r in rows)
    print(f"\nExercise recognition, model {args.model}: {ok} of {len(rows)} clips right "
          f"({ok / len(rows):.1%}); recognise() took {sum(r['recognise_s'] for r in rows):.2f} s in all "
          "(incl. signal extraction).\n")
    print(per_class(rows))
    print("\nConfusion matrix (rows: true class, columns: predicted; '.' = 0):\n")
    print(confusion(rows))
    print("\nMisclassified clips:\n")
    print(misclassified(rows))
    if inputs:
        print(f"\nThe same clips handed in other ways ({BASELINE}: the landmarks alone through "
              "`PoseSequence.from_landmarks`, no world landmarks or frame size):\n")
        print(by_input(rows))
    save_rows(args.json, rows)


if __name__ == "__main__":
    main()
