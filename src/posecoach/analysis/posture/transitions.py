"""Repetitions as transitions between two postures: ``first -> second -> first`` (e.g. up -> down -> up) is one;
and every change of posture counted (`transition_counts`: how often ``sitting -> standing``, ``standing -> lying``...).

Works on the steady postures of `posecoach.analysis.posture.smoothing` (frame by frame with
`TransitionCounter`, or over a whole sequence with `count_transitions`, which give the same repetitions). Other
postures and frames without a pose in between neither count nor break a repetition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class PostureRep:
    start_frame: int  #: the last frame in the first posture before the second
    turn_frame: int   #: the first frame in the second posture
    end_frame: int    #: the first frame back in the first posture


class TransitionCounter:
    """Counts ``first -> second -> first`` cycles of a stream of postures."""

    def __init__(self, first: str, second: str) -> None:
        if not first or not second or first == second:
            raise ValueError(f"count transitions between two different postures, got {first!r} and {second!r}")
        self.first, self.second = first, second
        self.reps: list[PostureRep] = []
        self._last_first: int | None = None
        self._turn: int | None = None

    @property
    def count(self) -> int:
        return len(self.reps)

    def update(self, frame: int, state: str) -> PostureRep | None:
        """The posture of ``frame``; returns the repetition it completes, if any."""
        if state == self.first:
            done = None
            if self._turn is not None and self._last_first is not None:
                done = PostureRep(self._last_first, self._turn, frame)
                self.reps.append(done)
            self._last_first, self._turn = frame, None
            return done
        if state == self.second and self._last_first is not None and self._turn is None:
            self._turn = frame
        return None


def count_transitions(states: Iterable[str], first: str, second: str) -> list[PostureRep]:
    """Every ``first -> second -> first`` cycle in a sequence of per-frame postures."""
    counter = TransitionCounter(first, second)
    for i, s in enumerate(states):
        counter.update(i, str(s))
    return counter.reps


def transition_counts(states: Iterable[str]) -> dict[tuple[str, str], int]:
    """How often the steady posture changed from one posture to another, in order of first occurrence. Frames
    without a posture ("") are skipped: ``up, "", down`` is one ``up -> down``, ``up, "", up`` none."""
    counts: dict[tuple[str, str], int] = {}
    last = ""
    for s in states:
        state = str(s)
        if not state:
            continue
        if last and state != last:
            counts[(last, state)] = counts.get((last, state), 0) + 1
        last = state
    return counts
