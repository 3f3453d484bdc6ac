"""Measurements computed from a `PoseSequence`: joint angles and the like."""

from posecoach.features.angles import (
    ANGLE_DEFS,
    ANGLE_JOINT,
    ANGLE_NAMES,
    AngleDef,
    angle_at,
    frame_angles,
    image_size,
    joint_angles,
)

__all__ = ["ANGLE_DEFS", "ANGLE_JOINT", "ANGLE_NAMES", "AngleDef", "angle_at", "frame_angles", "image_size",
           "joint_angles"]
