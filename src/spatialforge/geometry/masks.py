"""Object masks as pixel index lists, straight from RLE (cost grows with the mask area, not the image)."""

from __future__ import annotations

import numpy as np

from ..scene import MaskRLE


def rle_pixels(mask: MaskRLE) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns (each (N,) int64, column-major order) of the pixels set in an RLE mask.

    Runs are over the column-major flattening starting with zeros, so the odd runs are
    the set pixels.  Runs are cut at column ends (rarely needed: a run wraps only from one
    column's bottom to the next one's top), so every piece has one column and consecutive
    rows: no division per pixel (80 -> 45 us per 13k-pixel mask).
    """
    counts = np.asarray(mask.counts, dtype=np.int64)
    if counts.size < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    ends = np.cumsum(counts)
    starts = (ends - counts)[1::2]
    lengths = counts[1::2]
    keep = lengths > 0
    starts, lengths = starts[keep], lengths[keep]
    if starts.size == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    height = mask.height
    cols = starts // height
    last_cols = (starts + lengths - 1) // height
    if (cols != last_cols).any():
        starts, lengths, cols = _split_at_columns(starts, lengths, cols, last_cols, height)
    # row of pixel k = its piece's first row + position of k inside the piece
    offsets = np.cumsum(lengths) - lengths
    rows = np.arange(int(offsets[-1] + lengths[-1]), dtype=np.int64) + np.repeat(starts - cols * height - offsets, lengths)
    return rows, np.repeat(cols, lengths)


def _split_at_columns(starts: np.ndarray, lengths: np.ndarray, cols: np.ndarray, last_cols: np.ndarray,
                      height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs (flat column-major starts, lengths, first and last columns) cut into one piece per
    column they cover: (starts, lengths, columns) of the pieces, in order."""
    pieces = last_cols - cols + 1
    first_piece = np.cumsum(pieces) - pieces
    piece_cols = np.repeat(cols, pieces) + np.arange(int(pieces.sum())) - np.repeat(first_piece, pieces)
    piece_starts = np.maximum(np.repeat(starts, pieces), piece_cols * height)
    piece_ends = np.minimum(np.repeat(starts + lengths, pieces), (piece_cols + 1) * height)
    return piece_starts, piece_ends - piece_starts, piece_cols


def instance_pixels(instance_ids: np.ndarray, wanted: list[int] | None = None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """(H, W) int map (-1 background, else object id) -> {id: (rows, cols)} in row-major order,
    for every id in the map, or for the ``wanted`` ids only (those absent from the map left out)."""
    flat = instance_ids.ravel()
    width = instance_ids.shape[1]
    if wanted is not None and len(wanted) <= 8:
        # A pass per wanted id beats sorting every foreground pixel by id (0.9 -> 0.04 ms per
        # id on a 640x480 map): scenes with RLE masks read the map for a few objects only.
        out = {}
        for obj_id in wanted:
            at = np.flatnonzero(flat == obj_id)
            if at.size:
                out[obj_id] = np.divmod(at, width)
        return out
    fg = np.flatnonzero(flat >= 0)
    if fg.size == 0:
        return {}
    ids = flat[fg]
    order = np.argsort(ids, kind="stable")
    fg, ids = fg[order], ids[order]
    uniq, first = np.unique(ids, return_index=True)
    bounds = np.append(first, ids.size)
    out = {}
    for k, obj_id in enumerate(uniq.tolist()):
        if wanted is None or obj_id in wanted:
            rows, cols = np.divmod(fg[bounds[k] : bounds[k + 1]], width)
            out[int(obj_id)] = (rows, cols)
    return out
