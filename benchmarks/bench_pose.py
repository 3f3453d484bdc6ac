"""Pose throughput benchmark: PoseCoach vs a naive OpenCV + PoseLandmarker loop on one real 720p clip.

    .venv/bin/python benchmarks/bench_pose.py [VIDEO] [--model full]

Prints a Markdown table: frames/s of each variant, the ratio to the naive loop doing the same work, peak
resident memory of each variant's process tree, and the mean landmark difference in pixels.
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from posecoach import benchmark

DEFAULT_CLIP = Path(__file__).resolve().parents[1].parent / "shared/data/misc_exercise_clips/rjsong/squat2.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", nargs="?", default=str(DEFAULT_CLIP))
    parser.add_argument("--model", default="full")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    if not Path(args.video).is_file():
        parser.error(f"no such video: {args.video}")
    rows, diff = benchmark.measure(args.video, args.model, workers=args.workers)
    print(f"date: {datetime.date.today()}  command: python benchmarks/bench_pose.py {args.video} --model {args.model}")
    print(benchmark.format_table(rows, diff, args.video, args.model))


if __name__ == "__main__":
    main()
