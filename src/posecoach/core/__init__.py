"""The shared data model: skeletons and `PoseSequence`."""

from posecoach.core.sequence import LANDMARK_FIELDS, WORLD_FIELDS, PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, COCO_17, SKELETONS, Skeleton

__all__ = ["BLAZEPOSE_33", "COCO_17", "LANDMARK_FIELDS", "SKELETONS", "WORLD_FIELDS", "PoseSequence", "Skeleton"]
