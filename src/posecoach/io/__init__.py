"""Video and image input/output: upright RGB frames with real timestamps in, browser-ready H.264 out."""

from posecoach.io.video import (
    IMAGE_SUFFIXES,
    MAX_SIDE,
    VIDEO_SUFFIXES,
    Frame,
    FrameSource,
    ImageReader,
    VideoInfo,
    VideoReader,
    apply_orientation,
    is_image,
    is_video,
    list_inputs,
    open_frames,
    orientation_from_matrix,
    read_image,
)
from posecoach.io.writer import VideoWriter, concat_videos

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_SIDE",
    "VIDEO_SUFFIXES",
    "Frame",
    "FrameSource",
    "ImageReader",
    "VideoInfo",
    "VideoReader",
    "VideoWriter",
    "apply_orientation",
    "concat_videos",
    "is_image",
    "is_video",
    "list_inputs",
    "open_frames",
    "orientation_from_matrix",
    "read_image",
]
