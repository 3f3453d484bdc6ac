"""PoseCoach: movement analysis from ordinary video.

Data flows video -> frames (`posecoach.io`) -> poses (`posecoach.pose`, giving a `PoseSequence`) ->
features (`posecoach.features`) -> analyses (`posecoach.analysis`, filling in `posecoach.reports`) -> drawn by
`posecoach.render`; `posecoach.solutions` take a file, the CLI and the service call them. A module imports only
from the layers below its own (the contracts in pyproject.toml, checked by `make lint`).
"""

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, COCO_17, Skeleton
from posecoach.core.version import __version__

__all__ = ["BLAZEPOSE_33", "COCO_17", "PoseSequence", "Skeleton", "__version__", "analyze", "compare",
           "detect_falls"]


def analyze(path_or_sequence, exercise=None, **options):  # type: ignore[no-untyped-def]
    """Analyse an exercise video or pose sequence: ``ExerciseAnalysis(exercise).run(path_or_sequence).report``
    (`posecoach.solutions.exercise.analyze`; returns an `AnalysisReport`)."""
    from posecoach.solutions.exercise import analyze as _analyze

    return _analyze(path_or_sequence, exercise, **options)


def compare(reference, attempt, **options):  # type: ignore[no-untyped-def]
    """Compare a movement with a guide: ``Comparison(reference).run(attempt).report``
    (`posecoach.solutions.comparison.compare`; returns a `ComparisonReport`)."""
    from posecoach.solutions.comparison import compare as _compare

    return _compare(reference, attempt, **options)


def detect_falls(path_or_sequence, **options):  # type: ignore[no-untyped-def]
    """Falls in a video or pose sequence: ``FallDetection(model).run(path_or_sequence).report``
    (`posecoach.solutions.falls.detect_falls`, where ``model`` is the fall model and ``pose_model`` the pose
    model; returns a `FallReport`)."""
    from posecoach.solutions.falls import detect_falls as _detect_falls

    return _detect_falls(path_or_sequence, **options)
