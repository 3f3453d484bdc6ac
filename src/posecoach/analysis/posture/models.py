"""The two posture models as scikit-learn pipelines, their grouped cross-validation, and probability calibration.

Every candidate is a `Pipeline`: ``constant`` (`VarianceThreshold`: features that do not vary, standard deviation
at most 1e-9, are left out: e.g. the torso's sideways component, 0 by construction but for rounding, which scaling
would blow up into noise), ``scale`` (`StandardScaler`, fitted on the frames that have each feature), ``fill``
(`SimpleImputer`: a feature a frame lacks becomes 0 after scaling, i.e. the training mean) and ``model``:

* ``logreg``: multinomial logistic regression (the linear model on keypoints);
* ``knn``: k nearest neighbours (distance-weighted votes), as MediaPipe's pose classifier.

`select_model` runs `cross_validate` on every candidate over folds that keep each group (person, video) out of
its own test fold (`StratifiedGroupKFold`; `StratifiedKFold` when every frame is its own group), picks the most
accurate on the pooled out-of-fold probabilities, and fits a temperature on them (`fit_temperature`) so that a
probability of 0.8 is right about 80 % of the time. `cross_validate` rather than `GridSearchCV`: the choice, the
temperature and the per-group accuracy all need each fold's model and held-out frames (``return_estimator``,
``return_indices``), which a grid search does not keep, and the accuracy is pooled over frames, not averaged
over folds of different sizes.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

MODEL_KINDS: tuple[str, ...] = ("logreg", "knn")
#: Candidate settings per model kind, tried in this order (the first wins a tie).
CANDIDATES: dict[str, tuple[dict[str, Any], ...]] = {
    "logreg": ({"C": 1.0}, {"C": 0.1}, {"C": 10.0}),
    "knn": ({"n_neighbors": 10}, {"n_neighbors": 25}),
}
PROB_FLOOR = 1e-4
CONSTANT_VARIANCE = 1e-18  #: features varying less are left out
STEPS = ("constant", "scale", "fill", "model")  #: the steps of every posture pipeline


@contextmanager
def one_thread() -> Iterator[None]:
    """BLAS/OpenMP on one thread (these matrices are small, and threads fighting for busy cores cost ~10x); the
    warnings about a feature missing in every training frame are silenced (that feature is left out)."""
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
        warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
        warnings.filterwarnings("ignore", "Degrees of freedom <= 0", RuntimeWarning)
        yield


def make_pipeline(kind: str, params: dict[str, Any], max_rows: int | None = None) -> Pipeline:
    """The unfitted pipeline of a candidate; k-NN asks for at most ``max_rows`` neighbours (the training rows)."""
    model: LogisticRegression | KNeighborsClassifier
    if kind == "logreg":
        model = LogisticRegression(C=float(params["C"]), max_iter=3000)
    elif kind == "knn":
        k = int(params["n_neighbors"])
        model = KNeighborsClassifier(n_neighbors=min(k, max_rows) if max_rows else k, weights="distance")
    else:
        raise ValueError(f"unknown posture model {kind!r}; choose one of: {', '.join(MODEL_KINDS)}")
    fill = SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True)
    steps = (VarianceThreshold(CONSTANT_VARIANCE), StandardScaler(), fill, model)
    return Pipeline(list(zip(STEPS, steps, strict=True)))


def fit_pipeline(kind: str, params: dict[str, Any], X: np.ndarray, y: np.ndarray) -> Pipeline:
    """The candidate's pipeline fitted on features ``X`` (NaN: missing) and class indices ``y``."""
    with one_thread():
        return make_pipeline(kind, params, max_rows=len(X)).fit(X, y)


def class_probabilities(pipe: Pipeline, X: np.ndarray, n_classes: int) -> np.ndarray:
    """``(N, n_classes)`` probabilities, with zero columns for classes the model never saw."""
    out = np.zeros((len(X), n_classes))
    if len(X):
        with one_thread():
            out[:, np.asarray(pipe.classes_).astype(int)] = pipe.predict_proba(X)
    return out


def calibrate(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling: ``p ** (1 / T)`` renormalised (the ranking, so the predicted class, is unchanged)."""
    logp = np.log(np.clip(proba, PROB_FLOOR, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True)


def log_loss(proba: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log probability of the true class, floored at `PROB_FLOOR` (a k-NN's 0 costs 9.2, not 36)."""
    return float(-np.mean(np.log(np.clip(proba[np.arange(len(y)), y], PROB_FLOOR, 1.0))))


def fit_temperature(proba: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the log loss of out-of-fold probabilities (1 = unchanged)."""
    if not len(y):
        return 1.0
    res = minimize_scalar(lambda t: log_loss(calibrate(proba, t), y), bounds=(0.05, 20.0), method="bounded")
    return float(res.x) if res.success else 1.0


def expected_calibration_error(proba: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over confidence bins, weighted by the frames in each."""
    conf = proba.max(axis=1)
    right = proba.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, bins - 1)
    return float(sum(abs(right[idx == b].mean() - conf[idx == b].mean()) * np.mean(idx == b)
                     for b in range(bins) if np.any(idx == b)))


@dataclass(frozen=True)
class Selection:
    """The chosen model, its cross-validated scores (every candidate's) and the calibration temperature."""

    kind: str
    params: dict[str, Any]
    temperature: float
    folds: int
    scores: list[dict[str, Any]]
    #: the chosen model's out-of-fold result per held-out group (video, person): frames, correct, accuracy
    per_group: dict[str, dict[str, Any]] = field(default_factory=dict)


def per_group_scores(predicted: np.ndarray, y: np.ndarray, groups: np.ndarray) -> dict[str, dict[str, Any]]:
    """Accuracy of out-of-fold predictions on each group's frames (each group was held out of its own fold)."""
    out: dict[str, dict[str, Any]] = {}
    for g in np.unique(groups):
        mask = groups == g
        correct = int(np.sum(predicted[mask] == y[mask]))
        out[str(g)] = {"frames": int(mask.sum()), "correct": correct, "accuracy": correct / int(mask.sum())}
    return out


def cv_splits(y: np.ndarray, groups: np.ndarray, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs in which no group is on both sides, stratified by class where possible
    (`StratifiedGroupKFold`; `StratifiedKFold` when every frame is its own group). At most one fold per group."""
    n_groups = len(np.unique(groups))
    n = min(folds, n_groups)
    if n < 2:
        return []
    if n_groups == len(y):  # independent frames
        n = min(n, int(np.unique(y, return_counts=True)[1].max()))
        return list(StratifiedKFold(n_splits=n).split(np.zeros(len(y)), y)) if n >= 2 else []
    return list(StratifiedGroupKFold(n_splits=n).split(np.zeros(len(y)), y, groups))


def _held_out_frames(estimator: Pipeline, X: np.ndarray, y: np.ndarray) -> float:
    """`cross_validate`'s score of a fold: its held-out frames (a free number; the scores that count come from
    the pooled out-of-fold probabilities, predicted once)."""
    return float(len(y))


def _out_of_fold(kind: str, params: dict[str, Any], X: np.ndarray, X_mirror: np.ndarray | None, y: np.ndarray,
                 splits: list[tuple[np.ndarray, np.ndarray]], n_classes: int) -> np.ndarray:
    """``(N, n_classes)`` probabilities of each frame from the fold model that did not train on it; mirrored rows
    (appended after the N frames) join their frames' training folds, never a test fold."""
    n = len(y)
    X_all = X if X_mirror is None else np.concatenate([X, X_mirror])
    y_all = y if X_mirror is None else np.concatenate([y, y])
    cv = [(train if X_mirror is None else np.concatenate([train, train + n]), test) for train, test in splits]
    pipe = make_pipeline(kind, params, max_rows=min(len(train) for train, _ in cv))
    with one_thread():
        res = cross_validate(pipe, X_all, y_all, cv=cv, scoring=_held_out_frames, return_estimator=True,
                             return_indices=True, error_score="raise")
    oof = np.zeros((n, n_classes))
    for fold_pipe, test in zip(res["estimator"], res["indices"]["test"], strict=True):
        oof[test] = class_probabilities(fold_pipe, X[test], n_classes)
    return oof


def select_model(X: np.ndarray, X_mirror: np.ndarray | None, y: np.ndarray, groups: np.ndarray, n_classes: int,
                 kinds: tuple[str, ...], folds: int) -> Selection:
    """Cross-validate every candidate of ``kinds``; mirrored rows train only, never test."""
    splits = cv_splits(y, groups, folds)
    candidates = [(k, p) for k in kinds for p in CANDIDATES[k]]
    if not splits:  # one group: nothing to hold out, take the first candidate uncalibrated
        kind, params = candidates[0]
        return Selection(kind, dict(params), 1.0, 0, [])
    scores, oof_all = [], []
    for kind, params in candidates:
        oof = _out_of_fold(kind, params, X, X_mirror, y, splits, n_classes)
        acc = float(np.mean(oof.argmax(axis=1) == y))
        scores.append({"model": kind, "params": dict(params), "accuracy": acc, "log_loss": log_loss(oof, y)})
        oof_all.append(oof)
    best = max(range(len(candidates)), key=lambda i: (scores[i]["accuracy"], -scores[i]["log_loss"], -i))
    temperature = fit_temperature(oof_all[best], y)
    calibrated = calibrate(oof_all[best], temperature)
    scores[best].update(chosen=True, calibrated_log_loss=log_loss(calibrated, y),
                        ece=expected_calibration_error(oof_all[best], y),
                        calibrated_ece=expected_calibration_error(calibrated, y))
    kind, params = candidates[best]
    return Selection(kind, dict(params), temperature, len(splits), scores,
                     per_group_scores(oof_all[best].argmax(axis=1), y, np.asarray(groups).astype(str)))
