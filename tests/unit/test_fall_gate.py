"""The fall model is trained only where the alert rules can fire (issue 23, held-out sources): `events.may_alert`
is the state machine's own gate, and `TrainConfig.gate` keeps exactly those rows. No data files: scripted
feature rows and a few synthetic clips."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from posecoach.analysis.falls.events import fall_events, may_alert
from posecoach.analysis.falls.features import FEATURES, sequence_features
from posecoach.analysis.falls.model import SHIPPED_CONFIG, SYNTHETIC_CONFIG, TrainConfig, labelled_items, training_set

F = {f: i for i, f in enumerate(FEATURES)}
SMALL = TrainConfig(clips=12, max_iter=8, max_leaf_nodes=7)


def _row(upright_before: float, trunk_min: float, low_share: float, hip_drop: float) -> np.ndarray:
    x = np.zeros(len(FEATURES))
    x[F["upright_before"]], x[F["trunk_min_3s"]], x[F["low_share"]], x[F["hip_drop"]] = (
        upright_before, trunk_min, low_share, hip_drop)
    return x


def test_may_alert_is_the_state_machines_gate() -> None:
    rows = np.stack([_row(1.3, 3.0, 0.1, 0.0),  # upright just before: may alert
                     _row(1.3, 3.0, 0.9, 0.2),  # low most of the last 2 s (lying, plank): no
                     _row(0.3, 60.0, 1.0, 1.0),  # already low, but the hips just dropped a torso length: may
                     _row(1.0, 3.0, 0.1, 0.0),  # head never well over the hips: no
                     np.full(len(FEATURES), np.nan)])  # nobody seen: no
    assert may_alert(rows).tolist() == [True, False, True, False, False]
    assert may_alert(rows[0]).tolist() == [True]  # one row
    # The state machine alerts on a sure, low drop only where the gate is open.
    for x, expected in ((rows[0], 1), (rows[1], 0)):
        X = np.tile(x, (30, 1))
        X[10:, F["head_above_hip"]], X[10:, F["trunk_deg"]] = 0.1, 85.0  # low from frame 10
        X[:10, F["head_above_hip"]] = 1.3
        events = fall_events(np.arange(30) / 10, np.full(30, 0.95), X)
        assert len(events) == expected


def test_gated_training_keeps_only_rows_the_rules_can_alert_on() -> None:
    items = labelled_items(SMALL)
    _, y = training_set(SMALL, items)
    Xg, yg = training_set(replace(SMALL, gate=True), items)
    assert 0 < len(yg) < len(y) and set(np.unique(yg)) == {0, 1}
    assert may_alert(Xg).all()
    every = [sequence_features(i.sequence)[:: SMALL.every] for i in items]
    kept = sum(int((may_alert(x) & ~np.isnan(x).all(axis=1) & (i.labels[:: SMALL.every] >= 0)).sum())
               for x, i in zip(every, items, strict=True))
    assert kept == len(yg)


def test_the_shipped_recipe_is_gated_and_the_synthetic_only_one_is_not() -> None:
    assert SHIPPED_CONFIG.gate and not SYNTHETIC_CONFIG.gate
    assert replace(SMALL, gate=True).key() != SMALL.key()  # a gated model is another model
