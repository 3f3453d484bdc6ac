"""Fall model files of the previous format (PoseCoach before the skops format): a pickled ``FallModel`` dataclass.

Deprecated: reading one warns (`FutureWarning`) and says how to convert it (``FallModel.load(old).save(new)``);
a later PoseCoach will stop reading them. Unpickling runs code named in the file, so the unpickler only
resolves the names such a file holds (scikit-learn and numpy types; the old ``FallModel`` and ``TrainConfig``
become plain records here) and refuses any other: read only files you made yourself. The model inside is the
same fitted `HistGradientBoostingClassifier`, put in the fall `Pipeline`, so it predicts exactly as it did.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from posecoach.analysis.falls.model_file import STEPS, Fitted, checked_pipeline
from posecoach.errors import InputError

OLD_MODULE = "posecoach.analysis.falls.model"
#: Where the names a legacy file may hold live (a module, or a package and everything below it).
ALLOWED_MODULES = ("sklearn", "numpy", "copyreg", "_codecs")
BUILTINS = frozenset({"set", "frozenset", "slice", "complex", "bytearray", "tuple", "list", "dict", "int", "float",
                      "bool", "str", "bytes", "object"})


class _Record:
    """The state of an old ``FallModel`` or ``TrainConfig`` (dataclasses, pickled by their ``__dict__``)."""

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.state = dict(state)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == OLD_MODULE and name in ("FallModel", "TrainConfig"):
            return _Record
        allowed = (module == "builtins" and name in BUILTINS) or any(
            module == m or module.startswith(f"{m}.") for m in ALLOWED_MODULES)
        if not allowed:
            raise pickle.UnpicklingError(f"refused: {module}.{name} is not part of a fall model")
        return super().find_class(module, name)


def is_pickle(path: Path) -> bool:
    """Whether the file starts as a pickle of protocol 2 or later does (what `FallModel.save` wrote)."""
    with path.open("rb") as f:
        return f.read(1) == b"\x80"


def read(path: Path) -> Fitted:
    """The model of a pickled fall model file (``.pkl``), with a `FutureWarning` saying how to convert it."""
    warnings.warn(f"{path}: fall model files in the pickle format are deprecated and a later PoseCoach will not "
                  "read them; convert it once: FallModel.load(old).save('fall-model.zip')", FutureWarning,
                  stacklevel=3)
    try:
        with path.open("rb") as f:
            obj = _Unpickler(f).load()
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError, TypeError, IndexError,
            OSError) as exc:
        raise InputError(f"{path}: not a fall model ({type(exc).__name__}: {exc})") from None
    state = getattr(obj, "state", None)
    if not isinstance(obj, _Record) or not isinstance(state, dict) or "estimator" not in state:
        raise InputError(f"{path}: not a fall model (a pickle of {type(obj).__name__})")
    est = state["estimator"]
    if not isinstance(est, HistGradientBoostingClassifier):
        raise InputError(f"{path}: its model is not gradient-boosted trees ({type(est).__name__})")
    config = state.get("config")
    config_dict = dict(config.state) if isinstance(config, _Record) else None
    pipe = checked_pipeline(path, Pipeline(list(zip(STEPS, (est,), strict=True))),
                            tuple(state.get("features", ())))
    params = {"max_iter": est.max_iter, "learning_rate": est.learning_rate, "max_leaf_nodes": est.max_leaf_nodes,
              "l2_regularization": est.l2_regularization, "random_state": est.random_state}
    return Fitted(pipe, tuple(state["features"]), params, config_dict,
                  {str(k): int(v) for k, v in dict(state.get("trained_on", {})).items()},
                  int(state.get("training_frames", 0)), str(state.get("sklearn_version", "")))
