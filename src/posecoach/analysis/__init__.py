"""Analyses: pure functions of a pose sequence (no I/O), each usable offline and live.

* `exercises`: the exercise catalogue (one TOML definition per exercise);
* `reps`: repetition counting (`count_repetitions`, live `RepCounter`);
* `recognition`: which exercise a sequence shows;
* `form`: form rules judged per repetition;
* `holds`: holds measured as time;
* `pipeline`: `analyze`, all of the above into an `AnalysisReport`.
"""

from posecoach.analysis.pipeline import analyze, analyze_sequence
from posecoach.analysis.recognition import Recognition, recognise
from posecoach.analysis.reps import Rep, RepCounter, RepResult, count_repetitions

__all__ = ["Recognition", "Rep", "RepCounter", "RepResult", "analyze", "analyze_sequence", "count_repetitions",
           "recognise"]
