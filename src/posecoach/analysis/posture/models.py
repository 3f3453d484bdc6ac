"""The two posture models (scikit-learn), their grouped cross-validation, and probability calibration.

* ``logreg``: multinomial logistic regression on standardised features (the linear model on keypoints);
* ``knn``: k nearest neighbours (distance-weighted votes), as MediaPipe's pose classifier.

`select_model` tries every candidate with cross-validation whose folds keep each group (person, video) out of
its own test fold, picks the most accurate, and fits a temperature on the out-of-fold probabilities
(`fit_temperature`) so that a probability of 0.8 is right about 80 % of the time. Each fitted model is kept as
plain arrays (`model_arrays` / `model_from_arrays`): files hold no pickled code.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

MODEL_KINDS: tuple[str, ...] = ("logreg", "knn")
#: Candidate settings per model kind, tried in this order (the first wins a tie).
CANDIDATES: dict[str, tuple[dict[str, Any], ...]] = {
    "logreg": ({"C": 1.0}, {"C": 0.1}, {"C": 10.0}),
    "knn": ({"n_neighbors": 10}, {"n_neighbors": 25}),
}
PROB_FLOOR = 1e-4

Estimator = LogisticRegression | KNeighborsClassifier


def one_thread() -> threadpool_limits:
    """BLAS/OpenMP on one thread: these matrices are small, and threads fighting for busy cores cost ~10x."""
    return threadpool_limits(limits=1)


@dataclass(frozen=True)
class Standardiser:
    """Centre and scale each feature by the training frames; missing values become the mean (0)."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> Standardiser:
        with warnings.catch_warnings():  # a feature missing in every frame: mean 0, scale 1
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nan_to_num(np.nanmean(X, axis=0)) if len(X) else np.zeros(X.shape[1])
            std = np.nan_to_num(np.nanstd(X, axis=0)) if len(X) else np.ones(X.shape[1])
        return cls(mean.astype(np.float64), np.where(std > 1e-9, std, 1.0).astype(np.float64))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.nan_to_num((np.asarray(X, dtype=np.float64) - self.mean) / self.scale)


def make_estimator(kind: str, params: dict[str, Any]) -> Estimator:
    if kind == "logreg":
        return LogisticRegression(C=float(params["C"]), max_iter=3000)
    if kind == "knn":
        return KNeighborsClassifier(n_neighbors=int(params["n_neighbors"]), weights="distance")
    raise ValueError(f"unknown posture model {kind!r}; choose one of: {', '.join(MODEL_KINDS)}")


def fit_estimator(kind: str, params: dict[str, Any], X: np.ndarray, y: np.ndarray) -> Estimator:
    """Fit on standardised features ``X`` and class indices ``y``; k-NN keeps float32-exact training rows."""
    est = make_estimator(kind, params)
    if kind == "knn":
        X = X.astype(np.float32).astype(np.float64)  # what its saved file holds, so a reload predicts the same
        est.set_params(n_neighbors=min(int(params["n_neighbors"]), len(X)))
    return est.fit(X, y)


def class_probabilities(est: Estimator, X: np.ndarray, n_classes: int) -> np.ndarray:
    """``(N, n_classes)`` probabilities, with zero columns for classes the estimator never saw."""
    out = np.zeros((len(X), n_classes))
    if len(X):
        out[:, est.classes_.astype(int)] = est.predict_proba(X)
    return out


def model_arrays(kind: str, est: Estimator) -> dict[str, np.ndarray]:
    if kind == "logreg":
        return {"coef": est.coef_, "intercept": est.intercept_, "classes": est.classes_}
    return {"train_X": est._fit_X.astype(np.float32), "train_y": est._y, "classes": est.classes_}


def model_from_arrays(kind: str, params: dict[str, Any], arrays: dict[str, np.ndarray]) -> Estimator:
    """Rebuild a fitted estimator from `model_arrays` (k-NN: refit on its stored rows, which is exact)."""
    if kind == "logreg":
        est = make_estimator(kind, params)
        est.coef_ = np.asarray(arrays["coef"], dtype=np.float64)
        est.intercept_ = np.asarray(arrays["intercept"], dtype=np.float64)
        est.classes_ = np.asarray(arrays["classes"])
        est.n_features_in_ = est.coef_.shape[1]
        return est
    classes = np.asarray(arrays["classes"])
    return fit_estimator(kind, params, np.asarray(arrays["train_X"], dtype=np.float64),
                         classes[np.asarray(arrays["train_y"], dtype=np.int64)])


def calibrate(proba: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling: ``p ** (1 / T)`` renormalised (the ranking, so the predicted class, is unchanged)."""
    logp = np.log(np.clip(proba, PROB_FLOOR, 1.0)) / temperature
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    return p / p.sum(axis=1, keepdims=True)


def log_loss(proba: np.ndarray, y: np.ndarray) -> float:
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


def grouped_folds(y: np.ndarray, groups: np.ndarray, folds: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Train/test index pairs in which no group is on both sides (stratified by class where possible)."""
    n = min(folds, len(np.unique(groups)))
    if n < 2:
        return []
    return list(StratifiedGroupKFold(n_splits=n).split(np.zeros(len(y)), y, groups))


def select_model(X: np.ndarray, X_mirror: np.ndarray | None, y: np.ndarray, groups: np.ndarray, n_classes: int,
                 kinds: tuple[str, ...], folds: int) -> Selection:
    """Cross-validate every candidate of ``kinds``; mirrored rows train only, never test."""
    splits = grouped_folds(y, groups, folds)
    candidates = [(k, p) for k in kinds for p in CANDIDATES[k]]
    if not splits:  # one group: nothing to hold out, take the first candidate uncalibrated
        kind, params = candidates[0]
        return Selection(kind, dict(params), 1.0, 0, [])
    scores, oof_all = [], []
    for kind, params in candidates:
        oof = np.zeros((len(y), n_classes))
        for train, test in splits:
            Xt, yt = X[train], y[train]
            if X_mirror is not None:
                Xt, yt = np.concatenate([Xt, X_mirror[train]]), np.concatenate([yt, yt])
            std = Standardiser.fit(Xt)
            est = fit_estimator(kind, params, std(Xt), yt)
            oof[test] = class_probabilities(est, std(X[test]), n_classes)
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
