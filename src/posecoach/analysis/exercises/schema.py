"""What an exercise definition holds (validated with pydantic): counting signals, phases, recognition profile, rules.

Definitions live as TOML files in ``catalogue/``, one per exercise; adding an exercise means adding a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from posecoach.analysis.counter_settings import CounterSettings, cut_rep_settings
from posecoach.features.signals import SIGNAL_NAMES

if TYPE_CHECKING:
    import numpy as np

    from posecoach.analysis.reps import RepCounter, RepResult

View = Literal["front", "side", "diagonal"]
VIEWS: tuple[View, ...] = ("front", "diagonal", "side")


def _known_signal(name: str) -> str:
    if name not in SIGNAL_NAMES:
        raise ValueError(f"unknown signal {name!r}; known: {', '.join(SIGNAL_NAMES)}")
    return name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountSignal(_Strict):
    """A driving signal: repetitions are cycles of it away from ``rest`` and back."""

    signal: str
    rest: Literal["high", "low"]
    min_rom: float | None = Field(None, gt=0, description="smallest range of a full repetition, signal units")

    _check = field_validator("signal")(_known_signal)


class Phases(_Strict):
    """Plain names of a repetition's parts, for cues and reports."""

    rest: str = "start position"
    away: str = "lowering"
    turn: str = "bottom"
    back: str = "rising"
    away_direction: Literal["lowering", "lifting", "other"] = Field(
        "other", description="what the part from rest to the turning point does against gravity: lowering "
        "(eccentric: squat, push-up), lifting (concentric: curl, pull-up, bridge) or other (sideways, a hold)")

    def directions(self) -> tuple[str, str]:
        """The directions of the away and back parts (lowering / lifting, or other / other)."""
        back = {"lowering": "lifting", "lifting": "lowering"}.get(self.away_direction, "other")
        return self.away_direction, back


class Range(_Strict):
    """A typical value range of a signal while the exercise is done (median over the active frames)."""

    signal: str
    low: float = float("-inf")
    high: float = float("inf")

    _check = field_validator("signal")(_known_signal)


class Profile(_Strict):
    """How to recognise the exercise: posture ranges, signals that move (min range), signals that stay still,
    and ``free`` signals the exercise leaves to the person (the arms in a squat): their movement neither fits
    nor contradicts its motion pattern."""

    posture: list[Range] = []
    moving: dict[str, float] = {}
    still: dict[str, float] = {}
    free: list[str] = []

    @field_validator("moving", "still")
    @classmethod
    def _signals(cls, v: dict[str, float]) -> dict[str, float]:
        for name in v:
            _known_signal(name)
        return v

    @field_validator("free")
    @classmethod
    def _free_signals(cls, v: list[str]) -> list[str]:
        for name in v:
            _known_signal(name)
        return v


class Rule(_Strict):
    """A form rule: a signal aggregated over a window of each repetition, broken when beyond ``limit``.

    ``window``: ``turn`` (around the turning point), ``rep`` (the whole repetition), ``start`` (the rest position
    the repetition begins from). ``relative``: compare with the value at the repetition's start. The rule is
    broken when the aggregate is ``above`` / ``below`` the limit; it is judged only from ``views`` (those a 2D
    skeleton shows it from; a joint angle or the trunk's incline is judged from any view with depth).
    ``experimental`` (the default) until labelled executions support it: `benchmarks/bench_form.py
    --write-catalogue` sets ``limit``, ``experimental`` and ``evidence`` of every rule it can measure.
    """

    id: str
    title: str
    cue: str
    signal: str
    window: Literal["turn", "rep", "start"] = "rep"
    aggregate: Literal["min", "max", "mean", "range"] = "max"
    broken_when: Literal["above", "below"]
    limit: float
    relative: bool = False
    severity: Literal["info", "warning", "error"] = "warning"
    views: list[View] = list(VIEWS)
    joints: list[str] = Field(default_factory=list, description="keypoint stems drawn red while broken, e.g. knee")
    experimental: bool = Field(True, description="not (yet) supported by labelled executions: reported apart, "
                               "never as a confident cue (`benchmarks/bench_form.py` measures the evidence)")
    evidence: str = Field("", description="where the limit comes from and how well the rule separates labelled "
                          "correct from incorrect executions")

    _check = field_validator("signal")(_known_signal)


class Exercise(_Strict):
    """One catalogue entry."""

    name: str
    title: str
    kind: Literal["reps", "hold"] = "reps"
    aliases: list[str] = []
    description: str = ""
    count: list[CountSignal] = []
    phases: Phases = Phases()
    profile: Profile = Profile()
    hold: list[Range] = Field(default_factory=list, description="posture ranges that define the hold (holds)")
    rules: list[Rule] = []
    cut_reps: Literal["return", "turn"] = Field(
        "return", description="when a repetition the video cuts at its start or end counts: 'return' once it is seen "
        "coming back (half-way back, for one the video ends in); 'turn' once its turning point is in view")

    @model_validator(mode="after")
    def _consistent(self) -> Exercise:
        if self.kind == "reps" and not self.count:
            raise ValueError(f"{self.name}: a repetition exercise needs at least one [[count]] signal")
        if self.kind == "hold" and not self.hold:
            raise ValueError(f"{self.name}: a hold needs [[hold]] posture ranges")
        ids = [r.id for r in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError(f"{self.name}: rule ids repeat")
        return self

    def counting_channels(self) -> list:
        """The `ChannelSpec`s that count this exercise's repetitions."""
        from posecoach.analysis.reps import ChannelSpec

        return [ChannelSpec(c.signal, 1 if c.rest == "high" else -1, c.min_rom) for c in self.count]

    def counter_settings(self) -> CounterSettings:
        """The `CounterSettings` that count this exercise's repetitions (its `cut_reps` convention)."""
        return cut_rep_settings(self.cut_reps)

    def counter(self, settings: CounterSettings | None = None) -> RepCounter:
        """A live `RepCounter` for this exercise: its counting signals, and ``settings`` (default:
        `counter_settings`)."""
        from posecoach.analysis.reps import RepCounter

        settings = settings if settings is not None else self.counter_settings()
        return RepCounter(self.counting_channels(), settings, exercise=self.name)

    def count_reps(self, signals: Mapping[str, np.ndarray], times: np.ndarray,
                   settings: CounterSettings | None = None) -> RepResult:
        """This exercise's repetitions in a sequence's signals, counted as `counter` would live."""
        from posecoach.analysis.reps import count_signals

        settings = settings if settings is not None else self.counter_settings()
        return count_signals(signals, times, self.counting_channels(), exercise=self.name, settings=settings)
