"""Synthetic but realistic pose sequences for tests (a test helper, not shipped).

A 3D stick body with adult segment lengths (metres) is posed by a few joint parameters: trunk pitch (0 upright,
90 prone, -90 supine), hip and knee flexion, leg abduction and out-turn, foot angle, shoulder flexion and
abduction, elbow flexion, head pitch; hands or feet may instead be placed on fixed targets (bar, floor) by
two-link inverse kinematics. Each exercise is a few keyframe poses from the rest position (phase 0) to the
turning point (phase 1), interpolated with a cosine profile per repetition. The body is filmed by a pinhole (or
orthographic) camera at a yaw of 0 (front), 45 or 90 (side) degrees and rendered as MediaPipe would return it:
world landmarks (hip-centred metres, camera-aligned, y down) and normalised image landmarks of a 16:9 frame.

Global frame: x the person's left, y up, z the direction the person faces when upright; floor at y = 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33

WIDTH, HEIGHT = 1280, 720
L_TRUNK, HIP_W, SHOULDER_W = 0.50, 0.11, 0.19  # hip centre to shoulder centre; half widths
L_THIGH, L_SHIN, L_FOOT, L_HEEL = 0.44, 0.43, 0.17, 0.07
L_UPPER, L_FORE = 0.30, 0.26
HOLDS = ("plank", "wall_sit")
VIEWS = {"front": 0.0, "diagonal": 45.0, "45": 45.0, "side": 90.0, "back": 180.0}
_X = np.array([1.0, 0.0, 0.0])

_BILATERAL = ("hip", "knee", "leg_abd", "leg_out", "foot", "shoulder", "arm_abd", "elbow",
              "wrist_x", "wrist_y", "wrist_z", "ankle_x", "ankle_y", "ankle_z")
_DEFAULTS: dict[str, float] = {
    "trunk": 0.0, "head": 0.0, "ik": 1.0, "root_x": 0.0, "root_y": 0.08, "root_z": 0.0, "hip": 0.0, "knee": 0.0,
    "leg_abd": 3.0, "leg_out": 8.0, "foot": 115.0, "shoulder": 5.0, "arm_abd": 8.0, "elbow": 10.0,
    "wrist_x": 0.0, "wrist_y": 0.0, "wrist_z": 0.0, "ankle_x": 0.0, "ankle_y": 0.0, "ankle_z": 0.0,
}


def pose(base: dict[str, float] | None = None, **kw: float | tuple[float, float]) -> dict[str, float]:
    """A keyframe: ``base`` (default: standing, arms down) with ``kw`` changed; degrees and metres.

    Bilateral parameters take one value (x targets change sign on the right) or ``(left, right)``. ``foot`` is the
    absolute ankle-to-toe angle from straight up (115: foot flat on the floor); ``root_*`` is where the
    exercise's anchor point goes.
    """
    out = dict(base) if base is not None else {}
    for k, v in (kw if base is not None else {**_DEFAULTS, **kw}).items():
        if k in _BILATERAL:
            left, right = v if isinstance(v, tuple) else (v, -v if k.endswith("_x") else v)
            out[k + "_l"], out[k + "_r"] = float(left), float(right)
        elif k in _DEFAULTS:
            out[k] = float(v)  # type: ignore[arg-type]
        else:
            raise KeyError(f"unknown pose parameter {k!r}")
    return out


def _mirror(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The same pose with the body's sides swapped (the other leg steps forward)."""
    out = dict(p)
    for k in _BILATERAL:
        sign = -1.0 if k.endswith("_x") else 1.0
        out[k + "_l"], out[k + "_r"] = sign * p[k + "_r"], sign * p[k + "_l"]
    out["root_x"] = -p["root_x"]
    return out


@dataclass(frozen=True)
class Spec:
    """An exercise: keyframes ``(phase, pose)`` from rest (0) to the turn (1); for holds from out (0) to held (1)."""

    keys: tuple[tuple[float, dict[str, float]], ...]
    anchor: str = "ankle"  # keypoint stem whose midpoint is placed at root_x/y/z
    arm_ik: bool = False  # wrists on wrist_x/y/z targets
    leg_ik: bool = False  # ankles on ankle_x/y/z targets
    arm_hint: tuple[float, float, float] = (0.0, 1.0, 0.0)  # elbow bends towards (trunk up, front, outwards)
    leg_hint: tuple[float, float, float] = (0.0, 1.0, 0.0)  # knee bends towards
    alternate: bool = False  # odd repetitions mirrored (alternating legs)
    reach_up: bool = False  # from standing, raise the arms overhead before getting into position
    flat_hands: bool = False  # palms on the floor, fingers forward


# ----------------------------------------------------------------------------------------------- kinematics
def _sag(deg: np.ndarray) -> np.ndarray:
    """(T, 3) unit vectors ``deg`` degrees from straight up towards the front, in the sagittal plane."""
    r = np.radians(deg)
    return np.stack([np.zeros_like(r), np.cos(r), np.sin(r)], -1)


def _rot(v: np.ndarray, deg: np.ndarray, s: float, axis: int) -> np.ndarray:
    """Rotate outwards (side ``s``: +1 left, -1 right): about the forward axis (``axis=2``: abduction, 'down' turns
    outwards) or about the vertical (``axis=1``: 'forward' turns outwards)."""
    t = np.radians(deg) * s
    c, n, (x, y, z) = np.cos(t), np.sin(t), v.T
    if axis == 2:
        return np.stack([x * c - y * n, x * n + y * c, z], -1)
    return np.stack([x * c + z * n, y, -x * n + z * c], -1)


def _mid_of(pts: np.ndarray | dict[str, np.ndarray], stem: str) -> np.ndarray:
    if isinstance(pts, dict):
        return (pts["left_" + stem] + pts["right_" + stem]) / 2
    return (pts[BLAZEPOSE_33.index("left_" + stem)] + pts[BLAZEPOSE_33.index("right_" + stem)]) / 2


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _perp(hint: np.ndarray, u: np.ndarray) -> np.ndarray:
    return _unit(hint - np.sum(hint * u, -1, keepdims=True) * u)


def _bend(u: np.ndarray, deg: np.ndarray, hint: np.ndarray) -> np.ndarray:
    """``u`` turned by ``deg`` towards ``hint`` (a joint flexing)."""
    r = np.radians(deg)[:, None]
    return u * np.cos(r) + _perp(hint, u) * np.sin(r)


def _ik(root: np.ndarray, target: np.ndarray, a: float, b: float, hint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-link chain from ``root`` towards ``target``: (middle joint, end), bending towards ``hint``."""
    d = target - root
    dist = np.clip(np.linalg.norm(d, axis=-1, keepdims=True), abs(a - b) + 1e-6, a + b - 1e-6)
    u = _unit(d)
    along = (a * a - b * b + dist * dist) / (2 * dist)
    mid = root + along * u + np.sqrt(np.maximum(a * a - along * along, 0.0)) * _perp(hint, u)
    return mid, root + u * dist


def body_points(p: dict[str, np.ndarray], spec: Spec) -> np.ndarray:
    """(T, 33, 3) global keypoints of the posed body (BlazePose order)."""
    trunk = p["trunk"]
    up, front = _sag(trunk), _sag(trunk + 90)
    pt: dict[str, np.ndarray] = {}
    for side, s in (("left", 1.0), ("right", -1.0)):
        k = side[0]
        hip = s * HIP_W * _X + 0 * up
        thigh_a = trunk + 180 - p["hip_" + k]
        legs = [_rot(_rot(_sag(a), p["leg_abd_" + k], s, 2), p["leg_out_" + k], s, 1)
                for a in (thigh_a, thigh_a + p["knee_" + k])]
        pt[side + "_hip"], pt[side + "_knee"] = hip, hip + L_THIGH * legs[0]
        pt[side + "_ankle"] = pt[side + "_knee"] + L_SHIN * legs[1]
        sh = L_TRUNK * up + s * SHOULDER_W * _X
        upper = _rot(_sag(trunk + 180 - p["shoulder_" + k]), p["arm_abd_" + k], s, 2)
        pt[side + "_shoulder"], pt[side + "_elbow"] = sh, sh + L_UPPER * upper
        hint = _hint(spec.arm_hint, up, front, s)
        pt[side + "_wrist"] = pt[side + "_elbow"] + L_FORE * _bend(upper, p["elbow_" + k], hint)
        _foot(pt, side, s, p["foot_" + k], p["leg_out_" + k])
    shift = np.stack([p["root_x"], p["root_y"], p["root_z"]], -1) - _mid_of(pt, spec.anchor)
    pt = {n: v + shift for n, v in pt.items()}
    for side, s in (("left", 1.0), ("right", -1.0)):
        k = side[0]
        for on, (a, b, c), lengths, hint in ((spec.arm_ik, ("shoulder", "elbow", "wrist"), (L_UPPER, L_FORE),
                                              spec.arm_hint),
                                             (spec.leg_ik, ("hip", "knee", "ankle"), (L_THIGH, L_SHIN), spec.leg_hint)):
            if on:  # the end on its target (ik = 1) or where the joint angles put it (ik = 0)
                w = p["ik"][:, None]
                target = w * np.stack([p[f"{c}_{x}_{k}"] for x in "xyz"], -1) + (1 - w) * pt[f"{side}_{c}"]
                pt[f"{side}_{b}"], pt[f"{side}_{c}"] = _ik(pt[f"{side}_{a}"], target, *lengths,
                                                           _hint(hint, up, front, s))
        _hand(pt, side, s, up, front, spec.flat_hands)
        _foot(pt, side, s, p["foot_" + k], p["leg_out_" + k])
    _face(pt, (pt["left_shoulder"] + pt["right_shoulder"]) / 2, trunk + p["head"], up)
    return np.stack([pt[n] for n in BLAZEPOSE_33.names], 1)


def _hint(c: tuple[float, float, float], up: np.ndarray, front: np.ndarray, s: float) -> np.ndarray:
    return c[0] * up + c[1] * front + c[2] * s * _X  # (trunk up, trunk front, outwards)


def _foot(pt: dict[str, np.ndarray], side: str, s: float, angle: np.ndarray, out: np.ndarray) -> None:
    pt[side + "_foot_index"] = pt[side + "_ankle"] + L_FOOT * _rot(_sag(angle), out, s, 1)
    pt[side + "_heel"] = pt[side + "_ankle"] + L_HEEL * _rot(_sag(angle + 110), out, s, 1)


def _hand(pt: dict[str, np.ndarray], side: str, s: float, up: np.ndarray, front: np.ndarray, flat: bool) -> None:
    w = pt[side + "_wrist"]
    d = _unit(w * 0 + [0.0, -0.35, 1.0] if flat else w - pt[side + "_elbow"])  # along the fingers
    t = _perp(w * 0 - s * _X if flat else front + 0.5 * up + 0.3 * s * _X, d)  # towards the thumb
    pt[side + "_index"] = w + 0.085 * d + 0.015 * t
    pt[side + "_pinky"] = w + 0.075 * d - 0.03 * t
    pt[side + "_thumb"] = w + 0.045 * d + 0.04 * t


def _face(pt: dict[str, np.ndarray], neck: np.ndarray, pitch: np.ndarray, up: np.ndarray) -> None:
    hu, hf = _sag(pitch), _sag(pitch + 90)
    c = neck + 0.08 * up + 0.17 * hu  # centre of the head
    pt["nose"] = c + 0.10 * hf - 0.01 * hu
    for side, s in (("left", 1.0), ("right", -1.0)):
        eye = c + 0.085 * hf + 0.035 * hu
        pt[side + "_eye_inner"], pt[side + "_eye"] = eye + 0.015 * s * _X, eye + 0.032 * s * _X
        pt[side + "_eye_outer"] = eye + 0.048 * s * _X
        pt[side + "_ear"] = c + 0.02 * hu + 0.075 * s * _X
        pt["mouth_" + side] = c + 0.085 * hf - 0.045 * hu + 0.025 * s * _X


def _params(spec: Spec, phase: np.ndarray, mirror: np.ndarray) -> dict[str, np.ndarray]:
    knots = [k for k, _ in spec.keys]
    p = {name: np.interp(phase, knots, [kf[name] for _, kf in spec.keys]) for name in spec.keys[0][1]}
    m = _mirror(p)
    return {k: np.where(mirror, m[k], v) for k, v in p.items()}


# ----------------------------------------------------------------------------------------------- exercises
def _fk1(kf: dict[str, float], spec: Spec) -> np.ndarray:  # (33, 3) keypoints of one keyframe
    return body_points({k: np.array([v]) for k, v in kf.items()}, spec)[0]


def _solve_trunk(kf: dict[str, float], spec: Spec, height: float) -> float:
    """Trunk pitch (45..90 degrees) at which the shoulders are ``height`` metres above the floor."""
    lo, hi = 45.0, 90.0
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _mid_of(_fk1(pose(kf, trunk=mid), spec), "shoulder")[1] > height else (lo, mid)
    return (lo + hi) / 2


def _prone(name: str) -> Spec:
    """Push-up / plank: a straight body pivoting on the toes, hands on the floor a little behind the shoulders."""
    base = pose(foot=170.0, leg_abd=2.0, leg_out=0.0, head=-15.0, root_y=0.015, shoulder=70.0)
    fk = Spec(keys=(), anchor="foot_index")
    top, bottom = (pose(base, trunk=_solve_trunk(base, fk, height)) for height in (0.57, 0.32))
    hands = pose({}, wrist_x=SHOULDER_W + 0.08, wrist_y=0.04, wrist_z=_mid_of(_fk1(top, fk), "shoulder")[2] - 0.1)
    fours = pose(base, trunk=80.0, hip=80.0, knee=90.0, foot=250.0)  # on all fours: into and out of a plank
    fours = pose(fours | hands, wrist_z=_mid_of(_fk1(fours, fk), "shoulder")[2] - 0.02)
    keys = ((0, fours), (1, top | hands)) if name == "plank" else ((0, top | hands), (1, bottom | hands))
    return Spec(keys=keys, anchor="foot_index", arm_ik=True, arm_hint=(-0.6, -0.5, 0.6), flat_hands=True)


@cache
def spec(name: str) -> Spec:
    """The keyframes of a catalogue exercise (rest at phase 0, turning point at 1; holds: out at 0, held at 1)."""
    if name in ("push_up", "plank"):
        return _prone(name)
    if name == "squat":
        legs = pose(trunk=5, hip=5, leg_abd=6, leg_out=15)
        return Spec(keys=((0, legs), (1, pose(legs, trunk=40, hip=130, knee=120, shoulder=80))))
    if name == "pull_up":  # hanging from a bar 2.3 m high; shoulders rise from 0.55 to 0.14 m below it
        bar = pose(wrist_x=0.30, wrist_y=2.30, wrist_z=0.05, hip=10, knee=30, root_y=1.755, root_z=-0.02,
                   shoulder=170, arm_abd=15)
        return Spec(keys=((0, bar), (1, pose(bar, root_y=2.16, root_z=-0.05, trunk=-8))),
                    anchor="shoulder", arm_ik=True, arm_hint=(-0.3, 0.4, 1.0), reach_up=True)
    if name == "dip":
        bars = pose(wrist_x=SHOULDER_W + 0.06, wrist_y=1.2, hip=10, knee=70, trunk=10, root_y=1.75, root_z=0.03)
        return Spec(keys=((0, bars), (1, pose(bars, trunk=30, root_y=1.45, root_z=0.20))),
                    anchor="shoulder", arm_ik=True, arm_hint=(0.0, -1.0, 0.3))
    if name == "lunge":  # forward lunge from standing, left leg first (alternating): step, land, lower
        st = pose(ankle_x=HIP_W, trunk=5.0, root_y=0.946, ankle_y=0.08)
        step = pose(st, root_y=0.90, root_z=0.15, ankle_y=(0.15, 0.10), ankle_z=(0.40, 0.0), foot=(115, 130))
        land = pose(st, root_y=0.75, root_z=0.35, ankle_y=(0.08, 0.14), ankle_z=(0.85, 0.0), foot=(115, 150))
        low = pose(st, root_y=0.50, root_z=0.42, ankle_y=(0.08, 0.15), ankle_z=(0.85, 0.0), foot=(115, 152))
        return Spec(keys=((0, st), (0.3, step), (0.6, land), (1, low)), anchor="hip", leg_ik=True, alternate=True)
    if name == "sit_up":  # lying on the back, knees bent, arms crossed on the chest; the thighs stay put
        lying = pose(trunk=-90, hip=50, knee=110, shoulder=20, arm_abd=0, elbow=120, root_y=0.12)
        return Spec(keys=((0, lying), (1, pose(lying, trunk=-30, hip=110, head=15))), anchor="hip",
                    arm_hint=(0.0, 0.4, -1.0))
    if name == "glute_bridge":  # shoulders, hands and feet on the floor; the hips lift
        lying = pose(trunk=-90, ankle_x=HIP_W + 0.01, ankle_y=0.08, ankle_z=0.45, wrist_x=0.28, wrist_y=0.04,
                     wrist_z=-0.1, root_y=0.09, root_z=-0.5)
        return Spec(keys=((0, lying), (1, pose(lying, trunk=-130, head=40))), anchor="shoulder", arm_ik=True,
                    leg_ik=True, flat_hands=True)
    if name == "jumping_jack":
        mid = pose(arm_abd=90, leg_abd=10, root_y=0.16, knee=10)
        return Spec(keys=((0, pose()), (0.5, mid), (1, pose(arm_abd=172, elbow=15, leg_abd=16, knee=5))),
                    arm_hint=(0.3, 0.3, -1.0))
    if name == "bicep_curl":
        return Spec(keys=((0, pose(arm_abd=10)), (1, pose(shoulder=15, arm_abd=10, elbow=140))))
    if name == "shoulder_press":
        return Spec(keys=((0, pose(shoulder=15, arm_abd=75, elbow=95)), (1, pose(arm_abd=168, elbow=10))),
                    arm_hint=(1.0, 0.2, -0.3))
    if name == "wall_sit":  # standing leant against a wall, feet forward; slide down to thighs level
        return Spec(keys=((0, pose(hip=20)), (1, pose(trunk=3, hip=93, knee=90, shoulder=30, elbow=40))))
    raise KeyError(f"no synthetic exercise {name!r}")


def _standing(s: Spec, arms_up: bool = False) -> dict[str, float]:
    """Standing upright (arms down or overhead; hands and feet off their targets) where the exercise starts."""
    st = pose(shoulder=170, arm_abd=15, elbow=5, ik=0) if arms_up else pose(ik=0)
    start, anchor = s.keys[0][1], _mid_of(_fk1(st, Spec(keys=())), s.anchor)
    targets = {k: v for k, v in start.items() if k.startswith(("wrist_", "ankle_"))}
    return pose(st | targets, root_x=start["root_x"], root_y=float(anchor[1]), root_z=start["root_z"])


# ----------------------------------------------------------------------------------------------- rendering
def _ramp(t: np.ndarray, centre: float, width: float) -> np.ndarray:
    x = np.clip((t - centre + width / 2) / max(width, 1e-9), 0.0, 1.0)
    return (1 - np.cos(np.pi * x)) / 2


def _render(name: str, s: Spec, phase: np.ndarray, mirror: np.ndarray, *, fps: float, view: str | float,
            mirrored: bool, jitter: float, dropout: float, camera: str, seed: int, setup: str, setup_s: float,
            truth: dict) -> PoseSequence:
    t = np.arange(n := len(phase)) / fps
    p = _params(s, phase, mirror)
    drift = np.zeros((n, 3))
    if setup == "stand" and setup_s > 0:  # standing, 1.5 s into the start position, 0.5 s still there
        chain = [_standing(s), *([_standing(s, True)] if s.reach_up else []), s.keys[0][1]]
        w = _ramp(t, setup_s - 1.25, 1.5) * (len(chain) - 1)
        p = {k: np.where(t < setup_s, np.interp(w, range(len(chain)), [c[k] for c in chain]), v)
             for k, v in p.items()}
    elif setup == "walk" and setup_s > 0:  # drifting in from the side, bobbing
        bob = np.where(t < setup_s, 0.015 * np.abs(np.sin(2 * np.pi * t)), 0.0)
        drift = np.clip(1 - t / setup_s, 0, 1)[:, None] * [-0.8, 0.0, -0.4] + bob[:, None] * [0.0, 1.0, 0.0]
    elif setup not in ("still", "stand", "walk"):
        raise ValueError(f"setup must be still, walk or stand, got {setup!r}")
    pts = body_points(p, s) + drift[:, None, :]
    rng = np.random.default_rng(seed)
    yaw = np.radians(VIEWS[view] if isinstance(view, str) else float(view))
    back = np.array([np.sin(yaw), 0.0, np.cos(yaw)])  # from the subject towards the camera
    right, upv = np.array([np.cos(yaw), 0.0, -np.sin(yaw)]), np.array([0.0, 1.0, 0.0])
    flat = pts.reshape(-1, 3)
    extent = max(np.ptp(flat[:, 1]), np.ptp(flat @ right) * HEIGHT / WIDTH, 0.5)
    f = 0.9 * WIDTH
    cam = (flat.min(0) + flat.max(0)) / 2 + (f * extent / (0.75 * HEIGHT) + np.ptp(flat @ back) / 2) * back
    img = pts + rng.normal(0.0, jitter, pts.shape) - cam
    depth = -(img @ back)
    if camera not in ("pinhole", "orthographic"):
        raise ValueError(f"camera must be pinhole or orthographic, got {camera!r}")
    scale = f / depth if camera == "pinhole" else np.full(depth.shape, 0.75 * HEIGHT / extent)
    wpts = pts + rng.normal(0.0, jitter, pts.shape)
    wpts -= (wpts[:, 23:24] + wpts[:, 24:25]) / 2
    world = np.stack([wpts @ right, -(wpts @ upv), -(wpts @ back)], -1)
    hip_scale = (scale[:, 23] + scale[:, 24])[:, None] / 2
    vis = np.clip(0.97 - 1.5 * np.maximum(world[..., 2], 0), 0.5, 0.99)  # behind the hips: less visible
    lm = np.stack([0.5 + (img @ right) * scale / WIDTH, 0.5 - (img @ upv) * scale / HEIGHT,
                   world[..., 2] * hip_scale / WIDTH, vis], -1)
    if mirrored:  # a mirrored video: the image flips and the model names the sides as it sees them
        lm[..., 0], world[..., 0] = 1 - lm[..., 0], -world[..., 0]
        lm, world = lm[:, BLAZEPOSE_33.mirror_indices()], world[:, BLAZEPOSE_33.mirror_indices()]
    missing = np.zeros(n, bool)
    while missing.mean() < dropout:  # short bursts of missing frames
        a = int(rng.integers(0, n))
        missing[a:a + int(rng.integers(1, 5))] = True
    lm[missing] = 0.0
    world[missing] = 0.0
    src = {"width": WIDTH, "height": HEIGHT, "synthetic": {"exercise": name, "view": view, "mirrored": mirrored,
                                                           "camera": camera, **truth}}
    return PoseSequence.from_landmarks(lm.astype(np.float32), fps=fps, world=world.astype(np.float32), source=src)


def make_exercise(name: str, reps: int = 5, period_s: float | Sequence[float] = 2.0, fps: float = 30.0,
                  view: str | float = "side", mirrored: bool = False, jitter: float = 0.005, setup_s: float = 0.0,
                  rest_s: float = 0.0, seed: int = 0, *, amplitude: float | Sequence[float] = 1.0,
                  dropout: float = 0.0, setup: str = "still", pause_s: float = 0.0, camera: str = "pinhole",
                  adjust: dict[str, float] | None = None) -> PoseSequence:
    """``reps`` repetitions of a catalogue exercise.

    ``period_s`` and ``amplitude`` (share of the full range; 0.5 = a half rep) are one value or one per
    repetition (speed changes, partial reps). ``setup`` before the first rep: ``still`` (the start position),
    ``walk`` (drifting into place) or ``stand`` (standing, then into the start position); after the last rep
    ``rest_s`` in the rest position. ``jitter`` in metres (image and world independently), ``dropout`` the share of
    frames missing (rows of zeros) in short bursts. ``view``: front / diagonal (45) / side or a yaw in degrees.
    ``adjust`` is added to every keyframe (faulty form, e.g. ``{"hip": -20}``: sagging hips in a push-up).
    """
    if name in HOLDS:
        raise ValueError(f"{name} is a hold: use make_hold")
    s = _adjusted(spec(name), adjust)
    periods = np.broadcast_to(np.asarray(period_s, float), (reps,))
    amps = np.broadcast_to(np.asarray(amplitude, float), (reps,))
    segments = [(np.zeros(round(setup_s * fps)), False)]
    for k in range(reps):
        m, alt = round(periods[k] * fps), s.alternate and k % 2 == 1
        segments.append((amps[k] * (1 - np.cos(2 * np.pi * np.arange(m) / m)) / 2, alt))
        if pause_s and k < reps - 1:
            segments.append((np.zeros(round(pause_s * fps)), alt))
    segments.append((np.zeros(round(rest_s * fps) + 1), False))  # one frame at rest closes the last repetition
    phase = np.concatenate([a for a, _ in segments])
    mirror = np.concatenate([np.full(len(a), alt) for a, alt in segments])
    truth = {"reps": int(reps), "amplitudes": [float(a) for a in amps], "periods_s": [float(x) for x in periods]}
    return _render(name, s, phase, mirror, fps=fps, view=view, mirrored=mirrored,
                   jitter=jitter, dropout=dropout, camera=camera, seed=seed, setup=setup, setup_s=setup_s,
                   truth=truth)


def make_hold(name: str, seconds: float, fps: float = 30.0, view: str | float = "side", mirrored: bool = False,
              jitter: float = 0.005, setup_s: float = 2.0, rest_s: float = 2.0, seed: int = 0, *,
              transition_s: float = 0.6, dropout: float = 0.0, setup: str = "still", camera: str = "pinhole",
              adjust: dict[str, float] | None = None) -> PoseSequence:
    """A hold (plank, wall sit) of ``seconds``, between ``setup_s`` and ``rest_s`` out of position.

    Getting in and out each take ``transition_s``; the hold is timed from the middle of one to the middle of the
    other.
    """
    if name not in HOLDS:
        raise ValueError(f"{name} is not a hold: use make_exercise")
    setup_s = max(setup_s, transition_s / 2)
    t = np.arange(round((setup_s + seconds + max(rest_s, transition_s / 2)) * fps)) / fps
    phase = _ramp(t, setup_s, transition_s) - _ramp(t, setup_s + seconds, transition_s)
    return _render(name, _adjusted(spec(name), adjust), phase, np.zeros(len(t), bool), fps=fps, view=view,
                   mirrored=mirrored, jitter=jitter, dropout=dropout, camera=camera, seed=seed, setup=setup,
                   setup_s=setup_s - transition_s / 2, truth={"hold_s": float(seconds)})


def _adjusted(s: Spec, adjust: dict[str, float] | None) -> Spec:
    off = pose({}, **(adjust or {}))
    return replace(s, keys=tuple((k, {n: v + off.get(n, 0.0) for n, v in kf.items()}) for k, kf in s.keys))


def _offset(p: np.ndarray, dx: float, dy: float) -> np.ndarray:
    return p + np.array([dx, dy])


def stick_squat_pose(d: float) -> np.ndarray:
    """A flat side-view stick figure (33, 4) in image coordinates squatting to depth ``d`` (0 standing, knee at
    175 deg; 1 at the bottom, knee at 85 deg); no world landmarks. For tests of outputs, not of accuracy."""
    alpha = math.radians((180 - (175 - 90 * d)) / 2)  # shin forward / thigh back from vertical
    ankle = np.array([0.5, 0.9])
    knee = _offset(ankle, 0.18 * math.sin(alpha), -0.18 * math.cos(alpha))
    hip = _offset(knee, -0.18 * math.sin(alpha), -0.18 * math.cos(alpha))
    shoulder = _offset(hip, 0.22 * math.sin(alpha / 2), -0.22 * math.cos(alpha / 2))
    elbow, nose = _offset(shoulder, 0.05, 0.1), _offset(shoulder, 0.02, -0.06)
    pts = {"nose": nose, "shoulder": shoulder, "elbow": elbow, "wrist": _offset(elbow, 0.08, 0.0), "hip": hip,
           "knee": knee, "ankle": ankle, "heel": _offset(ankle, -0.03, 0.02),
           "foot_index": _offset(ankle, 0.06, 0.02)}
    for n in ("pinky", "index", "thumb"):
        pts[n] = _offset(pts["wrist"], 0.01, 0.0)
    for n in ("eye_inner", "eye", "eye_outer", "ear"):
        pts[n] = _offset(nose, -0.01, -0.01)
    out = np.ones((33, 4), np.float32)
    for i, name in enumerate(BLAZEPOSE_33.names):
        stem = name.removeprefix("left_").removeprefix("right_")
        xy = pts.get(stem, _offset(nose, 0.0, 0.015))  # mouth corners
        out[i, :2] = _offset(xy, 0.004 if name.startswith("left_") else 0.0, 0.0)
        out[i, 2] = 0.0
    return out
