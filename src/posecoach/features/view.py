"""Camera view of the subject (front, diagonal, side) from the direction of the shoulder and hip lines."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

#: ``view_yaw`` limits in degrees: below the first the subject faces the camera (or turns its back), above the
#: second it is seen side on; between, at about 45 degrees.
VIEW_LIMITS: tuple[float, float] = (30.0, 60.0)


def classify_view(yaw_deg: float) -> str:
    """``front`` / ``diagonal`` / ``side`` for a yaw in degrees; ``unknown`` for NaN."""
    if not np.isfinite(yaw_deg):
        return "unknown"
    if yaw_deg < VIEW_LIMITS[0]:
        return "front"
    return "diagonal" if yaw_deg < VIEW_LIMITS[1] else "side"


def view_of(signals: Mapping[str, np.ndarray], start: int = 0, stop: int | None = None) -> str:
    """The view over frames ``[start, stop)``: the median yaw of the frames where it is known."""
    yaw = np.asarray(signals["view_yaw"][start:stop], dtype=np.float64)
    if not np.isfinite(yaw).any():
        return "unknown"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return classify_view(float(np.nanmedian(yaw)))
