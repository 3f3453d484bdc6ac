"""Read videos and images as upright RGB frames with their real presentation times (PyAV / FFmpeg)."""

from __future__ import annotations

import contextlib
import itertools
import math
import struct
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from posecoach.core.quiet import quiet_native_stderr
from posecoach.errors import InputError

VIDEO_SUFFIXES = {".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
MAX_SIDE = 8192
# Everything PyAV / the OS may raise on a bad file (av.FFmpegError subclasses OSError or ValueError too).
_AV_ERRORS = (av.FFmpegError, OSError, EOFError, ValueError, UnicodeError, RuntimeError)


@dataclass(frozen=True)
class VideoInfo:
    path: str
    width: int  # as displayed, i.e. after rotation
    height: int
    rotation: int  # degrees clockwise that turn the stored frame upright: 0, 90, 180 or 270
    fps: float
    num_frames: int
    duration: float  # seconds
    codec: str
    container: str
    is_image: bool
    mirrored: bool = False  # the display matrix also mirrors (after the rotation), rare
    truncated: bool = False  # the file is cut short or damaged: fewer frames can be read than it declares
    declared_frames: int | None = None  # frames the container's index declares, when it does

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class Frame:
    index: int
    time: float
    image: np.ndarray = field(repr=False)  # HxWx3 uint8 RGB, upright, C-contiguous


def is_image(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def is_video(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def orientation_from_matrix(m: Sequence[int]) -> tuple[int, bool]:
    """(clockwise degrees, mirror) that display a frame as its FFmpeg display matrix ``m`` asks.

    FFmpeg's ``av_display_rotation_get`` (PyAV ``VideoFrame.rotation``) is the *counter-clockwise* angle of
    the matrix; showing the frame upright takes the same turn, i.e. ``-angle`` clockwise. The mirror cases
    follow the ``ffmpeg`` tool's autorotate (fftools/ffmpeg_filter.c); ``mirror`` is a left-right flip
    applied after the rotation. Angles that are not multiples of 90 are snapped to the nearest one.
    """
    s0, s1 = math.hypot(m[0], m[3]), math.hypot(m[1], m[4])
    if not s0 or not s1:
        return 0, False
    cw = round(math.degrees(math.atan2(m[1] / s1, m[0] / s0)) / 90) % 4 * 90
    if cw in (90, 270):  # FFmpeg: transpose "clock" / "cclock", or their flipped variants
        return cw, bool(m[3] > 0 if cw == 90 else m[3] < 0)
    if cw == 180:  # FFmpeg: hflip if m[0] < 0, vflip if m[4] < 0; both make a plain half turn
        return (180, False) if m[0] < 0 and m[4] < 0 else ((0, True) if m[0] < 0 else (180, True))
    return (180, True) if m[4] < 0 else (0, False)


def apply_orientation(image: np.ndarray, rotation: int, mirror: bool = False) -> np.ndarray:
    """Rotate ``image`` ``rotation`` degrees clockwise, then mirror it left-right if asked."""
    k = (rotation // 90) % 4
    out = np.rot90(image, -k) if k else image  # np.rot90 turns counter-clockwise for positive k
    if mirror:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def _frame_orientation(frame: Any, stream: Any) -> tuple[int, bool]:
    """Orientation from the frame's display matrix (FFmpeg copies the container's onto every frame)."""
    try:
        for sd in frame.side_data:
            if getattr(sd.type, "name", "") == "DISPLAYMATRIX" and len(bytes(sd)) >= 36:
                return orientation_from_matrix(struct.unpack("<9i", bytes(sd)[:36]))
    except ValueError:  # side data of a type this PyAV has no enum for (e.g. EXIF from FFmpeg 8)
        if frame.rotation:  # same matrix read in C, counter-clockwise, flips unknown
            return round(-frame.rotation / 90) % 4 * 90, False
    try:  # legacy tag: degrees clockwise
        return round(float(stream.metadata.get("rotate", 0)) / 90) % 4 * 90, False
    except ValueError:
        return 0, False


def _fail(kind: str, path: Path, why: str) -> InputError:
    return InputError(f"cannot read {kind} '{path}': {why}")  # one line, for the user


def _why(exc: BaseException) -> str:
    if isinstance(exc, av.error.InvalidDataError):
        return "not a video or image file, or a damaged one (FFmpeg found no valid media data)"
    if isinstance(exc, PermissionError):
        return "permission denied"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def _check_file(kind: str, path: Path) -> None:
    if not path.exists():
        raise _fail(kind, path, "no such file")
    if path.is_dir():
        raise _fail(kind, path, "it is a folder, not a file")
    if path.stat().st_size == 0:
        raise _fail(kind, path, "file is empty (0 bytes)")


def _check_size(kind: str, path: Path, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise _fail(kind, path, f"frames have no size ({width}x{height})")
    if width > MAX_SIDE or height > MAX_SIDE:
        raise _fail(kind, path, f"frame size {width}x{height} is too large (at most {MAX_SIDE} px a side)")


def _open(kind: str, path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), metadata_errors="replace")
    except _AV_ERRORS as exc:
        raise _fail(kind, path, _why(exc)) from exc


def _video_stream(kind: str, path: Path, container: av.container.InputContainer) -> Any:
    attached = av.stream.Disposition.attached_pic
    streams = [s for s in container.streams.video if not s.disposition & attached]
    if not streams:
        only_audio = " (the file only has audio)" if container.streams.audio else ""
        raise _fail(kind, path, f"no video stream{only_audio}")
    cc = streams[0].codec_context
    if cc is None:
        raise _fail(kind, path, "unsupported video codec (no decoder for it)")
    if cc.width > MAX_SIDE or cc.height > MAX_SIDE:  # refuse before decoding anything huge
        _check_size(kind, path, cc.width, cc.height)
    return streams[0]


class _Source:
    def close(self) -> None:
        pass

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoReader(_Source):
    """Stream upright RGB frames of one video; memory stays flat whatever its length."""

    def __init__(self, path: str | Path, *, threads: int = 0) -> None:
        self.path = Path(path)
        self.threads = threads
        self.truncated = False  # set when decoding stops early on a damaged / cut file
        self._live: set[av.container.InputContainer] = set()
        self._closed = False
        _check_file("video", self.path)
        self._probe()

    def _probe(self) -> None:
        container = _open("video", self.path)
        try:
            stream = _video_stream("video", self.path, container)
            self._stream_index = container.streams.video.index(stream)
            self._tb = stream.time_base
            codec = stream.codec_context.name
            pts: list[int] = []  # demuxing only: no decoding past the first frame
            first, missing_pts, top, tail = None, False, None, 0  # tail: how long the last frame shows
            # An H.264/HEVC packet of <= 6 bytes holds no picture (e.g. a lone end-of-sequence unit that
            # some encoders append): it decodes to nothing, so it is no frame.
            tiny = 6 if codec in ("h264", "hevc") else 0
            try:
                for packet in container.demux(stream):
                    if packet.size > tiny and not packet.is_discard:
                        missing_pts |= packet.pts is None
                        if packet.pts is not None:
                            pts.append(packet.pts)
                            if top is None or packet.pts >= top:
                                top, tail = packet.pts, packet.duration or 0
                    if first is None:
                        try:
                            first = next(iter(packet.decode()), None)
                        except _AV_ERRORS:
                            continue
            except _AV_ERRORS:
                self.truncated = True
            if first is None:
                raise _fail("video", self.path, "no decodable video frame (cut, corrupt or unsupported)")
            _check_size("video", self.path, first.width, first.height)
            self._rotation, self._mirror = _frame_orientation(first, stream)
            rate, fmt = stream.average_rate, container.format.name
            declared = int(stream.frames or 0) or None
        finally:
            container.close()
        self._seekable = bool(pts) and not missing_pts
        if self._seekable:
            self._pts = np.array(sorted(pts), dtype=np.int64)
            self._times = _increasing((self._pts - self._pts[0]) * float(self._tb))
        else:  # no packet timestamps (raw streams): decode once to count the frames and time them
            self._pts = np.zeros(0, dtype=np.int64)
            self._times, tail = self._decoded_times(float(rate) if rate else 0.0), 0
        n, span = len(self._times), float(self._times[-1]) if len(self._times) else 0.0
        fps = float(rate) if rate and 0 < float(rate) < 10000 else ((n - 1) / span if span > 0 else 30.0)
        last = tail * float(self._tb) if tail > 0 else 1.0 / fps
        size = (first.height, first.width) if self._rotation in (90, 270) else (first.width, first.height)
        if declared is not None and declared - n > max(2, declared // 100):  # indexed frames without data: cut
            self.truncated = True
        self.info = VideoInfo(str(self.path), *size, self._rotation, fps, n, span + last, codec, fmt, False,
                              self._mirror, self.truncated, declared)

    def _decoded_times(self, rate: float) -> np.ndarray:
        container, times = _open("video", self.path), []
        with contextlib.suppress(*_AV_ERRORS), container:
            times.extend(f.time for f in container.decode(container.streams.video[self._stream_index]))
        if not times or any(t is None for t in times):
            return np.arange(len(times), dtype=np.float64) / (rate or 30.0)
        return np.asarray(times, dtype=np.float64) - times[0]

    @property
    def timestamps(self) -> np.ndarray:
        """Presentation time (s) of every frame in display order, the first at 0.0 (from packets, cached)."""
        return self._times

    def __len__(self) -> int:
        return len(self._times)

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
        """Yield frames ``[start, stop)``; for ``start > 0`` seek to a keyframe before it and decode on."""
        if self._closed or start < 0:
            raise ValueError(f"reader of '{self.path}' is closed" if self._closed else f"start {start} < 0")
        return self._frames(start, len(self) if stop is None else max(0, min(stop, len(self))))

    def _frames(self, start: int, stop: int) -> Iterator[Frame]:
        if start >= stop:
            return
        # Where to seek: the wanted frame itself, then further back (FFmpeg may land on a keyframe after
        # the wanted frame, e.g. mp4 indexes by decode time), finally a plain decode from the start.
        plan: list[int | None] = []
        if start > 0 and self._seekable:
            plan = sorted({max(0, start - back) for back in (0, 16, 64, 256)} - {0}, reverse=True)
        plan.append(None)
        for seek_to in plan:
            container = _open("video", self.path)
            self._live.add(container)
            try:
                stream = container.streams.video[self._stream_index]
                if seek_to is not None:
                    try:
                        container.seek(int(self._pts[seek_to]), stream=stream, backward=True)
                    except _AV_ERRORS:
                        continue
                decoded = self._decode(container, stream, from_start=seek_to is None)
                first = next(decoded, None)
                if seek_to is not None and (first is None or not 0 <= first[0] <= start):
                    continue  # the seek landed after `start` (or somewhere unknown): go further back
                last = -1
                for index, frame in itertools.chain([first] if first else [], decoded):
                    if index >= stop:
                        break
                    last = index
                    if index >= start:
                        image = frame.to_ndarray(format="rgb24")
                        yield Frame(index, float(self._times[index]),
                                    apply_orientation(image, self._rotation, self._mirror))
                if last < stop - 1:
                    self.truncated = True
                return
            finally:
                container.close()
                self._live.discard(container)

    def _decode(self, container: Any, stream: Any, *, from_start: bool) -> Iterator[tuple[int, Any]]:
        """Decoded frames with their index: the first one found by its pts, then counted on."""
        cc = stream.codec_context  # threads=0: FFmpeg picks the count, frame + slice threading
        cc.thread_type, cc.thread_count = ("SLICE" if self.threads == 1 else "AUTO"), max(0, self.threads)
        packets = container.demux(stream)
        index: int | None = None
        while True:
            try:  # PyAV ends the demux with an empty packet that flushes the decoder
                packet = next(packets, None)
                frames = packet.decode() if packet is not None else []
            except _AV_ERRORS:  # cut or damaged file: keep what the decoder still holds, then stop
                self.truncated, packet, frames = True, None, []
                with contextlib.suppress(*_AV_ERRORS):
                    frames = stream.decode(None)
            for frame in frames:
                if index is None:
                    found = self._index_of(frame.pts)
                    index = found if found is not None else (0 if from_start else -1)
                else:
                    index += 1
                if index >= len(self):
                    return
                yield index, frame
            if packet is None:
                return

    def _index_of(self, pts: int | None) -> int | None:
        """Index of the frame shown at ``pts``; None if unknown or ambiguous (some files repeat a pts)."""
        n = len(self._pts)
        i = int(np.searchsorted(self._pts, pts)) if pts is not None and self._seekable else n
        return i if i < n and self._pts[i] == pts and (i + 1 == n or self._pts[i + 1] != pts) else None

    def close(self) -> None:
        self._closed = True
        while self._live:
            self._live.pop().close()


def _load_image(path: Path) -> tuple[np.ndarray, str, str]:
    _check_file("image", path)
    codec, fmt, probe_error = "unknown", "unknown", None
    try:
        container = av.open(str(path), metadata_errors="replace")
    except _AV_ERRORS as exc:
        probe_error = exc
    else:
        try:
            stream = _video_stream("image", path, container)
            codec, fmt = stream.codec_context.name, container.format.name
        finally:
            container.close()
    bgr = None
    with contextlib.suppress(cv2.error, OSError, ValueError), quiet_native_stderr():
        bgr = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR)  # applies EXIF orientation
    if bgr is None:
        if probe_error is not None:
            raise _fail("image", path, _why(probe_error)) from probe_error
        try:
            with VideoReader(path, threads=1) as reader:
                frame = next(reader.frames(), None)
        except InputError:
            frame = None
        if frame is None:
            raise _fail("image", path, "no decodable image data (the file is truncated or corrupt)")
        image = frame.image
    else:
        image = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    _check_size("image", path, image.shape[1], image.shape[0])
    return image, codec, fmt


def read_image(path: str | Path) -> np.ndarray:
    """An image file as an upright HxWx3 uint8 RGB array (EXIF orientation applied)."""
    return _load_image(Path(path))[0]


class ImageReader(_Source):
    """One image seen as a one-frame video (time 0.0, fps 1.0), with the VideoReader interface."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.truncated = False
        self._image, codec, fmt = _load_image(self.path)
        h, w = self._image.shape[:2]
        self.info = VideoInfo(str(self.path), w, h, 0, 1.0, 1, 0.0, codec, fmt, True)
        self.timestamps = np.zeros(1, dtype=np.float64)

    def __len__(self) -> int:
        return 1

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
        if start < 0:
            raise ValueError(f"start {start} < 0")
        return iter([Frame(0, 0.0, self._image.copy())] if start == 0 and (stop is None or stop > 0) else [])


FrameSource = VideoReader | ImageReader


def open_frames(path: str | Path, *, threads: int = 0) -> FrameSource:
    """A frame source for a video or an image (by suffix), so callers treat both the same."""
    return ImageReader(path) if is_image(path) else VideoReader(path, threads=threads)


def list_inputs(path: str | Path) -> list[Path]:
    """A file -> [file]; a folder -> its video and image files by name (not recursive, no hidden files)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"cannot read '{path}': no such file or folder")
    if not path.is_dir():
        return [path]
    found = sorted(p for p in path.iterdir()
                   if p.is_file() and not p.name.startswith(".") and (is_video(p) or is_image(p)))
    if not found:
        kinds = ", ".join(sorted(VIDEO_SUFFIXES | IMAGE_SUFFIXES))
        raise InputError(f"folder '{path}' has no video or image files (looked for {kinds})")
    return found


def _increasing(times: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Times made strictly increasing: a frame sharing its predecessor's timestamp (duplicate packet pts, seen in
    some phone and variable-frame-rate files) is placed ``step`` seconds after it."""
    t = np.asarray(times, dtype=np.float64)
    ramp = np.arange(len(t)) * step
    moved = np.maximum.accumulate(t - ramp) + ramp  # r[i] = max(t[i], r[i-1] + step), runs of repeats included
    return np.where(moved - t > step / 2, moved, t)  # the others keep their exact value
