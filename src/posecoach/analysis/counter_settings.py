"""How the repetition counter is tuned (`CounterSettings`), and the conventions for a repetition the video cuts at
its start or end that an exercise's definition names (`Exercise.cut_reps`, `cut_rep_settings`)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CounterSettings:
    """Tuning of the cycle detector (shared by every channel)."""

    hysteresis: float = 0.3  # band edges at this share of the envelope range from each envelope
    tau_s: float = 3.0  # time constant with which the envelopes relax towards the signal
    max_gap_s: float = 1.0  # a longer run of missing frames abandons the repetition in progress
    min_rel_rom: float = 0.55  # a repetition smaller than this share ...
    rom_window: int = 6  # ... of the median range of the last this many cycles (partial ones too) is partial
    min_rep_s: float = 0.1  # shorter cycles are noise
    edge_reps: bool = True  # count a repetition cut by the end of the video (rest side known) ...
    end_return: float = 0.5  # ... by the end once it has come back this share of its range from the turn
    lead_s: float = 0.0  # > 0: count a repetition the video opens in (rest side known), back at rest within this


#: `cut_rep_settings` "turn": a repetition the video opens in counts once it is back at rest within this (seconds).
TURN_LEAD_S = 2.0


def cut_rep_settings(cut_reps: str, base: CounterSettings | None = None) -> CounterSettings:
    """Settings that count repetitions the video cuts at its start or end by an exercise's convention
    (`Exercise.cut_reps`).

    ``"return"`` (``base`` as it is): one the video ends in counts once it has come back `end_return` of its range;
    one it opens in does not. ``"turn"``: each counts once its turning point is in view: the video ends past the far
    side's band (the bottom of a squat), or opens away from rest and comes back within `TURN_LEAD_S`.
    """
    base = base or CounterSettings()
    if cut_reps == "return":
        return base
    if cut_reps == "turn":
        return replace(base, lead_s=TURN_LEAD_S, end_return=0.0)
    raise ValueError(f"unknown cut_reps convention {cut_reps!r}: 'return' or 'turn'")
