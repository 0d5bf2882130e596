"""``sensor`` geometry: images that come with measured depth and known intrinsics (RGB-D).

Depth for image ``<id>`` is ``<depth_dir>/<id>.npy`` (float, metres x ``depth_scale``) or
``<depth_dir>/<id>.png`` (16-bit integers x ``depth_scale``, e.g. 0.001 for millimetres);
0, NaN and inf are invalid.  Intrinsics are ``intrinsics: {fx, fy, cx, cy}`` for every image,
or ``<intrinsics_dir>/<id>.json`` holding ``{fx, fy, cx, cy}`` or ``{"K": 3x3}`` (pixels,
origin at the top-left corner of the top-left pixel, docs/conventions.md).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import ConfigError, DataError
from .base import GeometryResult, ImageItem, register, unproject_depth


def _K(d: Any, where: str) -> np.ndarray:
    try:
        if isinstance(d, dict) and "K" in d:
            K = np.asarray(d["K"], dtype=np.float64)
        else:
            K = np.array([[d["fx"], 0, d["cx"]], [0, d["fy"], d["cy"]], [0, 0, 1]], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as e:
        raise DataError(f"{where}: intrinsics need fx, fy, cx, cy or K ({type(e).__name__}: {e})") from None
    if K.shape != (3, 3) or not np.all(np.isfinite(K)) or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise DataError(f"{where}: intrinsics must be a finite 3x3 K with positive focal lengths")
    return K


@register("geometry", "sensor")
class SensorGeometry:
    def __init__(self, depth_dir: str, depth_scale: float = 1.0, intrinsics: dict | None = None,
                 intrinsics_dir: str | None = None) -> None:
        self.depth_dir = Path(depth_dir)
        if not self.depth_dir.is_dir():
            raise ConfigError(f"sensor geometry: depth_dir {self.depth_dir} not found")
        if not (isinstance(depth_scale, (int, float)) and math.isfinite(depth_scale) and depth_scale > 0):
            raise ConfigError(f"sensor geometry: depth_scale must be > 0, got {depth_scale!r}")
        if (intrinsics is None) == (intrinsics_dir is None):
            raise ConfigError("sensor geometry: give exactly one of intrinsics or intrinsics_dir")
        try:
            self.K = None if intrinsics is None else _K(intrinsics, "sensor geometry")
        except DataError as e:
            raise ConfigError(str(e)) from None
        self.intrinsics_dir = None if intrinsics_dir is None else Path(intrinsics_dir)
        self.depth_scale = float(depth_scale)
        self.model_path = str(self.depth_dir)

    def _depth(self, item: ImageItem) -> np.ndarray:
        npy, png = self.depth_dir / f"{item.id}.npy", self.depth_dir / f"{item.id}.png"
        try:
            if npy.is_file():
                d = np.load(npy, allow_pickle=False)
            elif png.is_file():
                with Image.open(png) as im:
                    d = np.asarray(im)
            else:
                raise DataError(f"image {item.id!r}: no depth file {npy.name} or {png.name} in {self.depth_dir}")
        except (ValueError, OSError, EOFError, UnidentifiedImageError) as e:
            raise DataError(f"image {item.id!r}: unreadable depth file ({type(e).__name__}: {e})") from None
        if d.ndim != 2 or d.shape != item.hw:
            raise DataError(f"image {item.id!r}: depth is {d.shape}, image is {item.hw}")
        if not (np.issubdtype(d.dtype, np.floating) or np.issubdtype(d.dtype, np.integer)):
            raise DataError(f"image {item.id!r}: depth has dtype {d.dtype}")
        return (d.astype(np.float64) * self.depth_scale).astype(np.float32)

    def __call__(self, images: list[ImageItem]) -> list[GeometryResult]:
        out = []
        for item in images:
            depth = self._depth(item)
            if self.K is not None:
                K = self.K
            else:
                path = self.intrinsics_dir / f"{item.id}.json"
                try:
                    K = _K(json.loads(path.read_text()), str(path))
                except (OSError, json.JSONDecodeError) as e:
                    raise DataError(f"image {item.id!r}: intrinsics {path} unreadable ({type(e).__name__})") from None
            valid = np.isfinite(depth) & (depth > 0)
            out.append(GeometryResult(unproject_depth(np.where(valid, depth, 0.0), K), depth, valid, K.copy()))
        return out
