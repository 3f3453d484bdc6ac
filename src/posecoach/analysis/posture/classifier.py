"""`PostureClassifier`: a small model on normalised keypoints that names a posture in every frame.

    clf = PostureClassifier().fit([seq_a, seq_b, frames], [labels_a, "down", frame_labels], groups=["ann", "bob", ...])
    clf.predict(seq)          # (T,) labels, "" where nobody was found
    clf.predict_proba(seq)    # (T, K) calibrated probabilities in the order of clf.classes_, NaN rows likewise
    clf.save("squat.posture"); PostureClassifier.load("squat.posture")

``model="auto"`` chooses between logistic regression and k-NN by grouped cross-validation (see
`posecoach.analysis.posture.models`); the embedding is `posecoach.analysis.posture.embedding`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

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
    Estimator,
    Selection,
    Standardiser,
    calibrate,
    class_probabilities,
    fit_estimator,
    one_thread,
    select_model,
)
from posecoach.core.skeleton import BLAZEPOSE_33

UNKNOWN = ""  #: the label of a frame without a pose


def _integer_input(labels: Any) -> bool:
    """Whether the labels given to ``fit`` (flat, per item, or per frame) are all integers."""
    flat: list[Any] = []
    for v in labels if isinstance(labels, list | tuple | np.ndarray) else [labels]:
        flat.extend(v if isinstance(v, list | tuple | np.ndarray) else [v])
    return is_integer_labels([v for v in flat if v is not None])


class PostureClassifier:
    """Classifies postures frame by frame from keypoints; see the module docstring."""

    def __init__(self, model: str = "auto", spec: FeatureSpec | None = None, folds: int = 5) -> None:
        if model != "auto" and model not in MODEL_KINDS:
            raise ValueError(f"unknown posture model {model!r}; choose auto or one of: {', '.join(MODEL_KINDS)}")
        if folds < 2:
            raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
        self.model = model
        self.spec = spec or FeatureSpec()
        self.folds = folds
        self.skeleton = BLAZEPOSE_33
        self.classes_: list[str] = []
        self.selection: Selection | None = None
        self.training: dict[str, Any] = {}
        self.integer_labels = False  #: trained on integer class ids: `predict` answers with ints (-1: no pose)
        self._std: Standardiser | None = None
        self._est: Estimator | None = None

    # ------------------------------------------------------------------ training
    def fit(self, frames_or_sequences: Item | Sequence[Item], labels: Any, groups: Any = None) -> PostureClassifier:
        """Train on labelled frames; ``groups`` (person or video per frame or item) keep cross-validation honest."""
        points, y_names, g = training_arrays(frames_or_sequences, labels, groups)
        integers = _integer_input(labels)
        classes = label_order(y_names.tolist(), integers)
        if len(classes) < 2:
            found = f"only {classes[0]!r}" if classes else "none"
            raise ValueError(f"a posture classifier needs labelled frames of at least 2 postures; found {found}")
        y = np.array([classes.index(v) for v in y_names], dtype=np.int64)
        X = embed(points, self.spec)
        X_mirror = embed(mirror_points(points), self.spec) if self.spec.mirror else None
        kinds = MODEL_KINDS if self.model == "auto" else (self.model,)
        X_train, y_train = (X, y) if X_mirror is None else (np.concatenate([X, X_mirror]), np.concatenate([y, y]))
        std = Standardiser.fit(X_train)
        with one_thread():
            selection = select_model(X, X_mirror, y, g, len(classes), kinds, self.folds)
            self._est = fit_estimator(selection.kind, selection.params, std(X_train), y_train)
        self._std, self.selection, self.classes_, self.integer_labels = std, selection, classes, integers
        self.training = {"frames": len(y), "groups": len(np.unique(g)),
                         "frames_per_class": {c: int(np.sum(y == i)) for i, c in enumerate(classes)},
                         "cv_per_group": selection.per_group}
        return self

    @property
    def fitted(self) -> bool:
        return self._est is not None

    def _require_fitted(self) -> tuple[Standardiser, Estimator]:
        if self._std is None or self._est is None:
            raise RuntimeError("this PostureClassifier is not trained yet: call fit() or load() first")
        return self._std, self._est

    # ------------------------------------------------------------------ prediction
    def predict_points(self, points: np.ndarray) -> np.ndarray:
        """``(N, K)`` calibrated probabilities for ``(N, 33, 3)`` pixel-proportional points; NaN rows without a pose."""
        std, est = self._require_fitted()
        out = np.full((len(points), len(self.classes_)), np.nan)
        ok = detected(points)
        if np.any(ok):
            with one_thread():
                raw = class_probabilities(est, std(embed(points[ok], self.spec)), len(self.classes_))
            temperature = self.selection.temperature if self.selection else 1.0
            out[ok] = calibrate(raw, temperature)
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
        """Write one versioned file (model arrays, feature specification, labels, skeleton), atomically."""
        from posecoach.analysis.posture import model_file

        std, est = self._require_fitted()
        assert self.selection is not None
        return model_file.save(self, std, est, path)

    @classmethod
    def load(cls, path: str | Path) -> PostureClassifier:
        """Read a file written by `save` (a newer format version is refused with a clear error)."""
        from posecoach.analysis.posture import model_file

        return model_file.load(cls, path)

    def __repr__(self) -> str:
        if not self.fitted or self.selection is None:
            return f"PostureClassifier(model={self.model!r}, unfitted)"
        s = self.selection
        return f"PostureClassifier({s.kind} {s.params}, classes={self.classes_})"
