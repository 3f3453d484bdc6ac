"""Scoring against a guide on labelled correct / incorrect executions (used by ``bench_compare.py``).

* **UI-PRMD** (``form/ui_prmd_kinect``: 10 rehab movements, subjects 1-5, 10 correct and 10 deliberately
  incorrect segmented repetitions each, Kinect): for each movement and each subject, the guide is that subject's
  first correct repetition; the scored repetitions are the correct and incorrect ones of the *other* subjects.
  Every comparison goes through the public path (`prepare` with repetition counting, mirroring tried: what
  ``posecoach.compare(guide, attempt)`` does). Per movement: ROC AUC of the score (correct above incorrect, all
  guides pooled), the median score of correct and of incorrect repetitions.
* **leave one subject out**: the score's calibration (`calibration.fit_calibration`) refitted without the
  scored subject (neither as guide nor as scored person) and applied to that subject's repetitions.
* **KERAAL** (``form/keraal_errors``: one person, three seated exercises, 5 correct and 14-15 error repetitions
  each, BlazePose): guide = ``Correct0``; scored = the other correct and the error repetitions (same person).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata

from posecoach.analysis.compare import match_prepared, prepare
from posecoach.analysis.compare.calibration import (
    FEATURES,
    Calibration,
    calibrated_score,
    fit_calibration,
    load_calibration,
    shape_deviation,
)
from posecoach.core.sequence import PoseSequence
from posecoach.io.landmark_files import read_keraal_blazepose, read_ui_prmd

UI_PRMD_NAMES = {"m01": "deep squat", "m02": "hurdle step", "m03": "inline lunge", "m04": "side lunge",
                 "m05": "sit to stand", "m06": "straight leg raise", "m07": "shoulder abduction",
                 "m08": "shoulder extension", "m09": "shoulder rotation", "m10": "shoulder scaption"}
KERAAL_EXERCISES = {"cacheTete": "CTK (hide the face)", "etirementLateraux": "ELK (lateral stretch)",
                    "rotationTronc": "RTK (trunk rotation)"}


def auc(pos: list[float] | np.ndarray, neg: list[float] | np.ndarray) -> float:
    """ROC AUC: the chance that a random positive scores above a random negative (ties count half)."""
    pos, neg = list(pos), list(neg)
    if not pos or not neg:
        return float("nan")
    ranks = rankdata(np.r_[pos, neg])
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


@dataclass(frozen=True)
class Scored:
    """One comparison: the set, movement, guide's subject, scored subject, label, and the score's terms."""

    movement: str
    guide: int
    subject: int
    correct: bool
    terms: np.ndarray  # deviation features, `calibration.FEATURES` order
    shape_deg: float  # `calibration.shape_deviation`
    score: float


def ui_prmd_sequences(root: Path) -> dict[tuple[str, int, int, bool], PoseSequence]:
    """(movement, subject, repetition, correct) -> sequence for every UI-PRMD Kinect file under ``root``."""
    out = {}
    for correct, folder in ((True, "Segmented Movements"), (False, "Incorrect Segmented Movements")):
        kinect = root / folder / "Kinect"
        for p in sorted((kinect / "Positions").glob("m*_positions*.txt*")):
            m = re.match(r"(m\d\d)_s(\d\d)_e(\d\d)", p.name)
            if m:
                angles = kinect / "Angles" / p.name.replace("_positions", "_angles")
                out[(m.group(1), int(m.group(2)), int(m.group(3)), correct)] = read_ui_prmd(p, angles)
    return out


def score_all(seqs: dict[tuple[str, int, int, bool], PoseSequence], guide_rep: int = 1) -> list[Scored]:
    """Every correct repetition ``guide_rep`` as the guide against the other subjects' repetitions."""
    prepared = {k: prepare(s) for k, s in seqs.items()}
    out = []
    for (m, g, e, c), seq in seqs.items():
        if e != guide_rep or not c:
            continue
        ref = prepare(seq, role="guide", mirror=False)
        for k, att in prepared.items():
            if k[0] == m and k[1] != g:
                report, matched = match_prepared(ref, att)
                out.append(Scored(m, g, k[1], k[3], matched.terms, shape_deviation(matched.shape),
                                  float(report.score or 0.0)))
    return out


def _matrix(rows: list[Scored]) -> np.ndarray:
    return np.array([r.terms for r in rows], dtype=np.float64)


def _fit(rows: list[Scored], sel: np.ndarray | None = None) -> Calibration:
    x, y = _matrix(rows), np.array([r.correct for r in rows])
    shape = np.array([r.shape_deg for r in rows])
    sel = np.ones(len(rows), bool) if sel is None else sel
    return fit_calibration(x[sel], y[sel], shape[sel])


def loso_scores(rows: list[Scored]) -> tuple[np.ndarray, list[Calibration]]:
    """Each subject's scores with the calibration fitted on the comparisons that involve neither them as the
    scored person nor as the guide."""
    subj, guide = np.array([r.subject for r in rows]), np.array([r.guide for r in rows])
    scores = np.full(len(rows), np.nan)
    fits = []
    for s in sorted(set(subj)):
        train = (subj != s) & (guide != s)
        cal = _fit(rows, train)
        fits.append(cal)
        for i in np.flatnonzero(subj == s):
            scores[i] = calibrated_score(rows[i].terms, rows[i].shape_deg, cal)
    return scores, fits


def movement_table(rows: list[Scored], scores: np.ndarray, names: dict[str, str]) -> tuple[list[list[Any]], dict]:
    """Per movement: AUC (pooled over guides), mean of the per-guide AUCs, median score correct / incorrect."""
    table, aucs, per_guide = [], [], []
    for m in sorted({r.movement for r in rows}):
        sel = np.array([r.movement == m for r in rows])
        ok = np.array([r.correct for r in rows])
        guides = np.array([r.guide for r in rows])
        a = auc(scores[sel & ok], scores[sel & ~ok])
        pg = float(np.nanmean([auc(scores[sel & ok & (guides == g)], scores[sel & ~ok & (guides == g)])
                               for g in sorted(set(guides[sel]))]))
        aucs.append(a)
        per_guide.append(pg)
        table.append([names.get(m, m), int((sel & ok).sum()), int((sel & ~ok).sum()), f"{a:.3f}", f"{pg:.3f}",
                      f"{np.median(scores[sel & ok]):.1f}", f"{np.median(scores[sel & ~ok]):.1f}"])
    ok = np.array([r.correct for r in rows])
    table.append(["**all**", int(ok.sum()), int((~ok).sum()), f"**{np.mean(aucs):.3f}** (min {min(aucs):.3f})",
                  f"{np.mean(per_guide):.3f}", f"**{np.median(scores[ok]):.1f}**", f"{np.median(scores[~ok]):.1f}"])
    return table, {"mean_auc": float(np.mean(aucs)), "min_auc": float(min(aucs)),
                   "median_correct": float(np.median(scores[ok])), "median_incorrect": float(np.median(scores[~ok]))}


HEADS = ["movement", "correct", "incorrect", "AUC", "AUC per guide (mean)", "median score, correct",
         "median score, incorrect"]


def top_weights(w: np.ndarray, n: int = 8) -> str:
    order = np.argsort(-w)[:n]
    return ", ".join(f"{FEATURES[k]} {w[k]:.3g}" for k in order if w[k] > 0)


def bench_ui_prmd(root: Path, table: Any, fit: bool = False) -> dict[str, Any]:
    """The UI-PRMD tables; ``fit``: also refit the shipped calibration on all five subjects and write it."""
    from posecoach.analysis.compare.calibration import write_calibration

    t0 = time.perf_counter()
    seqs = ui_prmd_sequences(root)
    rows = score_all(seqs)
    seconds = time.perf_counter() - t0
    loso, fits = loso_scores(rows)
    t_loso, s_loso = movement_table(rows, loso, UI_PRMD_NAMES)
    if fit:
        write_calibration(_fit(rows), {"data": "UI-PRMD Kinect subjects 1-5 (form/ui_prmd_kinect)",
                                          "fitted_by": "benchmarks/bench_compare.py --fit",
                                          "date": time.strftime("%Y-%m-%d"), "comparisons": len(rows)})
    shipped = np.array([calibrated_score(r.terms, r.shape_deg) for r in rows])
    t_ship, s_ship = movement_table(rows, shipped, UI_PRMD_NAMES)
    print(f"\n### UI-PRMD Kinect, subjects 1-5: guide = a correct repetition of one subject, scored = the other "
          f"subjects' correct and incorrect repetitions ({len(rows)} comparisons, {seconds:.0f} s)\n")
    print("Leave one subject out (the calibration fitted without the scored subject, who is not a guide either):\n")
    print(table(HEADS, t_loso))
    print("\nWith the shipped calibration (fitted on all five subjects: in-sample, for reference only):\n")
    print(table(HEADS, t_ship))
    ship = load_calibration()
    print(f"\nShipped calibration (z_typical {ship.z_typical:.3g}, shape tolerance {ship.shape_tolerance_deg:.1f}°), "
          f"largest weights: {top_weights(ship.weights)}")
    for s, cal in enumerate(fits, start=1):
        print(f"  without subject {s} (z_typical {cal.z_typical:.3g}, shape tolerance "
              f"{cal.shape_tolerance_deg:.1f}°): {top_weights(cal.weights, 5)}")
    return {"loso": s_loso, "shipped": s_ship, "table_loso": t_loso, "table_shipped": t_ship}


def bench_keraal(root: Path, table: Any) -> dict[str, Any]:
    rows = []
    for folder, name in KERAAL_EXERCISES.items():
        files = sorted((root / "Skeleton_Blazepose" / folder).glob("*/*.txt"))
        guide_path = next(p for p in files if p.stem.endswith("Correct0"))
        ref = prepare(read_keraal_blazepose(guide_path), role="guide", mirror=False)
        for p in files:
            if p != guide_path:
                report, matched = match_prepared(ref, prepare(read_keraal_blazepose(p)))
                rows.append(Scored(name, 0, 1, "Correct" in p.stem, matched.terms, shape_deviation(matched.shape),
                                   float(report.score or 0.0)))
    scores = np.array([r.score for r in rows])
    t, s = movement_table(rows, scores, {})
    print("\n### KERAAL group 3 (one person, BlazePose): guide = Correct0, scored = the other correct and the "
          "error repetitions of the same exercise\n")
    print(table(HEADS, t))
    return s
