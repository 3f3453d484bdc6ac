"""Custom posture classifiers (the public entry point): see `posecoach.analysis.posture`."""

from posecoach.analysis.posture import (
    UNKNOWN,
    FeatureSpec,
    PostureClassifier,
    PostureRep,
    PostureSmoother,
    SmoothingParams,
    TransitionCounter,
    count_transitions,
    smooth_postures,
)

__all__ = ["UNKNOWN", "FeatureSpec", "PostureClassifier", "PostureRep", "PostureSmoother", "SmoothingParams",
           "TransitionCounter", "count_transitions", "smooth_postures"]
