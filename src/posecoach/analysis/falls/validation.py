"""Event-level validation of the fall detector: per labelled sequence, was the fall caught, how late, and how many
alerts were false; and leave-one-dataset-out (train on every group of recordings but one, score that one).

A fall counts as caught when an alert fires from 1 s before its labelled onset to the end of its window (the
fall's end plus `datasets.AFTER_S`, or the end of the sequence); its delay is alert - onset. Every other alert is
a false alarm: on a non-fall sequence, before the fall, or long after it. Non-fall time is the whole of a
non-fall sequence and the part of a fall sequence before its onset (minus 1 s); false alarms per hour are counted
over it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

import numpy as np

from posecoach.analysis.falls import datasets
from posecoach.analysis.falls.detector import detect_sequence
from posecoach.analysis.falls.model import FallModel, TrainConfig, labelled_items, train_model

EARLY_S = 1.0  # an alert this long before the labelled onset still counts (labels are a human's estimate)


@dataclass(frozen=True)
class Outcome:
    source: str
    name: str
    fall: bool
    caught: bool
    delay_s: float | None
    false_alarms: int
    negative_s: float  # seconds of non-fall time (see the module docstring)


def outcome(item: datasets.Labelled, alerts_s: list[float]) -> Outcome:
    """Score one sequence's alert times (seconds from its first frame)."""
    t = item.sequence.timestamps - item.sequence.timestamps[0]
    duration = float(t[-1]) if len(t) else 0.0
    if not item.fall:
        return Outcome(item.source, item.name, False, False, None, len(alerts_s), duration)
    lo = float(t[item.onset]) - EARLY_S if item.onset is not None else -np.inf
    hi = float(t[item.window_end]) if item.window_end is not None else np.inf
    hits = [a for a in alerts_s if lo <= a <= hi]
    delay = hits[0] - float(t[item.onset]) if hits and item.onset is not None else None
    return Outcome(item.source, item.name, True, bool(hits), delay, len(alerts_s) - len(hits), max(0.0, lo))


def evaluate(model: FallModel, items: Iterable[datasets.Labelled]) -> list[Outcome]:
    out = []
    for item in items:
        rep = detect_sequence(item.sequence, model, per_frame=False)
        out.append(outcome(item, [e.alert_s for e in rep.events]))
    return out


@dataclass(frozen=True)
class Summary:
    source: str
    falls: int
    caught: int
    non_falls: int
    false_alarms: int
    negative_h: float
    delays: tuple[float, ...]

    @property
    def sensitivity(self) -> float | None:
        return self.caught / self.falls if self.falls else None

    @property
    def false_alarms_per_h(self) -> float | None:
        return self.false_alarms / self.negative_h if self.negative_h > 0 else None

    def row(self, label: str | None = None) -> list[str]:
        sens = f"{self.sensitivity:.3f} ({self.caught}/{self.falls})" if self.falls else "-"
        fah = f"{self.false_alarms_per_h:.1f}" if self.false_alarms_per_h is not None else "-"
        d = np.array(self.delays)
        delay = f"{np.median(d):.2f} / {np.percentile(d, 90):.2f}" if len(d) else "-"
        return [label or self.source, str(self.falls + self.non_falls), sens, str(self.false_alarms),
                f"{self.negative_h * 60:.1f}", fah, delay]


HEADERS = ["held-out source", "sequences", "sensitivity (caught/falls)", "false alarms", "non-fall minutes",
           "false alarms / h", "delay median / p90 (s)"]


def summarise(source: str, outcomes: list[Outcome]) -> Summary:
    falls = [o for o in outcomes if o.fall]
    return Summary(source, len(falls), sum(o.caught for o in falls), len(outcomes) - len(falls),
                   sum(o.false_alarms for o in outcomes), sum(o.negative_s for o in outcomes) / 3600,
                   tuple(o.delay_s for o in falls if o.delay_s is not None))


def leave_one_dataset_out(config: TrainConfig, *, groups: Iterable[str] | None = None,
                          extra: dict[str, Callable[[], list[datasets.Labelled]]] | None = None,
                          log: Callable[[str], None] = print) -> dict[str, list[Outcome]]:
    """For each group of recordings (`datasets.GROUPS`): a model trained on ``config``'s other sources, scored on
    that group's sources (each reported alone). ``extra[name]()`` adds a held-out variant scored with the model
    of its group (``name`` is ``"<source>:<variant>"``, e.g. Le2i keypoints as pixels without the frame size)."""
    items = labelled_items(replace(config, augment=False))
    by_group: dict[str, list[datasets.Labelled]] = {}
    for item in items:
        by_group.setdefault(item.group, []).append(item)
    results: dict[str, list[Outcome]] = {}
    for group in groups or sorted(by_group):
        train_sources = tuple(s for s in config.sources if datasets.GROUPS[s] != group)
        fold = replace(config, sources=train_sources)
        log(f"held out {group}: training on {', '.join(train_sources)}")
        model = train_model(fold)
        for source in (s for s in config.sources if datasets.GROUPS[s] == group):
            results[source] = evaluate(model, (i for i in by_group[group] if i.source == source))
        for name, load in (extra or {}).items():
            if datasets.GROUPS[name.split(":")[0]] == group:
                results[name] = evaluate(model, load())
    return results
