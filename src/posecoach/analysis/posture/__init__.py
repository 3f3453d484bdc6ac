"""Custom posture classifiers: normalised-keypoint embeddings, a small model, smoothing and transitions.

* `embedding`: the pose normalised for translation, scale and torso rotation -> joint-pair vectors and angles;
* `models`: scikit-learn pipelines (scaling, logistic regression or k-NN), chosen by grouped cross-validation,
  with calibrated probabilities;
* `classifier`: `PostureClassifier`, a scikit-learn estimator (``fit`` / ``predict`` / ``predict_proba`` /
  ``save`` / ``load``);
* `model_file`: its file (the pipeline in skops' format beside the version and feature specification), and
  `legacy_file`, the previous format's reader;
* `smoothing`: exponential moving average and hysteresis, live and offline;
* `transitions`: repetitions counted as ``first -> second -> first`` postures, and every change of posture;
* `pipeline`: all of it over a sequence (`classify_postures` -> `PostureReport`) or live (`LivePostures`);
* `evaluation`: grouped cross-validation and scores.
"""

from posecoach.analysis.posture.classifier import UNKNOWN, PostureClassifier
from posecoach.analysis.posture.embedding import FeatureSpec
from posecoach.analysis.posture.pipeline import LivePostures, classify_postures
from posecoach.analysis.posture.smoothing import PostureSmoother, SmoothingParams, smooth_postures
from posecoach.analysis.posture.transitions import (
    PostureRep,
    TransitionCounter,
    count_transitions,
    transition_counts,
)

__all__ = ["UNKNOWN", "FeatureSpec", "LivePostures", "PostureClassifier", "PostureRep", "PostureSmoother",
           "SmoothingParams", "TransitionCounter", "classify_postures", "count_transitions", "smooth_postures",
           "transition_counts"]
