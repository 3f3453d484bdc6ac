"""Synthetic falls and hard negatives: the training data of the shipped fall model (no recorded data needed).

A 3D stick body (adult proportions, metres) is posed per frame by a few parameters: hip-centre position
(``x``, ``h`` height above the floor, ``z``), trunk pitch (+ forward, 90 prone) and roll (sideways), thigh pitch
and roll (absolute, from straight down), knee flexion, arm flexion and heading ``yaw``. A scenario is a list of
keyframes ``(time, params)`` interpolated with a cosine profile. The body is filmed by a pinhole camera at a
random distance, height, tilt, heading and frame shape, with landmark noise and dropped frames, and returned as
a `PoseSequence` with per-frame labels: 1 from halfway through a fall's drop until 3 s after impact, else 0.

Positives: forward, backward and sideways falls from standing or walking, from a chair, slips and collapses
(knees first), with and without getting up. Negatives: standing, walking, squats, sitting down, bending to pick
something up, kneeling, lunges, jumping, lying down slowly on a bed or the floor, getting down into a plank,
sit-ups, push-ups, planks, pull-ups, dips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from posecoach.core.sequence import PoseSequence

Keyframes = list[tuple[float, dict[str, float]]]
PARAMS = ("x", "h", "z", "pitch", "roll", "thigh", "thigh_roll", "knee", "arm", "yaw", "swing")
STAND: dict[str, float] = {"x": 0.0, "h": 0.92, "z": 0.0, "pitch": 0.0, "roll": 0.0, "thigh": 0.0,
                           "thigh_roll": 0.0, "knee": 3.0, "arm": 8.0, "yaw": 0.0, "swing": 0.0}
L_TRUNK, L_HEAD, L_THIGH, L_SHIN, L_UPPER, L_FORE = 0.50, 0.17, 0.44, 0.43, 0.30, 0.27
HIP_W, SHOULDER_W = 0.10, 0.18
AFTER_IMPACT_S = 3.0  # positive frames last this long after the drop ends


@dataclass(frozen=True)
class Clip:
    sequence: PoseSequence
    labels: np.ndarray  # (T,) 0/1
    kind: str
    fall: bool


def _with(base: dict[str, float], **kw: float) -> dict[str, float]:
    return {**base, **kw}


def _interpolate(keys: Keyframes, t: np.ndarray) -> dict[str, np.ndarray]:
    times = np.array([k[0] for k in keys])
    out: dict[str, np.ndarray] = {}
    idx = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(keys) - 1)
    nxt = np.minimum(idx + 1, len(keys) - 1)
    span = np.maximum(times[nxt] - times[idx], 1e-9)
    u = np.where(nxt > idx, np.clip((t - times[idx]) / span, 0.0, 1.0), 0.0)
    w = 0.5 - 0.5 * np.cos(np.pi * u)
    for p in PARAMS:
        vals = np.array([k[1].get(p, STAND[p]) for k in keys])
        out[p] = vals[idx] * (1 - w) + vals[nxt] * w
    return out


def _vec(sign: float, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    p, r = np.radians(pitch), np.radians(roll)
    v = np.stack([np.sin(r) * np.cos(p), sign * np.cos(r) * np.cos(p), np.sin(p)], axis=-1)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def body_points(q: dict[str, np.ndarray]) -> np.ndarray:
    """(T, 33, 3) BlazePose keypoints in metres (x left, y up, z forward) for per-frame parameters ``q``."""
    T = len(q["h"])
    root = np.stack([q["x"], q["h"], q["z"]], axis=-1)
    up = _vec(1.0, q["pitch"], q["roll"])
    r = np.radians(q["roll"])
    left = np.stack([np.cos(r), -np.sin(r), np.zeros(T)], axis=-1)
    fwd = np.cross(left, up)
    pts = np.zeros((T, 33, 3))
    neck = root + up * L_TRUNK
    head = neck + up * L_HEAD * 0.6
    nose = head + fwd * 0.10
    pts[:, 0] = nose
    for i, s in ((1, 1), (2, 1), (3, 1), (4, -1), (5, -1), (6, -1)):
        pts[:, i] = nose + up * 0.035 + left * s * (0.02 + 0.012 * ((i - 1) % 3))
    pts[:, 7], pts[:, 8] = head + left * 0.075, head - left * 0.075
    pts[:, 9], pts[:, 10] = nose - up * 0.04 + left * 0.025, nose - up * 0.04 - left * 0.025
    swing = q["swing"]
    for side, s in ((0, 1.0), (1, -1.0)):
        sh = neck + left * s * SHOULDER_W
        arm = np.radians(q["arm"] + s * swing)[:, None]
        ua = np.cos(arm) * -up + np.sin(arm) * fwd
        elbow = sh + ua * L_UPPER
        wrist = elbow + ua * L_FORE
        pts[:, 11 + side], pts[:, 13 + side], pts[:, 15 + side] = sh, elbow, wrist
        for j, k in enumerate((17, 19, 21)):
            pts[:, k + side] = wrist + ua * 0.06 + left * s * 0.015 * (j - 1)
        hip = root + left * s * HIP_W
        thigh = _vec(-1.0, q["thigh"] - s * swing, q["thigh_roll"])
        kf = np.radians(q["knee"])[:, None]
        shin = np.cos(kf) * thigh + np.sin(kf) * np.cross(left, thigh)
        knee = hip + thigh * L_THIGH
        ankle = knee + shin * L_SHIN
        foot = np.cross(shin, left)
        pts[:, 23 + side], pts[:, 25 + side], pts[:, 27 + side] = hip, knee, ankle
        pts[:, 29 + side], pts[:, 31 + side] = ankle - foot * 0.06, ankle + foot * 0.16
    yaw = np.radians(q["yaw"])[:, None]
    rel = pts - root[:, None]
    x = rel[..., 0] * np.cos(yaw) + rel[..., 2] * np.sin(yaw)
    z = -rel[..., 0] * np.sin(yaw) + rel[..., 2] * np.cos(yaw)
    out = np.stack([x, rel[..., 1], z], axis=-1) + root[:, None]
    out[..., 1] = np.maximum(out[..., 1], 0.02)  # nothing goes through the floor
    return out


def film(points: np.ndarray, rng: np.random.Generator, fps: float) -> PoseSequence:
    """Project ``(T, 33, 3)`` points through a random camera into a noisy `PoseSequence`."""
    T = len(points)
    dist, cam_h = rng.uniform(2.5, 7.0), rng.uniform(0.8, 2.6)
    heading = np.radians(rng.uniform(0, 360))
    tilt = np.arctan2(cam_h - 0.6, dist) + np.radians(rng.uniform(-4, 4))  # aimed at the body's middle
    cam = np.array([np.sin(heading) * dist, cam_h, np.cos(heading) * dist])
    fwd = -np.array([np.sin(heading), 0.0, np.cos(heading)])
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    up = np.cross(right, fwd)
    fwd, up = fwd * np.cos(tilt) - up * np.sin(tilt), up * np.cos(tilt) + fwd * np.sin(tilt)
    rel = points - cam
    xc, yc, zc = rel @ right, rel @ up, np.maximum(rel @ fwd, 0.3)
    width, height = [(1280, 720), (640, 480), (406, 720), (720, 1280)][rng.integers(4)]
    f = rng.uniform(0.7, 1.3) * max(width, height)
    u = (width / 2 + f * xc / zc) / width
    v = (height / 2 - f * yc / zc) / height
    u = u + rng.uniform(-0.15, 0.15)
    lm = np.zeros((T, 33, 4), dtype=np.float32)
    lm[..., 0] = u + rng.normal(0, 0.004, u.shape)
    lm[..., 1] = v + rng.normal(0, 0.004, v.shape)
    lm[..., 2] = rng.normal(0, 0.05, u.shape)
    lm[..., 3] = 0.95
    outside = (lm[..., 0] < -0.05) | (lm[..., 0] > 1.05) | (lm[..., 1] < -0.05) | (lm[..., 1] > 1.05)
    lm[..., 3][outside] = 0.1
    lost = rng.random(T) < rng.uniform(0.0, 0.06)
    lm[lost] = 0.0
    return PoseSequence.from_landmarks(lm, fps=fps, source={"width": width, "height": height, "synthetic": True})


def _j(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _lying(rng: np.random.Generator, direction: str) -> dict[str, float]:
    a = _j(rng, 80, 95)
    bend = _j(rng, 0.6, 1.0)
    if direction == "side":
        s = float(rng.choice([-1, 1]))
        return _with(STAND, h=0.13, roll=s * a, thigh_roll=-s * a * bend, thigh=_j(rng, -20, 30),
                     knee=_j(rng, 0, 60), arm=_j(rng, 20, 120))
    s = 1.0 if direction == "forward" else -1.0
    return _with(STAND, h=0.12, pitch=s * a, thigh=-s * a * bend, knee=_j(rng, 0, 50), arm=_j(rng, 30, 160))


def _stand_phase(rng: np.random.Generator, t0: float, walking: bool, base: dict[str, float]) -> Keyframes:
    keys: Keyframes = [(0.0, base)]
    if walking:
        n = max(2, int(t0 / 0.5))
        for i in range(1, n + 1):
            keys.append((t0 * i / n, _with(base, x=base["x"] + 0.6 * i * t0 / n, swing=20.0 * (-1) ** i)))
    keys.append((t0, _with(keys[-1][1], swing=0.0)))
    return keys


def _fall(rng: np.random.Generator, fps: float) -> tuple[Keyframes, float, float, str]:
    kind = str(rng.choice(["forward", "backward", "side", "chair", "collapse", "walking"]))
    t0 = _j(rng, 1.0, 4.0)
    yaw = _j(rng, -180, 180)
    base = _with(STAND, yaw=yaw)
    if kind == "chair":
        base = _with(base, h=0.48, thigh=90.0, knee=90.0, pitch=_j(rng, -5, 15))
    keys = _stand_phase(rng, t0, kind == "walking", base)
    start = keys[-1][1]
    direction = "side" if kind == "chair" else str(rng.choice(["forward", "backward", "side"]))
    dur = _j(rng, 0.4, 1.3)
    if kind == "collapse":
        keys.append((t0 + dur * 0.5, _with(start, h=0.45, thigh=60.0, knee=110.0, pitch=20.0)))
        dur *= 1.4
    down = _with(_lying(rng, direction), x=start["x"], yaw=yaw)
    keys.append((t0 + dur, down))
    lie = _j(rng, 2.0, 8.0)
    keys.append((t0 + dur + lie, _with(down, arm=down["arm"] + _j(rng, -20, 20))))
    if rng.random() < 0.35:  # gets up again
        keys.append((t0 + dur + lie + _j(rng, 1.5, 3.0), _with(STAND, h=0.5, thigh=80, knee=120, pitch=40, yaw=yaw)))
        keys.append((keys[-1][0] + _j(rng, 1.0, 2.0), _with(STAND, yaw=yaw, x=start["x"])))
        keys.append((keys[-1][0] + 1.0, _with(STAND, yaw=yaw, x=start["x"])))
    return keys, t0, t0 + dur, kind


def _reps(rng: np.random.Generator, a: dict[str, float], b: dict[str, float], n: int, period: float,
          t: float = 0.0) -> Keyframes:
    keys: Keyframes = [(t, a)]
    for _ in range(n):
        p = period * _j(rng, 0.85, 1.15)
        keys += [(keys[-1][0] + p / 2, b), (keys[-1][0] + p, a)]
    return keys


def _negative(rng: np.random.Generator) -> tuple[Keyframes, str]:
    kind = str(rng.choice(["stand", "squat", "sit", "pick_up", "kneel", "lunge", "jump", "bed", "lie_floor",
                           "sit_up", "push_up", "plank", "pull_up", "dip", "get_down", "squat"]))
    yaw = _j(rng, -180, 180)
    s = _with(STAND, yaw=yaw)
    n, period = int(rng.integers(3, 8)), _j(rng, 0.9, 3.0)
    if kind == "stand":
        keys = _stand_phase(rng, _j(rng, 4, 10), bool(rng.random() < 0.6), s)
        keys.append((keys[-1][0] + 1.0, _with(keys[-1][1], yaw=yaw + _j(rng, -120, 120))))
    elif kind == "squat":
        deep = _j(rng, 60, 125)
        keys = _reps(rng, s, _with(s, h=0.92 - 0.0048 * deep, thigh=deep, knee=deep * _j(rng, 1.6, 2.0),
                                   pitch=_j(rng, 10, 55), arm=_j(rng, 0, 100)), n, _j(rng, 0.8, 2.5))
    elif kind == "sit":
        sit = _with(s, h=_j(rng, 0.4, 0.55), thigh=90.0, knee=90.0, pitch=_j(rng, -10, 25))
        keys = [(0.0, s), (1.0, s), (1.0 + _j(rng, 0.6, 2.0), sit)]
        keys += [(keys[-1][0] + _j(rng, 1, 4), _with(sit, pitch=_j(rng, 30, 60), arm=60)),
                 (keys[-1][0] + _j(rng, 2, 5), sit), (keys[-1][0] + _j(rng, 3, 6), sit),
                 (keys[-1][0] + _j(rng, 4, 8), s), (keys[-1][0] + _j(rng, 5, 9), s)]
    elif kind == "pick_up":
        low = (_with(s, h=0.85, pitch=_j(rng, 70, 110), thigh=-_j(rng, 0, 15), arm=_j(rng, 60, 100))
               if rng.random() < 0.6 else _with(s, h=0.45, thigh=100.0, knee=140.0, pitch=_j(rng, 30, 60), arm=70))
        keys = _reps(rng, s, low, int(rng.integers(1, 4)), _j(rng, 1.0, 3.0), 0.5)
        keys.insert(0, (0.0, s))
    elif kind == "kneel":
        kneel = _with(s, h=0.5, thigh=_j(rng, -5, 20), knee=_j(rng, 80, 100), pitch=_j(rng, 0, 40))
        keys = _reps(rng, s, kneel, int(rng.integers(1, 3)), _j(rng, 2, 6))
    elif kind == "lunge":
        keys = _reps(rng, s, _with(s, h=0.55, thigh=45.0, knee=80.0, swing=40.0, pitch=_j(rng, 0, 20)), n, period)
    elif kind == "jump":
        keys = _reps(rng, s, _with(s, h=_j(rng, 0.75, 0.85), knee=50, thigh=30, arm=_j(rng, 30, 170)), n * 2,
                     _j(rng, 0.4, 1.0))
        keys = [(t, _with(k, h=1.05, knee=3, thigh=0, arm=170 if k is not s else 10) if i % 4 == 2 else k)
                for i, (t, k) in enumerate(keys)]
    elif kind in ("bed", "lie_floor"):
        seat = 0.5 if kind == "bed" else 0.12
        sit = _with(s, h=seat + 0.02, thigh=90.0, knee=90.0 if kind == "bed" else 40.0)
        side = rng.random() < 0.5
        lying = (_with(s, h=seat + 0.05, roll=float(rng.choice([-1, 1])) * 88, thigh_roll=0.0, thigh=80, knee=40)
                 if side else _with(s, h=seat + 0.05, pitch=-88.0, thigh=88.0, knee=_j(rng, 0, 60)))
        if side:
            lying["thigh_roll"] = -lying["roll"]
            lying["thigh"] = _j(rng, 0, 40)
        t1 = _j(rng, 1.5, 4.0) if kind == "bed" else _j(rng, 2.5, 5.0)
        keys = [(0.0, s), (1.0, s), (1.0 + t1, sit), (2.0 + t1, sit), (2.0 + t1 + _j(rng, 1.5, 4.0), lying)]
        keys += [(keys[-1][0] + _j(rng, 2, 8), lying), (keys[-1][0] + _j(rng, 1.5, 4.0), sit)]
        keys.append((keys[-1][0] + 2.0, sit))
    elif kind == "sit_up":
        lie = _with(s, h=0.12, pitch=-88.0, thigh=50.0, knee=90.0, arm=150)
        keys = _reps(rng, lie, _with(lie, pitch=-_j(rng, 10, 40), arm=_j(rng, 60, 150)), n, period)
    elif kind == "push_up":
        top = _with(s, h=_j(rng, 0.4, 0.5), pitch=_j(rng, 65, 75), thigh=-70.0, knee=0.0, arm=70.0)
        keys = _reps(rng, top, _with(top, h=0.18, pitch=86.0, thigh=-86.0, arm=20.0), n, period)
    elif kind == "pull_up":
        hang = _with(s, h=_j(rng, 1.0, 1.3), arm=175.0, knee=_j(rng, 0, 90))
        keys = _reps(rng, hang, _with(hang, h=hang["h"] + _j(rng, 0.3, 0.55), arm=_j(rng, 120, 160)), n, period)
    elif kind == "dip":
        top = _with(s, h=_j(rng, 0.9, 1.1), arm=-10.0, knee=_j(rng, 30, 100), pitch=_j(rng, 0, 20))
        keys = _reps(rng, top, _with(top, h=top["h"] - _j(rng, 0.2, 0.35), pitch=_j(rng, 20, 45), arm=-40), n, period)
    elif kind == "get_down":  # standing -> kneeling -> plank or lying prone, at exercise pace
        kneel = _with(s, h=0.5, thigh=0.0, knee=90.0, pitch=_j(rng, 10, 40))
        plank = _with(s, h=_j(rng, 0.15, 0.4), pitch=_j(rng, 75, 88), thigh=-80.0, knee=0.0, arm=_j(rng, 20, 80))
        t1 = _j(rng, 0.8, 2.0)
        keys = [(0.0, s), (1.0, s), (1.0 + t1, kneel), (1.0 + t1 + _j(rng, 0.8, 2.0), plank)]
        keys.append((keys[-1][0] + _j(rng, 2, 8), plank))
    else:
        plank = _with(s, h=_j(rng, 0.2, 0.35), pitch=_j(rng, 75, 85), thigh=-80.0, knee=0.0, arm=80.0)
        keys = [(0.0, plank), (_j(rng, 5, 12), _with(plank, h=plank["h"] - 0.03))]
    return keys, kind


def film_scenario(keys: Keyframes, rng: np.random.Generator, fps: float, end: float) -> PoseSequence:
    """Keyframes ``(time, params)`` (a missing parameter: standing, `STAND`) played from 0 to ``end`` seconds at
    ``fps`` and filmed by a random camera (`film`)."""
    t = np.arange(0.0, end, 1.0 / fps)
    return film(body_points(_interpolate(keys, t)), rng, fps)


def make_clip(rng: np.random.Generator, fall: bool, fps: float | None = None) -> Clip:
    """One random scenario, filmed; ``labels`` mark the fall frames (see the module docstring)."""
    fps = fps or float(rng.choice([15.0, 25.0, 30.0]))
    if fall:
        keys, t_start, t_impact, kind = _fall(rng, fps)
    else:
        keys, kind = _negative(rng)
    end = keys[-1][0] + _j(rng, 0.5, 2.0)
    seq = film_scenario(keys, rng, fps, end)
    t = np.arange(0.0, end, 1.0 / fps)
    labels = np.zeros(len(t), dtype=np.int8)
    if fall:
        labels[(t >= t_start + 0.5 * (t_impact - t_start)) & (t <= t_impact + AFTER_IMPACT_S)] = 1
    return Clip(seq, labels, kind, fall)


def make_clips(n: int, seed: int = 0, fall_share: float = 0.4) -> list[Clip]:
    """``n`` clips, ``fall_share`` of them falls; deterministic for a given seed."""
    rng = np.random.default_rng(seed)
    return [make_clip(rng, bool(rng.random() < fall_share)) for _ in range(n)]


Generator = Callable[[np.random.Generator, bool], Clip]
