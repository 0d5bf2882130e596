"""Object masks as pixel index lists, straight from RLE (cost grows with the mask area, not the image)."""

from __future__ import annotations

import numpy as np

from ..scene import MaskRLE


def rle_pixels(mask: MaskRLE) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns (each (N,) int64, column-major order) of the pixels set in an RLE mask.

    Runs are over the column-major flattening starting with zeros, so the odd runs are
    the set pixels; each run is expanded to its flat indices without decoding the image.
    """
    counts = np.asarray(mask.counts, dtype=np.int64)
    if counts.size < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ends = np.cumsum(counts)
    starts = (ends - counts)[1::2]
    lengths = counts[1::2]
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    # flat[k] = start of k's run + position of k inside the run
    offsets = np.cumsum(lengths) - lengths
    flat = np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, lengths)
    cols, rows = np.divmod(flat, mask.height)
    return rows, cols


def instance_pixels(instance_ids: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """(H, W) int map (-1 background, else object id) -> {id: (rows, cols)} in row-major order."""
    flat = instance_ids.ravel()
    fg = np.flatnonzero(flat >= 0)
    if fg.size == 0:
        return {}
    ids = flat[fg]
    order = np.argsort(ids, kind="stable")
    fg, ids = fg[order], ids[order]
    uniq, first = np.unique(ids, return_index=True)
    bounds = np.append(first, ids.size)
    width = instance_ids.shape[1]
    out = {}
    for k, obj_id in enumerate(uniq.tolist()):
        rows, cols = np.divmod(fg[bounds[k] : bounds[k + 1]], width)
        out[int(obj_id)] = (rows, cols)
    return out
