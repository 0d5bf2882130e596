"""Which coordinate grid a model's 2D boxes and points are on, per benchmark and per model.

A box "[100, 200, 300, 400]" means different things: pixels of the image (most models),
pixels of the image *after the processor resized it* (Qwen2.5-VL: each side rounded to a
multiple of 28 by ``smart_resize``), a 0-1000 grid (Qwen2-VL), or 0-1 fractions (RoboSpatial
asks for those). Scales:

* ``auto``: the parsers' own reading (``parse_geometry``: model tokens such as PaliGemma
  ``<loc>``, values all in [0, 1] as fractions, anything else as pixels);
* ``pixel``, ``unit`` (0-1), ``thousand`` (0-1000): every value on that grid;
* ``qwen25``: pixels of the Qwen2.5-VL-resized image (``qwen25_resized_size``).

The scale in force is, first found: ``--coord-scale`` (CLI / ``evaluate(coord_scale=)``),
the model profile (:data:`MODEL_SCALES`, matched on the model name), the benchmark's default
(``Benchmark.coord_scale``). Values all in [0, 1] are fractions under a *profile* scale too
(a model that followed "answer in normalised coordinates" did so); an explicit override is
applied as given.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

from .parse_common import ParseFailure

COORD_SCALES = ("auto", "pixel", "unit", "thousand", "qwen25")
#: Model-name patterns -> the grid the model answers on (first match wins).
MODEL_SCALES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"qwen2[._-]?5[._-]?vl", re.I), "qwen25"),
    (re.compile(r"qwen2[._-]?vl", re.I), "thousand"),
)
QWEN25_PATCH, QWEN25_MIN_PIXELS, QWEN25_MAX_PIXELS = 28, 56 * 56, 12845056  # preprocessor_config.json


def model_coord_scale(model_name: str | None) -> str | None:
    for pattern, scale in MODEL_SCALES:
        if model_name and pattern.search(str(model_name)):
            return scale
    return None


def resolve_coord_scale(override: str | None, model_name: str | None, default: str) -> tuple[str, str]:
    """``(scale, where it came from)``: ``override``, ``profile`` or ``benchmark``."""
    from .benchmarks.base import BenchmarkError  # deferred: benchmarks/__init__ imports openended, which imports coords

    if override is not None:
        if override not in COORD_SCALES:
            raise BenchmarkError(f"coord scale must be one of {COORD_SCALES}, got {override!r}")
        return override, "override"
    profile = model_coord_scale(model_name)
    return (profile, "profile") if profile else (default, "benchmark")


def qwen25_resized_size(width: float, height: float) -> tuple[int, int]:
    """(width, height) after Qwen2-VL/2.5-VL ``smart_resize`` with the released defaults."""
    f = QWEN25_PATCH
    h, w = max(f, round(height / f) * f), max(f, round(width / f) * f)
    if h * w > QWEN25_MAX_PIXELS:
        beta = math.sqrt(height * width / QWEN25_MAX_PIXELS)
        h, w = max(f, math.floor(height / beta / f) * f), max(f, math.floor(width / beta / f) * f)
    elif h * w < QWEN25_MIN_PIXELS:
        beta = math.sqrt(QWEN25_MIN_PIXELS / (height * width))
        h, w = math.ceil(height * beta / f) * f, math.ceil(width * beta / f) * f
    return w, h


def to_pixels(values: Sequence[float], scale: str, image_size: tuple[float, float] | None,
              *, strict: bool = True) -> tuple[float, ...] | None:
    """Alternating x, y values on ``scale`` as pixels of the original image (None: a
    normalised grid and no image size). Not ``strict`` (a profile scale): values all in
    [0, 1] are fractions."""
    vals = tuple(float(v) for v in values)
    if not strict and all(0 <= v <= 1 for v in vals):
        scale = "unit"
    if scale in ("auto", "pixel"):
        return vals
    if image_size is None:
        return None
    w, h = image_size
    if scale == "qwen25":
        rw, rh = qwen25_resized_size(w, h)
        return tuple(v * (w / rw if i % 2 == 0 else h / rh) for i, v in enumerate(vals))
    div = {"unit": 1.0, "thousand": 1000.0}[scale]
    return tuple(v / div * (w if i % 2 == 0 else h) for i, v in enumerate(vals))


def parse_2d(parse, text: str, scale: str, image_size: tuple[float, float] | None, *, strict: bool = True):
    """``parse_box2d`` / ``parse_point2d`` on ``scale``: the parser's own scales directly
    (``auto`` keeps its model-token readings), the others from the raw numbers."""
    if scale == "auto" or (strict and scale in ("pixel", "unit", "thousand")):
        return parse(text, image_size=image_size, scale=scale)
    raw = parse(text, image_size=image_size, scale="pixel")
    if isinstance(raw, ParseFailure):
        return raw
    px = to_pixels(raw, scale, image_size, strict=strict)
    if px is None:
        return ParseFailure(f"coordinates on the {scale!r} grid need the image size")
    if len(px) == 4:
        x0, y0, x1, y1 = px
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    return px
