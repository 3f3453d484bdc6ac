"""One contract per capability: a solution object with its parameters in the constructor,
``run(source) -> Result`` where ``source`` is a path (video, image or saved ``.npz`` sequence), a ``(T, K, C)``
landmark array or a `PoseSequence`, and ``live()`` -> a session whose ``update(landmarks, t, world=None)`` returns
a `LiveUpdate`, the same for all four.

* `ExerciseAnalysis(exercise=None, model="full")` -> `AnalysisReport`
* `Comparison(reference, library=None, guide=None, mirror=None, band=None, model="full")` -> `ComparisonReport`
* `FallDetection(fall_model=None, threshold=0.7, model="full")` -> `FallReport`
* `PostureClassification(classifier, smoothing=None, count=None, model="full")` -> `PostureReport`

A `Result` holds the ``report``, the ``sequence`` it was made from and the input file (``source``);
``save(json=, csv=, plot=, overlay=)`` writes them. The solutions load the poses
(`posecoach.pose.engine.load_sequence`) and hand them to the pure analyses (`posecoach.analysis`), which never read
a file themselves. `posecoach.analyze`, `posecoach.compare` and `posecoach.detect_falls` are their shortcuts.
"""

from posecoach.solutions.base import LiveSession, LiveUpdate, Result, load_source
from posecoach.solutions.comparison import Comparison, ComparisonResult, ComparisonSession
from posecoach.solutions.exercise import ExerciseAnalysis, ExerciseResult, ExerciseSession
from posecoach.solutions.falls import FallDetection, FallResult, FallSession, FallState
from posecoach.solutions.posture import PostureClassification, PostureResult, PostureSession, PostureState

__all__ = ["Comparison", "ComparisonResult", "ComparisonSession", "ExerciseAnalysis", "ExerciseResult",
           "ExerciseSession", "FallDetection", "FallResult", "FallSession", "FallState", "LiveSession", "LiveUpdate",
           "PostureClassification", "PostureResult", "PostureSession", "PostureState", "Result", "load_source"]
