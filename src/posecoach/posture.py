"""Custom posture classifiers (the public entry point): see `posecoach.analysis.posture`."""

from posecoach.analysis.posture import (
    UNKNOWN,
    FeatureSpec,
    LivePostures,
    PostureClassifier,
    PostureRep,
    PostureSmoother,
    SmoothingParams,
    TransitionCounter,
    classify_postures,
    count_transitions,
    smooth_postures,
    transition_counts,
)

__all__ = ["UNKNOWN", "FeatureSpec", "LivePostures", "PostureClassifier", "PostureRep", "PostureSmoother",
           "SmoothingParams", "TransitionCounter", "classify_postures", "count_transitions", "smooth_postures",
           "transition_counts"]
