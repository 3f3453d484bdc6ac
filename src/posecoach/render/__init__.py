"""Rendering: what a result looks like. Skeleton overlays drawn onto video frames, the analysis, fall and posture
overlays and charts, and the side-by-side comparison video. A renderer draws a report (`posecoach.reports`) and
the poses it was made from; it never computes an analysis.
"""

from posecoach.render.overlay import OverlayRenderer, draw_sequence_frame

__all__ = ["OverlayRenderer", "draw_sequence_frame"]
