"""posecoach.io: reading videos / images (timestamps, seeking, rotation, bad inputs) and writing videos."""

from __future__ import annotations

import gc
import json
import struct
import weakref
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from posecoach.errors import InputError, PoseCoachError
from posecoach.io import (
    ImageReader,
    VideoReader,
    VideoWriter,
    apply_orientation,
    concat_videos,
    is_image,
    is_video,
    list_inputs,
    open_frames,
    orientation_from_matrix,
    read_image,
)
from tests.conftest import DATA

W, H = 64, 48


def data_file(relative: str) -> Path:
    path = DATA / relative
    if not path.is_file():
        pytest.fail(f"real test clip missing: {path} (the shared data set must sit at ../shared/data)")
    return path


def level(i: int) -> int:
    return 16 + 3 * i  # the brightness that encodes frame number i (up to 70 frames)


def frame_number(image: np.ndarray) -> int:
    return round((float(image[8:, 8:].mean()) - 16) / 3)


def pattern(i: int, noise: bool = False, w: int = W, h: int = H) -> np.ndarray:
    img = np.full((h, w, 3), level(i), np.uint8)
    if noise:  # texture (same mean) so the encoder makes real P/B frames
        rng = np.random.default_rng(i)
        img = np.clip(img.astype(np.int16) + rng.integers(-8, 9, (h, w, 3)), 0, 255).astype(np.uint8)
    img[:4, :4] = (255, 0, 0)
    return img


def make_video(path: Path, n: int = 40, *, codec: str = "libx264", fps: int = 30, gop: int = 10,
               noise: bool = False, w: int = W, h: int = H, bframes: int | None = None,
               fmt: str | None = None) -> Path:
    """A video written with raw PyAV (any container / codec), frame i has brightness level(i)."""
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.bit_rate = 4_000_000  # high quality: brightness must survive to identify frames
        if bframes is not None:
            stream.codec_context.max_b_frames = bframes
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(pattern(i, noise, w, h), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_video(path: Path, n: int = 40, *, fps: float = 30, noise: bool = False, **kw: object) -> Path:
    with VideoWriter(path, fps, **kw) as writer:
        for i in range(n):
            writer.write(pattern(i, noise))
    return path


def snapshot(frames: object) -> list[tuple[int, float, bytes]]:
    return [(f.index, f.time, f.image.tobytes()) for f in frames]  # type: ignore[attr-defined]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- writing and reading back --------------------------------------------------------------------------

def test_write_read_round_trip(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", 40, fps=30)
    with VideoReader(path) as reader:
        info = reader.info
        assert (info.width, info.height, info.rotation, info.num_frames, len(reader)) == (W, H, 0, 40, 40)
        assert info.fps == pytest.approx(30.0) and info.duration == pytest.approx(40 / 30, abs=1e-3)
        assert info.codec == "h264" and not info.is_image
        json.dumps(info.to_dict())
        np.testing.assert_allclose(reader.timestamps, np.arange(40) / 30, atol=1e-6)
        frames = list(reader.frames())
    assert [f.index for f in frames] == list(range(40))
    assert [frame_number(f.image) for f in frames] == list(range(40))
    assert [f.time for f in frames] == pytest.approx(list(np.arange(40) / 30), abs=1e-6)
    image = frames[5].image
    assert image.shape == (H, W, 3) and image.dtype == np.uint8 and image.flags["C_CONTIGUOUS"]
    assert image[1, 1, 0] > 200 and image[1, 1, 1] < 60  # the red corner stays red: RGB order
    assert not reader.truncated
    with av.open(str(path)) as probe:  # what browsers need: H.264 yuv420p, index ("moov") first
        assert probe.streams.video[0].codec_context.pix_fmt == "yuv420p"
    head = path.read_bytes()[:64]
    assert head[4:8] == b"ftyp" and head.index(b"moov") < path.read_bytes().index(b"mdat")


def test_odd_size_is_padded_to_even(tmp_path: Path) -> None:
    path = tmp_path / "odd.mp4"
    with VideoWriter(path, 25) as writer:
        for i in range(5):
            writer.write(pattern(i, w=63, h=47))
    reader = VideoReader(path)
    assert (reader.info.width, reader.info.height) == (64, 48)
    assert [frame_number(f.image[:47, :63]) for f in reader.frames()] == list(range(5))


def test_variable_frame_rate_timestamps_are_kept(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.005, 0.09, 29))])
    path = tmp_path / "vfr.mp4"
    with VideoWriter(path, 30) as writer:
        for i, t in enumerate(times):
            writer.write(pattern(i), time=float(t))
    reader = VideoReader(path)
    assert len(reader) == 30
    assert np.abs(reader.timestamps - times).max() < 1e-3
    frames = list(reader.frames(12, 20))
    assert [f.index for f in frames] == list(range(12, 20))
    assert np.abs(np.array([f.time for f in frames]) - times[12:20]).max() < 1e-3
    assert [frame_number(f.image) for f in frames] == list(range(12, 20))


CONTAINERS = [
    ("mp4", "libx264", None),
    ("mov", "libx264", None),
    ("mkv", "libx264", None),
    ("avi", "mpeg4", None),
    ("avi", "libx264", 2),  # AVI stores no presentation times: B-frames come back with guessed pts
    ("webm", "libvpx-vp9", None),
    ("webm", "libvpx", None),
]


@pytest.mark.parametrize(("ext", "codec", "bframes"), CONTAINERS)
def test_containers_read_and_seek_like_sequential_decoding(tmp_path: Path, ext: str, codec: str,
                                                           bframes: int | None) -> None:
    path = make_video(tmp_path / f"clip.{ext}", 40, codec=codec, gop=10, noise=True, bframes=bframes)
    reader = VideoReader(path)
    assert (len(reader), reader.info.width, reader.info.height) == (40, W, H)
    np.testing.assert_allclose(reader.timestamps, np.arange(40) / 30, atol=1e-3)
    sequential = snapshot(reader.frames())
    assert [i for i, _, _ in sequential] == list(range(40))
    assert [frame_number(f.image) for f in reader.frames()] == list(range(40))
    for start in (1, 4, 9, 10, 11, 17, 20, 29, 33, 39):  # keyframes every 10: most are not keyframes
        assert snapshot(reader.frames(start, start + 4)) == sequential[start:start + 4], start
    assert snapshot(reader.frames(35)) == sequential[35:]
    assert snapshot(VideoReader(path, threads=1).frames(13, 16)) == sequential[13:16]
    assert list(reader.frames(5, 5)) == [] and not reader.truncated


def test_videowriter_output_seeks_exactly(tmp_path: Path) -> None:
    path = write_video(tmp_path / "w.mp4", 60, noise=True, gop=10)  # x264 B-frames, mp4 edit list
    reader = VideoReader(path)
    sequential = snapshot(reader.frames())
    for start in range(1, 60, 4):
        assert snapshot(reader.frames(start, start + 3)) == sequential[start:start + 3], start


def test_frames_do_not_accumulate(tmp_path: Path) -> None:
    reader = VideoReader(write_video(tmp_path / "m.mp4", 30))
    refs = []
    for frame in reader.frames():
        refs.append(weakref.ref(frame.image))
    gc.collect()
    assert sum(r() is not None for r in refs) <= 1  # only the loop variable's last frame may remain
    frames = reader.frames(3)
    next(frames)
    assert len(reader._live) == 1  # one open container while iterating...
    frames.close()
    assert len(reader._live) == 0  # ...released as soon as the iteration ends
    reader.close()
    with pytest.raises(ValueError):
        reader.frames()


def test_concat_videos_joins_parts_with_continuous_timestamps(tmp_path: Path) -> None:
    parts = []
    for k in range(3):
        part = tmp_path / f"part{k}.mp4"
        with VideoWriter(part, 30) as writer:
            for i in range(10):  # each part keeps the absolute time of its segment
                writer.write(pattern(10 * k + i), time=4.0 * k + i / 30)
        parts.append(part)
    out = concat_videos(parts, tmp_path / "all.mp4")
    reader = VideoReader(out)
    assert len(reader) == 30
    np.testing.assert_allclose(reader.timestamps, np.arange(30) / 30, atol=1e-4)
    assert [frame_number(f.image) for f in reader.frames()] == list(range(30))
    assert snapshot(reader.frames(15, 18)) == snapshot(list(reader.frames())[15:18])
    odd = tmp_path / "odd.mp4"
    with VideoWriter(odd, 30) as writer:
        writer.write(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(PoseCoachError, match="codec parameters differ"):
        concat_videos([parts[0], odd], tmp_path / "bad.mp4")
    assert not (tmp_path / "bad.mp4").exists()


# --- the writer is atomic ------------------------------------------------------------------------------

def test_writer_leaves_nothing_when_the_block_fails(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    with pytest.raises(RuntimeError), VideoWriter(path, 30) as writer:
        for i in range(5):
            writer.write(pattern(i))
        raise RuntimeError("render failed")
    assert leftovers(tmp_path) == []


def test_writer_keeps_an_existing_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    path.write_bytes(b"previous result")
    with pytest.raises(ValueError), VideoWriter(path, 30) as writer:
        writer.write(pattern(0))
        writer.write(pattern(1, w=32, h=32))  # wrong size
    assert path.read_bytes() == b"previous result"
    assert leftovers(tmp_path) == ["out.mp4"]


def test_writer_failed_encoder_and_empty_video_leave_nothing(tmp_path: Path) -> None:
    with pytest.raises(PoseCoachError, match="cannot write video"):
        VideoWriter(tmp_path / "a.mp4", 30, width=W, height=H, preset="no-such-preset")
    with pytest.raises(PoseCoachError, match="no frames"), VideoWriter(tmp_path / "b.mp4", 30):
        pass
    assert leftovers(tmp_path) == []


# --- images and folders --------------------------------------------------------------------------------

def exif_jpeg(path: Path, rgb: np.ndarray, orientation: int) -> Path:
    """A JPEG with an EXIF orientation tag (APP1 segment inserted after SOI)."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert ok
    tiff = b"MM\x00\x2a" + struct.pack(">IH", 8, 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    payload = b"Exif\x00\x00" + tiff + struct.pack(">I", 0)
    data = buf.tobytes()
    path.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + data[2:])
    return path


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".bmp", ".webp"])
def test_read_image(tmp_path: Path, suffix: str) -> None:
    rgb = np.zeros((30, 40, 3), np.uint8)
    rgb[:, :20] = (250, 10, 10)
    cv2.imwrite(str(tmp_path / f"a{suffix}"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    image = read_image(tmp_path / f"a{suffix}")
    assert image.shape == (30, 40, 3) and image.dtype == np.uint8 and image.flags["C_CONTIGUOUS"]
    assert np.abs(image.astype(int) - rgb).mean() < 4
    with open_frames(tmp_path / f"a{suffix}") as source:
        assert isinstance(source, ImageReader) and source.info.is_image and len(source) == 1
        assert (source.info.width, source.info.height, source.info.fps) == (40, 30, 1.0)
        frames = list(source.frames())
        assert [(f.index, f.time) for f in frames] == [(0, 0.0)]
        assert list(source.frames(1)) == [] and source.timestamps.tolist() == [0.0]


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    rgb = np.zeros((32, 64, 3), np.uint8)
    rgb[:16, :32] = 255  # white top-left quadrant
    path = exif_jpeg(tmp_path / "phone.jpg", rgb, 6)  # 6: turn 90 degrees clockwise to view
    image = read_image(path)
    assert image.shape == (64, 32, 3)
    assert image[:32, 16:].mean() > 200 and image[:32, :16].mean() < 50  # white went top-right
    via_ffmpeg = VideoReader(path)  # FFmpeg turns the EXIF tag into a display matrix: same result
    assert via_ffmpeg.info.rotation == 90
    assert np.abs(next(via_ffmpeg.frames()).image.astype(int) - image).mean() < 3


def test_list_inputs(tmp_path: Path) -> None:
    for name in ("b.mp4", "a.JPG", "c.mkv", "notes.txt", ".hidden.mp4"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.mp4").write_bytes(b"x")
    assert [p.name for p in list_inputs(tmp_path)] == ["a.JPG", "b.mp4", "c.mkv"]
    assert list_inputs(tmp_path / "notes.txt") == [tmp_path / "notes.txt"]
    with pytest.raises(InputError, match="no video or image files"):
        list_inputs(_empty(tmp_path))
    with pytest.raises(InputError, match="no such file"):
        list_inputs(tmp_path / "missing")
    assert is_image("x.PNG") and not is_image("x.mp4") and is_video("x.MOV") and not is_video("x.txt")


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "readme.txt").write_text("no media here")
    return folder


def test_any_suffix_is_read_if_it_decodes(tmp_path: Path) -> None:
    path = make_video(tmp_path / "clip.bin", 5, fmt="mp4")
    assert list_inputs(path) == [path]
    with open_frames(path) as source:
        assert isinstance(source, VideoReader) and len(source) == 5


# --- rotation ------------------------------------------------------------------------------------------

def quadrants(image: np.ndarray) -> list[tuple[int, ...]]:
    h, w = image.shape[:2]
    cells = [image[y * h // 2:(y + 1) * h // 2, x * w // 2:(x + 1) * w // 2] for y in (0, 1) for x in (0, 1)]
    return [tuple(int(v) // 64 for v in c.reshape(-1, 3).mean(0)) for c in cells]


@pytest.mark.parametrize(("ccw", "hflip", "vflip", "expect_cw", "expect_mirror"), [
    (90, False, False, 270, False),
    (-90, False, False, 90, False),  # a phone held upright: 'rotate=90' in older FFmpeg terms
    (180, False, False, 180, False),
    (0, True, False, 0, True),
    (90, True, False, 270, True),
])
def test_display_matrix_rotation(tmp_path: Path, ccw: int, hflip: bool, vflip: bool, expect_cw: int,
                                 expect_mirror: bool) -> None:
    base = np.zeros((32, 64, 3), np.uint8)
    base[:16, :32] = 255
    base[:16, 32:] = (255, 0, 0)
    path = tmp_path / "rot.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(ccw, hflip=hflip, vflip=vflip)  # PyAV 18 writes a display matrix
        for _ in range(3):
            for packet in stream.encode(av.VideoFrame.from_ndarray(base, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    reader = VideoReader(path)
    assert (reader.info.rotation, reader.info.mirrored) == (expect_cw, expect_mirror)
    image = next(reader.frames()).image
    expected = np.rot90(base, ccw // 90)  # PyAV: the angle is counter-clockwise, mirrors come after it
    expected = expected[:, ::-1] if hflip else expected
    assert image.shape == expected.shape == (reader.info.height, reader.info.width, 3)
    assert quadrants(image) == quadrants(expected)
    if not (hflip or vflip):  # OpenCV's own autorotation (rotations only) agrees
        ok, bgr = cv2.VideoCapture(str(path)).read()
        assert ok and quadrants(image) == quadrants(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def test_orientation_helpers() -> None:
    one = 1 << 16
    assert orientation_from_matrix([0, -one, 0, one, 0, 0, 0, 0, 1 << 30]) == (270, False)  # 90 ccw
    assert orientation_from_matrix([0, one, 0, -one, 0, 0, 0, 0, 1 << 30]) == (90, False)
    assert orientation_from_matrix([-one, 0, 0, 0, -one, 0, 0, 0, 1 << 30]) == (180, False)
    assert orientation_from_matrix([one, 0, 0, 0, one, 0, 0, 0, 1 << 30]) == (0, False)
    assert orientation_from_matrix([0] * 9) == (0, False)
    a = np.arange(6).reshape(2, 3)
    assert apply_orientation(a, 90).tolist() == [[3, 0], [4, 1], [5, 2]]  # clockwise
    assert apply_orientation(a, 270).tolist() == [[2, 5], [1, 4], [0, 3]]
    assert apply_orientation(a, 180).tolist() == [[5, 4, 3], [2, 1, 0]]
    assert apply_orientation(a, 0, mirror=True).tolist() == [[2, 1, 0], [5, 4, 3]]


@pytest.mark.video
def test_phone_clip_is_portrait() -> None:
    # The phone fall clips were re-encoded upright: stored 406x720 with no display matrix or rotate tag.
    reader = VideoReader(data_file("falls/phone_falls/videos/Fall01.mp4"))
    assert (reader.info.width, reader.info.height, reader.info.rotation) == (406, 720, 0)
    frame = next(reader.frames(100))
    assert frame.index == 100 and frame.image.shape == (720, 406, 3)
    assert frame.time == pytest.approx(reader.timestamps[100])


@pytest.mark.video
def test_real_squat_clip() -> None:
    reader = VideoReader(data_file("form/kaiakol/data/squat/correct/squat_correct_001.mp4"))
    info = reader.info
    assert (info.width, info.height, info.num_frames, info.rotation) == (1280, 720, 49, 0)
    assert info.fps == pytest.approx(30.0)
    np.testing.assert_allclose(np.diff(reader.timestamps), 1 / 30, atol=1e-4)
    sequential = snapshot(reader.frames())
    assert len(sequential) == 49 and sequential[0][2] != sequential[-1][2]
    assert snapshot(reader.frames(31, 35)) == sequential[31:35]


# --- bad inputs ----------------------------------------------------------------------------------------

def one_line_error(call: object, *args: object, match: str) -> str:
    with pytest.raises(InputError, match=match) as caught:
        call(*args)  # type: ignore[operator]
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_bad_inputs_give_one_clear_line(tmp_path: Path) -> None:
    one_line_error(VideoReader, tmp_path / "missing.mp4", match="missing.mp4': no such file")
    one_line_error(VideoReader, tmp_path, match="folder")
    empty = tmp_path / "empty.mp4"
    empty.touch()
    one_line_error(VideoReader, empty, match=r"empty.mp4': file is empty \(0 bytes\)")
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    one_line_error(VideoReader, text, match="notes.mp4': not a video")
    one_line_error(read_image, text, match="cannot read image")
    one_line_error(read_image, tmp_path / "nope.png", match="no such file")


def test_audio_only_file(tmp_path: Path) -> None:
    path = tmp_path / "sound.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=44100)
        for i in range(10):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 44100, i * 1024, Fraction(1, 44100)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    one_line_error(VideoReader, path, match="no video stream")


def test_oversized_frames_are_refused(tmp_path: Path) -> None:
    image = tmp_path / "wide.png"
    cv2.imwrite(str(image), np.zeros((16, 16384, 3), np.uint8))
    one_line_error(read_image, image, match="16384x16")
    one_line_error(open_frames, image, match="16384x16")
    video = make_video(tmp_path / "wide.mp4", 1, w=16384, h=16)
    one_line_error(VideoReader, video, match="16384x16")


@pytest.mark.parametrize("faststart", [True, False])
def test_truncated_video(tmp_path: Path, faststart: bool) -> None:
    full = tmp_path / "full.mp4"
    if faststart:  # index first: the first half still has decodable frames
        write_video(full, 60, noise=True)
    else:  # index ("moov") at the end: the first half cannot be opened at all
        make_video(full, 60, noise=True)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    if not faststart:
        one_line_error(VideoReader, cut, match="cut.mp4': not a video or image file, or a damaged one")
        return
    reader = VideoReader(cut)
    frames = list(reader.frames())
    assert 0 < len(frames) < 60 and reader.truncated
    assert [f.index for f in frames] == list(range(len(frames)))
    good = snapshot(VideoReader(full).frames(0, len(frames) - 5))
    assert snapshot(frames[: len(good)]) == good


def test_codec_without_decoder(tmp_path: Path) -> None:
    path = make_video(tmp_path / "odd.avi", 5, codec="mpeg4")
    data = path.read_bytes()
    for tag in (b"FMP4", b"fmp4", b"mp4v", b"MP4V"):  # a codec tag no FFmpeg decoder claims
        data = data.replace(tag, b"QQQQ")
    path.write_bytes(data)
    one_line_error(VideoReader, path, match="odd.avi': unsupported video codec")


def test_repeated_timestamps_are_made_strictly_increasing() -> None:
    """Some phone clips repeat a packet's timestamp (gmdcsa24); each repeat moves 1 ms after its predecessor."""
    from posecoach.io.video import _increasing

    t = np.array([0.0, 0.033, 0.066, 0.1, 0.1, 0.1, 0.1005, 0.133])
    out = _increasing(t)
    assert np.all(np.diff(out) > 0)
    assert out[4:7] == pytest.approx([0.101, 0.102, 0.103])
    assert np.array_equal(out[[0, 1, 2, 3, 7]], t[[0, 1, 2, 3, 7]])  # the others keep their exact values
