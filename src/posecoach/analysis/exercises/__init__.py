"""The exercise catalogue: one TOML definition per exercise (see `schema`)."""

from posecoach.analysis.exercises.catalogue_loader import catalogue, get_exercise, load_exercise
from posecoach.analysis.exercises.schema import Exercise, Rule

__all__ = ["Exercise", "Rule", "catalogue", "get_exercise", "load_exercise"]
