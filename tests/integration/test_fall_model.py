"""The fall model as a scikit-learn estimator and its file: parameters, checks in fit, fitted ``*_`` state, the
versioned skops file (round trip, header, refusals), the deprecated pickles, and the shipped model converted from
its pickle predicting the real URFD falls exactly as before (../shared/data, read at run time)."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import sklearn
import skops
import skops.io
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import posecoach
from posecoach.analysis.falls import detect_sequence
from posecoach.analysis.falls import model as model_module
from posecoach.analysis.falls.features import FEATURES, HISTORY_S, sequence_features
from posecoach.analysis.falls.model import FallModel, TrainConfig, shipped_model, train_model, training_set
from posecoach.analysis.falls.synthetic import make_clip
from posecoach.errors import InputError
from posecoach.falls_datasets import read_urfd_alphapose
from tests.conftest import data_file

V1 = Path(__file__).parents[1] / "falls_v1"  # a pickle written by PoseCoach before the skops format, and its output
SMALL = TrainConfig(clips=24, max_iter=8, max_leaf_nodes=7)


@pytest.fixture(scope="module")
def urfd() -> dict[str, tuple[posecoach.PoseSequence, np.ndarray]]:
    return read_urfd_alphapose(data_file("falls/urfd_pose_alphapose_mynameisphp/pose_urfd_3classes.csv"),
                               data_file("falls/urfd_labels/urfall-cam0-falls.csv"))


@pytest.fixture(scope="module")
def small() -> FallModel:
    return train_model(SMALL)


def _features() -> np.ndarray:
    seq = make_clip(np.random.default_rng(4), True, fps=30.0).sequence
    return np.concatenate([sequence_features(seq), np.full((1, len(FEATURES)), np.nan)])


# Events (start, alert, end, impact in s) and the sum of the per-frame probabilities of the shipped model
# (hgb-real-b48f0c3e85b2dba1, retrained 2026-12-07 with the after-drop features and the gated rows; the file
# must reproduce them exactly). The pickled model it replaced (fall-model.pkl, commit 1434c97) gave
# fall-01 (2.8333, 3.3, 5.1667, 3.3333) / 62.868200308348214 and fall-03 (4.8333, 6.0667, 7.0, 5.7667) /
# 50.81541812716979, and its skops conversion the same probabilities on all 91,273 real keypoint frames.
PICKLED = {"fall-01": ((2.6667, 3.3333, 5.1667, 3.3667), 63.754023288128536),
           "fall-03": ((4.8, 5.3333, 7.0, 5.3667), 62.27366391101744)}


@pytest.mark.parametrize("clip", sorted(PICKLED))
def test_the_shipped_model_finds_the_real_falls_the_pickle_found(urfd: dict[str, tuple[posecoach.PoseSequence,
                                                                                       np.ndarray]],
                                                                 clip: str) -> None:
    model = shipped_model()
    seq = urfd[clip][0]
    report = detect_sequence(seq, model)
    (event,) = report.events
    times, total = PICKLED[clip]
    assert (event.start_s, event.alert_s, event.end_s, event.impact_s) == pytest.approx(times, abs=1e-4)
    assert float(model.sequence_proba(seq).sum()) == pytest.approx(total, rel=1e-12)


def test_the_shipped_model_round_trips_exactly_through_its_file(tmp_path: Path) -> None:
    model = shipped_model()
    path = model.save(tmp_path / "fall-model.zip")
    back = FallModel.load(path)
    X = _features()
    assert np.array_equal(back.predict_proba(X), model.predict_proba(X))
    assert back.get_params() == model.get_params() and back.name == model.name
    assert (back.config_, back.trained_on_, back.training_frames_, back.sklearn_version_, back.features_) == (
        model.config_, model.trained_on_, model.training_frames_, model.sklearn_version_, model.features_)
    assert back.n_features_in_ == len(FEATURES) and list(back.classes_) == [0, 1]
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["fall_model.json", "pipeline.skops"]
        meta = json.loads(zf.read("fall_model.json"))
    assert meta["format"] == "posecoach-fall-model" and meta["format_version"] == "1.0"
    assert meta["posecoach_version"] == posecoach.__version__ and meta["skops_version"] == skops.__version__
    assert meta["sklearn_version"] == sklearn.__version__ and meta["model"]["fitted_with_sklearn"] == "1.9.1"
    assert meta["feature_names"] == list(FEATURES) and meta["features"]["history_s"] == HISTORY_S
    assert meta["training"]["config"]["sources"] == list(model.config_.sources)
    assert meta["training"]["trained_on"] == model.trained_on_ and meta["training"]["frames"] == 110079
    assert [p.name for p in tmp_path.iterdir()] == ["fall-model.zip"]  # no temporaries left


def test_the_fall_model_is_a_scikit_learn_estimator(small: FallModel) -> None:
    fresh = FallModel.from_config(SMALL)
    assert fresh.get_params() == {"max_iter": 8, "learning_rate": 0.08, "max_leaf_nodes": 7,
                                  "l2_regularization": 1.0, "random_state": 7}
    assert clone(small).get_params() == small.get_params() and not hasattr(clone(small), "pipeline_")
    with pytest.raises(NotFittedError):
        fresh.predict_proba(_features())
    assert isinstance(small.pipeline_, Pipeline) and small.estimator is small.pipeline_[-1]
    assert small.features_ == FEATURES and small.trained_on_ == {"synthetic": 24} and small.config_ == SMALL
    assert small.name.startswith("hgb-synthetic-") and small.training_frames_ > 0
    X, y = training_set(SMALL)
    again = clone(small).fit(X, y)  # plain rows, no config: the same trees, a name of its own
    p = small.predict_proba(X[:50])
    assert np.array_equal(again.predict_proba(X[:50]), p) and again.name.startswith("hgb-custom-")
    assert p.shape == (50,) and np.array_equal(small.predict(X[:50]), (p >= 0.5).astype(int))
    assert small.predict_proba(np.zeros((0, len(FEATURES)))).shape == (0,)
    assert small.predict_proba(np.full((1, len(FEATURES)), np.nan))[0] == 0.0  # nobody seen: no fall


@pytest.mark.parametrize(("params", "message"), [({"max_iter": 0}, "max_iter"), ({"max_iter": 2.5}, "max_iter"),
                                                 ({"learning_rate": 0.0}, "learning_rate"),
                                                 ({"max_leaf_nodes": 1}, "max_leaf_nodes"),
                                                 ({"l2_regularization": -1.0}, "l2_regularization"),
                                                 ({"random_state": "seven"}, "random_state")])
def test_fit_checks_the_parameters(params: dict[str, object], message: str) -> None:
    X, y = np.zeros((4, len(FEATURES))), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=message):
        FallModel(**params).fit(X, y)  # type: ignore[arg-type]


def test_fit_checks_the_data() -> None:
    X, y = np.random.default_rng(0).normal(size=(20, len(FEATURES))), np.tile([0, 1], 10)
    with pytest.raises(ValueError, match=f"{len(FEATURES)} window features"):
        FallModel().fit(X[:, :5], y)
    with pytest.raises(ValueError, match="both needed"):
        FallModel().fit(X, np.zeros(20))
    with pytest.raises(ValueError, match=r"0 \(no fall\) and 1"):
        FallModel().fit(X, np.tile([0, 2], 10))
    with pytest.raises(ValueError, match="config's settings"):
        FallModel(max_iter=3).fit(X, y, config=SMALL)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        FallModel().fit(X, y[:5])


def test_pickles_of_the_previous_format_still_load_with_a_warning(tmp_path: Path) -> None:
    expected = np.load(V1 / "expected.npz")
    with pytest.warns(FutureWarning, match=r"pickle format are deprecated.*save\("):
        old = FallModel.load(V1 / "tiny.pkl")
    np.testing.assert_array_equal(old.predict_proba(expected["X"]), expected["proba"])
    # Features added since are appended: the old model reads its own columns of this PoseCoach's full rows.
    full = np.concatenate([expected["X"], np.ones((len(expected["X"]), len(FEATURES) - expected["X"].shape[1]))], 1)
    np.testing.assert_array_equal(old.predict_proba(full), expected["proba"])
    assert old.config_ == SMALL and old.trained_on_ == {"synthetic": 24} and old.training_frames_ == 1806
    assert old.get_params() == FallModel.from_config(SMALL).get_params()
    again = FallModel.load(old.save(tmp_path / "tiny.zip"))  # saved anew: the current format, same output
    assert np.array_equal(again.predict_proba(expected["X"]), expected["proba"])


class _Payload:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (print, ("code ran",))


def test_pickles_run_no_code_outside_numpy_and_scikit_learn(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            ) -> None:
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(_Payload()))
    with pytest.warns(FutureWarning), pytest.raises(InputError, match=r"refused: builtins\.print"):
        FallModel.load(evil)
    assert "code ran" not in capsys.readouterr().out
    (tmp_path / "none.pkl").write_bytes(pickle.dumps(None))
    with pytest.warns(FutureWarning), pytest.raises(InputError, match="not a fall model"):
        FallModel.load(tmp_path / "none.pkl")


def _rewrite(path: Path, out: Path, entries: dict[str, bytes] | None = None, **changes: object) -> Path:
    """A copy of a model file with ``changes`` in its JSON and ``entries`` replaced."""
    with zipfile.ZipFile(path) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(files["fall_model.json"])
    meta.update(changes)
    files |= {"fall_model.json": json.dumps(meta).encode()} | (entries or {})
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out


def test_newer_foreign_or_damaged_fall_model_files_are_refused_clearly(tmp_path: Path, small: FallModel) -> None:
    path = small.save(tmp_path / "m.zip")
    assert FallModel.load(_rewrite(path, tmp_path / "minor.zip", format_version="1.4")).config_ == SMALL
    with pytest.raises(InputError, match=r"newer PoseCoach.*format 2\.0"):
        FallModel.load(_rewrite(path, tmp_path / "new.zip", format_version="2.0"))
    with pytest.raises(InputError, match="other features"):
        FallModel.load(_rewrite(path, tmp_path / "feat.zip", feature_names=[*FEATURES[:-1], "elbow_angle"]))
    logreg = Pipeline([("model", LogisticRegression().fit(np.eye(2), [0, 1]))])
    with pytest.raises(InputError, match="not a fall pipeline"):
        FallModel.load(_rewrite(path, tmp_path / "logreg.zip", {"pipeline.skops": skops.io.dumps(logreg)}))
    foreign = {"pipeline.skops": skops.io.dumps(TrainConfig())}  # a type a fall model never holds
    with pytest.raises(InputError, match=r"refused.*posecoach\.analysis\.falls\.model\.TrainConfig"):
        FallModel.load(_rewrite(path, tmp_path / "foreign.zip", foreign))
    with pytest.raises(InputError, match=r"unreadable model.*train the model again"):
        FallModel.load(_rewrite(path, tmp_path / "cut.zip", {"pipeline.skops": b"PK\x03\x04 cut"}))
    with pytest.raises(InputError, match="not a fall model"):
        FallModel.load(_rewrite(path, tmp_path / "other.zip", format="posecoach-posture-model"))
    (tmp_path / "junk.zip").write_text("hello")
    with pytest.raises(InputError, match=r"junk\.zip: not a fall model"):
        FallModel.load(tmp_path / "junk.zip")
    with pytest.raises(InputError, match="no such"):
        FallModel.load(tmp_path / "missing.zip")


def test_the_default_model_cache_keeps_the_new_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      small: FallModel) -> None:
    monkeypatch.setattr(model_module, "cache_dir", lambda: tmp_path)
    monkeypatch.setattr(model_module, "_LOADED", {})
    monkeypatch.setattr(model_module, "train_model", lambda config=None, items=None: small)
    assert model_module.default_model(SMALL) is small
    cached = tmp_path / f"fall-model-{SMALL.key()}.zip"
    monkeypatch.setattr(model_module, "_LOADED", {})
    monkeypatch.setattr(model_module, "train_model", lambda config=None, items=None: pytest.fail("retrained"))
    X = _features()
    assert cached.is_file() and np.array_equal(model_module.default_model(SMALL).predict_proba(X),
                                               small.predict_proba(X))
