"""The PoseCoach version, in the bottom layer so that every report, model file and response can carry it."""

__version__ = "0.1.0"
