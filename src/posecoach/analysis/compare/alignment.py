"""Temporal alignment: dynamic time warping (dtaidistance's C implementation) with a Sakoe-Chiba band.

The band keeps the warping within ``band`` of the sequences' length from the diagonal (dtaidistance widens it by
the difference in length, so a patient twice as slow still aligns); ``open_ends`` lets either sequence skip a
share of its start and end (standing still before the guide begins).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from dtaidistance import dtw_ndim

try:  # the compiled extension: without it dtaidistance falls back to pure Python, ~1000x slower
    from dtaidistance import dtw_cc  # noqa: F401
except ImportError as exc:  # pragma: no cover - a broken install
    raise ImportError("dtaidistance's C extension (dtw_cc) is missing: reinstall dtaidistance from a wheel") from exc

#: Default Sakoe-Chiba band: a share of the longer sequence's length.
DEFAULT_BAND = 0.2
#: Default share of each sequence's start and end that may go unmatched.
DEFAULT_OPEN_ENDS = 0.1


@dataclass(frozen=True)
class Alignment:
    """A warping path: ``ref[k]`` is matched with ``att[k]`` (both non-decreasing frame indices)."""

    ref: np.ndarray
    att: np.ndarray
    cost: float  # DTW distance (Euclidean in feature space along the path)
    ref_offset: int = 0  # frame offsets of the aligned slices in the full sequences
    att_offset: int = 0

    @property
    def mean_cost(self) -> float:
        """Cost per matched pair: comparable between sequences of different lengths."""
        return float(self.cost ** 2 / max(len(self.ref), 1)) ** 0.5

    def shifted(self) -> Alignment:
        """The same path in frame numbers of the full sequences."""
        return Alignment(self.ref + self.ref_offset, self.att + self.att_offset, self.cost)


def band_frames(n: int, m: int, band: float = DEFAULT_BAND) -> int:
    return max(2, round(band * max(n, m)))


def align(ref: np.ndarray, att: np.ndarray, *, band: float = DEFAULT_BAND, open_ends: float = DEFAULT_OPEN_ENDS,
          ref_offset: int = 0, att_offset: int = 0) -> Alignment:
    """Align ``(N, D)`` reference features with ``(M, D)`` attempt features (no NaN)."""
    a = np.ascontiguousarray(np.reshape(ref, (len(ref), -1)), dtype=np.float64)
    b = np.ascontiguousarray(np.reshape(att, (len(att), -1)), dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("cannot align an empty sequence")
    if len(a) == 1 or len(b) == 1:  # one frame: everything matches it
        n = max(len(a), len(b))
        i = np.zeros(n, np.int64) if len(a) == 1 else np.arange(n)
        j = np.zeros(n, np.int64) if len(b) == 1 else np.arange(n)
        return Alignment(i, j, float(np.sqrt(np.sum((a[i] - b[j]) ** 2))), ref_offset, att_offset)
    psi = (round(open_ends * len(a)), round(open_ends * len(a)), round(open_ends * len(b)), round(open_ends * len(b)))
    if a.shape[1] == 1:  # dtaidistance takes one-dimensional series as 1-D arrays
        a, b = a[:, 0].copy(), b[:, 0].copy()
    path, dist = dtw_ndim.warping_path(a, b, window=band_frames(len(a), len(b), band), psi=psi, use_c=True,
                                       include_distance=True)
    p = np.asarray(path, dtype=np.int64).reshape(-1, 2)
    return Alignment(p[:, 0], p[:, 1], float(dist), ref_offset, att_offset)
