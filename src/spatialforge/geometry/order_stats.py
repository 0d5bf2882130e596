"""Exact order statistics, cheaper than numpy's general functions at the sizes here.

Both give numpy's numbers exactly (tested): ``median`` those of ``np.median`` on finite 1-D
input without its generic machinery (2.5 vs 13 us at 500 values); ``trimmed_range`` those of
``np.quantile(values, [trim, 1 - trim])`` from the two tails only.
"""

from __future__ import annotations

import math

import numpy as np


def median(values: np.ndarray) -> float:
    """``float(np.median(values))`` for (N,) finite values, N > 0 (same dtype arithmetic)."""
    n = values.size
    h = n // 2
    if n % 2:
        return float(np.partition(values, h)[h])
    part = np.partition(values, [h - 1, h])
    return float((part[h - 1] + part[h]) / 2)


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's quantile interpolation between neighbouring order statistics (same numbers)."""
    diff = b - a
    return b - diff * (1 - t) if t >= 0.5 else a + diff * t


def trimmed_range(values: np.ndarray, trim: float, sample_step: int = 16) -> tuple[float, float]:
    """The ``trim`` and ``1 - trim`` quantiles of (N,) finite values, N > 0: the numbers
    ``np.quantile(values, [trim, 1 - trim])`` gives (its default linear method), from the
    two tails only.  Exact: the values up to (from) a threshold taken from a strided sample
    hold every order statistic of the low (high) tail when there are enough of them, else
    all values are used.  (50k values: 0.8 -> 0.08 ms against np.quantile.)"""
    values = np.asarray(values, dtype=np.float64).ravel()
    n = values.size

    def ranks(q: float) -> tuple[int, int, float]:  # numpy's linear method: v = (n - 1) q
        v = (n - 1) * q
        k = min(math.floor(v), n - 1)
        return k, min(k + 1, n - 1), v - k

    k0, k1, t = ranks(trim)
    h0, h1, u = ranks(1.0 - trim)
    need = max(k1 + 1, n - h0)  # values in each tail
    sample = values[::sample_step]
    m = min(sample.size - 1, 2 * (need // sample_step) + 4)
    low_thr, high_thr = np.partition(sample, [m, sample.size - 1 - m])[[m, sample.size - 1 - m]]
    low = values[values <= low_thr]  # ranks 0 .. low.size - 1
    if low.size <= k1:
        low = values
    high = values[values >= high_thr]  # ranks n - high.size .. n - 1
    if high.size < n - h0:
        high = values
    a, b = np.partition(low, [k0, k1])[[k0, k1]].tolist()
    first = n - high.size
    c, d = np.partition(high, [h0 - first, h1 - first])[[h0 - first, h1 - first]].tolist()
    return _lerp(a, b, t), _lerp(c, d, u)
