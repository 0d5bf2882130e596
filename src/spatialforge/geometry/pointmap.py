"""Depth map -> camera-frame points (OpenCV frame, metres; the pixel convention and the formula: ``pinhole``)."""

from __future__ import annotations

import numpy as np

from ..pinhole import PIXEL_CENTRE, pixel_centre, pixel_rays
from ..scene import Camera, SceneError


def valid_depth(depth: np.ndarray) -> np.ndarray:
    """(H, W) bool: finite and strictly positive depth."""
    depth = np.asarray(depth)
    with np.errstate(invalid="ignore"):
        return np.isfinite(depth) & (depth > 0)


def check_depth(depth: np.ndarray, camera: Camera, where: str = "depth") -> np.ndarray:
    """Return ``depth`` as (H, W) float32, raising ``SceneError`` if its shape or dtype is wrong."""
    depth = np.asarray(depth)
    if depth.ndim != 2 or not (np.issubdtype(depth.dtype, np.floating) or np.issubdtype(depth.dtype, np.integer)):
        raise SceneError(f"{where}: depth must be a 2-D numeric array, got {depth.dtype} {depth.shape}")
    if depth.shape != (camera.height, camera.width):
        raise SceneError(
            f"{where}: depth is {depth.shape[0]}x{depth.shape[1]} but the camera is {camera.height}x{camera.width}"
        )
    return depth.astype(np.float32, copy=False)


def depth_to_point_map(depth: np.ndarray, camera: Camera) -> tuple[np.ndarray, np.ndarray]:
    """Unproject a z-depth map.

    depth: (H, W) metres; NaN, inf and values <= 0 are invalid.
    Returns ``points_cam`` (H, W, 3) float32 in the camera frame (invalid pixels hold NaN)
    and ``valid`` (H, W) bool.
    """
    depth = check_depth(depth, camera)
    valid = valid_depth(depth)
    z = np.where(valid, depth, np.float32(np.nan))
    # Broadcast per-column x/z and per-row y/z ratios instead of building a full meshgrid.
    x_over_z, y_over_z = pixel_rays(pixel_centre(np.arange(camera.width, dtype=np.float64)),
                                    pixel_centre(np.arange(camera.height, dtype=np.float64)),
                                    camera.fx, camera.fy, camera.cx, camera.cy)
    x_over_z, y_over_z = x_over_z.astype(np.float32), y_over_z.astype(np.float32)
    points_cam = np.empty(depth.shape + (3,), np.float32)
    np.multiply(z, x_over_z[None, :], out=points_cam[..., 0])
    np.multiply(z, y_over_z[:, None], out=points_cam[..., 1])
    points_cam[..., 2] = z
    return points_cam, valid


def unproject_pixels(rows: np.ndarray, cols: np.ndarray, z: np.ndarray, camera: Camera) -> np.ndarray:
    """(N,) integer pixel rows/cols and (N,) z-depth -> (N, 3) float64 camera-frame points at pixel centres."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty((z.shape[0], 3), np.float64)
    # pinhole.unproject's map, grouped as (col + (0.5 - cx)) * (z / fx): the bits every estimated
    # box was computed with (regrouping moves the last digit of the estimates, e.g. 0.60281183940253[32] -> [3]).
    out[:, 0] = (cols + (PIXEL_CENTRE - camera.cx)) * (z / camera.fx)
    out[:, 1] = (rows + (PIXEL_CENTRE - camera.cy)) * (z / camera.fy)
    out[:, 2] = z
    return out
