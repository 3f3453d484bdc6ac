"""The analysis plot's data for interactive charts (the web app): the driving signals over time as JSON.

The same signals as `plot_analysis` draws (`default_signal_names`), sampled at every frame, with their units;
the repetitions and the frame ranges where form rules broke come from the report itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np

from posecoach.features.display import display_unit
from posecoach.render.analysis_plot import default_signal_names, shown_series
from posecoach.reports.analysis_report import AnalysisReport

MAX_POINTS = 6000  # longer sequences are decimated (every k-th frame) to keep the file and the chart light


def analysis_series(report: AnalysisReport, signals: Mapping[str, np.ndarray], times: np.ndarray) -> str:
    """``{"times": [s], "frames": [i], "series": [{"name", "unit", "counting", "values"}]}`` as JSON (NaN: null)."""
    times = np.asarray(times, dtype=np.float64)
    step = max(1, math.ceil(len(times) / MAX_POINTS))
    idx = np.arange(0, len(times), step)
    series = []
    for name in default_signal_names(report, signals):
        values = shown_series(report, name, signals[name])[idx]
        series.append({"name": name, "unit": display_unit(name), "counting": name == report.reps.signal,
                       "values": [round(float(v), 3) if np.isfinite(v) else None for v in values]})
    return json.dumps({"times": [round(float(t), 4) for t in times[idx]], "frames": idx.tolist(), "series": series})
