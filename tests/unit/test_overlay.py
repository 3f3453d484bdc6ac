"""Tests for posecoach.render.overlay (synthetic frames and stick figures; no video, no angle module)."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

import posecoach.features
from posecoach.core.sequence import PoseSequence
from posecoach.core.skeleton import BLAZEPOSE_33 as S
from posecoach.render import OverlayRenderer, draw_sequence_frame

LEFT = np.array(OverlayRenderer.COLORS["left"])
RIGHT = np.array(OverlayRenderer.COLORS["right"])
CENTRE = np.array(OverlayRenderer.COLORS["centre"])
kpi = S.index


def figure(cx: float = 0.5, top: float = 0.1, height: float = 0.8) -> np.ndarray:
    """A standing stick figure facing the camera, (33, 5); the person's left is on the image's right."""
    u = height / 8.0
    pts = {"nose": (cx, top + 0.5 * u)}
    for s, sg in (("left", 1), ("right", -1)):
        pts |= {
            f"{s}_{name}": (cx + sg * dx * u, top + dy * u)
            for name, dx, dy in (
                ("eye_inner", 0.08, 0.35), ("eye", 0.16, 0.33), ("eye_outer", 0.24, 0.35), ("ear", 0.4, 0.45),
                ("shoulder", 0.9, 1.5), ("elbow", 1.2, 2.8), ("wrist", 1.3, 4.0), ("pinky", 1.45, 4.35),
                ("index", 1.35, 4.35), ("thumb", 1.2, 4.35), ("hip", 0.5, 4.2), ("knee", 0.55, 6.0),
                ("ankle", 0.55, 7.7), ("heel", 0.55, 7.9), ("foot_index", 0.8, 8.0),
            )
        }
        pts[f"mouth_{s}"] = (cx + sg * 0.12 * u, top + 0.75 * u)
    out = np.ones((33, 5), np.float32)
    out[:, 2] = 0.0
    for i, n in enumerate(S.names):
        out[i, :2] = pts[n]
    return out


def fake_angles(kp: np.ndarray, *, width: int, height: int) -> dict[str, float]:
    assert kp.shape == (33, 5) and width > 0 and height > 0
    return {"left_knee": 172.0, "right_knee": 168.4, "left_hip": float("nan"), "trunk_lean": 5.0}


JOINTS = {"left_knee": kpi("left_knee"), "right_knee": kpi("right_knee"), "left_hip": kpi("left_hip"),
          "trunk_lean": kpi("left_shoulder")}


def blank(h: int = 480, w: int = 640) -> np.ndarray:
    return np.zeros((h, w, 3), np.uint8)


def renderer(**kw) -> OverlayRenderer:
    kw.setdefault("angles_fn", fake_angles)
    kw.setdefault("angle_joint", JOINTS)
    return OverlayRenderer(**kw)


def px(kp: np.ndarray, i: int, img: np.ndarray) -> tuple[int, int]:
    h, w = img.shape[:2]
    return round(float(kp[i, 0]) * w), round(float(kp[i, 1]) * h)


def mid(kp: np.ndarray, a: int, b: int, img: np.ndarray) -> tuple[int, int]:
    (xa, ya), (xb, yb) = px(kp, a, img), px(kp, b, img)
    return (xa + xb) // 2, (ya + yb) // 2


def brightest(img: np.ndarray, xy: tuple[int, int], r: int = 1) -> np.ndarray:
    """The brightest pixel within ``r`` of ``xy`` (antialiasing can leave the exact pixel partly covered)."""
    x, y = xy
    patch = img[y - r:y + r + 1, x - r:x + r + 1].reshape(-1, 3).astype(int)
    return patch[patch.sum(axis=1).argmax()]


def nearest_colour(pix: np.ndarray) -> str:
    d = {k: np.abs(pix - c).sum() for k, c in (("left", LEFT), ("right", RIGHT), ("centre", CENTRE))}
    return min(d, key=d.get)


@pytest.mark.parametrize("hw", [(480, 640), (240, 320), (1080, 1920)])
def test_bones_have_side_colours(hw):
    img = np.zeros((*hw, 3), np.uint8)
    kp = figure()
    out = renderer(show_angles=False, show_ids=False).draw(img, kp[None], [0], 0)
    assert out is img and out.shape == (*hw, 3) and out.dtype == np.uint8
    left = brightest(out, mid(kp, kpi("left_hip"), kpi("left_knee"), out))
    right = brightest(out, mid(kp, kpi("right_hip"), kpi("right_knee"), out))
    centre = brightest(out, mid(kp, kpi("left_hip"), kpi("right_hip"), out))
    assert nearest_colour(left) == "left" and np.abs(left - LEFT).max() <= 40  # RGB order, not BGR
    assert nearest_colour(right) == "right" and np.abs(right - RIGHT).max() <= 40
    assert nearest_colour(centre) == "centre"
    assert out[0, 0].sum() == 0  # background untouched


def bone_width(hw: tuple[int, int]) -> int:
    img = np.zeros((*hw, 3), np.uint8)
    kp = figure()
    renderer(show_angles=False, show_ids=False).draw(img, kp[None], [0], 0)
    x, y = mid(kp, kpi("left_hip"), kpi("left_knee"), img)
    row = img[y, x - 30:x + 31].sum(axis=1)
    return int((row > 0).sum())


def test_sizes_scale_with_resolution():
    assert bone_width((240, 320)) < bone_width((720, 1280)) < bone_width((1080, 1920)) + 1
    assert bone_width((1080, 1920)) >= 4


def test_nan_person_draws_nothing():
    img = blank()
    people = np.full((2, 33, 5), np.nan, np.float32)
    out = renderer().draw(img, people, [4, 9], 4)
    assert not out.any()
    assert not renderer().draw(img, np.zeros((0, 33, 5), np.float32), [], None).any()


def test_partial_nan_and_far_out_coordinates_are_safe():
    img = blank()
    kp = figure()
    kp[kpi("left_knee"), :2] = np.nan
    kp[kpi("right_ankle"), :2] = (1e9, -1e9)
    kp[kpi("nose"), 3] = np.nan  # unknown visibility: still drawn
    renderer().draw(img, kp[None], [0], 0)
    assert img.any()
    # no bone through the missing knee
    assert img[mid(kp, kpi("left_hip"), kpi("left_ankle"), img)[::-1]].sum() == 0


def test_low_visibility_and_presence_hidden():
    kp = figure()
    knee = kpi("left_knee")
    shown = renderer(show_angles=False, show_ids=False).draw(blank(), kp[None], [0], 0)
    x, y = px(kp, knee, shown)
    assert shown[y, x].sum() > 0
    for field in (3, 4):  # visibility, presence
        hidden = kp.copy()
        hidden[knee, field] = 0.2
        img = renderer(show_angles=False, show_ids=False).draw(blank(), hidden[None], [0], 0)
        assert img[y - 3:y + 4, x - 3:x + 4].sum() == 0  # knee and both of its bones gone near the joint
        assert img[mid(kp, kpi("left_hip"), knee, img)[::-1]].sum() == 0
        assert brightest(img, mid(kp, kpi("right_hip"), kpi("right_knee"), img)).sum() > 0
    lenient = kp.copy()
    lenient[knee, 3] = 0.2
    img = renderer(show_angles=False, show_ids=False, min_visibility=0.1).draw(
        blank(), lenient[None], [0], 0)
    assert img[y, x].sum() > 0


def test_other_people_dimmer_than_subject():
    img = blank()
    a, b = figure(cx=0.27), figure(cx=0.73)
    renderer(show_angles=False, show_ids=False).draw(img, np.stack([a, b]), [1, 2], subject=2)
    bones = [(kpi(f"{s}_hip"), kpi(f"{s}_knee")) for s in ("left", "right")]
    bones.append((kpi("left_hip"), kpi("right_hip")))
    for bone in bones:
        other, subj = brightest(img, mid(a, *bone, img)), brightest(img, mid(b, *bone, img))
        assert 0 < other.sum() < 0.8 * subj.sum()
        assert np.ptp(other) < np.ptp(subj) or np.ptp(subj) == 0  # also less saturated
    img2 = np.zeros_like(img)  # no subject: everybody in full colour
    renderer(show_angles=False, show_ids=False).draw(img2, np.stack([a, b]), [1, 2], subject=None)
    assert np.abs(brightest(img2, mid(a, kpi("left_hip"), kpi("left_knee"), img2)) - LEFT).max() <= 40


def near(img: np.ndarray, xy: tuple[int, int], r: int = 70) -> np.ndarray:
    x, y = xy
    return img[max(0, y - r):y + r, max(0, x - r):x + r]


def test_angle_labels_for_subject_only():
    people = np.stack([figure(cx=0.27), figure(cx=0.73)])
    on = renderer(show_ids=False).draw(blank(), people, [1, 2], 2)
    off = renderer(show_ids=False, show_angles=False).draw(blank(), people, [1, 2], 2)
    knee = kpi("left_knee")
    assert (near(on, px(people[1], knee, on)) != near(off, px(people[1], knee, off))).any()
    assert np.array_equal(on[:, :320], off[:, :320])  # the other person gets no labels
    # left hip angle is NaN: nothing drawn beside the hip apart from the skeleton
    only_hip = renderer(show_ids=False, angle_names=["left_hip"]).draw(
        blank(), people, [1, 2], 2)
    assert np.array_equal(only_hip, off)


def test_angles_module_imported_lazily(monkeypatch):
    calls = []

    def frame_angles(kp, *, width, height):
        calls.append((width, height))
        return {"left_knee": 90.0}

    fake = types.ModuleType("posecoach.features.angles")
    fake.frame_angles = frame_angles
    fake.ANGLE_JOINT = {"left_knee": kpi("left_knee")}
    monkeypatch.setitem(sys.modules, "posecoach.features.angles", fake)
    monkeypatch.setattr(posecoach.features, "angles", fake, raising=False)
    r = OverlayRenderer(show_ids=False)
    assert not calls
    kp = figure()
    on = r.draw(blank(), kp[None], [0], 0)
    off = OverlayRenderer(show_ids=False, show_angles=False).draw(blank(), kp[None], [0], 0)
    assert calls == [(640, 480)]
    assert (on != off).any()


def test_missing_angles_module_warns_and_still_draws(monkeypatch):
    monkeypatch.setitem(sys.modules, "posecoach.features.angles", None)  # makes the import fail
    monkeypatch.delattr(posecoach.features, "angles", raising=False)
    r = OverlayRenderer()
    with pytest.warns(RuntimeWarning, match="angles"):
        img = r.draw(blank(), figure()[None], [0], 0)
    assert img.any()
    r.draw(blank(), figure()[None], [0], 0)  # no second warning needed, no error


def test_ids_and_info():
    kp = figure(top=0.25, height=0.6)
    with_ids = renderer(show_angles=False).draw(blank(), kp[None], [3], 3)
    without = renderer(show_angles=False, show_ids=False).draw(blank(), kp[None], [3], 3)
    x, y = px(kp, kpi("left_eye"), with_ids)
    above = (slice(0, y - 6), slice(x - 80, x + 80))
    assert with_ids[above].any() and not without[above].any()  # the id tag sits above the head
    tag = with_ids[above].reshape(-1, 3)
    assert (np.abs(tag - np.array(OverlayRenderer.SUBJECT_TAG)).sum(axis=1) < 10).sum() > 50

    white = np.full((480, 640, 3), 255, np.uint8)
    out = renderer().draw(white, np.zeros((0, 33, 5), np.float32), [], None, info="frame 120  t=4.00s")
    corner = out[:40, :200]
    assert (corner.max(axis=2) < 100).mean() > 0.15  # dark box behind the text
    assert (corner == 255).all(axis=2).any()  # white text on it
    assert (out[200:] == 255).all()


def test_input_validation_and_non_contiguous_images():
    r = renderer()
    with pytest.raises(ValueError):
        r.draw(blank(), figure()[None], [1, 2], 1)
    with pytest.raises(ValueError):
        r.draw(np.zeros((480, 640), np.uint8), figure()[None], [1], 1)
    base = np.zeros((480, 1280, 3), np.uint8)
    view = base[:, ::2]
    out = r.draw(view, figure()[None], [1], 1)
    assert out.shape == (480, 640, 3) and out.dtype == np.uint8 and out.any()
    single = r.draw(blank(), figure(), [1], 1)  # a (33, 5) array is one person
    assert np.array_equal(single, out)


def test_draw_sequence_frame():
    lm = np.full((2, 2, 33, 5), np.nan, np.float32)
    lm[1, 0], lm[1, 1] = figure(cx=0.27), figure(cx=0.73)
    seq = PoseSequence(landmarks=lm, world=np.full((2, 2, 33, 3), np.nan, np.float32),
                       timestamps=np.array([0.0, 0.1]), fps=10.0, track_ids=np.array([5, 8]), subject=8)
    r = renderer()
    assert not draw_sequence_frame(r, blank(), seq, 0).any()
    got = draw_sequence_frame(r, blank(), seq, 1, info="frame 1")
    want = r.draw(blank(), lm[1], [5, 8], 8, info="frame 1")
    assert np.array_equal(got, want)
