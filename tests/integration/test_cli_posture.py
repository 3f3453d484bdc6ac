"""`posecoach posture label | train | predict | evaluate` end to end on saved synthetic squats and real ML Kit rows."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from posecoach.analysis.posture.evaluation import cross_validate
from posecoach.analysis.posture.inputs import training_arrays
from posecoach.posture import PostureClassifier
from posecoach.posture_dataset import Dataset, parse_range, parse_time, read_keypoint_table
from tests.conftest import data_file
from tests.integration.test_cli_analyze import assert_one_line_error, cli
from tests.synthetic import make_exercise

MLKIT = "poses/mlkit_fitness/android/vision-quickstart/app/src/main/assets/pose/fitness_pose_samples.csv"
# 3 squats of 2 s at 30 fps: the bottom at 1, 3 and 5 s, standing at 0, 2, 4 and 6 s
DOWN = ("00:00.8-00:01.2=down", "0:02.8-0:03.2=down", "4.8-5.2=down")
UP = ("0-0.2=up", "1.8-2.2=up", "3.8-4.2=up", "5.8-6=up")
# model files of the previous format (see tests/integration/test_posture.py)
V1 = Path(__file__).parents[1] / "posture_v1"


@pytest.fixture(scope="module")
def squats(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("squats")
    out = []
    for seed, view, mirrored in ((0, "side", False), (1, "diagonal", True), (2, 70.0, False)):
        seq = make_exercise("squat", reps=3, period_s=2.0, fps=30.0, view=view, mirrored=mirrored, seed=seed)
        out.append(seq.save(folder / f"person{seed}.npz"))
    return out


@pytest.fixture(scope="module")
def trained(squats: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A dataset of two people (one labelled with --range, one with a ranges file) and the model trained on it."""
    folder = tmp_path_factory.mktemp("trained")
    data, model = folder / "data", folder / "squat.posture"
    ranges = [f"--range={r}" for r in (*DOWN, *UP)]
    run = cli("posture", "label", squats[0], "-d", data, *ranges, "--group", "ann")
    assert run.code == 0, run
    assert "labelled" in run.stdout and "down" in run.stdout
    ranges_file = folder / "ranges.csv"
    ranges_file.write_text("start,end,label\n" + "".join(r.replace("-", ",", 1).replace("=", ",") + "\n"
                                                         for r in (*DOWN, *UP)))
    run = cli("posture", "label", squats[1], "-d", data, "--ranges", ranges_file)
    assert run.code == 0, run
    run = cli("posture", "train", data, "-o", model, "--folds", "2")
    assert run.code == 0, run
    assert "grouped 2-fold cross-validation" in run.stdout and f"wrote {model}" in run.stdout
    return data, model


def test_labelling_stores_sequences_and_per_frame_labels(trained: tuple[Path, Path]) -> None:
    data, _ = trained
    ds = Dataset.open(data)
    assert [i["name"] for i in ds.items] == ["person0", "person1"]
    assert [i["group"] for i in ds.items] == ["ann", "person1"]
    item, seq, labels = next(ds.load())
    t = seq.timestamps - seq.timestamps[0]
    expected = np.full(seq.num_frames, "", dtype=object)
    for r in map(parse_range, (*DOWN, *UP)):
        expected[(t >= r.start_s) & (t < r.end_s)] = r.label
    assert seq.num_frames == 181 and list(labels) == list(expected) and labels[45] == ""  # 1.5 s: not labelled
    assert item["labels"] == {"down": int(np.sum(expected == "down")), "up": int(np.sum(expected == "up"))}


def test_predict_counts_the_squats_of_an_unseen_person(trained: tuple[Path, Path], squats: list[Path],
                                                       tmp_path: Path) -> None:
    _, model = trained
    report = tmp_path / "postures.json"
    chart = tmp_path / "charts" / "postures.png"
    run = cli("posture", "predict", model, squats[2], "--count", "up,down", "--json", report, "--plot", chart,
              "--mkdir")
    assert run.code == 0, run
    data = json.loads(report.read_text())
    assert data["repetitions"]["count"] == 3 and data["classifier"]["classes"] == ["down", "up"]
    assert [abs(r["turn_s"] - b) < 0.5 for r, b in zip(data["repetitions"]["items"], (1, 3, 5), strict=True)]
    assert len(data["per_frame"]) == data["frames"] == 181
    assert data["per_frame"][30]["posture"] == "down" and data["per_frame"][0]["posture"] == "up"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {chart}" in run.stdout
    assert "3 repetitions up -> down -> up" in run.stdout and f"overall {data['overall']}" in run.stdout
    raw = cli("posture", "predict", model, squats[2], "--no-smooth", "--json", tmp_path / "raw.json")
    assert raw.code == 0 and json.loads((tmp_path / "raw.json").read_text())["smoothing"] == {}
    with zipfile.ZipFile(model) as zf:  # the current format: the pipeline in skops' format
        assert zf.namelist() == ["posture_model.json", "pipeline.skops"]
    old = cli("posture", "predict", V1 / "squat_logreg.posture", squats[2], "--count", "up,down", "--json",
              tmp_path / "old.json")  # a model file of the previous format still works
    assert old.code == 0, old
    assert json.loads((tmp_path / "old.json").read_text())["repetitions"]["count"] == 3


def test_evaluate_a_model_and_cross_validate_a_dataset(trained: tuple[Path, Path], tmp_path: Path) -> None:
    data, model = trained
    run = cli("posture", "evaluate", data, "--model-file", model, "--json", tmp_path / "model.json")
    assert run.code == 0, run
    ev = json.loads((tmp_path / "model.json").read_text())
    assert ev["method"] == "model" and ev["accuracy"] >= 0.95 and ev["groups"] == 2
    assert sum(map(sum, ev["confusion"])) == ev["frames"] == sum(c["frames"] for c in ev["per_class"])
    run = cli("posture", "evaluate", data, "--folds", "2", "--model", "logreg", "--json", tmp_path / "cv.json")
    assert run.code == 0, run
    cv = json.loads((tmp_path / "cv.json").read_text())
    assert cv["method"] == "grouped-cv" and cv["folds"] == 2 and cv["groups"] == 2
    seqs, labels, groups = zip(*((s, lab, i["group"]) for i, s, lab in Dataset.open(data).load()), strict=True)
    points, y, g = training_arrays(list(seqs), list(labels), list(groups))
    by_hand = cross_validate(points, y, g, 2, lambda: PostureClassifier(model="logreg", folds=2))
    # one side-view person teaches the other (diagonal, mirrored) only part of it: better than chance, not more
    assert cv["accuracy"] == pytest.approx(float(np.mean(by_hand.predicted == y))) and cv["accuracy"] > 0.6
    assert "grouped 2-fold cross-validation" in run.stdout


def test_importing_a_keypoint_table_groups_its_samples(tmp_path: Path) -> None:
    """Real ML Kit rows (a few per class, copied to a temporary file) imported, trained and evaluated."""
    lines = data_file(MLKIT).read_text().splitlines()
    picked = [ln for label in ("pushups_up", "pushups_down", "squats_up", "squats_down")
              for ln in [x for x in lines if f",{label}," in x and x.startswith("frame__")][:12]]
    table = tmp_path / "samples.csv"
    table.write_text("\n".join(picked) + "\n")
    data = tmp_path / "data"
    run = cli("posture", "label", table, "-d", data, "--group-pattern", r"frame__(.+?)__\d+")
    assert run.code == 0, run
    videos = {ln.split("__")[1] for ln in picked}
    assert "imported 48 labelled frames" in run.stdout and f"in {len(videos)} group(s)" in run.stdout
    ds = Dataset.open(data)
    assert sum(sum(i["labels"].values()) for i in ds.items) == 48
    _, seq, labels = next(ds.load())
    first = read_keypoint_table(table)[0]
    assert labels[0] == first.label
    w = seq.source["width"]  # pixel coordinates come back exactly as imported
    assert np.allclose(seq.subject_landmarks()[0, :, :3] * w, first.points, rtol=1e-5)


def test_bad_label_files_and_ranges_are_one_line_errors(squats: list[Path], tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert_one_line_error(cli("posture", "label", squats[0], "-d", data, "-r", "00:07-00:03=down"),
                          "00:07-00:03=down", "ends")
    assert_one_line_error(cli("posture", "label", squats[0], "-d", data, "-r", "1-2"), "START-END=LABEL")
    assert_one_line_error(cli("posture", "label", squats[0], "-d", data), "--range")
    assert_one_line_error(cli("posture", "label", squats[0], "-d", data, "-r", "9-10=down"), "holds no frame")
    assert_one_line_error(cli("posture", "label", squats[0], "-d", data, "-r", "1-2=down", "-r", "1.5-3=up"),
                          "overlaps")
    ranges = tmp_path / "ranges.csv"
    ranges.write_text("start,end,label\n0,1,up\n2,x,down\n")
    assert_one_line_error(cli("posture", "label", squats[0], "-d", data, "--ranges", ranges),
                          str(ranges), "row 3", "'x'")
    table = tmp_path / "table.csv"
    table.write_text("a.png,up," + ",".join(["0.5"] * 99) + "\nb.png,down," + ",".join(["0.5"] * 98) + "\n")
    assert_one_line_error(cli("posture", "label", table, "-d", data), str(table), "row 2", "98 numbers")
    assert not data.exists()  # nothing half-written


def test_train_predict_and_evaluate_refuse_bad_inputs(trained: tuple[Path, Path], squats: list[Path],
                                                      tmp_path: Path) -> None:
    data, model = trained
    assert_one_line_error(cli("posture", "train", tmp_path / "nothing", "-o", tmp_path / "m.posture"),
                          "no such dataset")
    one = tmp_path / "one"
    assert cli("posture", "label", squats[0], "-d", one, "-r", "0-1=up").code == 0
    assert_one_line_error(cli("posture", "train", one, "-o", tmp_path / "m.posture"), "at least 2 postures")
    assert not (tmp_path / "m.posture").exists()
    assert_one_line_error(cli("posture", "predict", squats[0], squats[1]), "not a posture model")
    assert_one_line_error(cli("posture", "predict", model, squats[1], "--count", "up,sideways"), "sideways")
    assert_one_line_error(cli("posture", "predict", model, squats[1], "--count", "up"), "two different")
    assert_one_line_error(cli("posture", "train", data, "-o", tmp_path / "x.posture", "--model", "svm"), "svm")
    broken = tmp_path / "broken"
    shutil.copytree(data, broken)
    labels = broken / "labels" / "person1.csv"
    labels.write_text(labels.read_text().replace("\n30,", "\n3000,", 1))
    assert_one_line_error(cli("posture", "evaluate", broken), str(labels), "frame 3000 is outside")


def test_times_and_ranges_parse() -> None:
    assert parse_time("7") == 7.0 and parse_time("01:02.5") == 62.5 and parse_time("1:00:03") == 3603.0
    r = parse_range("00:03 - 00:07 = deep squat")
    assert (r.start_s, r.end_s, r.label) == (3.0, 7.0, "deep squat")
    with pytest.raises(ValueError, match="not a time"):
        parse_time("3s")
