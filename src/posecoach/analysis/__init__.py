"""Analyses: pure functions of a pose sequence (no I/O), each usable offline and live.

* `exercises`: the exercise catalogue (one TOML definition per exercise);
* `reps`: repetition counting on the exercise's signals (live `RepCounter`);
* `periodicity`: the whole body's rhythm (class-agnostic counting);
* `counting`: `count_repetitions`, the exercise's count checked against the rhythm, with a confidence;
* `recognition`: which exercise a sequence shows;
* `form`: form rules judged per repetition;
* `holds`: holds measured as time;
* `pipeline`: `analyze_sequence`, all of the above into an `AnalysisReport` (`posecoach.analyze` takes a video).
"""

from posecoach.analysis.counting import count_repetitions
from posecoach.analysis.pipeline import analyze_sequence
from posecoach.analysis.recognition import Recognition, recognise
from posecoach.analysis.reps import Rep, RepCounter, RepResult

__all__ = ["Recognition", "Rep", "RepCounter", "RepResult", "analyze_sequence", "count_repetitions",
           "recognise"]
