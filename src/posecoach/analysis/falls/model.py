"""The fall model: gradient-boosted trees over the window features, trained on the repo's synthetic clips.

`train_model(TrainConfig())` regenerates the shipped model deterministically from `synthetic.make_clips`
(no recorded data: the fall sets in ../shared/data carry no licence for training and are used only to evaluate
and tune). `default_model()` trains it on first use and keeps it in the user cache
(``$POSECOACH_CACHE`` or ``~/.cache/posecoach``), keyed by the training settings and the PoseCoach and
scikit-learn versions, so no binary model is committed and the file can always be rebuilt:

    python -m posecoach.analysis.falls.train [--out FILE]
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import ThreadpoolController

from posecoach.analysis.falls.features import FEATURES, sequence_features
from posecoach.analysis.falls.synthetic import make_clips
from posecoach.core.atomic import atomic_path
from posecoach.core.sequence import PoseSequence

SMALL_BATCH = 32


@cache
def _threads() -> ThreadpoolController:
    return ThreadpoolController()


@dataclass(frozen=True)
class TrainConfig:
    clips: int = 900
    seed: int = 7
    fall_share: float = 0.4
    every: int = 3  # keep every n-th frame (neighbours are near duplicates)
    max_iter: int = 200
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    l2_regularization: float = 1.0

    def key(self) -> str:
        import sklearn

        from posecoach import __version__

        # The generator and the features shape the model as much as the settings: a change in either retrains it.
        sources = {name: hashlib.sha256((Path(__file__).parent / name).read_bytes()).hexdigest()
                   for name in ("synthetic.py", "features.py")}
        blob = json.dumps({**asdict(self), "posecoach": __version__, "sklearn": sklearn.__version__, **sources},
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class FallModel:
    """A fitted classifier and what it was trained on; ``predict_proba(X)`` gives P(fall) per feature row."""

    estimator: HistGradientBoostingClassifier
    config: TrainConfig
    features: tuple[str, ...] = FEATURES
    training_frames: int = 0

    @property
    def name(self) -> str:
        return f"hgb-synthetic-{self.config.key()}"

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        X = np.asarray(X, dtype=np.float64)
        if len(X) <= SMALL_BATCH:  # one live frame: OpenMP threads only add latency spikes on a busy machine
            with _threads().limit(limits=1, user_api="openmp"):
                p = self.estimator.predict_proba(X)[:, 1]
        else:
            p = self.estimator.predict_proba(X)[:, 1]
        return np.where(np.isnan(X).all(axis=1), 0.0, p)  # nobody seen: no evidence of a fall

    def sequence_proba(self, seq: PoseSequence) -> np.ndarray:
        return self.predict_proba(sequence_features(seq))

    def save(self, path: str | Path) -> Path:
        with atomic_path(path) as tmp:
            tmp.write_bytes(pickle.dumps(self))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> FallModel:
        """A model this PoseCoach wrote (a local cache file: unpickling runs code, so never load foreign files)."""
        model = pickle.loads(Path(path).read_bytes())
        if not isinstance(model, cls):
            raise TypeError(f"{path} is not a PoseCoach fall model")
        return model


def training_set(config: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and 0/1 labels of the synthetic clips (rows without any pose left out)."""
    xs, ys = [], []
    for clip in make_clips(config.clips, seed=config.seed, fall_share=config.fall_share):
        x = sequence_features(clip.sequence)[:: config.every]
        y = clip.labels[:: config.every]
        keep = ~np.isnan(x).all(axis=1)
        xs.append(x[keep])
        ys.append(y[keep])
    return np.concatenate(xs), np.concatenate(ys)


def train_model(config: TrainConfig | None = None) -> FallModel:
    config = config or TrainConfig()
    X, y = training_set(config)
    est = HistGradientBoostingClassifier(max_iter=config.max_iter, learning_rate=config.learning_rate,
                                         max_leaf_nodes=config.max_leaf_nodes,
                                         l2_regularization=config.l2_regularization, random_state=config.seed,
                                         early_stopping=False)
    est.fit(X, y)
    return FallModel(est, config, FEATURES, len(y))


def cache_dir() -> Path:
    return Path(os.environ.get("POSECOACH_CACHE") or Path.home() / ".cache" / "posecoach")


_LOADED: dict[str, FallModel] = {}


def default_model(config: TrainConfig | None = None) -> FallModel:
    """The shipped model: from the user cache, else trained now (about half a minute) and cached."""
    config = config or TrainConfig()
    key = config.key()
    if key in _LOADED:
        return _LOADED[key]
    path = cache_dir() / f"fall-model-{key}.pkl"
    model = None
    if path.is_file():
        try:
            model = FallModel.load(path)
        except Exception:  # a stale or broken cache file is rebuilt
            model = None
    if model is None:
        model = train_model(config)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            model.save(path)
        except OSError:
            pass  # read-only home: keep it in memory only
    _LOADED[key] = model
    return model
