"""Does the repetition count hold when the same movement comes in another form? (issue 22)

    .venv/bin/python benchmarks/bench_invariance.py [--cache DIR] [--model full] [--transforms a,b]
        [--exercise-given] [--limit N] [--only-cached] [--ui-prmd] [--verbose] [--json FILE]

For every repetition-counting clip (WorkoutTracker, QUVA, jump rope): the poses (estimated from the video or read
from ``--cache DIR``) are handed in as an outside user would, through `PoseSequence.from_landmarks`
(``identity_from_landmarks``, the baseline), and transformed (``benchmarks/transforms.py``: box-normalised, world
landmarks, COCO-17, 5-frame average, dropped frames, 15 fps, mirrored). Each is counted with
`count_repetitions(seq)` (exercise unknown) and, with ``--exercise-given``, with the clip's exercise where it is
known. The whole-body rhythm's count alone (`body_rhythm`) is measured the same way, so a failure can be traced
to the rhythm or to the exercise's signals. A transformation holds on a clip when its count is within one of the
baseline's; a failing count the counter reported below `RELIABLE` confidence is marked ``?`` and counted in the
column "failing, said unsure" (it was wrong, but said so).

Prints one table per way of counting: per transformation, the clips, those within one of the baseline, the largest
absolute difference and the clips that fail (name: baseline -> transformed). The row ``native`` is the cached
sequence as the pose engine made it (world landmarks and frame size kept), for reference. ``--verbose`` adds a
table of every clip's counts. ``--limit N`` runs on the first N clips, ``--only-cached`` skips clips whose poses
are not in ``--cache`` (no pose estimation). ``--ui-prmd`` adds UI-PRMD's joined Kinect repetitions (100 sequences
from another pose tool, with its 3D joints as world landmarks) after the videos.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clips import (
    PoseCache,
    RepClip,
    bench_parser,
    data_dir,
    each_clip,
    header,
    rep_clips,
    run_clips,
    save_rows,
    short_name,
    table,
    ui_prmd_rep_clips,
)
from posecoach.analysis import count_repetitions
from posecoach.analysis.counting import RELIABLE, body_rhythm
from posecoach.core.sequence import PoseSequence
from transforms import BASELINE, TRANSFORMS, Transform

#: The reference row: the sequence as cached (world landmarks, frame size and the engine's metadata kept).
NATIVE = "native"
#: Ways of counting: the row key suffix and its title.
MODES: dict[str, str] = {"": "exercise unknown (`count_repetitions(seq)`)",
                         "_rhythm": "the whole-body rhythm alone (`body_rhythm(seq).count`, the class-agnostic "
                                    "count `count_repetitions` checks the others against)",
                         "_given": "exercise given (`count_repetitions(seq, exercise)`, clips of known exercise)"}


def cached(cache: PoseCache, clip: RepClip) -> bool:
    """Whether the cache holds this clip's poses (a missing one would be estimated from the video)."""
    entry = cache.entry(clip.video)
    return entry is not None and entry.is_file() and entry.with_suffix(".json").is_file()


def select_clips(clips: Sequence[RepClip], cache: PoseCache, limit: int = 0, only_cached: bool = False
                 ) -> list[RepClip]:
    """The clips to run: those in the cache when ``only_cached``, then the first ``limit`` (0: all)."""
    out = [c for c in clips if not only_cached or cached(cache, c)]
    return out[:limit] if limit > 0 else out


def count(seq: PoseSequence, exercise: str | None, rhythm: bool = False
          ) -> tuple[int | None, float | None, str | None]:
    """``(count, confidence, None)``, or ``(None, None, error)`` when counting raises (a failure of the
    transformation). ``rhythm``: the whole-body rhythm's count alone."""
    try:
        res = body_rhythm(seq) if rhythm else count_repetitions(seq, exercise)
        return res.count, float(res.confidence), None
    except Exception as exc:  # a crash on a transformed input is a result to report
        return None, None, f"{type(exc).__name__}: {exc}"


def variants(seq: PoseSequence, transforms: dict[str, Transform]) -> dict[str, PoseSequence | str]:
    """The sequences to count: ``native``, the baseline and each selected transformation (an error message where
    building the input raised)."""
    out: dict[str, PoseSequence | str] = {NATIVE: seq}
    for name, fn in {BASELINE: TRANSFORMS[BASELINE], **transforms}.items():
        try:
            out[name] = fn(seq)
        except Exception as exc:  # from_landmarks refusing an input is a result to report
            out[name] = f"{type(exc).__name__}: {exc}"
    return out


def run(cache: PoseCache, clips: Sequence[RepClip], transforms: dict[str, Transform], exercise_given: bool,
        data: Path, ui_prmd: bool = False) -> list[dict[str, Any]]:
    """One row per clip: the video clips (poses from ``cache``), then, with ``ui_prmd``, UI-PRMD's joined Kinect
    repetitions (`clips.ui_prmd_rep_clips`: another pose tool, no video)."""
    rows = [_row(clip.dataset, name, clip.exercise, clip.count, poses.sequence, poses.cached, transforms,
                 exercise_given) for clip, name, poses in each_clip(cache, clips, data)]
    if ui_prmd:
        rows += [_row("ui_prmd", c.name, None, c.count, c.load(), True, transforms, False)
                 for c in ui_prmd_rep_clips(data)]
    return rows


def _row(dataset: str, name: str, exercise: str | None, true: int, sequence: PoseSequence, cached: bool,
         transforms: dict[str, Transform], exercise_given: bool) -> dict[str, Any]:
    seqs = variants(sequence, transforms)
    row: dict[str, Any] = {"dataset": dataset, "clip": name, "exercise": exercise, "true": true,
                           "frames": {k: s.num_frames if isinstance(s, PoseSequence) else None
                                      for k, s in seqs.items()},
                           "pose_cached": cached, "counts": {}, "counts_rhythm": {}, "counts_given": {}, "errors": {},
                           "confidence": {}, "confidence_rhythm": {}, "confidence_given": {}}
    for key, ex in (("", None), ("_rhythm", None), ("_given", exercise)):
        if key == "_given" and not (exercise_given and ex):
            continue
        for tname, seq in seqs.items():
            n, conf, err = (None, None, seq) if isinstance(seq, str) else count(seq, ex, key == "_rhythm")
            row[f"counts{key}"][tname] = n
            row[f"confidence{key}"][tname] = conf
            if err:
                row["errors"][tname + key] = err
    return row


def _short(clip: str) -> str:
    return clip.split("/videos/")[-1]


def differences(rows: list[dict[str, Any]], tname: str, key: str = "") -> list[tuple[str, int | None, int | None]]:
    """``(clip, baseline count, transformed count)`` for every row counted both ways (None: an error)."""
    out = []
    for r in rows:
        counts = r[f"counts{key}"]
        if tname in counts and BASELINE in counts:
            out.append((_short(r["clip"]), counts[BASELINE], counts[tname]))
    return out


def holds(base: int | None, other: int | None) -> bool:
    """Within one of the baseline (an error on either side is a failure)."""
    return base is not None and other is not None and abs(other - base) <= 1


def unsure(row: dict[str, Any], tname: str, key: str = "") -> bool:
    """The transformed count was reported below `RELIABLE` confidence (the counter said it is unsure)."""
    conf = row[f"confidence{key}"].get(tname)
    return conf is not None and conf < RELIABLE


def summary(rows: list[dict[str, Any]], tnames: Sequence[str], key: str = "") -> str:
    """Per transformation: clips, clips within one of the baseline, the failing ones the counter reported as
    unreliable (confidence below `RELIABLE`), largest |difference|, the failing clips (``?``: reported
    unreliable)."""
    body = []
    for tname in [NATIVE, *tnames]:
        diffs = differences(rows, tname, key)
        if not diffs:
            continue
        gaps = [abs(o - b) for _, b, o in diffs if b is not None and o is not None]
        said = {_short(r["clip"]) for r in rows if unsure(r, tname, key)}
        failing = [(c, b, o) for c, b, o in diffs if not holds(b, o)]
        fails = [f"{c}: {'error' if b is None else b} -> {'error' if o is None else o}{' ?' if c in said else ''}"
                 for c, b, o in failing]
        body.append([tname, len(diffs), sum(holds(b, o) for _, b, o in diffs),
                     sum(c in said for c, _, _ in failing), max(gaps) if gaps else "-", "; ".join(fails) or "-"])
    return table(["transformation", "clips", "within one", "failing, said unsure", "largest |diff|",
                  "failing (baseline -> transformed; ?: reported unreliable)"], body, "lrrrrl")


def details(rows: list[dict[str, Any]], tnames: Sequence[str], key: str = "") -> str:
    """One row per clip: the true count, the baseline's and each transformation's (``*``: off by more than one)."""
    cols = [NATIVE, BASELINE, *(t for t in tnames if t != BASELINE)]
    body = []
    for r in rows:
        counts = r[f"counts{key}"]
        if BASELINE not in counts:
            continue
        base = counts[BASELINE]
        cells = []
        for t in cols:
            n = counts.get(t)
            cells.append("-" if t not in counts else "err" if n is None else
                         f"{n}" + ("" if t == BASELINE or holds(base, n) else " *"))
        body.append([r["dataset"], _short(r["clip"]), r["exercise"] or "-", r["true"], *cells])
    return table(["dataset", "clip", "exercise", "true", *cols], body, "lllr" + "r" * len(cols))


def parse_transforms(text: str | None) -> dict[str, Transform]:
    """``a,b`` -> those transformations (all but the baseline when ``text`` is empty)."""
    if not text:
        return {k: v for k, v in TRANSFORMS.items() if k != BASELINE}
    names = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in names if t not in TRANSFORMS]
    if unknown:
        raise ValueError(f"unknown transformation(s) {', '.join(unknown)}; known: {', '.join(TRANSFORMS)}")
    return {t: TRANSFORMS[t] for t in names if t != BASELINE}


def parser() -> argparse.ArgumentParser:
    p = bench_parser(__doc__)
    p.add_argument("--transforms", metavar="A,B", help=f"only these transformations (default: all of "
                   f"{', '.join(t for t in TRANSFORMS if t != BASELINE)})")
    p.add_argument("--exercise-given", action="store_true", help="also count with the clip's exercise, where known")
    p.add_argument("--limit", type=int, default=0, metavar="N", help="only the first N clips (default: all)")
    p.add_argument("--only-cached", action="store_true", help="skip clips whose poses are not in --cache")
    p.add_argument("--verbose", "-v", action="store_true", help="print one row per clip")
    p.add_argument("--ui-prmd", action="store_true",
                   help="also UI-PRMD's joined Kinect repetitions (100 sequences of another pose tool)")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    p = parser()
    args = p.parse_args(argv)
    try:
        transforms = parse_transforms(args.transforms)
    except ValueError as exc:
        p.error(str(exc))
    if args.only_cached and not args.cache:
        p.error("--only-cached needs --cache DIR")

    def go(cache: PoseCache) -> list[dict[str, Any]]:
        data = data_dir()
        every = rep_clips(data)
        chosen = select_clips(every, cache, args.limit, args.only_cached)
        skipped = [short_name(c.video, data) for c in every if c not in chosen]
        if skipped:
            print(f"{len(skipped)} of {len(every)} clips left out (--limit / --only-cached)", file=sys.stderr)
        return run(cache, chosen, transforms, args.exercise_given, data, args.ui_prmd)

    rows = run_clips(p, args, go)
    tnames = list(transforms)
    print(header())
    print(f"\nCount invariance, model {args.model}: {len(rows)} clips; a transformation holds on a clip when its "
          f"count is within one of the baseline's ({BASELINE}: the subject's landmarks through "
          "`PoseSequence.from_landmarks`, no world landmarks or frame size).")
    groups = {"video clips": [r for r in rows if r["dataset"] != "ui_prmd"],
              "UI-PRMD's joined Kinect repetitions": [r for r in rows if r["dataset"] == "ui_prmd"]}
    for key, title in MODES.items():
        if key == "_given" and not args.exercise_given:
            continue
        for group, chosen in groups.items():
            if not chosen:
                continue
            print(f"\n{title.capitalize()}, {group}:\n")
            print(summary(chosen, tnames, key))
            if args.verbose:
                print()
                print(details(chosen, tnames, key))
    errors = [(r["clip"], k, e) for r in rows for k, e in r["errors"].items()]
    if errors:
        print("\nErrors:")
        for clip, k, e in errors:
            print(f"- {_short(clip)} ({k}): {e}")
    print(f"\n{NATIVE}: the cached sequence itself (world landmarks and frame size kept), compared with the "
          "baseline for reference. '*': off by more than one from the baseline; 'err': counting raised.")
    save_rows(args.json, rows)


if __name__ == "__main__":
    main()
