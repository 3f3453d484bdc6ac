"""How well a posture classifier does on labelled frames: scores, and cross-validation that holds out groups.

`cross_validate` trains a fresh classifier per fold (each with its own inner, grouped model choice: nested
cross-validation) on every group but the fold's and predicts the fold's frames, so no person or video is ever
in its own test fold. `scores` turns true and predicted labels into accuracy, per-class recall and precision
and a confusion matrix.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from posecoach.analysis.posture.classifier import PostureClassifier
from posecoach.analysis.posture.inputs import Item, training_arrays
from posecoach.analysis.posture.models import cv_splits
from posecoach.core.version import __version__
from posecoach.reports.posture_report import CandidateScore, ClassScore, PostureEvaluation


@dataclass(frozen=True)
class CrossValidation:
    """Out-of-fold predictions: each frame's label and probabilities from a model that never saw its group."""

    predicted: np.ndarray  #: (N,) labels
    proba: np.ndarray      #: (N, K) calibrated probabilities, columns in the order of ``classes``
    classes: list[str]
    folds: int


def cross_validate(points: np.ndarray, labels: np.ndarray, groups: np.ndarray, folds: int = 5,
                   make: Callable[[], PostureClassifier] = PostureClassifier,
                   test_groups: np.ndarray | None = None) -> CrossValidation:
    """Out-of-fold predictions for ``(N, 33, 3)`` points: a fresh classifier per fold, trained without the fold's
    groups. ``folds`` >= the number of groups is leave-one-group-out. ``test_groups`` (default ``groups``) are
    what the folds hold out, when the classifiers' inner cross-validation should group differently."""
    outer = groups if test_groups is None else test_groups
    splits = cv_splits(labels, outer, folds)
    if not splits:
        raise ValueError("cross-validation needs labelled frames from at least 2 groups (people or videos)")
    classes = sorted(set(np.asarray(labels, dtype=str).tolist()))
    proba = np.zeros((len(labels), len(classes)))
    for train, test in splits:
        clf = make().fit(points[train], labels[train], groups[train])
        proba[np.ix_(test, [classes.index(c) for c in clf.classes_])] = clf.predict_proba(points[test])
    predicted = np.asarray(classes, dtype=object)[proba.argmax(axis=1)].astype(str)
    return CrossValidation(predicted, proba, classes, len(splits))


def scores(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str] | None = None) -> dict[str, Any]:
    """Accuracy, per-class frames / correct / recall / precision, and the confusion matrix (rows true)."""
    t, p = np.asarray(y_true, dtype=str), np.asarray(y_pred, dtype=str)
    names = list(labels) if labels is not None else sorted(set(t.tolist()))
    names += sorted(set(p.tolist()) - set(names))
    index = {n: i for i, n in enumerate(names)}
    confusion = np.zeros((len(names), len(names)), dtype=int)
    np.add.at(confusion, ([index[v] for v in t], [index[v] for v in p]), 1)
    per_class = []
    for i, name in enumerate(names):
        frames, predicted = int(confusion[i].sum()), int(confusion[:, i].sum())
        if not frames:
            continue
        correct = int(confusion[i, i])
        per_class.append({"label": name, "frames": frames, "correct": correct, "recall": correct / frames,
                          "precision": correct / predicted if predicted else None})
    return {"accuracy": float(np.mean(t == p)) if len(t) else 0.0, "per_class": per_class, "labels": names,
            "confusion": confusion.tolist()}


def evaluate_dataset(items: Sequence[Item], labels: Sequence[Any], groups: Sequence[Any], name: str,
                     clf: PostureClassifier | None = None, *, model: str = "auto", folds: int = 5,
                     model_path: str | None = None) -> PostureEvaluation:
    """Test ``clf`` on labelled items, or (``clf=None``) cross-validate training with ``groups`` held out."""
    from posecoach.analysis.posture.pipeline import classifier_info

    points, y, g = training_arrays(list(items), list(labels), list(groups))
    if not len(y):
        raise ValueError("no labelled frames with a pose")
    if clf is not None:
        pred, n_folds, method = clf.predict(points), None, "model"
    else:
        cv = cross_validate(points, y, g, folds, lambda: PostureClassifier(model=model, folds=folds))
        pred, n_folds = cv.predicted, cv.folds
        method = "grouped-cv"
    s = scores(y, pred, clf.classes_ if clf is not None else None)
    info = classifier_info(clf, model_path) if clf is not None else None
    candidates = [CandidateScore(**c) for c in clf.selection_.scores] if clf is not None else []
    return PostureEvaluation(
        posecoach_version=__version__, dataset=name, method=method, folds=n_folds, frames=len(y),
        groups=len(np.unique(g)), accuracy=s["accuracy"], per_class=[ClassScore(**c) for c in s["per_class"]],
        labels=s["labels"], confusion=s["confusion"], classifier=info, candidates=candidates)
