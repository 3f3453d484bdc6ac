"""A repetition (`Rep`): the one type the counters, the rhythm check and the reports' builders share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Rep:
    """One repetition: frames where it starts, turns and ends, its range of motion and its two halves' times."""

    index: int
    start_frame: int
    turn_frame: int
    end_frame: int
    start_s: float
    turn_s: float
    end_s: float
    rom: float
    signal: str
    partial: bool = False

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def eccentric_s(self) -> float:
        """Time from the start to the turning point (lowering, for most exercises)."""
        return self.turn_s - self.start_s

    @property
    def concentric_s(self) -> float:
        """Time from the turning point back to the rest position."""
        return self.end_s - self.turn_s
