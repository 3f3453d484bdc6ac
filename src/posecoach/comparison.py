"""`compare` at the edge (`posecoach.compare`): a guide and an attempt given as sequences, saved sequences (.npz),
videos or (the guide) a library name. The functions are `posecoach.solutions.comparison`'s (the `Comparison`
solution), kept importable here under their names."""

from posecoach.solutions.base import load_source as load_input
from posecoach.solutions.comparison import Input, compare, compare_detailed, load_reference

__all__ = ["Input", "compare", "compare_detailed", "load_input", "load_reference"]
