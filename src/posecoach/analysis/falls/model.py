"""The fall model: gradient-boosted trees over the window features, trained on real falls and synthetic clips.

The shipped model (`default_model()`) is the committed file ``fall-model.zip`` beside this module (the skops
format of `posecoach.analysis.falls.model_file`), with its model card ``fall-model.md`` (datasets and their terms,
features, validation). It is rebuilt by

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
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from functools import cache
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import ThreadpoolController

from posecoach.analysis.falls import datasets, legacy_file, model_file
from posecoach.analysis.falls.events import may_alert
from posecoach.analysis.falls.features import FEATURES, sequence_features
from posecoach.core.sequence import PoseSequence
from posecoach.core.version import __version__

SMALL_BATCH = 32
SHIPPED = Path(__file__).with_name("fall-model.zip")


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
    gate: bool = False  # train only on rows where the alert rules can fire (`events.may_alert`); see `training_set`

    @property
    def synthetic_only(self) -> bool:
        return self.sources == ("synthetic",)

    def key(self) -> str:
        import sklearn

        # The generator, the readers and the features shape the model as much as the settings: a change retrains.
        # With `gate`, the alert rules choose the training rows: they shape it too. Without it the key is what it
        # was before the setting existed (the synthetic-only model keeps its name).
        files = ("synthetic.py", "features.py", "datasets.py", *(("events.py",) if self.gate else ()))
        sources = {name: hashlib.sha256((Path(__file__).parent / name).read_bytes()).hexdigest() for name in files}
        settings = {k: v for k, v in asdict(self).items() if k != "gate" or self.gate}
        blob = json.dumps({**settings, "posecoach": __version__, "sklearn": sklearn.__version__, **sources},
                          sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


SHIPPED_CONFIG = TrainConfig(sources=datasets.SOURCES, gate=True)
SYNTHETIC_CONFIG = TrainConfig()


class FallModel(ClassifierMixin, BaseEstimator):
    """P(fall) per frame from the window features: gradient-boosted trees in a scikit-learn `Pipeline`.

    A scikit-learn estimator: the constructor only stores the trees' settings (``get_params`` / ``set_params`` /
    `sklearn.base.clone` work), ``fit(X, y)`` checks them and the data, and what it learns is kept in attributes
    ending in ``_``: ``pipeline_`` (the fitted `Pipeline`), ``classes_`` (0: no fall, 1: fall), ``features_``
    (the feature names, `features.FEATURES`), ``n_features_in_``, ``config_`` (the `TrainConfig` it was trained
    with, or None), ``trained_on_`` (sequences per source), ``training_frames_`` (feature rows) and
    ``sklearn_version_`` (the scikit-learn that fitted it). ``predict_proba(X)`` gives P(fall) per feature row as a
    1-D array (the detector's contract; scikit-learn's ``(N, 2)`` is ``np.column_stack([1 - p, p])``);
    ``sequence_proba(seq)`` per frame of a sequence. ``save`` / ``load`` write and read the versioned skops file
    (`posecoach.analysis.falls.model_file`); ``load`` still reads the old pickles, with a warning.
    """

    def __init__(self, max_iter: int = 200, learning_rate: float = 0.08, max_leaf_nodes: int = 31,
                 l2_regularization: float = 1.0, random_state: int | None = 7) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.l2_regularization = l2_regularization
        self.random_state = random_state

    @classmethod
    def from_config(cls, config: TrainConfig) -> FallModel:
        """An unfitted model with ``config``'s settings of the trees."""
        return cls(max_iter=config.max_iter, learning_rate=config.learning_rate,
                   max_leaf_nodes=config.max_leaf_nodes, l2_regularization=config.l2_regularization,
                   random_state=config.seed)

    def _check_params(self) -> None:
        def integer(v: Any) -> bool:
            return isinstance(v, int | np.integer) and not isinstance(v, bool)

        if not integer(self.max_iter) or self.max_iter < 1:
            raise ValueError(f"max_iter must be an integer >= 1, got {self.max_iter!r}")
        if not integer(self.max_leaf_nodes) or self.max_leaf_nodes < 2:
            raise ValueError(f"max_leaf_nodes must be an integer >= 2, got {self.max_leaf_nodes!r}")
        if isinstance(self.learning_rate, bool) or not isinstance(self.learning_rate, Real) or not (
                0 < self.learning_rate <= 1):
            raise ValueError(f"learning_rate must be a number in (0, 1], got {self.learning_rate!r}")
        if isinstance(self.l2_regularization, bool) or not isinstance(self.l2_regularization, Real) or not (
                self.l2_regularization >= 0):
            raise ValueError(f"l2_regularization must be a number >= 0, got {self.l2_regularization!r}")
        if self.random_state is not None and not integer(self.random_state):
            raise ValueError(f"random_state must be an integer or None, got {self.random_state!r}")

    def fit(self, X: Any, y: Any, *, config: TrainConfig | None = None,
            trained_on: Mapping[str, int] | None = None) -> FallModel:
        """Fit on feature rows ``X`` (``(N, len(FEATURES))``, NaN: missing) and labels ``y`` (1: fall, 0: not);
        ``config`` and ``trained_on`` (sequences per source) record what the rows came from."""
        import sklearn

        self._check_params()
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
        if X.shape[1] != len(FEATURES):
            raise ValueError(f"a fall model takes the {len(FEATURES)} window features (features.FEATURES, "
                             f"from sequence_features); X has {X.shape[1]} columns")
        labels = set(np.unique(y).tolist())
        if not labels <= {0, 1} or len(labels) < 2:
            raise ValueError(f"fall labels are 0 (no fall) and 1 (fall), both needed; got {sorted(labels)}")
        if config is not None and FallModel.from_config(config).get_params() != self.get_params():
            raise ValueError(f"config's settings of the trees differ from this model's parameters: "
                             f"{FallModel.from_config(config).get_params()} vs {self.get_params()}")
        est = HistGradientBoostingClassifier(max_iter=self.max_iter, learning_rate=self.learning_rate,
                                             max_leaf_nodes=self.max_leaf_nodes,
                                             l2_regularization=self.l2_regularization,
                                             random_state=self.random_state, early_stopping=False)
        self.pipeline_ = Pipeline(list(zip(model_file.STEPS, (est,), strict=True))).fit(X, y)
        self.classes_ = self.pipeline_.classes_
        self.features_ = FEATURES
        self.config_ = config
        self.trained_on_ = dict(trained_on or {})
        self.training_frames_ = len(y)
        self.sklearn_version_ = sklearn.__version__
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "pipeline_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # a feature that cannot be computed (joints not seen) is missing
        return tags

    # Read-only views of the fitted state under the names callers used before it moved to ``*_`` attributes.
    @property
    def estimator(self) -> HistGradientBoostingClassifier:
        check_is_fitted(self)
        return self.pipeline_[-1]

    @property
    def config(self) -> TrainConfig | None:
        return getattr(self, "config_", None)

    @property
    def features(self) -> tuple[str, ...]:
        return getattr(self, "features_", FEATURES)

    @property
    def training_frames(self) -> int:
        return getattr(self, "training_frames_", 0)

    @property
    def trained_on(self) -> dict[str, int]:
        return getattr(self, "trained_on_", {})

    @property
    def sklearn_version(self) -> str:
        return getattr(self, "sklearn_version_", "")

    @property
    def name(self) -> str:
        """``hgb-real-<key>`` or ``hgb-synthetic-<key>`` (`TrainConfig.key`); ``hgb-custom-...`` without a config."""
        check_is_fitted(self)
        if self.config_ is None:
            blob = json.dumps({**self.get_params(), "frames": self.training_frames_,
                               "sklearn": self.sklearn_version_}, sort_keys=True)
            return f"hgb-custom-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"
        kind = "synthetic" if self.config_.synthetic_only else "real"
        return f"hgb-{kind}-{self.config_.key()}"

    def predict_proba(self, X: np.ndarray) -> np.ndarray:  # type: ignore[override]
        """P(fall) per row of ``X`` (``(N, len(FEATURES))``), 0 where a row has no feature at all (nobody seen). A
        model of an earlier feature set (the first of `FEATURES`) reads its columns of a full ``X``."""
        check_is_fitted(self)
        if len(X) == 0:
            return np.zeros(0)
        X = np.asarray(X, dtype=np.float64)
        k = len(self.features_)
        if X.ndim == 2 and X.shape[1] > k and tuple(self.features_) == FEATURES[:k]:
            X = X[:, :k]  # a model of an earlier feature set (its features come first): its columns
        if len(X) <= SMALL_BATCH:  # one live frame: OpenMP threads only add latency spikes on a busy machine
            with _threads().limit(limits=1, user_api="openmp"):
                p = self.pipeline_.predict_proba(X)[:, 1]
        else:
            p = self.pipeline_.predict_proba(X)[:, 1]
        return np.where(np.isnan(X).all(axis=1), 0.0, p)  # nobody seen: no evidence of a fall

    def predict(self, X: np.ndarray) -> np.ndarray:
        """1 (fall) where P(fall) >= 0.5, else 0, per row (the detector instead smooths P(fall) over time)."""
        return self.classes_[(self.predict_proba(X) >= 0.5).astype(np.int64)]

    def sequence_proba(self, seq: PoseSequence) -> np.ndarray:
        return self.predict_proba(sequence_features(seq))

    def save(self, path: str | Path) -> Path:
        """Write the versioned skops file (`model_file`), atomically."""
        check_is_fitted(self)
        fitted = model_file.Fitted(self.pipeline_, tuple(self.features_), self.get_params(),
                                   None if self.config_ is None else asdict(self.config_), dict(self.trained_on_),
                                   int(self.training_frames_), self.sklearn_version_, self.name)
        return model_file.save(fitted, path)

    @classmethod
    def load(cls, path: str | Path) -> FallModel:
        """Read a file written by `save` (a newer format is refused with a clear error), or a deprecated pickle
        of an older PoseCoach (`legacy_file`: a `FutureWarning`; read only pickles you made yourself)."""
        path = Path(path)
        legacy = path.is_file() and legacy_file.is_pickle(path)
        fitted = legacy_file.read(path) if legacy else model_file.load(path)
        model = cls(**fitted.params)
        model.pipeline_ = fitted.pipeline
        model.n_features_in_ = len(fitted.features)
        model.classes_ = fitted.pipeline.classes_
        model.features_ = fitted.features
        model.config_ = None if fitted.config is None else _config(fitted.config)
        model.trained_on_ = fitted.trained_on
        model.training_frames_ = fitted.training_frames
        model.sklearn_version_ = fitted.sklearn_version
        return model


def _config(d: dict[str, Any]) -> TrainConfig:
    """A `TrainConfig` from its dict (sources as a tuple; settings this PoseCoach does not know are left out)."""
    known = {f.name for f in fields(TrainConfig)}
    values = {k: v for k, v in d.items() if k in known}
    if "sources" in values:
        values["sources"] = tuple(values["sources"])
    return TrainConfig(**values)


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
    """Feature rows and 0/1 labels (rows without any pose, and frames labelled -1, left out). With ``config.gate``
    only the rows where the alert rules can fire (`events.may_alert`: upright just before, or a large hip drop)
    are kept: elsewhere the probability never raises an alert, and negatives there (lying in bed, planks, the
    bottom of a squat, sitting) only taught the model that a low body is no fall, which cost real falls of
    sources it never saw (leave-one-dataset-out, see the model card)."""
    xs, ys = [], []
    for item in labelled_items(config) if items is None else items:
        x = sequence_features(item.sequence)[:: config.every]
        y = item.labels[:: config.every]
        keep = ~np.isnan(x).all(axis=1) & (y >= 0)
        if config.gate:
            keep &= may_alert(x)
        xs.append(x[keep])
        ys.append(y[keep])
    return np.concatenate(xs), np.concatenate(ys).astype(np.int8)


def train_model(config: TrainConfig | None = None, items: list[datasets.Labelled] | None = None) -> FallModel:
    """A model of ``config``'s sources (or of the given ``items``, e.g. a leave-one-dataset-out fold)."""
    config = config or TrainConfig()
    items = labelled_items(config) if items is None else items
    X, y = training_set(config, items)
    counts: dict[str, int] = {}
    for item in items:
        if "@" not in item.name:  # augmented copies are not more sequences
            counts[item.source] = counts.get(item.source, 0) + 1
    return FallModel.from_config(config).fit(X, y, config=config, trained_on=counts)


def cache_dir() -> Path:
    return Path(os.environ.get("POSECOACH_CACHE") or Path.home() / ".cache" / "posecoach")


_LOADED: dict[str, FallModel] = {}


def shipped_model(path: Path | None = None) -> FallModel:
    """The committed model file (raises `InputError` when it is missing, unreadable or computed from other
    features)."""
    return FallModel.load(path or SHIPPED)


def default_model(config: TrainConfig | None = None) -> FallModel:
    """The shipped model (``fall-model.zip``, no data needed); with a ``config``, that model from the user cache,
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
    path = cache_dir() / f"fall-model-{key}.zip"
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
