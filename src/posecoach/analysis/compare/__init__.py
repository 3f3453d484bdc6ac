"""Comparison with a guide movement (rehabilitation scoring), pure functions of pose sequences.

* `features`: view-, position- and scale-independent features (joint angles, segment tilts and directions);
* `alignment`: DTW with a Sakoe-Chiba band (dtaidistance, compiled);
* `scoring`: 0-100 per joint and phase (angle differences); the guide's phases;
* `calibration`: the overall and per-repetition 0-100 (person-invariant deviations, weights fitted on real
  correct and incorrect executions; 100 = the guide's own movement, 80 = a typical correct one by someone else);
* `feedback`: the largest deviations and the tempo in plain words;
* `guide`: the `Guide` model (name, description, joints that matter, repetitions, hold);
* `pipeline`: `compare_sequences`, all of the above into a `ComparisonReport`.
"""

from posecoach.analysis.compare.guide import Guide
from posecoach.analysis.compare.pipeline import (
    Matched,
    Prepared,
    compare_prepared,
    compare_sequences,
    match_prepared,
    match_sequences,
    prepare,
)

__all__ = ["Guide", "Matched", "Prepared", "compare_prepared", "compare_sequences", "match_prepared",
           "match_sequences", "prepare"]
