"""Read videos and images as upright RGB frames with their real presentation times (PyAV / FFmpeg)."""

from __future__ import annotations

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


# --- orientation -----------------------------------------------------------------------------------------

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
    if cw == 90:
        return 90, m[3] > 0
    if cw == 270:
        return 270, m[3] < 0
    if cw == 180:
        if m[0] < 0 and m[4] < 0:
            return 180, False
        return (0, True) if m[0] < 0 else (180, True)
    return (180, True) if m[4] < 0 else (0, False)


def apply_orientation(image: np.ndarray, rotation: int, mirror: bool = False) -> np.ndarray:
    """Rotate ``image`` ``rotation`` degrees clockwise, then mirror it left-right if asked."""
    k = (rotation // 90) % 4
    out = np.rot90(image, -k) if k else image  # np.rot90 turns counter-clockwise for positive k
    if mirror:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def _frame_orientation(frame: av.VideoFrame, stream: av.video.stream.VideoStream) -> tuple[int, bool]:
    for sd in frame.side_data:
        if getattr(sd.type, "name", "") == "DISPLAYMATRIX" and len(bytes(sd)) >= 36:
            return orientation_from_matrix(struct.unpack("<9i", bytes(sd)[:36]))
    rotate = stream.metadata.get("rotate")  # legacy tag: degrees clockwise
    try:
        return (round(float(rotate) / 90) % 4 * 90, False) if rotate else (0, False)
    except ValueError:
        return 0, False


# --- validation helpers ----------------------------------------------------------------------------------

def _fail(kind: str, path: Path, why: str) -> InputError:
    return InputError(f"cannot read {kind} '{path}': {why}")


def _why(exc: BaseException) -> str:
    if isinstance(exc, av.error.InvalidDataError):
        return "not a video or image file (FFmpeg found no valid media data in it)"
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
    stream = streams[0]
    if stream.codec_context is None:
        raise _fail(kind, path, "unsupported video codec (no decoder for it)")
    cc = stream.codec_context
    if cc.width > MAX_SIDE or cc.height > MAX_SIDE:  # refuse before decoding anything huge
        _check_size(kind, path, cc.width, cc.height)
    return stream


# --- video -----------------------------------------------------------------------------------------------

class VideoReader:
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
            pts: list[int] = []
            last_duration: dict[int, int] = {}
            first = None
            missing_pts = False
            try:
                for packet in container.demux(stream):
                    if packet.size and not packet.is_discard:
                        if packet.pts is None:
                            missing_pts = True
                        else:
                            pts.append(packet.pts)
                            last_duration[packet.pts] = packet.duration or 0
                    if first is None:
                        try:
                            first = next(iter(packet.decode()), None)
                        except _AV_ERRORS:
                            continue
            except _AV_ERRORS:
                self.truncated = True
            if first is None:
                raise _fail("video", self.path, "no decodable video frame (the file is truncated or corrupt)")
            _check_size("video", self.path, first.width, first.height)
            self._rotation, self._mirror = _frame_orientation(first, stream)
            rate = stream.average_rate
            fmt = container.format.name
        finally:
            container.close()
        self._seekable = bool(pts) and not missing_pts
        if self._seekable:
            self._pts = np.array(sorted(pts), dtype=np.int64)
            self._times = (self._pts - self._pts[0]) * float(self._tb)
            tail = last_duration.get(int(self._pts[-1]), 0) * float(self._tb)
        else:  # no packet timestamps (raw streams): decode once to count the frames and time them
            self._pts = np.zeros(0, dtype=np.int64)
            self._times, tail = self._decoded_times(float(rate) if rate else 0.0), 0.0
        n = len(self._times)
        span = float(self._times[-1]) if n else 0.0
        fps = float(rate) if rate and 0 < float(rate) < 10000 else ((n - 1) / span if span > 0 else 30.0)
        width, height = first.width, first.height
        if self._rotation in (90, 270):
            width, height = height, width
        self.info = VideoInfo(str(self.path), width, height, self._rotation, fps, n,
                              span + (tail if tail > 0 else 1.0 / fps), codec, fmt, False, self._mirror)

    def _decoded_times(self, rate: float) -> np.ndarray:
        times: list[float | None] = []
        container = _open("video", self.path)
        try:
            for frame in container.decode(container.streams.video[self._stream_index]):
                times.append(frame.time)
        except _AV_ERRORS:
            self.truncated = True
        finally:
            container.close()
        if not times or any(t is None for t in times):
            return np.arange(len(times), dtype=np.float64) / (rate or 30.0)
        arr = np.asarray(times, dtype=np.float64)
        return arr - arr[0]

    @property
    def timestamps(self) -> np.ndarray:
        """Presentation time (s) of every frame in display order, the first at 0.0 (from packets, cached)."""
        return self._times

    def __len__(self) -> int:
        return len(self._times)

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[Frame]:
        """Yield frames ``[start, stop)``; for ``start > 0`` seek to a keyframe before it and decode on."""
        if self._closed:
            raise ValueError(f"VideoReader for '{self.path}' is closed")
        n = len(self)
        stop = n if stop is None else max(0, min(stop, n))
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        return self._frames(start, stop)

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
                if first is None and seek_to is None:
                    self.truncated = True
                    return
                if first is None or first[0] < 0 or first[0] > start:
                    continue  # could not place the seek point before `start`: go further back
                last = -1
                for index, frame in itertools.chain([first], decoded):
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
        cc = stream.codec_context
        if self.threads == 1:
            cc.thread_count = 1
        else:
            cc.thread_type = "AUTO"
            cc.thread_count = max(0, self.threads)
        packets = container.demux(stream)
        index: int | None = None
        n = len(self)
        while True:
            try:
                packet = next(packets, None)
            except _AV_ERRORS:
                self.truncated, packet = True, None
            try:
                frames = packet.decode() if packet is not None else stream.decode(None)
            except _AV_ERRORS:
                self.truncated = True
                try:
                    frames = stream.decode(None)
                except _AV_ERRORS:
                    frames = []
                packet = None
            for frame in frames:
                if index is None:
                    found = self._index_of(frame.pts)
                    index = found if found is not None else (0 if from_start else -1)
                else:
                    index += 1
                if index >= n:
                    return
                yield index, frame
            if packet is None:
                return

    def _index_of(self, pts: int | None) -> int | None:
        if pts is None or not self._seekable:
            return None
        i = int(np.searchsorted(self._pts, pts))
        return i if i < len(self._pts) and self._pts[i] == pts else None

    def close(self) -> None:
        self._closed = True
        for container in list(self._live):
            container.close()
        self._live.clear()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- images ----------------------------------------------------------------------------------------------

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
    try:
        data = np.fromfile(path, dtype=np.uint8)
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)  # applies the EXIF orientation
    except (cv2.error, OSError, ValueError):
        bgr = None
    if bgr is None:
        if probe_error is not None:
            raise _fail("image", path, _why(probe_error)) from probe_error
        with VideoReader(path, threads=1) as reader:
            frame = next(reader.frames(), None)
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


class ImageReader:
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
            raise ValueError(f"start must be >= 0, got {start}")
        stop = 1 if stop is None else stop
        return iter([Frame(0, 0.0, self._image.copy())] if start <= 0 < stop else [])

    def close(self) -> None:
        pass

    def __enter__(self) -> ImageReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


FrameSource = VideoReader | ImageReader


def open_frames(path: str | Path, *, threads: int = 0) -> FrameSource:
    """A frame source for a video or an image (by suffix), so callers treat both the same."""
    return ImageReader(path) if is_image(path) else VideoReader(path, threads=threads)


def list_inputs(path: str | Path) -> list[Path]:
    """A file -> [file]; a folder -> its video and image files (not recursive, hidden ones skipped), by name."""
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
