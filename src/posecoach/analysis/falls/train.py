"""Train the fall model and save it (by default over the shipped ``fall-model.zip``).

    python -m posecoach.analysis.falls.train [--synthetic-only] [--out FILE] [--data DIR] [--pose-cache DIR]

The default recipe reads, at run time, the real fall sets (URFD, MD4FD, Le2i keypoints from two pose tools) and the
poses of every non-fall video (exercise and daily activities, as negatives; ``--pose-cache``) from the shared data
(``--data``, else ``$POSECOACH_DATA``, ``../shared/data`` or ``/work/shared/data``), and adds the synthetic clips;
most of those sets are for research / non-commercial use only (see ``fall-model.md``). ``--synthetic-only``
trains from the repository's generator alone: a model free of those terms. The same settings and data give the
same model (the same predictions; the file's bytes differ, skops names its entries by object). The file is the
versioned skops format (`posecoach.analysis.falls.model_file`): a JSON header with the versions, the feature names,
the training settings and sources, and the fitted pipeline. The model card's validation figures come from
``benchmarks/bench_falls.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

from posecoach.analysis.falls.model import SHIPPED, SHIPPED_CONFIG, SYNTHETIC_CONFIG, train_model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(SHIPPED), help=f"model file to write (default: {SHIPPED})")
    parser.add_argument("--synthetic-only", action="store_true",
                        help="train on the synthetic clips only (no third-party data, no research-only terms)")
    parser.add_argument("--data", help="the shared data directory (default: $POSECOACH_DATA or ../shared/data)")
    parser.add_argument("--pose-cache", help="poses of the non-fall videos (default: $POSECOACH_POSE_CACHE or "
                        "~/.cache/posecoach/poses; missing ones are estimated, about an hour the first time)")
    parser.add_argument("--clips", type=int, default=SHIPPED_CONFIG.clips, help="synthetic clips to generate")
    parser.add_argument("--seed", type=int, default=SHIPPED_CONFIG.seed, help="random seed of the clips and model")
    parser.add_argument("--max-iter", type=int, default=SHIPPED_CONFIG.max_iter, help="boosting iterations")
    args = parser.parse_args(argv)
    if args.data:
        os.environ["POSECOACH_DATA"] = args.data
    if args.pose_cache:
        os.environ["POSECOACH_POSE_CACHE"] = args.pose_cache
    base = SYNTHETIC_CONFIG if args.synthetic_only else SHIPPED_CONFIG
    config = replace(base, clips=args.clips, seed=args.seed, max_iter=args.max_iter)
    t0 = time.perf_counter()
    model = train_model(config)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"{model.name}: {model.training_frames_} frames from {model.trained_on_}, {time.perf_counter() - t0:.1f} s")
    print(f"-> {out} ({out.stat().st_size / 1024:.0f} KiB, sha256 {digest})")
    print(f"settings: {asdict(config)}")


if __name__ == "__main__":
    main()
