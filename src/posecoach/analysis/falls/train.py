"""Train the fall model from the repository's synthetic clips and save it (or refresh the user cache).

    python -m posecoach.analysis.falls.train [--out FILE] [--clips N] [--seed S] [--max-iter N]

Without ``--out`` the model goes to the cache `default_model()` reads; the same settings give the same model.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, replace

from posecoach.analysis.falls.model import TrainConfig, cache_dir, train_model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", help="model file to write (default: the user cache)")
    parser.add_argument("--clips", type=int, default=TrainConfig.clips, help="synthetic clips to generate")
    parser.add_argument("--seed", type=int, default=TrainConfig.seed, help="random seed of the clips and model")
    parser.add_argument("--max-iter", type=int, default=TrainConfig.max_iter, help="boosting iterations")
    args = parser.parse_args(argv)
    config = replace(TrainConfig(), clips=args.clips, seed=args.seed, max_iter=args.max_iter)
    t0 = time.perf_counter()
    model = train_model(config)
    out = args.out or cache_dir() / f"fall-model-{config.key()}.pkl"
    cache_dir().mkdir(parents=True, exist_ok=True)
    model.save(out)
    print(f"{model.name}: {model.training_frames} frames, {time.perf_counter() - t0:.1f} s -> {out}")
    print(f"settings: {asdict(config)}")


if __name__ == "__main__":
    main()
