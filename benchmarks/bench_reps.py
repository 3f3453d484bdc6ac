"""Repetition-counting benchmark on real clips: WorkoutTracker, QUVA Repetition and jump rope, plus UI-PRMD's
Kinect repetitions joined per person and movement (100 sequences of 10; another pose tool, no video).

    .venv/bin/python benchmarks/bench_reps.py [--cache DIR] [--model full] [--input TRANSFORM] [--loso] [--videos-only]
        [--lead-s S] [--end-return R] [--verbose]
        [--budget N] [--cut-reps] [--json FILE]

For every clip: poses estimated from the video (or read from ``--cache DIR``) -> `count_repetitions(seq)`
class-agnostic (exercise=None) and, where the clip's exercise is known, `count_repetitions(seq, exercise)`.
A repetition the video cuts at its start or end counts by the exercise's convention (`Exercise.cut_reps`); the
two options below apply one convention to every exercise instead.
``--lead-s S`` counts with `CounterSettings(lead_s=S)` (a repetition the video opens in counts; default off).
``--end-return R`` counts a repetition the video ends in once it has come back R of its range from its turn
(`CounterSettings.end_return`, default 0.5; 0: once it has passed the far side's band).
``--budget N`` adds where the MAE comes from: the N clips with the largest errors, each one's share of the MAE, the
frames its ground truth marks and the repetitions counted (start-turn-end frames), to tell a miscount inside a
set from a different reading of a repetition the clip cuts at its start or end.
``--cut-reps`` adds, per exercise, the clips whose count (exercise given) the 'return' and 'turn' conventions
differ on, and which of the two their labels side with: the evidence for each catalogue entry's `cut_reps`.
Prints one table per dataset and overall: MAE = mean(abs(pred - true) / true) over the clips with true > 0,
OBO = share of all clips with abs(pred - true) <= 1 (the RepCount / TransRAC scores), pose and counting time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from clips import (
    PoseCache,
    bench_parser,
    data_dir,
    each_clip,
    header,
    rep_clips,
    run_clips,
    save_rows,
    table,
    truth_frames,
    ui_prmd_rep_clips,
)
from posecoach.analysis import count_repetitions
from posecoach.analysis.counter_settings import CounterSettings, cut_rep_settings
from posecoach.analysis.counting import RELIABLE, RhythmCheck, count_candidates
from posecoach.analysis.exercises import get_exercise
from posecoach.analysis.reps import RepResult
from transforms import TRANSFORMS

#: The settings `--loso` chooses among (when the whole-body rhythm checks and overrides a count).
CHECK_GRID: dict[str, RhythmCheck] = {
    f"conf {c:g}, vote conf {v:g}, reps {n}, " + (f"per side at half-period similarity {h:g}" if p else "no per side")
    + (f", rhythm from {r} reps" if r else ""): RhythmCheck(c, n, v, p, h, r)
    for c in (0.3, 0.5, 0.7) for v in (0.3, 0.5) for n in (3, 5) for p in (True, False) for h in (-1.0, 0.3, 0.5)
    for r in (0, 5, 8) if p or h == 0.3}

#: The conventions for a repetition the video cuts (`Exercise.cut_reps`), compared by ``--cut-reps``.
CUT_REPS = ("return", "turn")


def _timed_count(seq: Any, exercise: str | None, agnostic: bool = False,
                 settings: CounterSettings | None = None) -> tuple[RepResult, float]:
    t0 = time.perf_counter()
    res = count_repetitions(seq, exercise, agnostic=agnostic, settings=settings)
    return res, time.perf_counter() - t0


def run(cache: PoseCache, settings: CounterSettings | None = None, cut_reps: bool = False,
        transform: str | None = None, loso: bool = False, videos_only: bool = False) -> list[dict[str, Any]]:
    """One row per clip: the video clips (poses from ``cache``), then, unless ``videos_only``, UI-PRMD's joined
    Kinect repetitions (another pose tool, no video)."""
    data = data_dir()
    out = []
    for clip, name, poses in each_clip(cache, rep_clips(data), data):
        out.append(_row(clip.dataset, name, clip.exercise, clip.count, poses.sequence, settings, transform, loso,
                        poses.seconds, poses.cached, truth_frames(clip), cut_reps))
    if not videos_only:
        for lclip in ui_prmd_rep_clips(data):
            out.append(_row("ui_prmd", lclip.name, None, lclip.count, lclip.load(),
                            settings, transform, loso, 0.0, True, [], False))
    return out


def _row(dataset: str, name: str, exercise: str | None, true: int, seq: Any, settings: CounterSettings | None,
         transform: str | None, loso: bool, pose_s: float, cached: bool, marks: list[int],
         cut_reps: bool) -> dict[str, Any]:
    seq = TRANSFORMS[transform](seq) if transform else seq
    res, count_s = _timed_count(seq, None, settings=settings)
    row: dict[str, Any] = {
        "dataset": dataset, "clip": name, "exercise": exercise, "frames": seq.num_frames,
        "fps": round(seq.fps, 3), "true": true, "pred": res.count, "signal": res.signal,
        "recognised": res.exercise, "pred_given": None, "signal_given": None,
        "pose_s": round(pose_s, 3), "pose_cached": cached, "count_s": round(count_s, 4),
        "count_given_s": None, "marks": marks,
        "reps": [[r.start_frame, r.turn_frame, r.end_frame] for r in res.reps],
        "confidence": res.confidence, "method": res.method, "rhythm": res.rhythm, "note": res.note,
    }
    if loso:
        cands = count_candidates(seq, None, settings=settings)
        row["pred_check"] = {k: cands.decide(c).count for k, c in CHECK_GRID.items()}
    agnostic, _ = _timed_count(seq, None, True, settings)
    row["pred_agnostic"], row["signal_agnostic"] = agnostic.count, agnostic.signal
    if exercise:
        given, t = _timed_count(seq, exercise, settings=settings)
        row["pred_given"], row["signal_given"], row["count_given_s"] = given.count, given.signal, round(t, 4)
        if cut_reps:
            row["pred_cut"] = {c: count_repetitions(seq, exercise, settings=cut_rep_settings(c)).count
                               for c in CUT_REPS}
    return row


def scores(rows: list[dict[str, Any]], key: str) -> tuple[str, str]:
    """(MAE over true > 0, OBO over all) of the predictions in ``key``; '-' when no row has one."""
    rows = [r for r in rows if r[key] is not None]
    if not rows:
        return "-", "-"
    rel = [abs(r[key] - r["true"]) / r["true"] for r in rows if r["true"] > 0]
    obo = sum(abs(r[key] - r["true"]) <= 1 for r in rows) / len(rows)
    mae = f"{sum(rel) / len(rel):.3f}" if rel else "-"
    return mae, f"{obo:.3f}"


def summary(rows: list[dict[str, Any]]) -> str:
    groups = {d: [r for r in rows if r["dataset"] == d] for d in dict.fromkeys(r["dataset"] for r in rows)}
    groups["all"] = rows
    body = []
    for name, g in groups.items():
        given = [r for r in g if r["pred_given"] is not None]
        mae, obo = scores(g, "pred")
        mae_g, obo_g = scores(g, "pred_given")
        mae_a, obo_a = scores(g, "pred_agnostic")
        body.append([name, len(g), sum(r["true"] == 0 for r in g), sum(r["frames"] for r in g), mae, obo,
                     mae_a, obo_a, len(given), mae_g, obo_g, f"{sum(r['pose_s'] for r in g):.1f}",
                     f"{sum(r['count_s'] for r in g):.2f}",
                     f"{sum(r['count_given_s'] for r in given):.2f}" if given else "-"])
    return table(["dataset", "clips", "true = 0", "frames", "MAE", "OBO", "MAE (agnostic)",
                  "OBO (agnostic)", "clips with exercise", "MAE (exercise)",
                  "OBO (exercise)", "pose s", "count s", "count s (exercise)"], body)


def _mae(rows: list[dict[str, Any]], pred: Any) -> float:
    """The mean over datasets of each one's MAE (so a source with many clips does not outweigh the others)."""
    per = []
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        rel = [abs(pred(r) - r["true"]) / r["true"] for r in rows if r["dataset"] == ds and r["true"] > 0]
        per += [sum(rel) / len(rel)] if rel else []
    return sum(per) / len(per) if per else 0.0


def loso_table(rows: list[dict[str, Any]]) -> str:
    """Leave one source out: for each dataset, the `CHECK_GRID` setting with the lowest MAE on the other datasets
    (the mean of their MAEs; ties: the default first), and its MAE / OBO on the dataset left out, beside the
    shipped default's."""
    default = next(k for k, c in CHECK_GRID.items() if c == RhythmCheck())
    body = []
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        rest, held = [r for r in rows if r["dataset"] != ds], [r for r in rows if r["dataset"] == ds]
        best = min(CHECK_GRID, key=lambda k: (round(_mae(rest, lambda r: r["pred_check"][k]), 4), k != default))
        picked = [{**r, "p": r["pred_check"][best]} for r in held]
        shipped = [{**r, "p": r["pred_check"][default]} for r in held]
        there = _mae(rest, lambda r, k=best: r["pred_check"][k])
        body.append([ds, len(held), best, f"{there:.3f}", *scores(picked, "p"), *scores(shipped, "p")])
    return table(["left out", "clips", "chosen on the other sources", "mean MAE there", "MAE left out", "OBO left out",
                  "MAE left out (default)", "OBO left out (default)"], body, "lrlrrrrr")


def confidence_table(rows: list[dict[str, Any]]) -> str:
    """Errors split by the count's reported reliability: does a low confidence flag the wrong counts?"""
    body = []
    for label, sel in (("reliable", [r for r in rows if r["confidence"] >= RELIABLE]),
                       ("unreliable", [r for r in rows if r["confidence"] < RELIABLE])):
        mae, obo = scores(sel, "pred") if sel else ("-", "-")
        body.append([label, len(sel), mae, obo, sum(r["pred"] > 2 * r["true"] for r in sel if r["true"] > 0)])
    return table(["count reported as", "clips", "MAE", "OBO", "counted > 2x true"], body)


def details(rows: list[dict[str, Any]]) -> str:
    body = [[r["dataset"], r["clip"].split("/videos/")[-1], r["exercise"] or "-", r["frames"], r["true"], r["pred"],
             r["pred"] - r["true"], r["signal"] or "-", r["pred_agnostic"] - r["true"],
             "-" if r["pred_given"] is None else r["pred_given"],
             "-" if r["pred_given"] is None else r["pred_given"] - r["true"], r["signal_given"] or "-",
             f"{r['pose_s']:.1f}" + (" (c)" if r["pose_cached"] else ""), f"{1000 * r['count_s']:.0f}"]
            for r in rows]
    return table(["dataset", "clip", "exercise", "frames", "true", "pred", "err", "signal", "err (agn.)", "pred (ex.)",
                  "err (ex.)", "signal (ex.)", "pose s", "count ms"], body, "lllrrrrlrrrlrr")


def _frames(items: list[Any], keep: int = 4) -> str:
    """A list of frames (or start-turn-end triples), the middle elided when long."""
    text = ["-".join(map(str, x)) if isinstance(x, list) else str(x) for x in items]
    if len(text) > 2 * keep + 1:
        text = [*text[:keep], f"... ({len(text) - 2 * keep} more)", *text[-keep:]]
    return " ".join(text) or "-"


def budget(rows: list[dict[str, Any]], top: int) -> str:
    """The ``top`` clips that add most to the MAE (exercise unknown): their error, share of the MAE sum, and the
    ground truth's marked frames beside the repetitions counted (start-turn-end)."""
    errors = [(abs(r["pred"] - r["true"]) / r["true"], r) for r in rows if r["true"] > 0]
    total = sum(err for err, _ in errors) or 1.0
    worst = sorted(((err, r) for err, r in errors if err > 0), key=lambda e: -e[0])[:top]
    body, left = [], total
    for err, r in worst:
        left -= err
        body.append([r["clip"].split("/videos/")[-1], r.get("recognised") or "other", r["true"], r["pred"],
                     f"{err:.3f}", f"{100 * err / total:.0f} %", f"{left / len(errors):.3f}",
                     _frames(r.get("marks", [])), _frames(r.get("reps", []))])
    return table(["clip", "counted as", "true", "pred", "abs err / true", "share of MAE", "MAE without it and above",
                  "ground truth frames", "repetitions counted (start-turn-end)"], body, "llrrrrrll")


def cut_rep_table(rows: list[dict[str, Any]]) -> str:
    """Per exercise: the clips whose count (exercise given) depends on the cut-repetition convention, and which
    convention their labels side with (the count closer to the true one)."""
    changed: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        cut = r.get("pred_cut")
        if not cut or len(set(cut.values())) == 1:
            continue
        err = {c: abs(n - r["true"]) for c, n in cut.items()}
        side = min(CUT_REPS, key=err.__getitem__) if len(set(err.values())) > 1 else "tie"
        changed.setdefault(r["exercise"], []).append((Path(r["clip"]).stem, side))
    body = [[ex, get_exercise(ex).cut_reps, len(v), *(sum(s == k for _, s in v) for k in (*CUT_REPS, "tie")),
             " ".join(f"{name} ({side})" for name, side in v)] for ex, v in sorted(changed.items())]
    return table(["exercise", "catalogue", "clips it changes", *(f"labels side with {c}" for c in CUT_REPS), "tie",
                  "clips"], body, "llrrrrl")


def counter_settings(lead_s: float = 0.0, end_return: float | None = None) -> CounterSettings | None:
    """The counting conventions asked for on the command line; None for the defaults."""
    changes: dict[str, float] = {}
    if lead_s > 0:
        changes["lead_s"] = lead_s
    if end_return is not None and end_return != CounterSettings.end_return:
        if not 0.0 <= end_return <= 1.0:
            raise ValueError(f"--end-return must be between 0 and 1, got {end_return:g}")
        changes["end_return"] = end_return
    return CounterSettings(**changes) if changes else None


def conventions(settings: CounterSettings | None) -> str:
    """The non-default counting conventions, for the table's title."""
    if settings is None:
        return ""
    parts = []
    if settings.lead_s > 0:
        parts.append(f"repetitions the video opens in counted (lead_s {settings.lead_s:g})")
    if settings.end_return != CounterSettings.end_return:
        parts.append(f"one it ends in counted once back {settings.end_return:g} of its range (end_return)")
    return "".join(f", {p}" for p in parts)


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--verbose", "-v", action="store_true", help="print one row per clip")
    parser.add_argument("--lead-s", type=float, default=0.0, metavar="S",
                        help="count a repetition the video opens in if back at rest within S seconds (default off)")
    parser.add_argument("--end-return", type=float, default=None, metavar="R",
                        help="count a repetition the video ends in once R of its range back from its turn "
                             "(0-1, default 0.5)")
    parser.add_argument("--cut-reps", action="store_true",
                        help="also count each clip of known exercise with each cut-repetition convention and print, "
                             "per exercise, which one its labels side with")
    parser.add_argument("--budget", type=int, default=0, metavar="N",
                        help="also print the N clips that add most to the MAE, with their frames (default 0)")
    parser.add_argument("--input", choices=sorted(TRANSFORMS), default=None, metavar="TRANSFORM",
                        help="count on transformed poses, as another tool would hand them in: "
                             + ", ".join(sorted(TRANSFORMS)) + " (benchmarks/transforms.py; default: as estimated)")
    parser.add_argument("--videos-only", action="store_true",
                        help="only the video clips (not UI-PRMD's joined Kinect repetitions)")
    parser.add_argument("--loso", action="store_true",
                        help="also choose the rhythm-check settings leaving one source out (CHECK_GRID)")
    args = parser.parse_args()
    try:
        settings = counter_settings(args.lead_s, args.end_return)
    except ValueError as exc:
        parser.error(str(exc))
    rows = run_clips(parser, args, lambda cache: run(cache, settings, args.cut_reps, args.input, args.loso,
                                                         args.videos_only))
    print(header())
    given = f", input transformed: {args.input}" if args.input else ""
    print(f"\nRepetition counting, model {args.model}{conventions(settings)}{given}: {len(rows)} clips.\n")
    if args.verbose:
        print(details(rows))
        print()
    print(summary(rows))
    zero = sum(r["true"] == 0 for r in rows)
    cached = sum(r["pose_cached"] for r in rows)
    print(f"\nMAE = mean(abs(pred - true) / true) over clips with true > 0 ({zero} clips with true = 0 left out); "
          "OBO = share of all clips with abs(pred - true) <= 1. Plain columns: exercise unknown "
          "(`count_repetitions(seq)`: recognised, then counted as that exercise, or class-agnostically for "
          "'other'); '(agnostic)': always class-agnostic (`agnostic=True`); '(exercise)' columns: counted with "
          "the known exercise (WorkoutTracker only). "
          f"pose s: wall time of pose estimation ({cached} of {len(rows)} clips from the cache, '(c)': time as "
          "recorded when cached); count s: `count_repetitions` incl. signal extraction.")
    print("\nExercise unknown, by the confidence reported with each count:\n")
    print(confidence_table(rows))
    if args.loso:
        print("\nLeave one source out (exercise unknown): the rhythm-check setting (`RhythmCheck`) chosen on the "
              "other sources by their MAE, scored on the source left out.\n")
        print(loso_table(rows))
    if args.budget > 0:
        print(f"\nWhere the MAE comes from (exercise unknown), the {args.budget} largest errors. Ground truth frames: "
              "WorkoutTracker's labelled frames (its author's 'a repetition starts here'), QUVA's and jump rope's "
              "cycle ends. 'MAE without it and above': the MAE if this clip and every one above it were exact.\n")
        print(budget(rows, args.budget))
    if args.cut_reps:
        print("\nA repetition the video cuts at its start or end (exercise given): 'return' counts one it ends in once "
              "half-way back and not one it opens in; 'turn' counts each once its turning point is in view "
              "(`Exercise.cut_reps`). Clips whose count the two conventions differ on, and which the labels side "
              "with.\n")
        print(cut_rep_table(rows))
    save_rows(args.json, rows)


if __name__ == "__main__":
    main()
