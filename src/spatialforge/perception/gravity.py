"""Gravity backends: the up direction of each image's camera, from something other than the floor.

Default (no ``gravity`` stage): the project's floor-plane fit in ``geometry.estimate_scene``
(RANSAC on background points, level-camera fallback).  A ``gravity`` stage replaces it per
image where it has an answer.

Protocol (``GravityBackend``): ``__call__(images, geometries)`` returns, per image, the unit *up*
vector (against gravity) in the camera frame (OpenCV: x right, y down, z forward; a level
camera's up is (0, -1, 0)), or None to fall back to the floor fit for that image.  A learned
estimator (e.g. Perspective Fields, GeoCalib: not on PyPI / not in transformers) registers
here with ``@register("gravity", name)`` and predicts from the pixels and/or the point map.

``sidecar``: reads per-image gravity measured by a sensor (a phone's IMU, ARKit's
``T_gravity``) from ``<folder>/<image id>.json``: ``{"up": [x, y, z]}`` or
``{"gravity": [x, y, z]}`` (the direction gravity pulls, i.e. down), camera frame, any length.
A missing file falls back to the floor fit (``missing: floor``, default) or is a skip
(``missing: error``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ConfigError, DataError
from .base import GeometryResult, ImageItem, register


class GravityBackend(Protocol):
    def __call__(self, images: list[ImageItem], geometries: list[GeometryResult]) -> list[np.ndarray | None]: ...


def unit_up(d: object, where: str) -> np.ndarray:
    """The camera-frame up vector of a sidecar record, normalised; DataError if malformed."""
    if not isinstance(d, dict) or ("up" in d) == ("gravity" in d):
        raise DataError(f"{where}: expected exactly one of 'up' or 'gravity' (a camera-frame 3-vector)")
    key = "up" if "up" in d else "gravity"
    try:
        v = np.asarray(d[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {key} must be 3 numbers, got {d[key]!r}") from None
    n = float(np.linalg.norm(v)) if v.shape == (3,) else 0.0
    if v.shape != (3,) or not np.all(np.isfinite(v)) or n < 1e-9:
        raise DataError(f"{where}: {key} must be a finite non-zero 3-vector, got {d[key]!r}")
    return (v if key == "up" else -v) / n


@register("gravity", "sidecar")
class SidecarGravity:
    def __init__(self, folder: str, missing: str = "floor") -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise ConfigError(f"sidecar gravity: folder {self.folder} not found")
        if missing not in ("floor", "error"):
            raise ConfigError(f"sidecar gravity: missing must be 'floor' or 'error', got {missing!r}")
        self.missing = missing
        self.model_path = str(self.folder)

    def __call__(self, images: list[ImageItem], geometries: list[GeometryResult]) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        for item in images:
            path = self.folder / f"{item.id}.json"
            if not path.is_file():
                if self.missing == "error":
                    raise DataError(f"image {item.id!r}: no gravity file {path.name} in {self.folder}")
                out.append(None)
                continue
            try:
                d = json.loads(path.read_text())
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
                raise DataError(f"image {item.id!r}: gravity file {path} unreadable ({type(e).__name__})") from None
            out.append(unit_up(d, f"image {item.id!r}: {path.name}"))
        return out
