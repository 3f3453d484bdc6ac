"""Form-rule benchmark: do the squat rules separate kaiakol's correct from its incorrect squat videos?

    .venv/bin/python benchmarks/bench_form.py [--cache DIR] [--model full] [--json FILE]

For every side-view squat in form/kaiakol/data/squat/{correct,incorrect}: poses from the video (or
``--cache DIR``) -> `analyze_sequence(seq, "squat")`. Prints per clip the repetitions, how many of them have at
least one flagged rule, the flags by rule id (reps broken) and the camera view; then, per rule, the share of
correct videos flagged against the share of incorrect videos flagged (a useful rule flags the incorrect ones
and leaves the correct ones alone), and the same for "any rule".
"""

from __future__ import annotations

import time
from typing import Any

from clips import PoseCache, bench_parser, data_dir, each_clip, form_clips, header, run_clips, save_rows, table
from posecoach.analysis import analyze_sequence
from posecoach.analysis.exercises import get_exercise

LABELS = ("correct", "incorrect")


def run(cache: PoseCache) -> list[dict[str, Any]]:
    data = data_dir()
    clips = form_clips(data)
    out = []
    for clip, name, poses in each_clip(cache, clips, data):
        t0 = time.perf_counter()
        report = analyze_sequence(poses.sequence, "squat")
        seconds = time.perf_counter() - t0
        out.append({
            "clip": name, "label": clip.label, "frames": poses.sequence.num_frames, "count": report.reps.count,
            "reps_flagged": sum(bool(item.errors) for item in report.reps.items),
            "rules": {r.id: len(r.reps_broken) for r in report.rules if r.reps_broken},
            "not_measurable": [r.id for r in report.rules if r.status == "not_measurable"],
            "view": report.exercise.view, "rep_views": [item.view for item in report.reps.items],
            "analyze_s": round(seconds, 4),
        })
    return out


def details(rows: list[dict[str, Any]]) -> str:
    body = [[r["clip"].rsplit("/", 1)[-1], r["label"], r["frames"], r["count"], r["reps_flagged"],
             ", ".join(f"{k} {v}" for k, v in r["rules"].items()) or "-", r["view"],
             ", ".join(r["not_measurable"]) or "-"] for r in rows]
    return table(["clip", "label", "frames", "reps", "reps flagged", "flags (rule: reps broken)", "view",
                  "not measurable"], body, "llrrrlll")


def _share(k: int, n: int) -> str:
    return f"{k}/{n} ({k / n:.2f})" if n else "-"


def separation(rows: list[dict[str, Any]]) -> str:
    groups = {label: [r for r in rows if r["label"] == label] for label in LABELS}
    body = []
    for rule in get_exercise("squat").rules:
        flagged = [_share(sum(rule.id in r["rules"] for r in groups[lb]), len(groups[lb])) for lb in LABELS]
        judged = [str(sum(rule.id not in r["not_measurable"] for r in groups[lb])) for lb in LABELS]
        body.append([rule.id, rule.severity, ", ".join(rule.views) or "any", *flagged, *judged])
    anyf = [_share(sum(bool(r["rules"]) for r in groups[lb]), len(groups[lb])) for lb in LABELS]
    body.append(["**any rule**", "", "", *anyf, "", ""])
    reps = [_share(sum(r["reps_flagged"] for r in groups[lb]), sum(r["count"] for r in groups[lb])) for lb in LABELS]
    body.append(["reps flagged / reps", "", "", *reps, "", ""])
    return table(["rule", "severity", "views", "correct videos flagged", "incorrect videos flagged",
                  "judged in (correct)", "judged in (incorrect)"], body, "lllrrrr")


def main() -> None:
    parser = bench_parser(__doc__)
    args = parser.parse_args()
    rows = run_clips(parser, args, run)
    print(header())
    n = {label: sum(r["label"] == label for r in rows) for label in LABELS}
    print(f"\nSquat form rules, model {args.model}: {n['correct']} correct and {n['incorrect']} incorrect videos "
          "(form/kaiakol/data/squat), analysed with analyze_sequence(seq, \"squat\").\n")
    print(details(rows))
    print("\nSeparation: videos with at least one rep flagged by each rule (any severity), per ground-truth "
          "group; 'judged in': videos where the rule could be measured (its camera views).\n")
    print(separation(rows))
    save_rows(args.json, rows)


if __name__ == "__main__":
    main()
