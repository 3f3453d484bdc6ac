"""Caps on the live WebSocket (`posecoach.service.live`), so that one client cannot take the server's memory or CPU.

* **Sessions**: at most ``POSECOACH_LIVE_MAX_SESSIONS`` open at once in the process, and
  ``POSECOACH_LIVE_MAX_SESSIONS_PER_USER`` per user (`Sessions`); one more is refused before its pose model is
  loaded (code 4429 and the reason).
* **Frame size**: a frame larger than ``POSECOACH_LIVE_MAX_FRAME_KB``, or whose JPEG header (`jpeg_size`: the
  start-of-frame marker, read before any decoding) says more than ``POSECOACH_LIVE_MAX_FRAME_PIXELS`` pixels or
  a side over 4096, is refused with the reason and never decoded (a 16000x16000 JPEG of a few hundred bytes would
  decode to 768 MB).
* **Frame rate**: frames beyond ``POSECOACH_LIVE_MAX_FPS`` (a token bucket that allows a one-second burst) are
  answered ``{"type": "dropped"}`` and not processed (`Rate`).
* **Abuse**: after ``POSECOACH_LIVE_MAX_REFUSALS`` refused frames in a row the session is closed with 1008
  (policy violation).

Frames that pass are decoded and analysed in the session's own worker thread, off the event loop.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

MAX_SIDE = 4096
# start-of-frame markers (SOF0-SOF15 but DHT C4, JPG C8 and DAC CC): they carry the frame's height and width
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_STANDALONE = frozenset(range(0xD0, 0xD8)) | {0x01}  # RSTn and TEM: markers without a length


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a JPEG's start-of-frame header, without decoding it; None if ``data`` is no JPEG or
    ends before its frame header (a JPEG decoder would refuse it too)."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    i, n = 2, len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _STANDALONE:
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            return None
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2:
            return None
        if marker in _SOF:
            if i + 9 > n or length < 7:
                return None
            height = int.from_bytes(data[i + 5:i + 7], "big")
            width = int.from_bytes(data[i + 7:i + 9], "big")
            return width, height
        i += 2 + length
    return None


def frame_refusal(jpeg: bytes, max_bytes: int, max_pixels: int) -> str | None:
    """Why the frame ``jpeg`` is refused before decoding (None: it may be decoded)."""
    if len(jpeg) > max_bytes:
        return f"the frame is {len(jpeg) / 1024:,.0f} KiB, more than the limit of {max_bytes / 1024:,.0f} KiB"
    size = jpeg_size(jpeg)
    if size is None:
        return "a frame is not a JPEG image"
    width, height = size
    if not width or not height or width > MAX_SIDE or height > MAX_SIDE or width * height > max_pixels:
        return (f"the frame is {width}x{height} pixels; at most {max_pixels:,} pixels (e.g. 1920x1080) and "
                f"{MAX_SIDE} a side: send smaller camera frames (the web app sends 640x480)")
    return None


@dataclass
class Rate:
    """A token bucket: ``fps`` frames a second, with a burst of one second's worth."""

    fps: float
    tokens: float = field(init=False)
    last: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = max(1.0, self.fps)

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(max(1.0, self.fps), self.tokens + (now - self.last) * self.fps)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Sessions:
    """The live sessions open in this process, per user (used from the event loop only, so no lock)."""

    def __init__(self) -> None:
        self.open: Counter[str] = Counter()

    def enter(self, user_id: str, per_user: int, total: int) -> str | None:
        """Count a new session of ``user_id``; the reason it is refused instead (None: it may start)."""
        if sum(self.open.values()) >= total:
            return (f"the server has {total} live sessions open, its most (POSECOACH_LIVE_MAX_SESSIONS): "
                    "try again in a minute")
        if self.open[user_id] >= per_user:
            return (f"you have {per_user} live sessions open, the most per user "
                    "(POSECOACH_LIVE_MAX_SESSIONS_PER_USER): close one (another tab or device) first")
        self.open[user_id] += 1
        return None

    def leave(self, user_id: str) -> None:
        self.open[user_id] -= 1
        if self.open[user_id] <= 0:
            del self.open[user_id]
