"""Skeleton overlays: draw tracked people, ids, joint angles and an info line onto RGB video frames.

Colours are RGB. Left/right are the person's own (``Skeleton.side``). The subject is drawn in full colour with
its joint angles; other people are drawn in muted colours. Keypoints that are NaN, or whose visibility (or
presence) is below ``min_visibility``, are hidden together with their bones. Sizes scale with the frame's
short side, so a 320x240 and a 1920x1080 frame look alike.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import ClassVar, NamedTuple

import cv2
import numpy as np

from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33, Skeleton

RGB = tuple[int, int, int]
AnglesFn = Callable[..., Mapping[str, float]]

DEFAULT_ANGLE_NAMES: tuple[str, ...] = (
    "left_knee", "right_knee", "left_hip", "right_hip", "left_elbow", "right_elbow", "trunk_lean",
)
#: Where an angle's label goes when neither ``angle_joint`` nor ``posecoach.features.angles`` says (by name).
_FALLBACK_JOINT: dict[str, str] = {
    "left_knee": "left_knee", "right_knee": "right_knee", "left_hip": "left_hip", "right_hip": "right_hip",
    "left_elbow": "left_elbow", "right_elbow": "right_elbow", "left_shoulder": "left_shoulder",
    "right_shoulder": "right_shoulder", "trunk_lean": "left_hip", "neck": "nose",
}
_LABEL_PREFIX: dict[str, str] = {"trunk_lean": "lean ", "neck": "neck "}
#: Face and hand points: drawn smaller, with thinner bones.
_MINOR = frozenset(("nose", "eye_inner", "eye", "eye_outer", "ear", "mouth_left", "mouth_right", "pinky",
                    "index", "thumb"))
_SHIFT = 4  # sub-pixel bits for cv2 drawing
_ONE = 1 << _SHIFT
_FONT = cv2.FONT_HERSHEY_SIMPLEX


class _Sizes(NamedTuple):  # bone thickness, joint radius, font scale, font thickness
    line: int
    radius: int
    font: float
    weight: int


@functools.cache
def _degree_sign_supported() -> bool:
    """OpenCV 5's text renderer draws "°"; the Hershey-only renderer of OpenCV 4 draws "?" instead."""
    a, b = np.zeros((30, 30), np.uint8), np.zeros((30, 30), np.uint8)
    cv2.putText(a, "\u00b0", (5, 25), _FONT, 0.8, 255, 1, cv2.LINE_8)
    cv2.putText(b, "?", (5, 25), _FONT, 0.8, 255, 1, cv2.LINE_8)
    return bool(a.any()) and not np.array_equal(a, b)


def _shade(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, keep: float = 0.3) -> None:
    """Darken a rectangle in place (a translucent dark box behind text)."""
    h, w = img.shape[:2]
    roi = img[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
    np.multiply(roi, keep, out=roi, casting="unsafe")


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _dim(c: RGB) -> RGB:
    """Desaturate and darken a colour for people other than the subject."""
    grey = sum(c) / 3.0
    return tuple(round(0.62 * (0.3 * v + 0.7 * grey)) for v in c)  # type: ignore[return-value]


class OverlayRenderer:
    """Draws pose overlays onto frames; build once, call :meth:`draw` per frame."""

    COLORS: ClassVar[dict[str, RGB]] = {
        "left": (40, 170, 255), "right": (255, 130, 30), "centre": (235, 235, 235),
    }
    SUBJECT_TAG: RGB = (255, 210, 0)
    OTHER_TAG: RGB = (150, 150, 150)
    TEXT: RGB = (255, 255, 255)

    def __init__(
        self,
        skeleton: Skeleton = BLAZEPOSE_33,
        *,
        show_angles: bool = True,
        angle_names: Sequence[str] | None = None,
        min_visibility: float = 0.5,
        show_ids: bool = True,
        thickness: int | None = None,
        angles_fn: AnglesFn | None = None,
        angle_joint: Mapping[str, int] | None = None,
    ) -> None:
        self.skeleton = skeleton
        self.show_angles = show_angles
        self.angle_names = tuple(DEFAULT_ANGLE_NAMES if angle_names is None else angle_names)
        self.min_visibility = float(min_visibility)
        self.show_ids = show_ids
        self.thickness = thickness
        self._angles_fn = angles_fn
        self._angle_joint = dict(angle_joint) if angle_joint is not None else None
        self._angles_failed = False
        self._dim_colors = {k: _dim(v) for k, v in self.COLORS.items()}
        names = skeleton.names
        self._kp_side = [skeleton.side(i) for i in range(len(names))]
        base = [n.removeprefix("left_").removeprefix("right_") for n in names]
        self._kp_minor = [b in _MINOR for b in base]
        sd, mn = self._kp_side, self._kp_minor
        self._edges: list[tuple[int, int, str, bool]] = [
            (a, b, sd[a] if sd[a] == sd[b] else "centre", mn[a] or mn[b]) for a, b in skeleton.edges
        ]

    def _resolve_angles(self) -> tuple[AnglesFn | None, dict[str, int]]:
        """The angle function and label joints, importing ``posecoach.features.angles`` on first use."""
        module_joint: Mapping[str, int] = {}
        if self._angles_fn is None or self._angle_joint is None:
            try:
                from posecoach.features import angles as angles_mod

                if self._angles_fn is None:
                    self._angles_fn = angles_mod.frame_angles
                module_joint = getattr(angles_mod, "ANGLE_JOINT", {})
            except ImportError as exc:
                if self._angles_fn is None:
                    warnings.warn(f"joint angles not drawn: {exc}", RuntimeWarning, stacklevel=3)
                    self._angles_failed = True
                    return None, {}
        if self._angle_joint is None:
            joint: dict[str, int] = {}
            for name in self.angle_names:
                if name in module_joint:
                    joint[name] = int(module_joint[name])
                elif name in _FALLBACK_JOINT and _FALLBACK_JOINT[name] in self.skeleton.names:
                    joint[name] = self.skeleton.index(_FALLBACK_JOINT[name])
            self._angle_joint = joint
        return self._angles_fn, self._angle_joint

    def _sizes(self, h: int, w: int) -> _Sizes:
        """Bone thickness, joint radius, font scale and font thickness for an ``h`` x ``w`` frame."""
        short = min(h, w)
        t = self.thickness if self.thickness is not None else max(1, round(short / 240))
        font = max(0.38, short / 1150)
        return _Sizes(t, max(2, t + 1), font, max(1, round(font * 1.7)))

    def draw(
        self,
        image: np.ndarray,
        people: np.ndarray,
        track_ids: Sequence[int] | np.ndarray,
        subject: int | None = None,
        *,
        info: str | None = None,
        bone_colors: Mapping[tuple[int, int], RGB] | None = None,
        angles: Mapping[str, float] | None = None,
    ) -> np.ndarray:
        """Draw ``people`` ``(P, K, 5)`` (normalised x, y, z, visibility, presence) onto ``image``.

        ``image`` is HxWx3 uint8 RGB, drawn in place when writable and C-contiguous (else a copy is drawn),
        and returned. ``track_ids`` has one id per person; ``info`` goes in the top-left corner.
        With ``subject=None`` everybody is drawn in full colour and no angles are drawn.
        ``bone_colors``: ``{(a, b): colour}`` for bones (keypoint index pairs, either order) of the subject (of
        everybody when ``subject=None``) drawn in that colour, thicker and on top of the other bones.
        ``angles``: the subject's angle labels ``{name: degrees}`` as the reports show them for this frame
        (`posecoach.features.display.display_angles`); without them they are computed from the keypoints.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"image must be an HxWx3 uint8 array, got {image.shape} {image.dtype}")
        if not image.flags.c_contiguous or not image.flags.writeable:
            image = np.array(image, order="C")
        people = np.asarray(people, dtype=np.float32)
        if people.ndim == 2:
            people = people[None]
        ids = [int(i) for i in np.asarray(track_ids).reshape(-1)]
        if people.ndim != 3 or people.shape[1] != self.skeleton.num_keypoints or people.shape[2] < 2:
            raise ValueError(f"people must be (P, {self.skeleton.num_keypoints}, 5), got {people.shape}")
        if len(ids) != people.shape[0]:
            raise ValueError(f"{people.shape[0]} people but {len(ids)} track ids")
        sz = self._sizes(*image.shape[:2])
        info_box = self._info_box(info, sz) if info else None
        taken = [info_box[0]] if info_box else []
        for p in sorted(range(len(ids)), key=lambda p: ids[p] == subject):  # subject last, on top
            self._draw_person(image, people[p], ids[p], subject, sz, taken, bone_colors, angles)
        if info_box:
            (x0, y0, x1, y1), org = info_box
            _shade(image, x0, y0, x1, y1)
            cv2.putText(image, info, org, _FONT, sz[2], self.TEXT, sz[3], cv2.LINE_AA)
        return image

    def _info_box(self, text: str, sz: _Sizes) -> tuple[tuple[int, ...], tuple[int, int]]:
        """The info box's rectangle and the text origin inside it."""
        (tw, th), base = cv2.getTextSize(text, _FONT, sz[2], sz[3])
        pad = max(3, th // 2)
        return (pad, pad, 3 * pad + tw, 3 * pad + th + base), (2 * pad, 2 * pad + th)

    def _draw_person(
        self, img: np.ndarray, kp: np.ndarray, tid: int, subject: int | None, sz: _Sizes,
        taken: list[tuple[int, ...]], bone_colors: Mapping[tuple[int, int], RGB] | None = None,
        angles: Mapping[str, float] | None = None,
    ) -> None:
        h, w = img.shape[:2]
        ok = np.isfinite(kp[:, :2]).all(axis=1)
        for c in (3, 4):  # visibility, presence; NaN counts as unknown and is kept
            if kp.shape[1] > c:
                ok &= ~(kp[:, c] < self.min_visibility)
        if not ok.any():
            return
        lim = 3 * max(h, w)
        px = np.clip(np.nan_to_num(kp[:, :2]) * (w, h), -lim, lim)
        fixed = np.rint(px * _ONE).astype(np.int64).tolist()
        okl = ok.tolist()
        is_subject = subject is not None and tid == subject
        cols = self.COLORS if is_subject or subject is None else self._dim_colors
        t, r = sz[0], sz[1]
        thin = max(1, (t + 1) // 2)
        marked = bone_colors if bone_colors and (is_subject or subject is None) else {}
        on_top = []
        for a, b, side, minor in self._edges:
            if okl[a] and okl[b]:
                colour = (marked.get((a, b)) or marked.get((b, a))) if marked else None
                if colour is not None:
                    on_top.append((a, b, colour, 2 * (thin if minor else t) + 1))
                    continue
                cv2.line(img, fixed[a], fixed[b], cols[side], thin if minor else t, cv2.LINE_AA, _SHIFT)
        for a, b, colour, thick in on_top:
            cv2.line(img, fixed[a], fixed[b], colour, thick, cv2.LINE_AA, _SHIFT)
        for i, good in enumerate(okl):
            if good:
                rad = (max(1, r - 1) if self._kp_minor[i] else r) * _ONE
                cv2.circle(img, fixed[i], rad, cols[self._kp_side[i]], -1, cv2.LINE_AA, _SHIFT)
        if is_subject and self.show_angles and not self._angles_failed:
            self._draw_angles(img, kp, px, ok, sz, taken, angles)
        if self.show_ids:
            self._draw_id(img, px, ok, tid, is_subject, sz, taken)

    def _draw_id(
        self, img: np.ndarray, px: np.ndarray, ok: np.ndarray, tid: int, is_subject: bool,
        sz: _Sizes, taken: list[tuple[int, ...]],
    ) -> None:
        h, w = img.shape[:2]
        text = f"#{tid} subject" if is_subject else f"#{tid}"
        fs = sz[2] * 0.9
        (tw, th), base = cv2.getTextSize(text, _FONT, fs, sz[3])
        pad = max(2, th // 3)
        bw, bh = tw + 2 * pad, th + base + 2 * pad
        pts = px[ok]
        nose = self.skeleton.names.index("nose") if "nose" in self.skeleton.names else -1
        cx = px[nose, 0] if nose >= 0 and ok[nose] else (pts[:, 0].min() + pts[:, 0].max()) / 2
        x0 = int(np.clip(cx - bw / 2, 0, max(0, w - bw)))
        y0 = int(np.clip(pts[:, 1].min() - 3 * sz[1] - 0.02 * h - bh, 0, max(0, h - bh)))
        for q in taken:  # keep clear of the info box and of angle labels: step right, then down
            if _overlaps((x0, y0, x0 + bw, y0 + bh), q):
                if q[2] + 2 + bw <= w:
                    x0 = q[2] + 2
                else:
                    y0 = min(h - bh, q[3] + 2)
        taken.append((x0, y0, x0 + bw, y0 + bh))
        tag = self.SUBJECT_TAG if is_subject else self.OTHER_TAG
        cv2.rectangle(img, (x0, y0), (x0 + bw - 1, y0 + bh - 1), tag, -1)
        cv2.putText(img, text, (x0 + pad, y0 + pad + th), _FONT, fs, (0, 0, 0), sz[3], cv2.LINE_AA)

    def _draw_angles(
        self, img: np.ndarray, kp: np.ndarray, px: np.ndarray, ok: np.ndarray,
        sz: _Sizes, taken: list[tuple[int, ...]], given: Mapping[str, float] | None = None,
    ) -> None:
        fn, joints = self._resolve_angles()
        if (fn is None and given is None) or not joints:
            return
        h, w = img.shape[:2]
        _, r, fs, ft = sz
        try:
            values = given if given is not None else fn(np.asarray(kp), width=w, height=h)  # type: ignore[misc]
        except Exception as exc:  # a broken angle function must not stop a video render
            warnings.warn(f"joint angles not drawn: {exc!r}", RuntimeWarning, stacklevel=4)
            self._angles_failed = True
            return
        native = _degree_sign_supported()
        centre_x = float(px[ok, 0].mean())
        for name in self.angle_names:
            j, v = joints.get(name), values.get(name)
            if j is None or not 0 <= j < len(ok) or not ok[j] or v is None or not math.isfinite(v):
                continue
            text = f"{_LABEL_PREFIX.get(name, '')}{round(v):d}" + ("\u00b0" if native else "")
            (tw, th), base = cv2.getTextSize(text, _FONT, fs, ft)
            deg = 0 if native else max(2, round(th * 0.2))
            pad = max(1, th // 4)
            bw, bh = tw + 2 * deg + 1 + 2 * pad, th + base + 2 * pad
            jx, jy, gap = float(px[j, 0]), float(px[j, 1]), 2 * r + 1
            right = jx >= centre_x  # labels go on the outside of the body
            x = jx + gap if right else jx - gap - bw
            if x < 0 or x + bw > w:
                x = jx - gap - bw if right else jx + gap
            x0, y0 = int(np.clip(x, 0, max(0, w - bw))), int(np.clip(jy - bh / 2, 0, max(0, h - bh)))
            for _ in range(4):  # step down past labels already placed
                if not any(_overlaps((x0, y0, x0 + bw, y0 + bh), q) for q in taken):
                    break
                y0 = min(h - bh, y0 + bh + 1)
            taken.append((x0, y0, x0 + bw, y0 + bh))
            _shade(img, x0, y0, x0 + bw, y0 + bh, 0.4)
            cv2.putText(img, text, (x0 + pad, y0 + pad + th), _FONT, fs, self.TEXT, ft, cv2.LINE_AA)
            if deg:
                cv2.circle(img, (x0 + pad + tw + deg + 1, y0 + pad + deg), deg, self.TEXT, 1, cv2.LINE_AA)


def draw_sequence_frame(
    renderer: OverlayRenderer, image: np.ndarray, seq: PoseSequence, index: int, *, info: str | None = None,
) -> np.ndarray:
    """Draw frame ``index`` of ``seq`` (all its people, its subject) onto ``image``."""
    return renderer.draw(image, seq.landmarks[index], seq.track_ids, seq.subject, info=info)
