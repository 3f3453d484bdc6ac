"""Plain words for the largest deviations from the guide and for the tempo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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



_AXIS = {"x": "sideways", "y": "up and down", "z": "forwards and backwards"}


def range_words(channel: str, guide: float, attempt: float) -> str:
    """How far one calibration channel moves against the guide, e.g. 'the left shoulder moves 18 % of the torso
    length sideways against the guide's 7 %' or 'the left knee's angle ranges over 45 degrees against the
    guide's 90'."""
    g, a = round(guide), round(attempt)
    if channel.startswith("tilt_"):
        return (f"the tilt of the {channel.removeprefix('tilt_').replace('_', ' ')} ranges over {a} degrees "
                f"against the guide's {g}")
    parts = channel.split("_")
    if len(parts) == 3 and parts[2] in _AXIS:  # a point in the body frame, per cent of the torso length
        side, point, axis = parts
        return f"the {side} {point} moves {a} % of the torso length {_AXIS[axis]} against the guide's {g} %"
    if len(parts) == 4 and parts[2] == "trunk" and parts[3] in _AXIS:  # an arm point in the trunk's frame
        side, point, _, axis = parts
        return (f"the {side} {point} moves {a} % of the torso length {_AXIS[axis]} relative to the trunk "
                f"against the guide's {g} %")
    what = "the trunk's lean" if channel == "trunk_lean" else f"the {joint_words(channel)}'s angle"
    return f"{what} ranges over {a} degrees against the guide's {g}"


def contribution_words(feature: str, channels: tuple[str, ...], ref_range: np.ndarray, att_range: np.ndarray,
                       main: list[int], point: int | None = None) -> str | None:
    """Plain words with numbers for one range feature of the calibration (``excess/kind``, ``deficit/kind``,
    ``.../main`` or ``.../main_point``: the guide's most moving point coordinate ``point``), naming the channel of
    that kind whose range differs most; None for the excursion, overshoot and undershoot features (the joint
    findings tell those) or when nothing was measured."""
    deviation, kind = feature.split("/", 1)
    if deviation not in ("excess", "deficit"):
        return None
    if kind == "main":
        idx = list(main)
    elif kind == "main_point":
        idx = [] if point is None else [point]
    else:
        idx = [k for k, c in enumerate(channels)
               if c.replace("left_", "").replace("right_", "") == kind]
    diff = {k: float(att_range[k] - ref_range[k]) for k in idx if np.isfinite(att_range[k] - ref_range[k])}
    wanted = {k: d for k, d in diff.items() if (d > 0) == (deviation == "excess")}
    if not wanted:
        return None
    k = max(wanted, key=lambda i: abs(wanted[i]))
    return range_words(channels[k], float(ref_range[k]), float(att_range[k]))
