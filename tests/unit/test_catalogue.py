"""The exercise catalogue: every definition file loads, names and aliases resolve, broken files are reported."""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path

import pytest

from posecoach.analysis.exercises import catalogue, get_exercise, load_exercise
from posecoach.analysis.exercises.catalogue_loader import CATALOGUE_DIR
from posecoach.core.skeleton import BLAZEPOSE_33
from posecoach.errors import InputError
from posecoach.features.signals import SIGNAL_UNITS

REQUIRED = (
    "squat", "push_up", "pull_up", "lunge", "sit_up", "jumping_jack", "bicep_curl", "shoulder_press", "dip",
    "glute_bridge", "plank", "wall_sit",
)
HOLDS = {"plank", "wall_sit"}
FILES = sorted(CATALOGUE_DIR.glob("*.toml"))
#: Keypoint stems a rule may colour: "knee" for left_knee/right_knee, "nose" for the nose.
STEMS = {n.removeprefix("left_").removeprefix("right_") for n in BLAZEPOSE_33.names}


def _norm(name: str) -> str:
    return name.strip().lower().replace("-", "_").replace(" ", "_")


@pytest.fixture(autouse=True)
def _builtin_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see the built-in catalogue unless they set $POSECOACH_EXERCISES themselves."""
    monkeypatch.delenv("POSECOACH_EXERCISES", raising=False)


def test_catalogue_folder_has_the_required_files() -> None:
    stems = {f.stem for f in FILES}
    missing = set(REQUIRED) - stems
    assert not missing, f"missing definitions: {sorted(missing)}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_definition_loads_and_is_complete(path: Path) -> None:
    ex = load_exercise(path)
    assert ex.name == path.stem
    assert ex.title.strip() and ex.description.strip()
    assert ex.aliases, f"{path.name}: give at least one alias"
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    assert "phases" in raw, f"{path.name}: name the phases in plain words"
    for phase in (ex.phases.rest, ex.phases.away, ex.phases.turn, ex.phases.back):
        assert phase.strip()


def test_catalogue_holds_every_file_and_the_required_exercises() -> None:
    exercises = catalogue()
    assert set(exercises) == {f.stem for f in FILES}
    for name in REQUIRED:
        assert exercises[name].name == name


def test_reps_count_on_signals_and_holds_have_ranges() -> None:
    for name, ex in catalogue().items():
        if name in HOLDS:
            assert ex.kind == "hold"
        if ex.kind == "reps":
            assert ex.count, name
            assert len(ex.counting_channels()) == len(ex.count)
            assert len({c.signal for c in ex.count}) == len(ex.count), f"{name}: a count signal repeats"
        else:
            assert ex.hold, name
    assert {n for n, ex in catalogue().items() if ex.kind == "hold"} >= HOLDS
    assert catalogue()["squat"].kind == "reps"


def test_rest_sides_follow_the_movement() -> None:
    """Spot checks of the counting direction: +1 means the rest position is the signal's high side."""
    def rest(name: str, signal: str) -> int:
        specs = {s.signal: s.rest for s in get_exercise(name).counting_channels()}
        return specs[signal]

    assert rest("push_up", "elbow") == 1  # arms straight at rest
    assert rest("pull_up", "wrist_height") == 1  # hanging: hands far above the shoulders
    assert rest("shoulder_press", "elbow") == -1  # hands at the shoulders, elbows bent
    assert rest("jumping_jack", "shoulder") == -1  # arms down by the sides
    assert rest("sit_up", "trunk_incline") == 1  # lying: trunk horizontal
    assert rest("glute_bridge", "hip") == -1  # hips down and bent


def test_rules_name_views_and_known_joints() -> None:
    for name, ex in catalogue().items():
        for rule in ex.rules:
            where = f"{name}.{rule.id}"
            assert rule.views, f"{where}: a rule must name at least one view"
            assert len(set(rule.views)) == len(rule.views), where
            assert rule.joints, f"{where}: name the joints to draw"
            assert set(rule.joints) <= STEMS, f"{where}: unknown joints {set(rule.joints) - STEMS}"
            assert rule.cue.strip() and rule.title.strip(), where


def test_limits_and_ranges_are_in_the_signals_units() -> None:
    """Degrees stay within 0-180, torso-length quantities within a few torso lengths (catches unit slips)."""
    def plausible(signal: str, value: float, *, relative: bool = False, spread: bool = False) -> bool:
        if math.isinf(value):
            return True
        if SIGNAL_UNITS[signal] == "deg":
            low = -180 if relative or signal.endswith("_diff") or signal == "view_yaw" else 0
            return low <= value <= 180 and not (spread and value <= 0)
        return -5 <= value <= 5

    for name, ex in catalogue().items():
        for rule in ex.rules:
            assert plausible(rule.signal, rule.limit, relative=rule.relative), f"{name}.{rule.id}: {rule.limit}"
        for c in ex.count:
            assert c.min_rom is None or plausible(c.signal, c.min_rom, spread=True), f"{name}: {c}"
        for r in [*ex.hold, *ex.profile.posture]:
            assert r.low < r.high, f"{name}: empty range {r}"
            assert plausible(r.signal, r.low) and plausible(r.signal, r.high), f"{name}: {r}"
        for signal, value in [*ex.profile.moving.items(), *ex.profile.still.items()]:
            assert value > 0 and plausible(signal, value, spread=True), f"{name}: {signal} = {value}"


@pytest.mark.parametrize(("asked", "expected"), [
    ("Push-Ups", "push_up"), ("push up", "push_up"), ("PRESS-UP", "push_up"), ("chin-up", "pull_up"),
    ("Split Squat", "lunge"), ("crunches", "sit_up"), ("star jump", "jumping_jack"), ("Hammer Curl", "bicep_curl"),
    ("military press", "shoulder_press"), ("bench dip", "dip"), ("hip bridge", "glute_bridge"),
    ("forearm plank", "plank"), ("Wall Squat", "wall_sit"), ("  squat  ", "squat"),
])
def test_get_exercise_resolves_names_and_aliases(asked: str, expected: str) -> None:
    assert get_exercise(asked).name == expected


def test_every_alias_resolves_to_its_own_exercise() -> None:
    for name, ex in catalogue().items():
        for alias in ex.aliases:
            assert get_exercise(alias).name == name, f"{alias!r} of {name} resolves elsewhere"
            assert get_exercise(alias.upper()).name == name


def test_no_alias_is_shared() -> None:
    owner: dict[str, str] = {name: name for name in catalogue()}
    for name, ex in catalogue().items():
        for alias in ex.aliases:
            key = _norm(alias)
            assert owner.get(key, name) == name, f"alias {alias!r} of {name} is also {owner[key]}"
            owner[key] = name


@pytest.mark.parametrize("asked", ["underwater basket weaving", "", "squatt"])
def test_unknown_exercise_is_an_input_error(asked: str) -> None:
    with pytest.raises(InputError, match="unknown exercise") as err:
        get_exercise(asked)
    assert "push_up" in str(err.value)  # the message lists what is known


BROKEN = {
    "unknown_signal": 'title = "X"\n[[count]]\nsignal = "elbw"\nrest = "high"\n',
    "reps_without_count": 'title = "X"\n',
    "hold_without_ranges": 'title = "X"\nkind = "hold"\n',
    "unknown_key": 'title = "X"\nrepetitions = 3\n[[count]]\nsignal = "knee"\nrest = "high"\n',
    "bad_view": ('title = "X"\n[[count]]\nsignal = "knee"\nrest = "high"\n[[rules]]\nid = "a"\ntitle = "A"\n'
                 'cue = "c"\nsignal = "knee"\nbroken_when = "above"\nlimit = 1\nviews = ["top"]\n'),
    "bad_rest": 'title = "X"\n[[count]]\nsignal = "knee"\nrest = "up"\n',
    "bad_cut_reps": 'title = "X"\ncut_reps = "half"\n[[count]]\nsignal = "knee"\nrest = "high"\n',
    "unknown_free_signal": 'title = "X"\n[[count]]\nsignal = "knee"\nrest = "high"\n[profile]\nfree = ["arms"]\n',
    "not_toml": 'title = "X\n',
    "no_title": '[[count]]\nsignal = "knee"\nrest = "high"\n',
}


@pytest.mark.parametrize("stem", sorted(BROKEN))
def test_broken_definition_is_an_input_error_naming_the_file(tmp_path: Path, stem: str) -> None:
    path = tmp_path / f"{stem}.toml"
    path.write_text(BROKEN[stem], encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_exercise(path)
    assert path.name in str(err.value)


def test_extra_directory_adds_exercises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "farmer_carry.toml").write_text(
        'title = "Farmer carry"\nkind = "hold"\naliases = ["farmers walk"]\n'
        'hold = [{ signal = "trunk_incline", high = 20 }]\n', encoding="utf-8")
    (two / "calf_raise.toml").write_text(
        'title = "Calf raise"\naliases = ["heel raise"]\n[[count]]\nsignal = "heel_lift"\nrest = "low"\n',
        encoding="utf-8")
    assert "farmer_carry" not in catalogue()
    monkeypatch.setenv("POSECOACH_EXERCISES", os.pathsep.join([str(one), str(two)]))
    exercises = catalogue()
    assert {"farmer_carry", "calf_raise"} <= set(exercises)
    assert set(REQUIRED) <= set(exercises)  # the built-in ones stay
    assert get_exercise("Farmers Walk").kind == "hold"
    assert get_exercise("heel-raise").count[0].signal == "heel_lift"
    monkeypatch.delenv("POSECOACH_EXERCISES")
    assert "farmer_carry" not in catalogue()
    with pytest.raises(InputError):
        get_exercise("farmer_carry")


def test_broken_file_in_extra_directory_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mystery.toml").write_text('title = "Mystery"\n[[count]]\nsignal = "tail"\nrest = "high"\n',
                                           encoding="utf-8")
    monkeypatch.setenv("POSECOACH_EXERCISES", str(tmp_path))
    with pytest.raises(InputError, match=r"mystery\.toml"):
        catalogue()


def test_free_signals_neither_fit_nor_contradict_the_motion_pattern() -> None:
    """A squat with the arms swinging forward matches the squat's pattern as well as one with still arms."""
    from posecoach.analysis.recognition import MOTION_AXES, motion_match

    squat = get_exercise("squat")
    assert set(squat.profile.free) == {"shoulder", "wrist_height"}
    still_arms = {a: (0.0, 0.0) for a in MOTION_AXES} | {"knee": (0.0, 100.0), "hip": (0.0, 90.0),
                                                          "hip_height": (0.0, 0.8)}
    swinging = still_arms | {"shoulder": (0.0, 140.0), "wrist_height": (0.0, 1.2)}
    bent_elbows = still_arms | {"elbow": (0.0, 140.0)}  # not free: the elbows bending is another movement
    assert motion_match(squat, swinging, MOTION_AXES) == pytest.approx(motion_match(squat, still_arms, MOTION_AXES))
    assert motion_match(squat, bent_elbows, MOTION_AXES) < 0.8 * motion_match(squat, still_arms, MOTION_AXES)


def test_unseen_joints_are_no_evidence_for_or_against_a_profile() -> None:
    """A dip filmed with the legs out of the picture: the guessed knees 'moving' must not make it a squat."""
    from posecoach.analysis.recognition import MOTION_AXES, UNSEEN_MOVING, motion_match, profile_score

    squat, dip = get_exercise("squat"), get_exercise("dip")
    stats = {a: (0.0, 0.0) for a in SIGNAL_UNITS} | {
        "trunk_incline": (20.0, 10.0), "wrist_height": (-0.7, 0.6), "hip_height": (1.2, 1.2),
        "elbow": (120.0, 70.0), "shoulder": (30.0, 45.0), "knee": (120.0, 95.0), "hip": (150.0, 20.0)}
    legs = frozenset({"knee", "knee_diff", "hip_height", "ankle_spread"})
    # Seen, the knees' range is evidence of a squat-like pattern; unseen, it is left out of the pattern.
    assert motion_match(squat, stats, MOTION_AXES, legs) < motion_match(squat, stats, MOTION_AXES)
    assert motion_match(dip, stats, MOTION_AXES, legs) > motion_match(dip, stats, MOTION_AXES)
    assert profile_score(dip, stats, MOTION_AXES, legs) > profile_score(squat, stats, MOTION_AXES, legs)
    # "must move" on an unseen joint is uncertain: neither the full match nor a mismatch.
    still = stats | {"knee": (120.0, 0.0)}
    assert profile_score(squat, still, (), legs) == pytest.approx(profile_score(squat, stats, (), legs))
    assert 0.0 < UNSEEN_MOVING < 1.0


def test_describe_knows_nothing_of_empty_or_unseen_signals() -> None:
    import numpy as np

    from posecoach.analysis.recognition import describe

    empty = describe({"knee": np.array([]), "hip": np.array([])})
    assert set(empty) == {"knee", "hip"} and all(math.isnan(m) and math.isnan(r) for m, r in empty.values())
    knee = np.full(101, np.nan)
    knee[50] = 1.0
    stats = describe({"knee": knee, "hip": np.arange(101.0)})
    assert math.isnan(stats["knee"][0])  # fewer than 3 known frames
    assert stats["hip"] == pytest.approx((50.0, 90.0))
