"""Form-rule benchmark: does each rule separate correct from incorrect executions, on every labelled set?

    .venv/bin/python benchmarks/bench_form.py [--cache DIR] [--model full] [--json FILE] [--coco-only]
                                              [--write-catalogue]

The labelled sets are those of `form_sets` (PushFit and kaiakol videos through the pose model, kaiakol's COCO-17
keypoint arrays, UI-PRMD Kinect repetitions, Exercise-Correction's labelled frames; the Kinect and MediaPipe
sets also converted to COCO-17 x, y, score with no depth). For every rule and set it prints precision, recall
and balanced accuracy of the rule's flag against the labels (positive = incorrect; on sets whose label names the
error, only that error's executions against the correct ones), with the catalogue's limit and with a limit fitted
leave-one-group-out (the group, a person or a source, never sees its own labels). Then, per set and group, the
same for "any confident rule" (the rules the evidence supports, as `analyze` reports them).

``--write-catalogue`` sets each rule's limit to the one fitted on every set it applies to (the supported rules of
an exercise whose labels do not name the error fitted together, as "any rule" is what a user sees), and marks
it ``experimental = false`` when the evidence supports it (`supported`); every other rule is experimental.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np

from clips import bench_parser, header, run_clips, save_rows, table
from form_sets import FormItem, all_items
from posecoach.analysis.exercises import catalogue
from posecoach.analysis.exercises.catalogue_loader import CATALOGUE_DIR
from posecoach.analysis.exercises.schema import Rule
from posecoach.analysis.form_calibration import (
    Scores,
    fit_limit,
    fit_limits_jointly,
    flag,
    leave_one_group_out,
    leave_one_group_out_jointly,
)

#: Leave-one-group-out balanced accuracy from which a rule counts as supported by a set that names its error;
#: precision (and least balanced accuracy) from which it does on a set that does not.
SUPPORTED = 0.65
SUPPORTED_PRECISION = 0.7
MIN_UNNAMED = 0.55
#: Rules with no labelled executions of their own that share another rule's evidence: the same signal and error.
TRANSFERS: dict[tuple[str, str], tuple[str, str]] = {("shoulder_press", "back_arch"): ("bicep_curl", "lean_back")}
#: Sets with more groups than this show only their total in the "any rule" table.
MAX_GROUP_ROWS = 8
#: Fewest executions of each label a rule must be measured on to count as supported.
MIN_ITEMS = 10


def _applies(item: FormItem, rule_id: str) -> bool:
    """The item scores this rule: its label names no error, or names this rule's (or it is correct)."""
    return item.error is None or not item.incorrect or item.error == rule_id


def group_key(item: FormItem) -> str:
    """The person or source held out together (a set and its COCO-17 conversion share their groups)."""
    return f"{item.set.removesuffix('_coco17')}:{item.group}"


def rule_rows(items: list[FormItem], rule_id: str) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    sel = [i for i in items if rule_id in i.values and _applies(i, rule_id)]
    return (np.array([i.values[rule_id] for i in sel], float), np.array([i.incorrect for i in sel], bool),
            [group_key(i) for i in sel], [i.set for i in sel])


def named_sets(items: list[FormItem]) -> set[str]:
    """Sets whose labels name the error (each rule is scored on its own error)."""
    return {i.set for i in items if i.error is not None}


def _fmt(x: float) -> str:
    return "-" if not np.isfinite(x) else f"{x:.2f}"


def _counts(s: Scores) -> str:
    return f"{s.tp}/{s.tp + s.fn} vs {s.fp}/{s.fp + s.tn}"


def evaluate(items: list[FormItem]) -> tuple[list[dict[str, Any]], dict[tuple[str, str], float]]:
    """Per (exercise, rule, set): figures with the catalogue's limit and leave-one-group-out; and the limits fitted
    on all the sets each rule applies to."""
    rows, fitted = [], {}
    for name, ex in catalogue().items():
        for rule in ex.rules:
            mine = [i for i in items if i.exercise == name]
            v, y, g, sets = rule_rows(mine, rule.id)
            if not len(v):
                continue
            ok = np.isfinite(v)
            fitted[(name, rule.id)] = fit_limit(v, y, rule.broken_when, rule.limit)
            logo, _ = leave_one_group_out(v, y, g, rule.broken_when, rule.limit)
            for s in [*dict.fromkeys(sets), "all"]:
                m = np.array([x == s or s == "all" for x in sets])
                if not (ok & m & y).any() or not (ok & m & ~y).any():
                    continue  # no evidence either way: nothing measured of one of the labels
                now = Scores.of(flag(v[m], rule.limit, rule.broken_when), y[m])
                lo = Scores.of(logo[m], y[m])
                rows.append({"exercise": name, "rule": rule.id, "set": s, "limit": rule.limit,
                             "experimental": rule.experimental, "n": int(m.sum()), "measured": int((ok & m).sum()),
                             "n_correct": int((ok & m & ~y).sum()), "n_incorrect": int((ok & m & y).sum()),
                             "now": now, "logo": lo, "fitted": fitted[(name, rule.id)]})
    return rows, fitted


def rules_table(rows: list[dict[str, Any]]) -> str:
    body = [[f"{r['exercise']}.{r['rule']}" + (" (exp.)" if r["experimental"] else ""), r["set"],
             f"{r['measured']}/{r['n']}", f"{r['limit']:g}", _counts(r["now"]), _fmt(r["now"].precision),
             _fmt(r["now"].recall), _fmt(r["now"].balanced_accuracy), _fmt(r["logo"].precision),
             _fmt(r["logo"].recall), _fmt(r["logo"].balanced_accuracy), f"{r['fitted']:.3g}"] for r in rows]
    return table(["rule", "set", "measured", "limit", "flagged: incorrect vs correct", "precision", "recall",
                  "bal. acc.", "LOGO precision", "LOGO recall", "LOGO bal. acc.", "limit fitted on all"], body,
                 "llrrrrrrrrrr")


def supported(rows: list[dict[str, Any]], named: set[str]) -> dict[tuple[str, str], bool]:
    """A rule is supported when, on at least one set with `MIN_ITEMS` of each label, leave-one-group-out, its
    balanced accuracy reaches `SUPPORTED`, or (on a set whose labels do not name the error, where one rule can
    only find its own share of the incorrect executions) its flags are right at least `SUPPORTED_PRECISION` of
    the time with a balanced accuracy above `MIN_UNNAMED`; and no such set shows it worse than chance."""
    out: dict[tuple[str, str], bool] = {}
    for r in rows:
        key = (r["exercise"], r["rule"])
        out.setdefault(key, False)
        if r["set"] == "all" or min(r["n_correct"], r["n_incorrect"]) < MIN_ITEMS:
            continue
        lo = r["logo"]
        out[key] = out[key] or lo.balanced_accuracy >= SUPPORTED or (
            r["set"] not in named and lo.precision >= SUPPORTED_PRECISION and lo.balanced_accuracy > MIN_UNNAMED)
    for r in rows:
        if r["set"] != "all" and min(r["n_correct"], r["n_incorrect"]) >= MIN_ITEMS \
                and r["logo"].balanced_accuracy < 0.5:
            out[(r["exercise"], r["rule"])] = False
    return out


def _matrix(items: list[FormItem], rules: list[Rule]) -> np.ndarray:
    return np.array([[i.values.get(r.id, np.nan) for r in rules] for i in items], float).reshape(len(items), -1)


def fitted_limits(items: list[FormItem], own: dict[tuple[str, str], float], ok: dict[tuple[str, str], bool]
                  ) -> dict[tuple[str, str], float]:
    """The limits to ship: supported rules of an exercise with labels that do not name the error are fitted
    together (`fit_limits_jointly`, the flag a user sees is "any rule"); the others on their own."""
    out = dict(own)
    named = named_sets(items)
    for name, ex in catalogue().items():
        rules = [r for r in ex.rules if ok.get((name, r.id))]
        mine = [i for i in items if i.exercise == name and i.set not in named]
        if rules and mine:
            limits = fit_limits_jointly(_matrix(mine, rules), [i.incorrect for i in mine],
                                        [r.broken_when for r in rules], [own[(name, r.id)] for r in rules])
            out.update({(name, r.id): lim for r, lim in zip(rules, limits, strict=True)})
    return out


def any_rule(items: list[FormItem], ok: dict[tuple[str, str], bool]) -> str:
    """Per set and group: items flagged by any confident rule, with the catalogue's limits and experimental marks,
    and leave-one-group-out (supported rules; fitted together on sets whose labels do not name the error)."""
    cat = catalogue()
    named = named_sets(items)
    logo: dict[int, bool] = defaultdict(bool)
    for name, ex in cat.items():
        rules = [r for r in ex.rules if ok.get((name, r.id))]
        if not rules:
            continue
        mine = [i for i in items if i.exercise == name and i.set not in named]
        if mine:
            start = [r.limit for r in rules]
            flags = leave_one_group_out_jointly(_matrix(mine, rules), [i.incorrect for i in mine],
                                                [group_key(i) for i in mine], [r.broken_when for r in rules], start)
            for i, f in zip(mine, flags, strict=True):
                logo[id(i)] |= bool(f)
        for rule in rules:
            sel = [i for i in items if i.exercise == name and i.set in named and _applies(i, rule.id)]
            if sel:
                f, _ = leave_one_group_out(np.array([i.values.get(rule.id, np.nan) for i in sel]),
                                           np.array([i.incorrect for i in sel]), [group_key(i) for i in sel],
                                           rule.broken_when, rule.limit)
                for i, x in zip(sel, f, strict=True):
                    logo[id(i)] |= bool(x)
    body = []
    by_set: dict[str, list[FormItem]] = defaultdict(list)
    for i in items:
        by_set[i.set].append(i)
    for s, its in by_set.items():
        groups = sorted({i.group for i in its})
        for grp in [*groups, "all"] if 1 < len(groups) <= MAX_GROUP_ROWS else ["all"]:
            sel = [i for i in its if grp in ("all", i.group)]
            y = [i.incorrect for i in sel]
            now = Scores.of([_flagged(i, cat) for i in sel], y)
            lo = Scores.of([logo[id(i)] for i in sel], y)
            body.append([s, grp, _counts(now), _fmt(now.precision), _fmt(now.recall), _fmt(now.balanced_accuracy),
                         _counts(lo), _fmt(lo.precision), _fmt(lo.recall), _fmt(lo.balanced_accuracy)])
    return table(["set", "group", "flagged: incorrect vs correct", "precision", "recall", "bal. acc.",
                  "LOGO flagged", "LOGO precision", "LOGO recall", "LOGO bal. acc."], body, "llrrrrrrrr")


def _flagged(item: FormItem, cat: dict) -> bool:
    ex = cat[item.exercise]
    return any(bool(flag(np.array([item.values.get(r.id, np.nan)]), r.limit, r.broken_when)[0])
               for r in ex.rules if not r.experimental and _applies(item, r.id))


def evidence_notes(rows: list[dict[str, Any]], fitted: dict[tuple[str, str], float],
                   ok: dict[tuple[str, str], bool]) -> dict[tuple[str, str], tuple[float, bool, str]]:
    """Per rule measured on labelled executions (and per `TRANSFERS` target): the limit to ship, whether the
    evidence supports the rule, and the evidence in words. An unsupported rule keeps its catalogue limit."""
    cat = catalogue()
    out = {}
    for r in rows:
        key = (r["exercise"], r["rule"])
        if r["set"] != "all":
            continue
        sets = ", ".join(sorted({x["set"] for x in rows if (x["exercise"], x["rule"]) == key} - {"all"}))
        lo = r["logo"]
        figures = (f"leave-one-group-out balanced accuracy {lo.balanced_accuracy:.2f}, precision {_fmt(lo.precision)},"
                   f" recall {_fmt(lo.recall)} ({r['n_incorrect']} incorrect, {r['n_correct']} correct)")
        if ok[key]:
            out[key] = (fitted[key], True, f"bench_form.py, limit fitted on {sets}: {figures}")
        else:
            limit = next(x.limit for x in cat[key[0]].rules if x.id == key[1])
            out[key] = (limit, False, f"bench_form.py on {sets}: not supported ({figures} with a fitted limit)")
    for dst, src in TRANSFERS.items():
        if src in out:
            limit, good, _ = out[src]
            out[dst] = (limit, good, f"no labelled executions: limit and support transferred from {'.'.join(src)} "
                        "(the same signal and error in a standing upper-body lift); not measured on this exercise")
    return out


def write_catalogue(notes: dict[tuple[str, str], tuple[float, bool, str]]) -> list[str]:
    """Set the limits, ``experimental`` and ``evidence`` in the catalogue's TOML files."""
    changed = []
    for (name, rule_id), (limit, good, evidence) in notes.items():
        path = CATALOGUE_DIR / f"{name}.toml"
        blocks = path.read_text().split("[[rules]]")
        for k, b in enumerate(blocks[1:], 1):
            if re.search(rf'^id = "{re.escape(rule_id)}"$', b, re.M):
                b = re.sub(r"^limit = .*$", f"limit = {_toml_number(limit)}", b, count=1, flags=re.M)
                b = re.sub(r'^(experimental|evidence) = .*\n', "", b, flags=re.M)
                b = b.rstrip("\n") + f"\nexperimental = {'false' if good else 'true'}\n" \
                    + f'evidence = "{evidence}"\n' + ("\n" if k < len(blocks) - 1 else "")
                blocks[k] = b
        path.write_text("[[rules]]".join(blocks))
        changed.append(f"{name}.{rule_id}: limit {_toml_number(limit)}, {'supported' if good else 'experimental'}")
    return changed


def _toml_number(x: float) -> str:
    return f"{x:.4g}"


def main() -> None:
    parser = bench_parser(__doc__)
    parser.add_argument("--coco-only", action="store_true", help="only the COCO-17 keypoint sets (no video)")
    parser.add_argument("--write-catalogue", action="store_true", help="write the fitted limits to the catalogue")
    args = parser.parse_args()
    items: list[FormItem] = []

    def run(cache: Any) -> list[dict[str, Any]]:
        items.extend(all_items(cache, coco_only=args.coco_only))
        return [{"set": i.set, "group": i.group, "name": i.name, "exercise": i.exercise, "incorrect": i.incorrect,
                 "error": i.error, "reps": i.reps, "values": i.values} for i in items]

    raw = run_clips(parser, args, run)
    print(header())
    sets = defaultdict(lambda: [0, 0])
    for i in items:
        sets[i.set][i.incorrect] += 1
    print("\nLabelled sets (correct / incorrect executions): "
          + "; ".join(f"{s} {c}/{n}" for s, (c, n) in sets.items())
          + ". KERAAL (seated low-back exercises): no catalogue exercise, no rule applies.\n")
    rows, own = evaluate(items)
    ok = supported(rows, named_sets(items))
    fitted = fitted_limits(items, own, ok)
    print("Per rule and set: flags against labels with the catalogue's limit, then with a limit fitted leave-one-"
          "group-out (LOGO; group = person or source).\n")
    print(rules_table(rows))
    print("\nAny confident rule (experimental ones excluded), per set and group:\n")
    print(any_rule(items, ok))
    print("\nLimits fitted on every set (supported rules of a set whose labels do not name the error: fitted "
          "together), and whether the evidence supports the rule:\n")
    print(table(["rule", "catalogue limit", "fitted limit", "supported"],
                [[f"{n}.{r}", f"{catalogue()[n].rules[[x.id for x in catalogue()[n].rules].index(r)].limit:g}",
                  f"{lim:.3g}", "yes" if ok.get((n, r)) else "no"] for (n, r), lim in fitted.items()], "lrrl"))
    if args.write_catalogue:
        print("\nCatalogue updated:\n" + "\n".join(write_catalogue(evidence_notes(rows, fitted, ok))))
    save_rows(args.json, raw)


if __name__ == "__main__":
    main()
