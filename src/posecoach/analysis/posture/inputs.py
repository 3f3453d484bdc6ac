"""What a posture classifier accepts: pose sequences and/or arrays of single frames, with per-frame labels.

``fit(frames_or_sequences, labels, groups)`` takes one of

* a `PoseSequence` with one label per frame (or one label for every frame);
* an ``(N, 33, 3|4)`` array of single frames (x, y, z[, visibility]) with one label per frame;
* a list of those (or of ``(33, 3|4)`` frames) with one labels entry per item (a label or a label per frame).

Groups (who or which video a frame comes from, so cross-validation keeps them out of their own test fold)
follow the labels' shape; by default a sequence or list item is one group and the frames of one array are
independent. Unlabelled frames (label ``None`` or ``""``) and frames without a pose are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from posecoach.analysis.posture.embedding import detected, frame_points, sequence_points
from posecoach.core.sequence import PoseSequence

Item = PoseSequence | np.ndarray


def item_points(item: Item) -> np.ndarray:
    """``(N, 33, 3)`` points of a sequence's subject, of an array of frames, or of one ``(33, C)`` frame."""
    if isinstance(item, PoseSequence):
        return sequence_points(item)
    return frame_points(np.asarray(item))


def _per_frame(value: Any, n: int, what: str, where: str) -> np.ndarray:
    """A scalar repeated ``n`` times, or a length-``n`` sequence, as an object array."""
    if value is None or isinstance(value, str | int | np.integer):
        return np.full(n, value, dtype=object)
    arr = np.asarray(list(value), dtype=object)
    if arr.shape != (n,):
        raise ValueError(f"{where} has {n} frame(s) but {len(arr)} {what}")
    return arr


def training_arrays(frames_or_sequences: Item | Sequence[Item], labels: Any,
                    groups: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(points (N, 33, 3), labels (N,) str, groups (N,) str)`` of the labelled frames that have a pose
    (labels as an object array of strings; see `is_integer_labels` for integer class ids)."""
    if isinstance(frames_or_sequences, PoseSequence | np.ndarray):
        items: list[Item] = [frames_or_sequences]
        item_labels, item_groups = [labels], [groups]
        single_array = isinstance(frames_or_sequences, np.ndarray)
    else:
        items = list(frames_or_sequences)
        if isinstance(labels, str) or len(labels) != len(items):
            raise ValueError(f"give one labels entry per item: {len(items)} item(s), "
                             f"{1 if isinstance(labels, str) else len(labels)} labels entries")
        item_labels = list(labels)
        if groups is not None and (isinstance(groups, str) or len(groups) != len(items)):
            raise ValueError(f"give one groups entry per item: {len(items)} item(s)")
        item_groups = list(groups) if groups is not None else [None] * len(items)
        single_array = False
    pts_all, y_all, g_all = [], [], []
    for i, (item, lab, grp) in enumerate(zip(items, item_labels, item_groups, strict=True)):
        where = "the input" if len(items) == 1 else f"item {i}"
        pts = item_points(item)
        y = _per_frame(lab, len(pts), "labels", where)
        if grp is None:
            g = np.array([f"{i}:{j}" for j in range(len(pts))] if single_array else [str(i)] * len(pts), dtype=object)
        else:
            g = np.array([str(v) for v in _per_frame(grp, len(pts), "groups", where)], dtype=object)
        keep = np.array([v is not None and str(v) != "" for v in y], dtype=bool) & detected(pts)
        pts_all.append(pts[keep])
        y_all.append(y[keep])
        g_all.append(g[keep])
    points = np.concatenate(pts_all) if pts_all else np.zeros((0, 33, 3))
    y_out = np.concatenate(y_all) if y_all else np.zeros(0, dtype=object)
    return points, as_label_strings(y_out), np.concatenate(g_all).astype(str)


def is_integer_labels(values: Sequence[Any]) -> bool:
    """All labels are integers (class ids rather than names): `predict` then answers with integers too."""
    return len(values) > 0 and all(isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_)
                                   for v in values)


def as_label_strings(values: np.ndarray) -> np.ndarray:
    """Labels as strings; integer labels keep an order by value (``"2"`` before ``"10"``) via `label_order`."""
    return np.array([str(int(v)) if isinstance(v, int | np.integer) else str(v) for v in values], dtype=object)


def label_order(names: Sequence[str], integers: bool) -> list[str]:
    return sorted(set(names), key=int) if integers else sorted(set(names))
