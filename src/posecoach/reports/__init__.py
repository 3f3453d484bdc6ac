"""Reports: overlays drawn onto video frames, and (later) summaries of an analysis."""

from posecoach.reports.overlay import OverlayRenderer, draw_sequence_frame

__all__ = ["OverlayRenderer", "draw_sequence_frame"]
