"""The ``posture_train`` job: a posture classifier trained on labelled time ranges of one or several videos.

Each video's ranges label its frames (`posecoach.posture_dataset.frame_labels`); cross-validation holds out one
video at a time (groups = videos; with more than 5 videos, 5 folds of whole videos), so the accuracy shown is
that on videos the model never saw. With a single video it holds out whole labelled ranges instead, when every
posture has at least two. Besides the model file (the posture model row's ``storage_key``), the job stores a
``training`` summary (`TRAINING`): per video, its labelled frames and its held-out accuracy; the routes of
`posture_routes` read it. Retraining (a video added) makes a new file and then removes the one it replaces.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from posecoach.errors import InputError
from posecoach.service import library_db
from posecoach.service.db import PostureModel, Result, Video, new_id, utcnow

if TYPE_CHECKING:
    from posecoach.service.work import Work

TRAINING = "training"  #: the job's stored summary (a result kind the results routes do not list)
MAX_FOLDS = 5


def held_out_by_video(per_group: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Out-of-fold scores per video from those per cross-validation group (a video's id, or ``id:range``)."""
    out: dict[str, dict[str, Any]] = {}
    for group, score in per_group.items():
        video = group.split(":", 1)[0]
        acc = out.setdefault(video, {"frames": 0, "correct": 0})
        acc["frames"] += int(score["frames"])
        acc["correct"] += int(score["correct"])
    for acc in out.values():
        acc["accuracy"] = acc["correct"] / acc["frames"] if acc["frames"] else None
    return out


def cv_method(videos: int, by_range: bool, folds: int) -> str:
    """How the accuracy was measured, in words."""
    if folds == 0:
        return "not cross-validated"
    if by_range:
        return "held-out labelled ranges of the one video"
    return "leave-one-video-out" if folds == videos else f"{folds} folds of whole videos"


def train(w: Work) -> str:
    """Train the model of ``target_id`` on the job's ``items`` ([{video_id, ranges}]) and store it."""
    from posecoach.analysis.posture import FeatureSpec, PostureClassifier
    from posecoach.posture_dataset import LabelRange, frame_labels, range_groups

    params = w.params
    items = params["items"]
    seqs, labels, groups, videos = [], [], [], []
    ranges: list[LabelRange] = []
    for i, item in enumerate(items):
        video = library_db.load_row(w.db, Video, item["video_id"])
        if video is None:
            raise InputError(f"video {item['video_id']} was deleted before the training")
        seq = w.poses(video, 0.8 * i / len(items), 0.8 * (i + 1) / len(items))
        if not seq.num_people:
            raise InputError(f"{video.filename}: nobody was found in it; nothing to learn from")
        ranges = [LabelRange(r["start_s"], r["end_s"], r["label"]) for r in item["ranges"]]
        seqs.append(seq)
        labels.append(frame_labels(seq, ranges, f"the ranges of {video.filename}"))
        groups.append(video.id)
        videos.append(video)
    # Cross-validation holds out each video in turn; with one video, each labelled range, when every posture has
    # at least two ranges (else a fold would train on one posture only and there is no accuracy to show).
    per_label = Counter(r.label for r in ranges)
    by_range = len(items) == 1 and len(per_label) > 1 and min(per_label.values()) >= 2
    if by_range:
        groups = [range_groups(seqs[0], ranges, groups[0])]
    n_groups = len(ranges) if by_range else len(items)
    try:
        clf = PostureClassifier(
            model=params.get("algorithm", "auto"), spec=FeatureSpec(mirror=True), folds=max(2, min(MAX_FOLDS, n_groups))
        )
        clf.fit(seqs, labels, groups)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    sel = clf.selection
    chosen = [s["accuracy"] for s in (sel.scores if sel else []) if s.get("chosen")]
    accuracy = chosen[0] if chosen else None
    held = held_out_by_video(sel.per_group if sel else {})
    summary = {
        "method": cv_method(len(items), by_range, sel.folds if sel else 0),
        "folds": sel.folds if sel else 0,
        "cv_accuracy": accuracy,
        "videos": [
            {
                "video_id": v.id,
                "filename": v.filename,
                "labelled_frames": int(np.sum(lab != "")),
                "held_out": held.get(v.id),
            }
            for v, lab in zip(videos, labels, strict=True)
        ],
    }
    (w.tmp / "training.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    w.results.append(
        Result(
            id=new_id(),
            job_id=w.job.id,
            kind=TRAINING,
            created_at=utcnow(),
            storage_key=w.store(w.tmp / "training.json"),
        )
    )
    clf.save(w.tmp / "model.posture")
    key = w.store(w.tmp / "model.posture", prefix="models", suffix=".model")
    row = library_db.load_row(w.db, PostureModel, params["target_id"])
    replaced = row.storage_key if row is not None else None
    state = w.finish(
        library_db.complete(
            PostureModel,
            params["target_id"],
            storage_key=key,
            job_id=w.job.id,
            classes=json.dumps(clf.classes_),
            algorithm=sel.kind if sel else None,
            cv_accuracy=accuracy,
            frames=clf.training.get("frames"),
        )
    )
    if replaced and replaced != key:  # retrained: the file it replaces goes
        w.storage.delete(replaced)
    return state
