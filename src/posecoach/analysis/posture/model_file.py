"""The posture model file: one versioned zip holding ``posture_model.json`` and ``pipeline.skops``.

The JSON names the format and its version, the PoseCoach, scikit-learn and skops versions that wrote it, the
labels, the feature specification and its column names, the skeleton, the chosen model with its cross-validated
scores and calibration temperature, and what it was trained on. ``pipeline.skops`` is the fitted scikit-learn
`Pipeline` in skops' format (`skops.io`; the archive is `posecoach.core.model_archive`'s, as the fall model's): no
pickle; loading it builds only the scikit-learn and numpy types of `TRUSTED` (anything else in a file is refused,
before anything is built). Files of the previous format (1.x: the model as plain arrays, ``arrays.npz``) are still
read (`posecoach.analysis.posture.legacy_file`). A file from a newer major format version is refused; a file from
a newer minor one is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklearn.pipeline import Pipeline

from posecoach.analysis.posture.embedding import FeatureSpec
from posecoach.analysis.posture.models import STEPS, Selection
from posecoach.core import model_archive
from posecoach.core.skeleton import SKELETONS, Skeleton
from posecoach.errors import InputError

FORMAT = "posecoach-posture-model"
FORMAT_VERSION = "2.0"
META, PIPELINE = "posture_model.json", "pipeline.skops"
#: Types a model's pipeline may hold beyond those skops trusts by default (scikit-learn's estimators, numpy
#: arrays): a k-NN's search tree and its metric, and numpy dtypes.
TRUSTED = frozenset({"numpy.dtype", "sklearn.metrics._dist_metrics.EuclideanDistance64",
                     "sklearn.neighbors._kd_tree.KDTree", "sklearn.neighbors._ball_tree.BallTree"})
RETRAIN = "train the model again with this PoseCoach (posecoach posture train, or Train in the web app)"
WHAT = "posture model"


@dataclass
class Fitted:
    """What a model file holds: a fitted `PostureClassifier`'s state and the model it was asked for."""

    pipeline: Pipeline
    spec: FeatureSpec
    skeleton: Skeleton
    selection: Selection
    classes: list[str]
    integer_labels: bool
    training: dict[str, Any]
    requested: str


def save(fitted: Fitted, path: str | Path) -> Path:
    import skops.io

    path = Path(path)
    sel = fitted.selection
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, **model_archive.versions(),
        "classes": list(fitted.classes), "integer_labels": fitted.integer_labels,
        "model": {"kind": sel.kind, "params": sel.params, "temperature": sel.temperature, "folds": sel.folds,
                  "cv_scores": sel.scores, "cv_per_group": sel.per_group, "requested": fitted.requested},
        "features": fitted.spec.to_dict(), "feature_names": fitted.spec.names,
        "skeleton": {"name": fitted.skeleton.name, "names": list(fitted.skeleton.names)},
        "training": fitted.training,
        "pipeline": PIPELINE,
    }
    return model_archive.write(path, META, meta, {PIPELINE: skops.io.dumps(fitted.pipeline)})


def load_pipeline(path: Path, data: bytes) -> Pipeline:
    """The fitted pipeline of a ``pipeline.skops``, refusing any type outside skops' defaults and `TRUSTED`."""
    pipe = model_archive.load_skops(path, data, TRUSTED, WHAT, RETRAIN)
    if not isinstance(pipe, Pipeline) or tuple(name for name, _ in pipe.steps) != STEPS:
        raise InputError(f"{path}: its model is not a posture pipeline ({', '.join(STEPS)})")
    return pipe


def _skeleton(path: Path, meta: dict[str, Any]) -> Skeleton:
    skeleton = SKELETONS[meta["skeleton"]["name"]]
    if list(skeleton.names) != list(meta["skeleton"]["names"]):
        raise InputError(f"{path}: its skeleton's keypoints differ from {skeleton.name}'s")
    return skeleton


def load(path: str | Path) -> Fitted:
    from posecoach.analysis.posture import legacy_file

    path = Path(path)
    meta, zf = model_archive.open_archive(path, META, WHAT)
    with zf:
        major = model_archive.format_major(path, meta, FORMAT, FORMAT_VERSION, WHAT, RETRAIN)
        with model_archive.reading(path, WHAT):
            skeleton = _skeleton(path, meta)
            spec = FeatureSpec.from_dict(meta["features"])
            m = meta["model"]
            selection = Selection(m["kind"], dict(m["params"]), float(m["temperature"]), int(m["folds"]),
                                  list(m["cv_scores"]), dict(m.get("cv_per_group", {})))
            if major == 1:
                pipe = legacy_file.pipeline(path, zf, selection, len(spec.names))
            else:
                pipe = load_pipeline(path, model_archive.entry(path, zf, PIPELINE, WHAT))
            first = next(step for _, step in pipe.steps if step != "passthrough")  # legacy: no "constant" step
            n_features = int(first.n_features_in_)
            if n_features != len(spec.names):
                raise InputError(f"{path}: {n_features} feature columns, its specification names {len(spec.names)}")
            classes = [str(c) for c in meta["classes"]]
    return Fitted(pipe, spec, skeleton, selection, classes, bool(meta.get("integer_labels", False)),
                  dict(meta.get("training", {})), m.get("requested", m["kind"]))
