"""The overlay video rendered in parallel parts and joined: every frame, at the source's times."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posecoach.io import VideoReader
from posecoach.pose.engine import PoseEngine
from posecoach.render.overlay_video import render_overlay

pytestmark = pytest.mark.video


def test_parallel_overlay_has_every_frame_at_the_source_times(tmp_path: Path, squat_side_clip: Path) -> None:
    with PoseEngine("lite", workers=2) as engine:
        seq = engine.process(squat_side_clip)
        seen: list[int] = []
        out = render_overlay(squat_side_clip, seq, tmp_path / "overlay.mp4", workers=2, min_segment_frames=20,
                             pool=engine.pool(), progress=lambda done, total: seen.append(done))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overlay.mp4"]  # parts cleaned up
    assert seen and seen[-1] == seq.num_frames
    with VideoReader(out) as rendered, VideoReader(squat_side_clip) as source:
        assert len(rendered) == len(source) == 49
        np.testing.assert_allclose(rendered.timestamps, source.timestamps, atol=1e-3)
        first = next(iter(rendered.frames(0, 1))).image
        original = next(iter(source.frames(0, 1))).image
    assert np.abs(first.astype(int) - original.astype(int)).max() > 100  # something was drawn
