"""Write H.264 videos that browsers play and seek, atomically; join parts rendered in parallel."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from posecoach.core.atomic import atomic_path
from posecoach.errors import InputError, PoseCoachError

TIME_BASE = Fraction(1, 90000)  # 90 kHz, as in MPEG: fine enough to keep variable frame rates
_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
_AV_ERRORS = (av.FFmpegError, OSError, EOFError, ValueError, RuntimeError)
_BT709 = 1  # AVCOL_PRI_BT709 / AVCOL_TRC_BT709 / AVCOL_SPC_BT709


def _format_for(path: Path) -> str:
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise PoseCoachError(f"cannot write video '{path}': name it .mp4 (or .m4v, .mov, .mkv)")
    return fmt


def _container_options(fmt: str) -> dict[str, str]:
    return {"movflags": "+faststart"} if fmt in ("mp4", "mov") else {}


def _message(exc: BaseException) -> str:
    return " ".join(str(getattr(exc, "strerror", None) or exc or type(exc).__name__).split())


class VideoWriter:
    """Encode RGB frames to H.264 / yuv420p (mp4 with ``+faststart``), written atomically.

    The file appears at ``path`` only when :meth:`close` (or the end of the ``with`` block) succeeds; an
    exception inside the block or a failed encode leaves nothing behind, and an existing file is kept.
    """

    def __init__(self, path: str | Path, fps: float, *, width: int | None = None, height: int | None = None,
                 crf: int = 23, preset: str = "veryfast", gop: int | None = None, threads: int = 0) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps}")
        if (width is None) != (height is None):
            raise ValueError("give both width and height, or neither")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {crf}")
        self.path = Path(path)
        self.fps = float(fps)
        self._fmt = _format_for(self.path)
        self._options = {"crf": str(crf), "preset": preset}
        self._gop = gop if gop else max(1, round(2 * self.fps))  # a keyframe every 2 s: quick seeking
        self._threads = threads
        self._size: tuple[int, int] | None = None
        self._container: Any = None
        self._stream: Any = None
        self.frames_written = 0
        self._t0: float | None = None
        self._last_time: float | None = None
        self._last_pts = -1
        self._done = False
        self._atomic = atomic_path(self.path)
        try:
            self._tmp = self._atomic.__enter__()
        except OSError as exc:
            self._done = True
            raise PoseCoachError(f"cannot write video '{self.path}': {_message(exc)}") from exc
        if width is not None and height is not None:
            self._guard(self._start, int(width), int(height))

    # -- internals --
    def _start(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        self._size = (width, height)
        self._container = av.open(str(self._tmp), "w", format=self._fmt,
                                  container_options=_container_options(self._fmt))
        rate = Fraction(self.fps).limit_denominator(100000)
        stream = self._container.add_stream("libx264", rate=rate, options=dict(self._options))
        stream.width, stream.height = width + width % 2, height + height % 2  # yuv420p needs even sizes
        stream.pix_fmt = "yuv420p"
        stream.time_base = TIME_BASE
        cc = stream.codec_context
        cc.time_base = TIME_BASE
        cc.gop_size = self._gop
        cc.thread_count = max(0, self._threads)
        cc.color_primaries, cc.color_trc, cc.colorspace = _BT709, _BT709, _BT709
        cc.color_range = ColorRange.MPEG
        self._stream = stream
        cc.open(strict=False)  # now, so that bad settings fail here rather than at the first frame

    def _encode(self, frame: Any) -> None:
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def _guard(self, fn: Any, *args: Any) -> None:
        try:
            fn(*args)
        except _AV_ERRORS as exc:
            self._abort(exc)
            raise PoseCoachError(f"cannot write video '{self.path}': {_message(exc)}") from exc

    def _abort(self, exc: BaseException) -> None:
        """Drop the temporary file; the final path is left as it was."""
        if self._done:
            return
        self._done = True
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
        with contextlib.suppress(Exception):
            self._atomic.__exit__(type(exc), exc, exc.__traceback__)

    # -- public --
    def write(self, image: np.ndarray, time: float | None = None) -> None:
        """Append one HxWx3 uint8 RGB frame shown at ``time`` seconds (default: previous + 1/fps).

        Times are relative: the first frame written is at 0 in the file.
        """
        if self._done:
            raise ValueError(f"VideoWriter for '{self.path}' is closed")
        img = np.asarray(image)
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {img.dtype} {img.shape}")
        h, w = img.shape[:2]
        if self._size is None:
            self._guard(self._start, w, h)
        elif (w, h) != self._size:
            raise ValueError(f"frame size {w}x{h} differs from the video's {self._size[0]}x{self._size[1]}")
        if h % 2 or w % 2:
            img = np.pad(img, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        if time is None:
            t = 0.0 if self._last_time is None else self._last_time + 1.0 / self.fps
        else:
            t = float(time)
            if not math.isfinite(t):
                raise ValueError(f"frame time must be finite, got {time}")
        if self._t0 is None:
            self._t0 = t
        pts = max(round((t - self._t0) / TIME_BASE), self._last_pts + 1)  # strictly increasing
        self._last_time, self._last_pts = t, pts
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
        frame = frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709,
                               dst_color_range=ColorRange.MPEG)
        frame.pts, frame.time_base = pts, TIME_BASE
        self._guard(self._encode, frame)
        self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and move the finished file into place."""
        if self._done:
            return
        if self.frames_written == 0:
            err = PoseCoachError(f"cannot write video '{self.path}': no frames were written")
            self._abort(err)
            raise err
        self._guard(self._encode, None)
        self._guard(self._container.close)
        self._done = True
        try:
            self._atomic.__exit__(None, None, None)
        except OSError as exc:
            raise PoseCoachError(f"cannot write video '{self.path}': {_message(exc)}") from exc

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            self._abort(exc)
        else:
            self.close()


# --- joining parts -----------------------------------------------------------------------------------

def _open_part(path: Path) -> tuple[Any, Any]:
    try:
        container = av.open(str(path))
    except _AV_ERRORS as exc:
        raise InputError(f"cannot read video part '{path}': {_message(exc)}") from exc
    if not container.streams.video:
        container.close()
        raise InputError(f"cannot read video part '{path}': no video stream")
    return container, container.streams.video[0]


def _scan(path: Path) -> tuple[Fraction, int, int, tuple[Any, ...]]:
    """Time base, first pts, end (last pts + its duration) and codec signature of a part."""
    container, stream = _open_part(path)
    try:
        cc = stream.codec_context
        signature = (cc.name, cc.width, cc.height, cc.pix_fmt, bytes(cc.extradata or b""))
        lo: int | None = None
        hi = 0
        deltas: list[int] = []
        for packet in container.demux(stream):
            if not packet.size:
                continue
            if packet.pts is None:
                raise InputError(f"cannot join video part '{path}': a packet has no timestamp")
            lo = packet.pts if lo is None else min(lo, packet.pts)
            if packet.duration:
                deltas.append(packet.duration)
            hi = max(hi, packet.pts + (packet.duration or (deltas[-1] if deltas else 1)))
    except av.FFmpegError as exc:
        raise InputError(f"cannot read video part '{path}': {_message(exc)}") from exc
    finally:
        container.close()
    if lo is None:
        raise InputError(f"cannot join video part '{path}': it has no frames")
    return stream.time_base, lo, hi, signature


def _rescale(value: int, src: Fraction, dst: Fraction) -> int:
    return round(value * src / dst)


def concat_videos(parts: Sequence[str | Path], out: str | Path) -> Path:
    """Join mp4 parts with the same codec parameters into one file by stream copy (no re-encoding).

    Each part is placed right after the previous one ends, so the timestamps run on continuously
    whatever time each part starts at. Written atomically; returns ``out``.
    """
    paths = [Path(p) for p in parts]
    out = Path(out)
    if not paths:
        raise ValueError("concat_videos needs at least one part")
    fmt = _format_for(out)
    scans = [_scan(p) for p in paths]
    for path, scan in zip(paths[1:], scans[1:], strict=True):
        if scan[3] != scans[0][3]:
            raise PoseCoachError(f"cannot join '{path}' to '{paths[0]}': their codec parameters differ "
                                 f"({scan[3][:4]} vs {scans[0][3][:4]})")
    tb_out = scans[0][0]
    try:
        with atomic_path(out) as tmp, av.open(str(tmp), "w", format=fmt,
                                              container_options=_container_options(fmt)) as output:
            out_stream: Any = None
            cursor = Fraction(0)  # seconds where the next part starts
            last_dts: int | None = None
            for path, (tb, lo, hi, _) in zip(paths, scans, strict=True):
                container, stream = _open_part(path)
                try:
                    if out_stream is None:
                        out_stream = output.add_stream_from_template(stream)
                        out_stream.time_base = tb_out
                    shift = round(cursor / tb) - lo
                    extra = 0  # ticks of tb_out added to keep decode times increasing
                    for packet in container.demux(stream):
                        if not packet.size:
                            continue
                        pts = _rescale(packet.pts + shift, tb, tb_out) + extra
                        dts_in = packet.dts if packet.dts is not None else packet.pts
                        dts = _rescale(dts_in + shift, tb, tb_out) + extra
                        if last_dts is not None and dts <= last_dts:
                            bump = last_dts + 1 - dts
                            extra, pts, dts = extra + bump, pts + bump, dts + bump
                        duration = _rescale(packet.duration or 0, tb, tb_out)
                        packet.pts, packet.dts, packet.duration = pts, dts, duration
                        packet.time_base = tb_out
                        packet.stream = out_stream
                        output.mux(packet)
                        last_dts = dts
                finally:
                    container.close()
                cursor += (hi - lo) * tb + extra * tb_out
    except av.FFmpegError as exc:
        raise PoseCoachError(f"cannot join video parts into '{out}': {_message(exc)}") from exc
    return out
