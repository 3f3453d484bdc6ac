"""The base every layer shares: the data model (`PoseSequence`, skeletons), the process pool that runs long videos
in parallel segments (`parallel`: the pose engine and the overlay renderers use it) and the version."""

from posecoach.core.sequence import LANDMARK_FIELDS, WORLD_FIELDS, PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, COCO_17, SKELETONS, Skeleton

__all__ = ["BLAZEPOSE_33", "COCO_17", "LANDMARK_FIELDS", "SKELETONS", "WORLD_FIELDS", "PoseSequence", "Skeleton"]
