"""Following a guide live (issue 28): each repetition is scored when it ends, and its live score is the offline
comparison of the same frames; the set's summary scores the repetitions as decided on the whole set."""

from __future__ import annotations

import numpy as np
import pytest

from posecoach.analysis.compare import Guide, compare_sequences
from posecoach.analysis.compare.streaming import GuidedCoach, guide_repetition, main_joint, score_repetition
from posecoach.core.sequence import PoseSequence
from posecoach.io.landmark_files import read_ui_prmd
from tests.conftest import data_file

ROOT = "form/ui_prmd_kinect/Segmented Movements/Kinect"


def _rep(movement: str, subject: int, episode: int) -> PoseSequence:
    name = f"{movement}_s{subject:02d}_e{episode:02d}_positions.txt.gz"
    return read_ui_prmd(data_file(f"{ROOT}/Positions/{name}"),
                        data_file(f"{ROOT}/Angles/{name.replace('_positions', '_angles')}"))


def _joined(movement: str, subject: int, episodes: range) -> PoseSequence:
    """Another person's recorded repetitions, one after the other, as one stream."""
    parts = [_rep(movement, subject, e) for e in episodes]
    lm, world = np.concatenate([p.landmarks for p in parts]), np.concatenate([p.world for p in parts])
    return PoseSequence(lm, world, np.arange(len(lm)) / parts[0].fps, parts[0].fps)


def _frame_of(seq: PoseSequence, t_from_start: float) -> int:
    return int(np.argmin(np.abs(seq.timestamps - seq.timestamps[0] - t_from_start)))


@pytest.mark.parametrize("movement", ["m01", "m02"])
def test_each_live_repetition_score_is_the_offline_comparison_of_its_frames(movement: str) -> None:
    guide_seq, attempt = _rep(movement, 1, 1), _joined(movement, 2, range(1, 6))
    coach = GuidedCoach(guide_seq, Guide(name="g", reps=1))
    landmarks, world = attempt.subject_landmarks(), attempt.subject_world()
    live = []
    for i in range(attempt.num_frames):
        state = coach.update(landmarks[i], world[i], float(attempt.timestamps[i]))
        live += state.new
        assert len(state.scored) <= state.coach.shown  # never more repetitions scored than counted on screen
    summary = coach.finish()
    assert len(live) >= 3  # scored while the set went on, not only at its end
    # each repetition of the summary was either scored live (the same feedback) or is new at the set's end
    assert all(any(s is f for f in live) != any(s is f for f in summary.new) for s in summary.scored)
    assert len(summary.scored) == summary.coach.count == 5
    reference, one = guide_repetition(guide_seq, Guide(name="g", reps=1))
    for fb in live + summary.scored:
        frames = attempt.frames(_frame_of(attempt, fb.start_s), _frame_of(attempt, fb.end_s) + 1)
        offline = compare_sequences(reference.seq, frames, guide=one)
        assert fb.score == offline.score, (fb.index, fb.score, offline.score)
        assert fb.deviation == (offline.deviations[0].text if offline.deviations else None)
    assert all(s.score is not None and 40 <= s.score <= 100 for s in summary.scored)
    assert all(s.rom_deg is not None and 10 < s.rom_deg < 180 for s in summary.scored)  # degrees a person reads


def test_a_guide_of_several_repetitions_is_compared_one_repetition_at_a_time() -> None:
    three = _joined("m01", 1, range(1, 4))
    reference, one = guide_repetition(three, Guide(name="g"))
    assert one.reps == 1
    assert reference.seq.num_frames < three.num_frames / 2  # one of the three repetitions, not the whole guide


def test_the_guide_repetition_against_itself_scores_100() -> None:
    guide_seq = _rep("m01", 1, 1)
    reference, one = guide_repetition(guide_seq, Guide(name="g", reps=1))
    fb = score_repetition(reference, guide_seq, one)
    assert fb.score == 100.0 and fb.deviation is None and fb.start_s == 0.0
    joint = main_joint(reference)  # the joint that moves most in the guide: its range is the guide's own
    assert joint is not None and fb.rom_joint == joint
    angle = reference.features.angles[joint]
    assert fb.rom_deg == round(float(np.nanmax(angle) - np.nanmin(angle)), 1) and fb.rom_deg > 20
    named = score_repetition(reference, guide_seq, Guide(name="g", reps=1, joints=["left_elbow"]))
    assert named.rom_joint == "left_elbow"  # a joint that matters, named by the clinic, comes first


def test_frame_times_must_increase() -> None:
    coach = GuidedCoach(_rep("m01", 1, 1))
    coach.update(None, None, 1.0)
    with pytest.raises(ValueError, match="must increase"):
        coach.update(None, None, 1.0)
