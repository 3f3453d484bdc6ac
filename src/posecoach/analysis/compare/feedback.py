"""Plain words for the largest deviations from the guide and for the tempo."""

from __future__ import annotations

from dataclasses import dataclass

#: Differences smaller than this (degrees, mean over a phase) are not worth telling.
MIN_DEVIATION_DEG = 8.0
#: Tempo within this ratio of the guide's counts as the same pace.
SAME_PACE = 0.15


@dataclass(frozen=True)
class Finding:
    """A mean angle difference (attempt minus guide) of one joint in one phase of one repetition."""

    joint: str
    rep: int | None
    phase: str
    phase_words: str
    difference: float
    weight: float = 1.0


def joint_words(joint: str) -> str:
    return "the trunk" if joint == "trunk_lean" else joint.replace("_", " ")


def describe(f: Finding) -> str:
    """e.g. 'left knee bends 25 degrees less than the guide at the bottom of rep 3'."""
    d = abs(round(f.difference))
    more = f.difference > 0
    name, side = joint_words(f.joint), f.joint.split("_")[0]
    if f.joint.endswith("_shoulder"):
        what = f"{side} arm is raised {d} degrees {'higher' if more else 'lower'} than the guide"
    elif f.joint == "trunk_lean":
        what = f"the trunk leans {d} degrees {'more' if more else 'less'} than the guide"
    else:  # joint angles: 180 straight, smaller = more bent
        what = f"{name} bends {d} degrees {'less' if more else 'more'} than the guide"
    where = f.phase_words + (f" of rep {f.rep}" if f.rep is not None else "")
    return f"{what} {where}"


def largest(findings: list[Finding], limit: int = 5, per_joint: int = 2) -> list[Finding]:
    """The largest weighted differences above `MIN_DEVIATION_DEG`, at most ``per_joint`` for each joint."""
    ranked = sorted((f for f in findings if abs(f.difference) >= MIN_DEVIATION_DEG),
                    key=lambda f: -abs(f.difference) * f.weight)
    out: list[Finding] = []
    seen: dict[str, int] = {}
    for f in ranked:
        if seen.get(f.joint, 0) < per_joint:
            out.append(f)
            seen[f.joint] = seen.get(f.joint, 0) + 1
        if len(out) == limit:
            break
    return out


def tempo_words(guide_s: float, attempt_s: float, per_rep: bool) -> str:
    ratio = attempt_s / guide_s if guide_s > 0 else float("nan")
    unit = "per repetition" if per_rep else "in all"
    if abs(ratio - 1) <= SAME_PACE:
        return f"Tempo: about the guide's pace ({attempt_s:.1f} s {unit} against {guide_s:.1f} s)."
    pace = "slower" if ratio > 1 else "faster"
    return f"Tempo: {pace} than the guide, {attempt_s:.1f} s {unit} against {guide_s:.1f} s ({ratio:.2f}x)."


def score_words(score: float | None) -> str:
    if score is None:
        return "Nothing could be compared: no joint was seen in both the guide and the attempt."
    from posecoach.analysis.compare.calibration import score_meaning

    return f"Score {score:.0f}/100: {score_meaning(score)}."
