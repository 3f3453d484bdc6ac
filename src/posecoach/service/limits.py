"""Bounded work: how much decoding a video may cost, decided from its container before any frame is decoded.

A video's cost is its decoded pixels: a frame of ``width x height``, ``frames`` times. `read_header` learns these
from the container's header and by demuxing its packets (reading, not decoding: a packet is one compressed
frame), and `check` compares them with the settings:

* ``POSECOACH_MAX_FRAME_PIXELS`` (default 3840x2160, 4K UHD: what phones record; one decoded RGB frame is then
  25 MB) — an 8192x8192 frame is 200 MB, and a decoder holds several;
* ``POSECOACH_MAX_FRAMES`` (default 27,000: 15 minutes at 30 fps) — pose estimation costs about the same per
  frame whatever its size, so thousands of tiny frames cost as much as a long film;
* ``POSECOACH_MAX_FPS`` (default 120) and ``POSECOACH_MAX_PIXEL_RATE`` (default 4K at 30 fps, about 249 million
  pixels per second: 1080p up to 120 fps);
* ``POSECOACH_MAX_DURATION_S`` (default 900).

The upload route checks before it keeps a video (413 with the reason; a video too long stays 422, as before), and
the worker checks the stored file again before it decodes anything (a job on a video over the limits fails with
the reason, without retries), so limits lowered after an upload hold too. FFmpeg's stream probing, which would
decode a frame or more to learn the pixel format, is told to skip decoding (``skip_frame=all``), and demuxing
stops as soon as the frame limit is passed: reading the header of an 8192x8192 video or of a file of 30,000 tiny
frames costs a few MB and milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from posecoach.errors import InputError
from posecoach.service.settings import Settings

# av.FFmpegError subclasses OSError or ValueError; a damaged file may raise any of these
_AV_ERRORS = (av.FFmpegError, OSError, EOFError, ValueError, UnicodeError, RuntimeError)


class OverLimit(InputError):
    """A video over one of the limits on work; ``status``: the HTTP status the upload route answers."""

    def __init__(self, message: str, status: int = 413) -> None:
        super().__init__(message)
        self.status = status


class Unreadable(InputError):
    """The file cannot be read as a video at all (the decoder's own reader then says why in more words)."""


@dataclass(frozen=True)
class Header:
    """What a video's container says about its frames, learnt without decoding any."""

    width: int
    height: int
    frames: int  # packets holding a picture; with ``more``, the demuxing stopped after this many
    fps: float  # frames per second: the packets' own rate (frames / time spanned), else the declared one
    duration: float  # seconds
    more: bool = False  # there are more frames than ``frames`` (demuxing stopped at the limit)

    @property
    def pixels(self) -> int:
        return self.width * self.height


def read_header(path: str | Path, max_frames: int | None = None) -> Header:
    """The frame size, frame count, rate and duration of the video at ``path``, from its header and packets only
    (no decoding); stops demuxing after ``max_frames`` frames. Unreadable when it has no video stream."""
    try:
        container = av.open(str(path), metadata_errors="replace", options={"skip_frame": "all"})
    except _AV_ERRORS as exc:
        raise Unreadable(f"cannot read the video: {_why(exc)}") from None
    try:
        return _header(container, max_frames)
    finally:
        container.close()


def _header(container: Any, max_frames: int | None) -> Header:
    attached = av.stream.Disposition.attached_pic
    streams = [s for s in container.streams.video if not s.disposition & attached]
    if not streams or streams[0].codec_context is None:
        raise Unreadable("the file has no video stream PoseCoach can read")
    stream = streams[0]
    cc = stream.codec_context
    tiny = 6 if cc.name in ("h264", "hevc") else 0  # a lone end-of-sequence unit is no picture (as VideoReader)
    frames, low, high, more = 0, None, None, False
    try:
        for packet in container.demux(stream):
            if packet.size <= tiny or packet.is_discard:
                continue
            frames += 1
            if packet.pts is not None:
                low = packet.pts if low is None else min(low, packet.pts)
                high = packet.pts if high is None else max(high, packet.pts)
            if max_frames is not None and frames > max_frames:
                more = True
                break
    except _AV_ERRORS:
        pass  # a cut file: what was demuxed so far (the decoder would stop there too)
    declared = float(stream.average_rate or stream.guessed_rate or 0.0)
    span = float((high - low) * stream.time_base) if low is not None and high is not None and stream.time_base else 0.0
    measured = (frames - 1) / span if frames > 1 and span > 0 else 0.0
    fps = measured or declared or 30.0
    duration = span + 1.0 / fps if span > 0 else frames / fps
    return Header(int(cc.width or 0), int(cc.height or 0), frames, fps, duration, more)


def _why(exc: BaseException) -> str:
    if isinstance(exc, av.error.InvalidDataError):
        return "not a video file, or a damaged one"
    return " ".join(str(getattr(exc, "strerror", None) or exc or type(exc).__name__).split())


def check(header: Header, settings: Settings) -> None:
    """OverLimit with the reason (and the setting that decides it) when ``header`` is over a limit."""
    w, h = header.width, header.height
    if header.pixels > settings.max_frame_pixels:
        raise OverLimit(f"the video's frames are {w}x{h} pixels, more than the limit of {settings.max_frame_pixels:,} "
                        "pixels a frame (POSECOACH_MAX_FRAME_PIXELS; 3840x2160 by default): scale it down, e.g. "
                        "ffmpeg -i in.mp4 -vf scale=-2:1080 out.mp4")
    if header.more or header.frames > settings.max_frames:
        count = f"more than {header.frames - 1:,}" if header.more else f"{header.frames:,}"
        raise OverLimit(f"the video has {count} frames, more than the limit of {settings.max_frames:,} "
                        "(POSECOACH_MAX_FRAMES): cut it shorter or lower its frame rate")
    if header.fps > settings.max_fps:
        raise OverLimit(f"the video has {header.fps:.0f} frames per second, more than the limit of "
                        f"{settings.max_fps:g} (POSECOACH_MAX_FPS): re-encode it at a lower rate, e.g. "
                        "ffmpeg -i in.mp4 -r 30 out.mp4")
    rate = header.pixels * header.fps
    if rate > settings.max_pixel_rate:
        raise OverLimit(f"the video decodes to {rate / 1e6:,.0f} million pixels a second ({w}x{h} at "
                        f"{header.fps:.0f} fps), more than the limit of {settings.max_pixel_rate / 1e6:,.0f} "
                        "million (POSECOACH_MAX_PIXEL_RATE): lower its size or frame rate")
    if header.duration > settings.max_duration_s:
        raise OverLimit(f"the video lasts {header.duration:.0f} s, longer than the limit of "
                        f"{settings.max_duration_s:g} s", status=422)


def check_file(path: str | Path, settings: Settings) -> Header:
    """Read the header of the video at ``path`` (no decoding) and `check` it; its header when within the limits."""
    header = read_header(path, settings.max_frames)
    check(header, settings)
    return header
