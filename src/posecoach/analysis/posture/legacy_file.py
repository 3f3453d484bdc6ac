"""Posture model files of format 1.x (PoseCoach before the skops format): the model as plain arrays.

``arrays.npz`` holds the feature standardisation (``std_mean``, ``std_scale``) and the model: logistic-regression
weights (``coef``, ``intercept``, ``classes``) or the k-NN's standardised training rows (``train_X`` as float32,
``train_y``, ``classes``). `pipeline` rebuilds the same fitted `Pipeline` a current model has, so such a file
predicts exactly as it did (the k-NN is refitted on its stored rows, which is exact).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from posecoach.analysis.posture.models import Selection, make_pipeline, one_thread
from posecoach.core import model_archive
from posecoach.errors import InputError

ARRAYS = "arrays.npz"


def pipeline(path: Path, zf: zipfile.ZipFile, selection: Selection, n_features: int) -> Pipeline:
    """The fitted pipeline of a format 1.x file (``zf`` open on it) with ``n_features`` feature columns."""
    with np.load(io.BytesIO(model_archive.entry(path, zf, ARRAYS, "posture model")), allow_pickle=False) as npz:
        a = {k: npz[k] for k in npz.files}
    mean, scale = np.asarray(a["std_mean"], dtype=np.float64), np.asarray(a["std_scale"], dtype=np.float64)
    if len(mean) != n_features or len(scale) != n_features:
        raise InputError(f"{path}: {len(mean)} feature columns, its specification names {n_features}")
    scaler = StandardScaler()
    scaler.mean_, scaler.scale_, scaler.var_ = mean, scale, scale**2
    scaler.n_features_in_, scaler.n_samples_seen_ = n_features, 0
    fill = SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True).fit(np.zeros((1, n_features)))
    classes = np.asarray(a["classes"])
    if selection.kind == "logreg":
        model = make_pipeline("logreg", selection.params).named_steps["model"]
        model.coef_ = np.asarray(a["coef"], dtype=np.float64)
        model.intercept_ = np.asarray(a["intercept"], dtype=np.float64)
        model.classes_, model.n_features_in_ = classes, n_features
    else:
        rows = np.asarray(a["train_X"], dtype=np.float64)
        model = make_pipeline(selection.kind, selection.params, max_rows=len(rows)).named_steps["model"]
        with one_thread():
            model.fit(rows, classes[np.asarray(a["train_y"], dtype=np.int64)])
    # every column is kept: the old standardisation scaled a constant feature by 1, leaving it at ~0
    return Pipeline([("constant", "passthrough"), ("scale", scaler), ("fill", fill), ("model", model)])
