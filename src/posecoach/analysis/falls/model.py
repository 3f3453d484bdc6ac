"""The fall model: gradient-boosted trees over the window features, trained on real falls and synthetic clips.

The shipped model (`default_model()`) is the committed file ``fall-model.pkl`` beside this module, with its model
card ``fall-model.md`` (datasets and their terms, features, validation). It is rebuilt by

    python -m posecoach.analysis.falls.train            # real falls (../shared/data) + synthetic clips
    python -m posecoach.analysis.falls.train --synthetic-only   # no third-party data: no research-only terms

which read the fall sets from the shared data at run time (nothing is copied into the repository). A
`TrainConfig` names the sources (`datasets.SOURCES`); ``default_model(config)`` with a synthetic-only config
trains that model on first use and keeps it in the user cache (``$POSECOACH_CACHE`` or ``~/.cache/posecoach``),
keyed by the settings, the code and the PoseCoach and scikit-learn versions.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import warnings
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import ThreadpoolController

from posecoach.analysis.falls import datasets
from posecoach.analysis.falls.features import FEATURES, sequence_features
from posecoach.core.atomic import atomic_path
from posecoach.core.sequence import PoseSequence
from posecoach.core.version import __version__

SMALL_BATCH = 32
SHIPPED = Path(__file__).with_name("fall-model.pkl")


@cache
def _threads() -> ThreadpoolController:
    return ThreadpoolController()


@dataclass(frozen=True)
class TrainConfig:
    clips: int = 900  # synthetic clips
    seed: int = 7
    fall_share: float = 0.4
    every: int = 3  # keep every n-th frame (neighbours are near duplicates)
    max_iter: int = 200
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    l2_regularization: float = 1.0
    sources: tuple[str, ...] = ("synthetic",)  # see `datasets.SOURCES`; `SHIPPED_CONFIG` for the shipped model
    augment: bool = True  # real sources also at half their frame rate and with x stretched (unknown frame shape)

    @property
    def synthetic_only(self) -> bool:
        return self.sources == ("synthetic",)

    def key(self) -> str:
        import sklearn

        # The generator, the readers and the features shape the model as much as the settings: a change retrains.
        sources = {name: hashlib.sha256((Path(__file__).parent / name).read_bytes()).hexdigest()
                   for name in ("synthetic.py", "features.py", "datasets.py")}
        blob = json.dumps({**asdict(self), "posecoach": __version__, "sklearn": sklearn.__version__, **sources},
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


SHIPPED_CONFIG = TrainConfig(sources=datasets.SOURCES)
SYNTHETIC_CONFIG = TrainConfig()


@dataclass
class FallModel:
    """A fitted classifier and what it was trained on; ``predict_proba(X)`` gives P(fall) per feature row."""

    estimator: HistGradientBoostingClassifier
    config: TrainConfig
    features: tuple[str, ...] = FEATURES
    training_frames: int = 0
    trained_on: dict[str, int] = field(default_factory=dict)  # source -> sequences
    sklearn_version: str = ""

    @property
    def name(self) -> str:
        kind = "synthetic" if self.config.synthetic_only else "real"
        return f"hgb-{kind}-{self.config.key()}"

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


def _augmented(items: list[datasets.Labelled], seed: int) -> list[datasets.Labelled]:
    """Real sequences, plus each at half its frame rate (from 24 fps up) and with x stretched by 0.75 or 1.33."""
    rng = np.random.default_rng(seed)
    out = []
    for item in items:
        out.append(item)
        if item.source == "synthetic":  # the generator already varies the camera, frame shape and rate
            continue
        if item.sequence.fps >= 24:
            out.append(datasets.half_rate(item))
        out.append(datasets.stretch_x(item, float(rng.choice([0.75, 4 / 3]))))
    return out


def labelled_items(config: TrainConfig, root: Path | None = None) -> list[datasets.Labelled]:
    """The sequences of the config's sources (real ones read from ``root``, the shared data)."""
    items: list[datasets.Labelled] = []
    for source in config.sources:
        if source == "synthetic":
            items += datasets.synthetic(config.clips, config.seed, config.fall_share)
        else:
            items += datasets.load(source, root)
    return _augmented(items, config.seed) if config.augment else items


def training_set(config: TrainConfig, items: list[datasets.Labelled] | None = None,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and 0/1 labels (rows without any pose, and frames labelled -1, left out)."""
    xs, ys = [], []
    for item in labelled_items(config) if items is None else items:
        x = sequence_features(item.sequence)[:: config.every]
        y = item.labels[:: config.every]
        keep = ~np.isnan(x).all(axis=1) & (y >= 0)
        xs.append(x[keep])
        ys.append(y[keep])
    return np.concatenate(xs), np.concatenate(ys).astype(np.int8)


def train_model(config: TrainConfig | None = None, items: list[datasets.Labelled] | None = None) -> FallModel:
    """A model of ``config``'s sources (or of the given ``items``, e.g. a leave-one-dataset-out fold)."""
    import sklearn

    config = config or TrainConfig()
    items = labelled_items(config) if items is None else items
    X, y = training_set(config, items)
    est = HistGradientBoostingClassifier(max_iter=config.max_iter, learning_rate=config.learning_rate,
                                         max_leaf_nodes=config.max_leaf_nodes,
                                         l2_regularization=config.l2_regularization, random_state=config.seed,
                                         early_stopping=False)
    est.fit(X, y)
    counts: dict[str, int] = {}
    for item in items:
        if "@" not in item.name:  # augmented copies are not more sequences
            counts[item.source] = counts.get(item.source, 0) + 1
    return FallModel(est, config, FEATURES, len(y), counts, sklearn.__version__)


def cache_dir() -> Path:
    return Path(os.environ.get("POSECOACH_CACHE") or Path.home() / ".cache" / "posecoach")


_LOADED: dict[str, FallModel] = {}


def shipped_model(path: Path | None = None) -> FallModel:
    """The committed model file (raises when it is missing, unreadable or computed from other features)."""
    path = path or SHIPPED
    model = FallModel.load(path)
    if tuple(model.features) != FEATURES:
        raise ValueError(f"{path} was trained on other features: retrain it (python -m posecoach.analysis.falls.train)")
    return model


def default_model(config: TrainConfig | None = None) -> FallModel:
    """The shipped model (``fall-model.pkl``, no data needed); with a ``config``, that model from the user cache,
    else trained now and cached. A shipped file that cannot be used falls back, with a warning, to the
    synthetic-only model."""
    if config is None:
        if "shipped" not in _LOADED:
            try:
                _LOADED["shipped"] = shipped_model()
            except Exception as e:  # any unusable file: say so, keep detecting
                warnings.warn(f"shipped fall model unusable ({e}); using the synthetic-only model", stacklevel=2)
                _LOADED["shipped"] = default_model(SYNTHETIC_CONFIG)
        return _LOADED["shipped"]
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
