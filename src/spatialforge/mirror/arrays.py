"""Per-pixel arrays after a horizontal flip: images, depth and id maps, point maps, RLE masks."""

from __future__ import annotations

import numpy as np


def flip_horizontal(img: np.ndarray) -> np.ndarray:
    """A contiguous left-right flipped copy of an (H, W) or (H, W, C) array.

    Channel by channel: numpy copies a reversed (H, W, 3) uint8 view pixel by pixel, ~6x
    slower than three reversed 2-D planes (0.4 vs 2.2 ms for a 640x480 RGB image).
    """
    if img.ndim != 3:
        return img[:, ::-1].copy()
    out = np.empty_like(img)
    for c in range(img.shape[2]):
        out[:, :, c] = img[:, ::-1, c]
    return out


def mirror_point_map(pm: np.ndarray) -> np.ndarray:
    """An (H, W, 3) camera-frame point map of the flipped view: columns reversed, x negated."""
    out = pm[:, ::-1].copy()
    out[..., 0] *= -1
    return out


def mirror_rle_counts(counts: tuple[int, ...], H: int, W: int) -> tuple[int, ...]:
    """Column-major runs of the horizontally flipped mask, computed on the runs (no dense decode).

    Flipping reverses the order of the H-pixel column blocks and keeps each block's contents,
    so every foreground run is cut at column borders, each piece is moved to column W - 1 - c,
    and the pieces are sorted and joined again.
    """
    ends = np.cumsum(counts, dtype=np.int64)
    starts = ends - np.asarray(counts, dtype=np.int64)
    s, e = starts[1::2], ends[1::2]
    keep = e > s
    s, e = s[keep], e[keep]
    if s.size == 0:
        return (H * W,)
    c0, c1 = s // H, (e - 1) // H
    k = c1 - c0 + 1  # columns each run touches
    col = np.repeat(c0, k) + (np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k))
    a = np.maximum(np.repeat(s, k), col * H)
    b = np.minimum(np.repeat(e, k), (col + 1) * H)
    shift = (W - 1 - 2 * col) * H
    a, b = a + shift, b + shift
    order = np.argsort(a, kind="stable")
    a, b = a[order], b[order]
    join = a[1:] == b[:-1]  # pieces that touch across a column border form one run again
    a = a[np.concatenate(([True], ~join))]
    b = b[np.concatenate((~join, [True]))]
    bounds = np.empty(2 * a.size + 2, dtype=np.int64)
    bounds[0], bounds[1:-1:2], bounds[2:-1:2], bounds[-1] = 0, a, b, H * W
    runs = np.diff(bounds).tolist()
    if runs[-1] == 0:  # ends on foreground: ``encode`` writes no empty last run
        runs.pop()
    return tuple(runs)
