"""Frames of a video fetched by index in the order an alignment asks for them, streamed: at most one decoded
frame is kept. Asking for the next frames decodes on; going back, or jumping far ahead, seeks again (an
alignment path mostly moves forward, and goes back once per repetition when a one-repetition guide is matched
with each repetition of an attempt)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from posecoach.io import Frame, FrameSource, is_image, is_video, open_frames

#: frames decoded on (rather than seeking) when the wanted index is ahead of the current one
DECODE_AHEAD = 90


def video_for(value: object, source: dict[str, object] | None = None) -> Path | None:
    """The video (or image) to show for an input: ``value`` itself when it is such a file, else the path the poses
    were estimated from (``source["path"]`` of a saved sequence or library guide) when that file still exists."""
    for candidate in (value, (source or {}).get("path")):
        if isinstance(candidate, (str, Path)) and str(candidate):
            path = Path(candidate)
            if (is_video(path) or is_image(path)) and path.is_file():
                return path
    return None


class IndexedFrames:
    """``get(index)``: the upright RGB frame ``index`` of a video or image, or None past its end."""

    def __init__(self, path: str | Path, *, threads: int = 1) -> None:
        self.source: FrameSource = open_frames(path, threads=threads)
        self.width, self.height = self.source.info.width, self.source.info.height
        self._iter: Iterator[Frame] | None = None
        self._current: Frame | None = None
        self._end = len(self.source)  # the first frame that cannot be read (lowered when a cut file ends early)
        self.seeks = 0  # times decoding restarted (first open included), for tests

    def __len__(self) -> int:
        return len(self.source)

    def get(self, index: int) -> np.ndarray | None:
        if index < 0 or index >= self._end:
            return None
        cur = self._current
        if cur is not None and cur.index == index:
            return cur.image
        if self._iter is None or cur is None or index < cur.index or index - cur.index > DECODE_AHEAD:
            self._iter = self.source.frames(index)
            self.seeks += 1
        for frame in self._iter:
            self._current = frame
            if frame.index >= index:
                return frame.image if frame.index == index else None
        self._end = min(self._end, index)  # ended early (a cut file): nothing from here on
        self._iter, self._current = None, None
        return None

    def close(self) -> None:
        self._iter, self._current = None, None
        self.source.close()

    def __enter__(self) -> IndexedFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
