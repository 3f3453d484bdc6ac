"""Analysis speed: how long analysing a 10-minute pose sequence takes, next to estimating its poses.

    .venv/bin/python benchmarks/bench_analysis_speed.py [VIDEO] [--minutes 10] [--cache DIR] [--model full]

Poses of one real clip (default misc_exercise_clips/rjsong/squat.mp4) are estimated once (or read from
``--cache DIR``, with the estimation time recorded when they were cached); the pose engine's speed on the clip
gives its frames/s. The clip's poses are tiled to ``--minutes`` at the clip's frame rate and each analysis is
timed on that sequence (best of ``--repeat``): `sequence_signals`, `count_repetitions(seq)` (class-agnostic),
`analyze_sequence(seq)` (exercise recognised) and `analyze_sequence(seq, "squat")`. The table gives seconds,
frames/s and the ratio to pose estimation of the same frames at the measured engine speed.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from clips import PoseCache, data_dir, header, short_name, table
from posecoach.analysis import analyze_sequence, count_repetitions
from posecoach.core.sequence import PoseSequence
from posecoach.features.signals import sequence_signals

DEFAULT_CLIP = "misc_exercise_clips/rjsong/squat.mp4"


def tile(seq: PoseSequence, seconds: float) -> PoseSequence:
    """The sequence repeated end to end up to ``seconds`` at its frame rate (timestamps continue)."""
    n = max(1, round(seconds * seq.fps))
    reps = math.ceil(n / seq.num_frames)
    period = seq.duration  # last timestamp + one frame: the next copy starts one frame after the last one

    def rep(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.concatenate([a] * reps)[:n]

    timestamps = np.concatenate([seq.timestamps - seq.timestamps[0] + k * period for k in range(reps)])[:n]
    return PoseSequence(landmarks=rep(seq.landmarks), world=rep(seq.world), timestamps=timestamps, fps=seq.fps,
                        track_ids=seq.track_ids, subject=seq.subject, skeleton=seq.skeleton,
                        source={**seq.source, "tiled_from_frames": seq.num_frames},
                        raw_landmarks=rep(seq.raw_landmarks), raw_world=rep(seq.raw_world))


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", help=f"clip to tile (default: <data>/{DEFAULT_CLIP})")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the tiled sequence")
    parser.add_argument("--repeat", type=int, default=3, help="timings per analysis (the best is reported)")
    parser.add_argument("--cache", metavar="DIR", help="pose cache directory (default: estimate the clip)")
    parser.add_argument("--model", default="full", help="pose model: lite | full | heavy")
    args = parser.parse_args()
    try:
        video = Path(args.video) if args.video else data_dir() / DEFAULT_CLIP
    except FileNotFoundError as e:
        parser.error(str(e))
    if not video.is_file():
        parser.error(f"no such video: {video}")
    with PoseCache(args.cache, args.model) as cache:
        poses = cache.get(video)
    clip = poses.sequence
    if not clip.num_people:
        parser.error(f"nobody found in {video}")
    pose_fps = clip.num_frames / poses.seconds
    seq = tile(clip, 60.0 * args.minutes)
    n = seq.num_frames
    pose_s = n / pose_fps

    tasks: list[tuple[str, Callable[[], Any]]] = [
        ("sequence_signals(seq)", lambda: sequence_signals(seq)),
        ("count_repetitions(seq)", lambda: count_repetitions(seq)),
        ("analyze_sequence(seq)", lambda: analyze_sequence(seq)),
        ('analyze_sequence(seq, "squat")', lambda: analyze_sequence(seq, "squat")),
    ]
    body = [[f"pose estimation ({args.model}, at the clip's measured speed)", f"{pose_s:.1f}", f"{pose_fps:.0f}",
             "1", "-"]]
    for name, fn in tasks:
        seconds, out = best_of(fn, args.repeat)
        if hasattr(out, "reps") and hasattr(out, "exercise") and hasattr(out.exercise, "name"):
            result = f"{out.exercise.name}, {out.reps.count} reps"
        elif hasattr(out, "count"):
            result = f"{out.count} reps ({out.signal})"
        else:
            result = f"{len(out)} signals"
        body.append([f"`{name}`", f"{seconds:.3f}", f"{n / seconds:,.0f}", f"{seconds / pose_s:.4f}", result])

    print(header())
    how = "recorded when cached" if poses.cached else "measured now, incl. engine start"
    print(f"\nAnalysis of a {args.minutes:g}-minute pose sequence: {short_name(video)} ({clip.num_frames} frames at "
          f"{clip.fps:g} fps, {clip.num_people} person track(s)) tiled to {n} frames. Pose estimation of the clip: "
          f"{poses.seconds:.1f} s = {pose_fps:.1f} frames/s ({how}). Analyses: best of {args.repeat}.\n")
    print(table([f"step ({n} frames)", "seconds", "frames/s", "ratio to pose estimation", "result"], body,
                "lrrrl"))


if __name__ == "__main__":
    main()
