"""`PostureClassifier`: a small model on normalised keypoints that names a posture in every frame.

    clf = PostureClassifier().fit([seq_a, seq_b, frames], [labels_a, "down", frame_labels], groups=["ann", "bob", ...])
    clf.predict(seq)          # (T,) labels, "" where nobody was found
    clf.predict_proba(seq)    # (T, K) calibrated probabilities in the order of clf.classes_, NaN rows likewise
    clf.save("squat.posture"); PostureClassifier.load("squat.posture")

A scikit-learn estimator (`BaseEstimator`, `ClassifierMixin`): the constructor only stores its parameters
(``get_params`` / ``set_params`` / `sklearn.base.clone` work), ``fit`` checks them and the data, and what it learns
is kept in attributes ending in ``_``: ``classes_``, ``spec_`` (the embedding used), ``pipeline_`` (the fitted
scikit-learn `Pipeline`), ``selection_`` (the model chosen, its cross-validated scores and calibration),
``training_`` (what it was trained on), ``integer_labels_`` and ``skeleton_``. Its input is keypoints (sequences or
``(N, 33, 3|4)`` frames), not a feature matrix: the embedding (`posecoach.analysis.posture.embedding`) turns them
into features. ``model="auto"`` chooses between logistic regression and k-NN by grouped cross-validation (see
`posecoach.analysis.posture.models`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from posecoach.analysis.posture import model_file
from posecoach.analysis.posture.embedding import FeatureSpec, detected, embed, mirror_points
from posecoach.analysis.posture.inputs import (
    Item,
    is_integer_labels,
    item_points,
    label_order,
    training_arrays,
)
from posecoach.analysis.posture.models import (
    MODEL_KINDS,
    Selection,
    calibrate,
    class_probabilities,
    fit_pipeline,
    select_model,
)
from posecoach.core.skeleton import BLAZEPOSE_33, Skeleton

UNKNOWN = ""  #: the label of a frame without a pose


class NotTrainedError(NotFittedError, RuntimeError):
    """Predicting or saving before ``fit`` or ``load`` (scikit-learn's `NotFittedError`, and a `RuntimeError`)."""


def _integer_input(labels: Any) -> bool:
    """Whether the labels given to ``fit`` (flat, per item, or per frame) are all integers."""
    flat: list[Any] = []
    for v in labels if isinstance(labels, list | tuple | np.ndarray) else [labels]:
        flat.extend(v if isinstance(v, list | tuple | np.ndarray) else [v])
    return is_integer_labels([v for v in flat if v is not None])


class PostureClassifier(ClassifierMixin, BaseEstimator):
    """Classifies postures frame by frame from keypoints; see the module docstring.

    ``model``: ``"auto"`` or one of `MODEL_KINDS`; ``spec``: the embedding (default ``FeatureSpec()``);
    ``folds``: cross-validation folds for the model choice (at most one per group).
    """

    def __init__(self, model: str = "auto", spec: FeatureSpec | None = None, folds: int = 5) -> None:
        self.model = model
        self.spec = spec
        self.folds = folds

    def _checked_spec(self) -> FeatureSpec:
        """The parameters checked (``ValueError`` naming the bad one); the embedding to use."""
        if self.model != "auto" and self.model not in MODEL_KINDS:
            raise ValueError(f"unknown posture model {self.model!r}; choose auto or one of: {', '.join(MODEL_KINDS)}")
        if isinstance(self.folds, bool) or not isinstance(self.folds, int | np.integer) or self.folds < 2:
            raise ValueError(f"cross-validation needs an integer number of folds >= 2, got {self.folds!r}")
        if self.spec is not None and not isinstance(self.spec, FeatureSpec):
            raise ValueError(f"spec must be a FeatureSpec, got {type(self.spec).__name__}")
        return self.spec or FeatureSpec()

    # ------------------------------------------------------------------ training
    def fit(self, frames_or_sequences: Item | Sequence[Item], labels: Any, groups: Any = None) -> PostureClassifier:
        """Train on labelled frames; ``groups`` (person or video per frame or item) keep cross-validation honest."""
        spec = self._checked_spec()
        points, y_names, g = training_arrays(frames_or_sequences, labels, groups)
        integers = _integer_input(labels)
        classes = label_order(y_names.tolist(), integers)
        if len(classes) < 2:
            found = f"only {classes[0]!r}" if classes else "none"
            raise ValueError(f"a posture classifier needs labelled frames of at least 2 postures; found {found}")
        y = np.array([classes.index(v) for v in y_names], dtype=np.int64)
        X = embed(points, spec)
        X_mirror = embed(mirror_points(points), spec) if spec.mirror else None
        kinds = MODEL_KINDS if self.model == "auto" else (self.model,)
        X_train, y_train = (X, y) if X_mirror is None else (np.concatenate([X, X_mirror]), np.concatenate([y, y]))
        selection = select_model(X, X_mirror, y, g, len(classes), kinds, int(self.folds))
        self.pipeline_ = fit_pipeline(selection.kind, selection.params, X_train, y_train)
        self.spec_, self.skeleton_, self.selection_ = spec, BLAZEPOSE_33, selection
        self.classes_, self.integer_labels_ = classes, integers
        self.training_ = {"frames": len(y), "groups": len(np.unique(g)),
                          "frames_per_class": {c: int(np.sum(y == i)) for i, c in enumerate(classes)},
                          "cv_per_group": selection.per_group}
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "pipeline_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False  # keypoints: (N, 33, 3|4) frames or pose sequences
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True  # missing keypoints
        return tags

    @property
    def fitted(self) -> bool:
        return self.__sklearn_is_fitted__()

    # Read-only views of the fitted state under the names callers used before it moved to ``*_`` attributes.
    @property
    def selection(self) -> Selection | None:
        return getattr(self, "selection_", None)

    @property
    def training(self) -> dict[str, Any]:
        return getattr(self, "training_", {})

    @property
    def integer_labels(self) -> bool:
        """Trained on integer class ids: `predict` answers with ints (-1: no pose)."""
        return bool(getattr(self, "integer_labels_", False))

    @property
    def skeleton(self) -> Skeleton:
        return getattr(self, "skeleton_", BLAZEPOSE_33)

    def _require_fitted(self) -> Pipeline:
        if not self.fitted:
            raise NotTrainedError("this PostureClassifier is not trained yet: call fit() or load() first")
        return self.pipeline_

    # ------------------------------------------------------------------ prediction
    def predict_points(self, points: np.ndarray) -> np.ndarray:
        """``(N, K)`` calibrated probabilities for ``(N, 33, 3)`` pixel-proportional points; NaN rows without a pose."""
        pipe = self._require_fitted()
        out = np.full((len(points), len(self.classes_)), np.nan)
        ok = detected(points)
        if np.any(ok):
            raw = class_probabilities(pipe, embed(points[ok], self.spec_), len(self.classes_))
            out[ok] = calibrate(raw, self.selection_.temperature)
        return out

    def predict_proba(self, seq: Item) -> np.ndarray:
        """``(T, K)`` probabilities per frame of a `PoseSequence` (its subject) or of ``(N, 33, 3|4)`` frames."""
        return self.predict_points(item_points(seq))

    def predict(self, seq: Item) -> np.ndarray:
        """``(T,)`` the most likely posture per frame (`UNKNOWN`, "", where there is no pose; with integer
        labels, integers and -1)."""
        labels = self.labels_of(self.predict_proba(seq))
        if self.integer_labels:
            return np.array([int(v) if v != UNKNOWN else -1 for v in labels], dtype=np.int64)
        return labels

    def labels_of(self, proba: np.ndarray) -> np.ndarray:
        """The label of each row's highest probability (`UNKNOWN` for NaN rows)."""
        labels = np.asarray(self.classes_, dtype=object)
        ok = np.all(np.isfinite(proba), axis=1)
        out = np.full(len(proba), UNKNOWN, dtype=object)
        if np.any(ok):
            out[ok] = labels[np.argmax(proba[ok], axis=1)]
        return out.astype(str)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path) -> Path:
        """Write one versioned file (the fitted pipeline in skops' format beside the PoseCoach version, feature
        specification, labels, skeleton and model choice), atomically."""
        self._require_fitted()
        fitted = model_file.Fitted(self.pipeline_, self.spec_, self.skeleton_, self.selection_, list(self.classes_),
                                   self.integer_labels_, self.training_, self.model)
        return model_file.save(fitted, path)

    @classmethod
    def load(cls, path: str | Path) -> PostureClassifier:
        """Read a file written by `save` (also the previous format; a newer format is refused with a clear error)."""
        fitted = model_file.load(path)
        clf = cls(model=fitted.requested, spec=fitted.spec, folds=max(2, fitted.selection.folds))
        clf.pipeline_, clf.spec_, clf.skeleton_, clf.selection_ = (fitted.pipeline, fitted.spec, fitted.skeleton,
                                                                    fitted.selection)
        clf.classes_, clf.integer_labels_, clf.training_ = fitted.classes, fitted.integer_labels, fitted.training
        return clf
