"""The counting benchmark's ground-truth frames and its error budget (`benchmarks/bench_reps.py --budget N`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_reps
import clips


def _row(clip: str, true: int, pred: int, **extra: Any) -> dict[str, Any]:
    return {"clip": f"reps/x/videos/{clip}", "true": true, "pred": pred, **extra}


def test_budget_orders_clips_by_their_share_of_the_mae() -> None:
    rows = [_row("a.mp4", 2, 3), _row("b.mp4", 1, 3, recognised="squat", marks=[5], reps=[[0, 4, 9]]),
            _row("c.mp4", 4, 4), _row("d.mp4", 0, 2), _row("e.mp4", 10, 9)]
    text = bench_reps.budget(rows, 2)
    lines = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [line.split(" | ")[0] for line in lines] == ["| b.mp4", "| a.mp4"]  # 2/1, then 1/2; e (0.1) cut by top
    mae = (0.5 + 2.0 + 0.1) / 4  # d (true 0) is left out, as in the MAE
    b = lines[0].split(" | ")
    assert b[1] == "squat" and b[4] == "2.000" and b[5] == f"{100 * 2.0 / (mae * 4):.0f} %"
    assert b[6] == f"{(0.5 + 0.1) / 4:.3f}"  # the MAE with b exact
    assert b[7] == "5" and b[8].startswith("0-4-9")
    assert lines[1].split(" | ")[6] == f"{0.1 / 4:.3f}"  # a and b exact


def test_cut_rep_table_says_which_convention_each_clip_sides_with() -> None:
    rows = [_row("s1.mp4", 2, 1, exercise="squat", pred_cut={"return": 1, "turn": 2}),
            _row("s2.mp4", 1, 0, exercise="squat", pred_cut={"return": 0, "turn": 1}),
            _row("p1.mp4", 2, 2, exercise="push_up", pred_cut={"return": 2, "turn": 3}),
            _row("p2.mp4", 2, 2, exercise="push_up", pred_cut={"return": 2, "turn": 2}),  # not changed: left out
            _row("d1.mp4", 3, 2, exercise="dip", pred_cut={"return": 2, "turn": 4}),  # one off either way
            _row("q.mp4", 5, 5)]  # exercise unknown: no pred_cut
    lines = [line for line in bench_reps.cut_rep_table(rows).splitlines() if line.startswith("| ")][2:]
    cells = [line.strip("| ").split(" | ") for line in lines]
    assert [c[:6] for c in cells] == [["dip", "return", "1", "0", "0", "1"], ["push_up", "return", "1", "1", "0", "0"],
                                      ["squat", "turn", "2", "0", "2", "0"]]
    assert cells[2][6] == "s1 (turn) s2 (turn)" and cells[0][6] == "d1 (tie)"


def test_frames_elides_the_middle_of_long_lists() -> None:
    assert bench_reps._frames([]) == "-"
    assert bench_reps._frames([[1, 2, 3], [3, 4, 5]]) == "1-2-3 3-4-5"
    assert bench_reps._frames(list(range(20)), keep=2) == "0 1 ... (16 more) 18 19"


@pytest.mark.video
def test_truth_frames_agree_with_the_labelled_counts() -> None:
    """Every clip's marked frames: as many as its labelled count, in order, inside the video's frames."""
    try:
        rep_clips = clips.rep_clips()
    except FileNotFoundError as exc:  # pragma: no cover - the data is part of the machine
        pytest.fail(f"shared data missing: {exc}")
    assert {c.dataset for c in rep_clips} == {"workouttracker", "quva", "jump_rope"}
    for clip in rep_clips:
        marks = clips.truth_frames(clip)
        assert len(marks) == clip.count, clip.video
        assert marks == sorted(marks) and all(m >= 0 for m in marks), clip.video


def test_counter_settings_from_the_command_line() -> None:
    """Defaults give None (the library's own settings); each option changes only its own field."""
    assert bench_reps.counter_settings() is None
    assert bench_reps.counter_settings(0.0, bench_reps.CounterSettings.end_return) is None
    lead = bench_reps.counter_settings(2.0)
    assert lead is not None and lead.lead_s == 2.0 and lead.end_return == bench_reps.CounterSettings.end_return
    end = bench_reps.counter_settings(end_return=0.0)
    assert end is not None and end.end_return == 0.0 and end.lead_s == 0.0
    assert "lead_s 2" in bench_reps.conventions(lead) and "end_return" not in bench_reps.conventions(lead)
    assert "end_return" in bench_reps.conventions(end) and bench_reps.conventions(None) == ""
    with pytest.raises(ValueError, match="between 0 and 1"):
        bench_reps.counter_settings(end_return=1.5)


def test_loso_picks_the_setting_best_on_the_other_sources() -> None:
    """Leave one source out: the setting with the lowest mean of the other sources' MAEs, scored on the one left
    out, beside the shipped default."""
    default = next(k for k, c in bench_reps.CHECK_GRID.items() if c == bench_reps.RhythmCheck())
    other = next(k for k in bench_reps.CHECK_GRID if k != default)

    def row(ds: str, true: int, good: int, bad: int) -> dict[str, Any]:
        return {"dataset": ds, "true": true, "pred_check": {**dict.fromkeys(bench_reps.CHECK_GRID, bad),
                                                            default: bad, other: good}}

    # "other" is exact on a and b, the default is not; on c it is the other way round.
    rows = [row("a", 4, 4, 8), row("b", 5, 5, 9), row("c", 10, 20, 10)]
    lines = [line.split(" | ") for line in bench_reps.loso_table(rows).splitlines()[2:]]
    by = {cells[0].strip("| "): cells for cells in lines}
    assert by["c"][2] == other and by["c"][4] == "1.000" and by["c"][6] == "0.000"  # chosen on a and b, wrong on c
    # Without a: other scores (0 + 1) / 2 on b and c, the default (0.8 + 0) / 2; ties with the default go to it.
    assert by["a"][2] == default
