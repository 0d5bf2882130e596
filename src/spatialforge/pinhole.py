"""The pinhole camera model and the pixel convention, in one place (docs/conventions.md).

Pixels are continuous (u, v) with the origin at the top-left corner of the top-left pixel, so
pixel [row, col] has its centre at ``(col + 0.5, row + 0.5)`` (:func:`pixel_centre`).  The
camera frame is OpenCV's (x right, y down, z forward, metres).  :func:`unproject` is the one
formula from continuous coordinates and a z-depth back to a camera-frame point, and
:func:`unproject_pixel` the one from a pixel index (its centre); both work on Python floats
and on numpy arrays alike (broadcasting; float32 inputs stay float32), so every caller gets
the same bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: where a pixel's centre lies inside it, in pixels from its top-left corner
PIXEL_CENTRE = 0.5


def pixel_centre(index: Any) -> Any:
    """The continuous coordinate of the centre of pixel column (or row) ``index``."""
    return index + PIXEL_CENTRE


def pixel_rays(u: Any, v: Any, fx: Any, fy: Any, cx: Any, cy: Any) -> tuple[Any, Any]:
    """``(x / z, y / z)`` of the rays through continuous pixel coordinates ``(u, v)``."""
    return (u - cx) / fx, (v - cy) / fy


def unproject(u: Any, v: Any, z: Any, fx: Any, fy: Any, cx: Any, cy: Any) -> tuple[Any, Any, Any]:
    """Camera-frame ``(x, y, z)`` of continuous pixel coordinates ``(u, v)`` at z-depth ``z``."""
    rx, ry = pixel_rays(u, v, fx, fy, cx, cy)
    return rx * z, ry * z, z


def unproject_pixel(col: Any, row: Any, z: Any, fx: Any, fy: Any, cx: Any, cy: Any) -> tuple[Any, Any, Any]:
    """Camera-frame ``(x, y, z)`` of the centre of pixel ``[row, col]`` at z-depth ``z``.

    Arrays broadcast: ``unproject_pixel(np.arange(W)[None, :], np.arange(H)[:, None], depth, ...)``
    unprojects a whole (H, W) depth map."""
    return unproject(pixel_centre(col), pixel_centre(row), z, fx, fy, cx, cy)


def nearest_index(n_out: int, n_in: int) -> Any:
    """Nearest-neighbour resampling of ``n_in`` pixels to ``n_out``: for each output pixel, the
    input pixel that contains its centre, ``floor((j + 0.5) * n_in / n_out)`` (numpy array).
    Multiplying before dividing keeps the floor exact (the product is an exact binary number)."""
    return np.minimum((pixel_centre(np.arange(n_out)) * n_in / n_out).astype(np.int64), n_in - 1)


def project(x: Any, y: Any, z: Any, fx: Any, fy: Any, cx: Any, cy: Any) -> tuple[Any, Any]:
    """Continuous pixel coordinates ``(u, v)`` of camera-frame points (the inverse of :func:`unproject`)."""
    return fx * x / z + cx, fy * y / z + cy
