"""PoseCoach: movement analysis from ordinary video.

Data flows video -> frames (`posecoach.io`) -> poses (`posecoach.pose`, giving a `PoseSequence`) ->
features (`posecoach.features`) -> analyses -> reports (`posecoach.reports`) -> CLI / service.
"""

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, COCO_17, Skeleton
from posecoach.core.version import __version__

__all__ = ["BLAZEPOSE_33", "COCO_17", "PoseSequence", "Skeleton", "__version__", "analyze", "compare",
           "detect_falls"]


def analyze(path_or_sequence, exercise=None, **options):  # type: ignore[no-untyped-def]
    """Analyse an exercise video or pose sequence; see `posecoach.analysis.pipeline.analyze`."""
    from posecoach.analysis.pipeline import analyze as _analyze

    return _analyze(path_or_sequence, exercise, **options)


def compare(reference, attempt, **options):  # type: ignore[no-untyped-def]
    """Compare a movement with a guide; see `posecoach.comparison.compare` (returns a `ComparisonReport`)."""
    from posecoach.comparison import compare as _compare

    return _compare(reference, attempt, **options)


def detect_falls(path_or_sequence, **options):  # type: ignore[no-untyped-def]
    """Falls in a video or pose sequence; see `posecoach.analysis.falls.detect_falls` (returns a `FallReport`)."""
    from posecoach.analysis.falls import detect_falls as _detect_falls

    return _detect_falls(path_or_sequence, **options)
