"""The fall model file: one versioned zip holding ``fall_model.json`` and ``pipeline.skops``.

The JSON names the format and its version, the PoseCoach, scikit-learn and skops versions that wrote it, the
feature specification (the ordered names of `features.FEATURES`, the history the window features need), the
estimator's parameters and the scikit-learn version that fitted it, and the training config and sources (sequences
per source, feature rows). ``pipeline.skops`` is the fitted scikit-learn `Pipeline` in skops' format
(`posecoach.core.model_archive`, as the posture model's): no pickle; loading builds only scikit-learn and numpy
types and the gradient-boosted trees' `TRUSTED` type (anything else in a file is refused, before anything is
built). A file from a newer major format version is refused; a file from a newer minor one is read; a model
computed from other features than this PoseCoach's is refused (it would score the wrong columns).

Files of the previous format (a pickle, ``.pkl``) are read by `posecoach.analysis.falls.legacy_file`, with a
`FutureWarning`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from posecoach.analysis.falls.features import FEATURES, HISTORY_S
from posecoach.core import model_archive
from posecoach.errors import InputError

FORMAT = "posecoach-fall-model"
FORMAT_VERSION = "1.0"
META, PIPELINE = "fall_model.json", "pipeline.skops"
STEPS = ("model",)  #: the steps of the fall pipeline
#: Types a fall pipeline holds beyond those skops trusts by default: the boosted trees' predictors.
TRUSTED = frozenset({"sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"})
RETRAIN = "train the model again with this PoseCoach (python -m posecoach.analysis.falls.train)"
WHAT = "fall model"


@dataclass
class Fitted:
    """What a fall model file holds: a fitted `FallModel`'s state (``config``: a `TrainConfig` as a dict, or None)."""

    pipeline: Pipeline
    features: tuple[str, ...]
    params: dict[str, Any]
    config: dict[str, Any] | None
    trained_on: dict[str, int]
    training_frames: int
    sklearn_version: str  #: the scikit-learn that fitted the model (the file's header also names the one that wrote it)
    name: str = ""  #: the model's name when it was saved (reports carry it; recorded for whoever reads the file)


def save(fitted: Fitted, path: str | Path) -> Path:
    import skops.io

    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, **model_archive.versions(),
        "features": {"module": "posecoach.analysis.falls.features", "history_s": HISTORY_S},
        "feature_names": list(fitted.features),
        "classes": [int(c) for c in fitted.pipeline.classes_],
        "model": {"kind": "hgb", "name": fitted.name, "params": fitted.params,
                  "fitted_with_sklearn": fitted.sklearn_version},
        "training": {"config": fitted.config, "trained_on": fitted.trained_on, "frames": fitted.training_frames},
        "pipeline": PIPELINE,
    }
    return model_archive.write(path, META, meta, {PIPELINE: skops.io.dumps(fitted.pipeline)})


def checked_pipeline(path: Path, pipe: Any, features: tuple[str, ...]) -> Pipeline:
    """``pipe`` if it is a fitted fall pipeline over ``features``: the features this PoseCoach computes, or the
    first of them (a model of an earlier feature set; later features are appended, so it reads its columns)."""
    if (not isinstance(pipe, Pipeline) or tuple(name for name, _ in pipe.steps) != STEPS
            or not isinstance(pipe[-1], HistGradientBoostingClassifier)):
        raise InputError(f"{path}: its model is not a fall pipeline ({', '.join(STEPS)}: gradient-boosted trees)")
    if not features or features != FEATURES[:len(features)]:  # the first k: a model of an earlier feature set
        raise InputError(f"{path} was computed from other features ({len(features)}: {', '.join(features)}) than "
                         f"this PoseCoach's {len(FEATURES)}; {RETRAIN}")
    n_features = getattr(pipe[-1], "n_features_in_", None)
    if n_features != len(features):
        raise InputError(f"{path}: {n_features} feature columns, its specification names {len(features)}")
    if [int(c) for c in getattr(pipe[-1], "classes_", [])] != [0, 1]:
        raise InputError(f"{path}: its model does not tell a fall (1) from no fall (0)")
    return pipe


def load(path: str | Path) -> Fitted:
    path = Path(path)
    meta, zf = model_archive.open_archive(path, META, WHAT)
    with zf:
        model_archive.format_major(path, meta, FORMAT, FORMAT_VERSION, WHAT, RETRAIN)
        with model_archive.reading(path, WHAT):
            features = tuple(str(f) for f in meta["feature_names"])
            pipe = model_archive.load_skops(path, model_archive.entry(path, zf, PIPELINE, WHAT), TRUSTED, WHAT,
                                            RETRAIN)
            pipe = checked_pipeline(path, pipe, features)
            model, training = meta["model"], meta["training"]
            config = training.get("config")
            fitted = Fitted(pipe, features, dict(model["params"]), None if config is None else dict(config),
                            {str(k): int(v) for k, v in training.get("trained_on", {}).items()},
                            int(training.get("frames", 0)), str(model.get("fitted_with_sklearn", "")),
                            str(model.get("name", "")))
    return fitted
