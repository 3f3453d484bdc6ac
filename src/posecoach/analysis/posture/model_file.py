"""The posture model file: one versioned zip holding ``posture_model.json`` and ``arrays.npz``.

The JSON names the format and its version, the PoseCoach and scikit-learn versions that wrote it, the labels,
the feature specification and its column names, the skeleton, the chosen model with its cross-validated scores
and calibration temperature, and what it was trained on. The arrays are the feature standardisation and the
model itself (logistic-regression weights, or k-NN training rows). No pickled code: loading a file runs nothing
from it. A file from a newer major format version is refused; a file from a newer minor one is read.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from posecoach.analysis.posture.embedding import FeatureSpec
from posecoach.analysis.posture.models import Estimator, Selection, Standardiser, model_arrays, model_from_arrays
from posecoach.core.atomic import atomic_path
from posecoach.core.skeleton import SKELETONS
from posecoach.errors import InputError

if TYPE_CHECKING:
    from posecoach.analysis.posture.classifier import PostureClassifier

FORMAT = "posecoach-posture-model"
FORMAT_VERSION = "1.0"
META, ARRAYS = "posture_model.json", "arrays.npz"


def _versions() -> dict[str, str]:
    import sklearn

    from posecoach import __version__

    return {"posecoach_version": __version__, "sklearn_version": sklearn.__version__}


def save(clf: PostureClassifier, std: Standardiser, est: Estimator, path: str | Path) -> Path:
    path = Path(path)
    sel = clf.selection
    assert sel is not None
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, **_versions(),
        "classes": list(clf.classes_), "integer_labels": clf.integer_labels,
        "model": {"kind": sel.kind, "params": sel.params, "temperature": sel.temperature, "folds": sel.folds,
                  "cv_scores": sel.scores, "cv_per_group": sel.per_group, "requested": clf.model},
        "features": clf.spec.to_dict(), "feature_names": clf.spec.names,
        "skeleton": {"name": clf.skeleton.name, "names": list(clf.skeleton.names)},
        "training": clf.training,
    }
    buf = io.BytesIO()
    np.savez(buf, std_mean=std.mean, std_scale=std.scale, **model_arrays(sel.kind, est))
    try:
        with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(META, json.dumps(meta, indent=2))
            zf.writestr(ARRAYS, buf.getvalue())
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if not path.is_file():
        raise InputError(f"{path}: no such posture model file")
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path}: not a posture model (the file is not a PoseCoach model archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if META not in names or ARRAYS not in names:
                raise InputError(f"{path}: not a posture model (no {META} / {ARRAYS} inside)")
            meta = json.loads(zf.read(META))
            with np.load(io.BytesIO(zf.read(ARRAYS)), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, json.JSONDecodeError, ValueError, OSError) as exc:
        raise InputError(f"{path}: damaged posture model ({exc})") from None
    return meta, arrays


def _check_version(path: Path, meta: dict[str, Any]) -> None:
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt != FORMAT:
        raise InputError(f"{path}: not a posture model (format {fmt!r}, expected {FORMAT!r})")
    version = str(meta.get("format_version", ""))
    try:
        major = int(version.split(".")[0])
    except ValueError:
        raise InputError(f"{path}: unreadable posture model format version {version!r}") from None
    ours = int(FORMAT_VERSION.split(".")[0])
    if major > ours:
        raise InputError(f"{path} was written by a newer PoseCoach ({meta.get('posecoach_version', '?')}, model "
                         f"format {version}); this one reads format {ours}.x: upgrade PoseCoach to use it")


def load(cls: type[PostureClassifier], path: str | Path) -> PostureClassifier:
    path = Path(path)
    meta, arrays = _read(path)
    _check_version(path, meta)
    try:
        skeleton = SKELETONS[meta["skeleton"]["name"]]
        if list(skeleton.names) != list(meta["skeleton"]["names"]):
            raise InputError(f"{path}: its skeleton's keypoints differ from {skeleton.name}'s")
        spec = FeatureSpec.from_dict(meta["features"])
        m = meta["model"]
        selection = Selection(m["kind"], dict(m["params"]), float(m["temperature"]), int(m["folds"]),
                              list(m["cv_scores"]), dict(m.get("cv_per_group", {})))
        clf = cls(model=m.get("requested", m["kind"]), spec=spec, folds=max(2, selection.folds))
        std = Standardiser(arrays["std_mean"], arrays["std_scale"])
        if len(std.mean) != len(spec.names):
            raise InputError(f"{path}: {len(std.mean)} feature columns, its specification names {len(spec.names)}")
        est = model_from_arrays(selection.kind, selection.params, arrays)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: damaged posture model ({type(exc).__name__}: {exc})") from None
    clf.skeleton, clf.classes_, clf.selection = skeleton, list(meta["classes"]), selection
    clf.training = dict(meta.get("training", {}))
    clf.integer_labels = bool(meta.get("integer_labels", False))
    clf._std, clf._est = std, est
    return clf
