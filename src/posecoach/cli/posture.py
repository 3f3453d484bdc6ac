"""`posecoach posture label | train | predict | evaluate`: custom posture classifiers from one's own videos.

    posecoach posture label squat.mp4 -d data/ --range 00:03-00:07=down --range 00:07-00:09=up --group ann
    posecoach posture label fitness_pose_samples.csv -d data/ --group-pattern 'frame__(.+?)__'
    posecoach posture train data/ -o squat.posture
    posecoach posture predict squat.posture clip.mp4 --count up,down --json postures.json
    posecoach posture evaluate data/ [--model-file squat.posture] --json evaluation.json
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from posecoach.cli.analyze import _sequence, check_input
from posecoach.cli.common import MAKE_FOLDERS, MKDIR_HELP, MODEL_HELP, out_folders, write_text
from posecoach.errors import InputError

if TYPE_CHECKING:
    from posecoach.analysis.posture import PostureClassifier
    from posecoach.core.sequence import PoseSequence

app = typer.Typer(help="Custom posture classifiers: label frames, train, predict, count transitions.",
                  no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
TABLES = (".csv", ".gz")


def _is_table(path: Path) -> bool:
    return path.suffix.lower() in TABLES


def _dataset_arrays(dataset: Path) -> tuple[list[PoseSequence], list[np.ndarray], list[str]]:
    from posecoach.posture_dataset import Dataset

    seqs, labels, groups = [], [], []
    for item, seq, lab in Dataset.open(dataset).load():
        seqs.append(seq)
        labels.append(lab)
        groups.append(str(item.get("group") or item["name"]))
    if not seqs:
        raise InputError(f"{dataset}: the dataset has no items yet; add some with `posecoach posture label`")
    return seqs, labels, groups


def _load_model(path: Path) -> PostureClassifier:
    from posecoach.analysis.posture import PostureClassifier

    return PostureClassifier.load(path)


def _import_table(table: Path, dataset: Path, group: str | None, pattern: str | None) -> None:
    from posecoach.posture_dataset import Dataset, read_keypoint_table, table_sequence

    try:
        regex = re.compile(pattern) if pattern else None
    except re.error as exc:
        raise InputError(f"--group-pattern {pattern!r} is not a regular expression: {exc}") from None
    ds = Dataset.open(dataset, create=True)
    rows = read_keypoint_table(table)
    by_group: dict[str, list[Any]] = {}
    for row in rows:
        m = regex.search(row.name) if regex else None
        key = (m.group(1) if m and m.groups() else m.group(0)) if m else (group or table.name.split(".")[0])
        by_group.setdefault(key, []).append(row)
    for key, members in by_group.items():
        seq = table_sequence(members, str(table))
        ds.add(key, seq, np.array([r.label for r in members]), key, str(table))
    labels = sorted({r.label for r in rows})
    out.print(f"imported {len(rows)} labelled frames ({', '.join(map(escape, labels))}) in {len(by_group)} "
              f"group(s) into {escape(str(dataset))}")


@app.command()
def label(
    input: Annotated[Path, typer.Argument(help="A video or saved pose sequence (.npz) to label by time ranges, or "
                                          "a keypoint table (.csv / .csv.gz, one labelled frame per row) to import.",
                                          show_default=False)],
    dataset: Annotated[Path, typer.Option("--dataset", "-d", help="The dataset folder (created if new).")],
    ranges: Annotated[list[str] | None, typer.Option("--range", "-r", help="START-END=LABEL, times as SS, MM:SS or "
                                                     "HH:MM:SS (repeat the option).")] = None,
    ranges_file: Annotated[Path | None, typer.Option("--ranges", help="A CSV of start,end,label rows.")] = None,
    group: Annotated[str | None, typer.Option(help="Who (or which video) the frames show; cross-validation keeps "
                                              "a group out of its own test fold [default: the input's name].")]
    = None,
    group_pattern: Annotated[str | None, typer.Option(help="Tables: a regular expression on each sample's name "
                                                      "whose first group is its group.")] = None,
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "full",
) -> None:
    """Add labelled frames to a dataset: time ranges of a video, or an imported keypoint table."""
    from posecoach.posture_dataset import Dataset, frame_labels, parse_range, read_ranges_file

    if _is_table(input):
        if ranges or ranges_file:
            raise InputError(f"{input} is a keypoint table with its own labels: --range / --ranges are for videos")
        _import_table(input, dataset, group, group_pattern)
        return
    parsed = [parse_range(r) for r in ranges or []]
    where = "--range"
    if ranges_file is not None:
        parsed += read_ranges_file(ranges_file)
        where = str(ranges_file) if not ranges else "the ranges"
    if not parsed:
        raise InputError("give the labelled time ranges: --range START-END=LABEL (e.g. 00:03-00:07=down) or "
                         "--ranges FILE")
    ds = Dataset.open(dataset, create=True)  # fails before the (long) pose estimation
    seq = _sequence(input, model)
    if not seq.num_people:
        raise InputError(f"{input}: nobody was found in it; nothing to label")
    labels = frame_labels(seq, parsed, where)
    entry = ds.add(input.stem, seq, labels, group or input.stem, str(input))
    counts = ", ".join(f"{k} {v}" for k, v in entry["labels"].items())
    out.print(f"{escape(str(input))}: labelled {sum(entry['labels'].values())} of {seq.num_frames} frames "
              f"({escape(counts)}) as item {escape(entry['name'])} of {escape(str(dataset))}")


def _candidates_table(scores: list[dict[str, Any]]) -> Table:
    table = Table("model", "settings", "CV accuracy", "log loss", "chosen")
    for s in scores:
        params = ", ".join(f"{k}={v}" for k, v in s["params"].items())
        chosen = "yes" if s.get("chosen") else ""
        table.add_row(s["model"], params, f"{s['accuracy']:.3f}", f"{s['log_loss']:.3f}", chosen)
    return table


@app.command()
def train(
    dataset: Annotated[Path, typer.Argument(help="A dataset folder made by `posecoach posture label`.",
                                            show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="The model file to write (e.g. squat.posture).")],
    model: Annotated[str, typer.Option(help="auto (cross-validation chooses), logreg or knn.")] = "auto",
    folds: Annotated[int, typer.Option(min=2, help="Grouped cross-validation folds.")] = 5,
    mirror: Annotated[bool, typer.Option(help="Also train on every pose mirrored left/right.")] = True,
    frame: Annotated[str, typer.Option(help="Embedding frame: image (rotate in the image plane) or torso3d "
                                       "(the torso's 3D frame; uses z).")] = "image",
    z: Annotated[bool, typer.Option("--z/--no-z", help="Use MediaPipe's relative depth z as well.")] = False,
    mkdir: Annotated[bool, typer.Option("--mkdir", help=MKDIR_HELP)] = False,
) -> None:
    """Train a posture classifier on a dataset and save it as one file."""
    from posecoach.analysis.posture import FeatureSpec, PostureClassifier

    MAKE_FOLDERS.set(mkdir)
    out_folders(output)
    try:
        spec = FeatureSpec(frame=frame, use_z=z or frame == "torso3d", mirror=mirror)  # type: ignore[arg-type]
        clf = PostureClassifier(model=model, spec=spec, folds=folds)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    seqs, labels, groups = _dataset_arrays(dataset)
    try:
        clf.fit(seqs, labels, groups)
    except ValueError as exc:
        raise InputError(f"{dataset}: {exc}") from None
    clf.save(output)
    sel = clf.selection
    assert sel is not None
    t = clf.training
    out.print(f"trained on {t['frames']} frames of {t['groups']} group(s): "
              + ", ".join(f"{escape(k)} {v}" for k, v in t["frames_per_class"].items()))
    if sel.scores:
        out.print(f"grouped {sel.folds}-fold cross-validation:")
        out.print(_candidates_table(sel.scores), soft_wrap=False)
    else:
        out.print("[yellow]one group only: no cross-validation, model not calibrated[/]")
    out.print(f"wrote {escape(str(output))} ({sel.kind}, temperature {sel.temperature:.2f})")


def _count_arg(count: str | None) -> tuple[str, str] | None:
    if count is None:
        return None
    parts = [p.strip() for p in count.split(",")]
    if len(parts) != 2 or not all(parts) or parts[0] == parts[1]:
        raise InputError(f"--count {count!r}: name two different postures, e.g. --count up,down")
    return parts[0], parts[1]


@app.command()
def predict(
    model_file: Annotated[Path, typer.Argument(help="A model file made by `posecoach posture train`.",
                                               show_default=False)],
    input: Annotated[Path, typer.Argument(help="A video, an image or a saved pose sequence (.npz).",
                                          show_default=False)],
    json_out: Annotated[Path | None, typer.Option("--json", help="The report as JSON (per frame too).")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Chart of the probabilities, postures and "
                                              "repetitions over time (.png, .svg or .pdf).")] = None,
    count: Annotated[str | None, typer.Option(help="Count repetitions FIRST,SECOND (first -> second -> first), "
                                              "e.g. up,down.")] = None,
    smooth: Annotated[bool, typer.Option(help="Smooth (moving average + hysteresis) the per-frame postures.")]
    = True,
    tau: Annotated[float, typer.Option(min=0.0, help="Smoothing time constant, seconds.")] = 0.1,
    enter: Annotated[float, typer.Option(min=0.0, max=1.0, help="Smoothed probability to enter a posture.")] = 0.6,
    exit: Annotated[float, typer.Option(min=0.0, max=1.0, help="Smoothed probability under which the current "
                                        "posture is left.")] = 0.4,
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "full",
    mkdir: Annotated[bool, typer.Option("--mkdir", help=MKDIR_HELP)] = False,
) -> None:
    """Postures per frame of a video (smoothed), the time in each, and repetitions between two postures."""
    from posecoach.analysis.posture import SmoothingParams
    from posecoach.solutions.posture import PostureClassification

    pair = _count_arg(count)
    try:
        params = SmoothingParams(tau_s=tau, enter=enter, exit=exit) if smooth else None
    except ValueError as exc:
        raise InputError(str(exc)) from None
    clf = _load_model(model_file)
    solution = PostureClassification(clf, smoothing=params, smooth=smooth, count=pair, model=model,
                                     model_path=str(model_file), workers=1)
    if pair is not None and any(p not in clf.classes_ for p in pair):
        raise InputError(f"--count {count}: {model_file} knows the postures {', '.join(clf.classes_)}")
    for target in (json_out, plot):
        if target is not None and target.resolve() in (input.resolve(), model_file.resolve()):
            raise InputError(f"{target} is an input: give the output another name")
    MAKE_FOLDERS.set(mkdir)
    out_folders(json_out, plot)
    check_input(input)
    result = solution.run(input)
    report = result.report
    written = result.save(json=json_out, plot=plot)  # folders checked (or made) up front
    overall = f"; overall {escape(report.overall)}" if report.overall else "; nobody found"
    out.print(f"[bold]{escape(str(input))}[/]: {report.frames} frames, {report.duration_s:.1f} s{overall}")
    table = Table("posture", "time", "segments")
    for c in clf.classes_:
        n = sum(s.posture == c for s in report.segments)
        table.add_row(escape(c), f"{report.time_per_posture_s.get(c, 0.0):.1f} s", str(n))
    out.print(table, soft_wrap=False)
    if report.repetitions is not None:
        r = report.repetitions
        out.print(f"{r.count} repetition{'' if r.count == 1 else 's'} {escape(r.first)} -> {escape(r.second)} "
                  f"-> {escape(r.first)}")
    for path in written:
        out.print(f"  wrote {escape(str(path))}")


@app.command()
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="A labelled dataset folder.", show_default=False)],
    model_file: Annotated[Path | None, typer.Option("--model-file", help="Test this saved model on the dataset; "
                                                    "without it, grouped cross-validation of training.")] = None,
    model: Annotated[str, typer.Option(help="Cross-validation: auto, logreg or knn.")] = "auto",
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds (groups held out).")] = 5,
    json_out: Annotated[Path | None, typer.Option("--json", help="The evaluation as JSON.")] = None,
    mkdir: Annotated[bool, typer.Option("--mkdir", help=MKDIR_HELP)] = False,
) -> None:
    """Accuracy on labelled frames, per posture and as a confusion matrix."""
    MAKE_FOLDERS.set(mkdir)
    out_folders(json_out)
    from posecoach.analysis.posture.evaluation import evaluate_dataset

    clf = _load_model(model_file) if model_file is not None else None
    seqs, labels, groups = _dataset_arrays(dataset)
    try:
        report = evaluate_dataset(seqs, labels, groups, str(dataset), clf, model=model, folds=folds,
                                  model_path=str(model_file) if model_file else None)
    except ValueError as exc:
        raise InputError(f"{dataset}: {exc}") from None
    if json_out is not None:
        write_text(json_out, report.to_json())
    how = f"model {model_file}" if model_file else f"grouped {report.folds}-fold cross-validation"
    out.print(f"{escape(str(dataset))}: accuracy {report.accuracy:.3f} on {report.frames} frames of "
              f"{report.groups} group(s) ({escape(how)})")
    table = Table("true \\ predicted", *report.labels, "recall")
    recall = {c.label: c.recall for c in report.per_class}
    for name, row in zip(report.labels, report.confusion, strict=True):
        if name in recall:
            table.add_row(escape(name), *(str(v) if v else "." for v in row), f"{recall[name]:.3f}")
    out.print(table, soft_wrap=False)
    if json_out is not None:
        out.print(f"  wrote {escape(str(json_out))}")


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="posture")
