"""Per-frame posture probabilities -> a steady posture: exponential moving average, then hysteresis.

The probabilities are averaged with a time constant (``tau_s`` seconds, so the smoothing does not depend on
the frame rate); the posture changes only when another posture's smoothed probability reaches ``enter`` while
the current one's has fallen below ``exit`` (as MediaPipe's repetition counter uses 0.6 / 0.4), so a posture
held at the boundary does not flicker. Frames without a pose keep the current state; after a gap longer than
``reset_s`` the average starts afresh. `PostureSmoother` is the live (frame-by-frame) form; `smooth_postures`
runs it over a whole sequence and gives exactly the same states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

UNKNOWN = ""


@dataclass(frozen=True)
class SmoothingParams:
    tau_s: float = 0.1
    enter: float = 0.6
    exit: float = 0.4
    reset_s: float = 1.0

    def __post_init__(self) -> None:
        if self.tau_s < 0:
            raise ValueError(f"the smoothing time constant must be >= 0 s, got {self.tau_s}")
        if not 0.0 <= self.exit <= self.enter <= 1.0:
            raise ValueError(f"need 0 <= exit <= enter <= 1, got enter {self.enter}, exit {self.exit}")


class PostureSmoother:
    """Feed one frame's probabilities at a time; read the smoothed probabilities and the steady posture."""

    def __init__(self, classes: Sequence[str], params: SmoothingParams | None = None) -> None:
        self.classes = list(classes)
        self.params = params or SmoothingParams()
        self.state = UNKNOWN
        self.smoothed = np.full(len(self.classes), np.nan)
        self._last_t: float | None = None

    def update(self, proba: np.ndarray, t: float) -> str:
        """Add the probabilities of the frame at ``t`` seconds (NaN: no pose) and return the posture."""
        p = np.asarray(proba, dtype=np.float64)
        if not np.all(np.isfinite(p)):
            if self._last_t is not None and t - self._last_t > self.params.reset_s:
                self.smoothed[:] = np.nan
            return self.state
        if self._last_t is None or not np.all(np.isfinite(self.smoothed)) or t - self._last_t > self.params.reset_s:
            self.smoothed = p.copy()
        else:
            dt = max(t - self._last_t, 0.0)
            alpha = 1.0 if self.params.tau_s == 0 else 1.0 - np.exp(-dt / self.params.tau_s)
            self.smoothed = self.smoothed + alpha * (p - self.smoothed)
        self._last_t = t
        best = int(np.argmax(self.smoothed))
        label = self.classes[best]
        if label != self.state and self.smoothed[best] >= self.params.enter:
            current = self.classes.index(self.state) if self.state != UNKNOWN else None
            if current is None or self.smoothed[current] < self.params.exit:
                self.state = label
        return self.state


def smooth_postures(proba: np.ndarray, times: np.ndarray, classes: Sequence[str],
                    params: SmoothingParams | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(smoothed (T, K), states (T,))`` for a whole sequence; identical to feeding `PostureSmoother` live."""
    smoother = PostureSmoother(classes, params)
    smoothed = np.full(np.shape(proba), np.nan)
    states = []
    for i, (p, t) in enumerate(zip(np.asarray(proba), np.asarray(times, dtype=np.float64), strict=True)):
        states.append(smoother.update(p, float(t)))
        smoothed[i] = smoother.smoothed
    return smoothed, np.asarray(states, dtype=object).astype(str)
