"""Region annotations of a record after a horizontal flip: boxes, COCO RLE masks, polygons.

A record of a region-grounded dataset (SpatialRGPT's Open Spatial Dataset) refers to regions
by position: the k-th ``<mask>`` token is the k-th box / mask.  A flip moves every region but
never reorders them, so the tokens stay where they are and each region is mirrored in place.

``regions`` is ``{"bbox": [[...], ...], "rle": [{"size": [h, w], "counts": str | list}, ...],
"segmentation": [[[x, y, x, y, ...], ...], ...], "box_format": "xyxy" | "xywh"}`` (every key
optional; boxes and polygons in pixels of the image).  COCO RLE ``counts`` come either as run
lengths or as COCO's compressed string; each is written back in the form it came in.
"""

from __future__ import annotations

from typing import Any

from ..errors import DataError
from .arrays import mirror_rle_counts
from .coords import mirror_box2d, mirror_box_xywh


def coco_counts_from_string(s: str) -> list[int]:
    """COCO's compressed RLE string to run lengths (``rleFrString`` of pycocotools' maskApi.c).

    Written here because pycocotools (a C extension) is not a dependency and this is its whole
    codec: 6 bits a character, offset 48, 5 value bits and a continuation bit, the sign from
    the last group, and runs after the second stored as differences to the run two back."""
    counts: list[int] = []
    p = 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            if p >= len(s):
                raise DataError(f"COCO RLE string ends inside a number: {s[:40]!r}")
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p, k = p + 1, k + 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        counts.append(x)
    return counts


def coco_counts_to_string(counts: list[int] | tuple[int, ...]) -> str:
    """Run lengths to COCO's compressed RLE string (``rleToString``, the inverse of the above)."""
    out = []
    for i, v in enumerate(counts):
        x = int(v) - (int(counts[i - 2]) if i > 2 else 0)
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(chr((c | 0x20 if more else c) + 48))
    return "".join(out)


def mirror_rle(rle: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    """A COCO RLE mask ``{"size": [h, w], "counts"}`` of the flipped image, counts in the same form."""
    try:
        h, w = (int(v) for v in rle["size"])
        raw = rle["counts"]
    except (KeyError, TypeError, ValueError):
        raise DataError(f"RLE mask without a valid 'size' and 'counts': {str(rle)[:80]}") from None
    if (h, w) != (height, width):
        raise DataError(f"RLE mask of size {h}x{w} on an image of {height}x{width}")
    compressed = isinstance(raw, (str, bytes))
    counts = coco_counts_from_string(raw.decode() if isinstance(raw, bytes) else raw) if compressed else list(raw)
    if sum(counts) != h * w or min(counts, default=0) < 0:
        raise DataError(f"RLE mask counts sum to {sum(counts)}, expected {h * w}")
    flipped = list(mirror_rle_counts(tuple(counts), h, w))
    return {**rle, "counts": coco_counts_to_string(flipped) if compressed else flipped}


def mirror_polygon(poly: list[float], width: float) -> list[float]:
    """A COCO polygon ``[x0, y0, x1, y1, ...]``: every x -> W - x."""
    return [width - v if i % 2 == 0 else v for i, v in enumerate(poly)]


def mirror_regions(regions: dict[str, Any], width: int, height: int) -> dict[str, Any]:
    """Every region of a record, mirrored in place (order kept); raises DataError on a bad one."""
    fmt = regions.get("box_format", "xyxy")
    if fmt not in ("xyxy", "xywh"):
        raise DataError(f"region box_format must be xyxy or xywh, got {fmt!r}")
    box = mirror_box2d if fmt == "xyxy" else mirror_box_xywh
    out = dict(regions)
    if regions.get("bbox") is not None:
        bad = [b for b in regions["bbox"] if not isinstance(b, (list, tuple)) or len(b) != 4]
        if bad:
            raise DataError(f"region box {bad[0]!r} is not 4 numbers")
        out["bbox"] = [list(box(b, width)) for b in regions["bbox"]]
    if regions.get("rle") is not None:
        out["rle"] = [mirror_rle(r, width, height) for r in regions["rle"]]
    if regions.get("segmentation") is not None:
        out["segmentation"] = [[mirror_polygon(p, width) for p in polys] for polys in regions["segmentation"]]
    return out


def region_count(regions: dict[str, Any]) -> int | None:
    """How many regions the record has (the longest annotation list), None without any."""
    sizes = [len(regions[k]) for k in ("bbox", "rle", "segmentation") if regions.get(k) is not None]
    return max(sizes) if sizes else None
