"""Gravity-aligned oriented boxes from world-frame object clouds.

Height comes from the z extent; the footprint is the minimum-area rectangle of the 2D
convex hull of the xy points (rotating calipers: the optimal rectangle has a side on a
hull edge, so every edge direction is tried at once with two matrix products).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from ..scene import Box3D
from .order_stats import trimmed_range

_QUARTER_PI = math.pi / 4
_EDGE_TOL = 1e-5  # metres
_CHUNK = 8192  # points per matrix product in the octagon prefilter


def _octagon_prefilter(xy: np.ndarray) -> np.ndarray:
    """Drop points inside or on the octagon of the extreme points along x, y, x+y, x-y
    (Akl-Toussaint): they cannot be hull vertices.  Usually that is almost all of them, and
    faces seen head-on project onto lines that are octagon edges, so they go too."""
    if xy.shape[0] <= 32:
        return xy
    x, y = xy[:, 0], xy[:, 1]
    s, d = x + y, x - y
    ext = [x.argmin(), s.argmin(), y.argmin(), d.argmax(), x.argmax(), s.argmax(), y.argmax(), d.argmin()]
    # The extremes in these 8 directions come in counter-clockwise order; drop repeats.
    ext = [int(e) for k, e in enumerate(ext) if e != ext[k - 1]]
    if len(ext) < 3:
        return xy
    poly = xy[ext]
    edges = xy[ext[1:] + ext[:1]] - poly
    # Outside a counter-clockwise edge (ex, ey) from p: (ey, -ex) . (q - p) > tol.  tol: float32
    # depth puts a face seen head-on a few micrometres off its line; points that close to an
    # edge move the hull by at most tol.  All edges in one matrix product: 0.9 -> 0.45 ms at 50k points;
    # over chunks of points, the product stays small instead of (8, N) per object (~2 % of the scene time).
    normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)  # (K, 2)
    limits = (normals * poly).sum(1) + _EDGE_TOL * np.hypot(edges[:, 0], edges[:, 1])
    outside = np.empty(xy.shape[0], bool)
    for start in range(0, xy.shape[0], _CHUNK):
        part = xy[start : start + _CHUNK]
        np.any(normals @ part.T > limits[:, None], axis=0, out=outside[start : start + _CHUNK])
    outside[ext] = True
    return xy[outside]


def hull_candidates(rows: np.ndarray, cols: np.ndarray, edge: np.ndarray, max_interior: int = 400) -> np.ndarray:
    """(N,) bool: the pixels of one object's cloud that can matter for its footprint hull.

    rows, cols: (N,) pixels; edge: (N,) bool boundary or depth-jump pixels (see
    ``cleanup.edge_pixels``).  Kept: the edge pixels and a regular grid of about
    ``max_interior`` interior pixels.  An interior pixel of a smooth surface lies between
    its neighbours (exactly, for planes), so leaving out the ones between grid samples
    moves the hull by at most the surface's bulge over a grid cell: below a millimetre for
    the curvatures and spacings here.
    """
    n = rows.shape[0]
    stride = math.ceil(math.sqrt(n / max_interior)) if n > 64 else 1
    if stride <= 1:
        return np.ones(n, bool)
    return edge | ((rows % stride == 0) & (cols % stride == 0))


def hull_points(xy: np.ndarray) -> np.ndarray:
    """(N, 2) points -> (M, 2) convex hull vertices (all candidate points if the hull is degenerate)."""
    cand = _octagon_prefilter(np.asarray(xy, dtype=np.float64))
    if cand.shape[0] < 3:
        return cand
    try:
        return cand[ConvexHull(cand).vertices]
    except QhullError:  # collinear or coincident points
        return cand


def min_area_rectangle(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Minimum-area enclosing rectangle of (N, 2) points.

    Returns (center (2,), extents (2,), angle): extents[0] along (cos a, sin a), extents[1]
    along (-sin a, cos a), with the angle canonicalised to [-pi/4, pi/4).
    """
    return hull_rectangle(hull_points(xy))


def hull_rectangle(hull: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``min_area_rectangle`` of the points whose hull is ``hull``: (M, 2) as ``hull_points``
    returns it (vertices in order)."""
    if hull.shape[0] == 1:
        return hull[0].copy(), np.zeros(2), 0.0
    edges = np.concatenate([hull[1:], hull[:1]]) - hull  # to the next vertex
    keep = np.hypot(edges[:, 0], edges[:, 1]) > 1e-12
    if hull.shape[0] < 3 or not keep.any():  # degenerate: principal direction of the points
        centred = hull - hull.mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        angles = np.array([math.atan2(vt[0, 1], vt[0, 0])])
    else:
        angles = np.arctan2(edges[keep, 1], edges[keep, 0])
    angles = np.mod(angles, math.pi / 2)  # a rectangle repeats every quarter turn
    cos, sin = np.cos(angles), np.sin(angles)
    proj_u = hull @ np.array([cos, sin])  # (M, A)
    proj_v = hull @ np.array([-sin, cos])
    area = (proj_u.max(0) - proj_u.min(0)) * (proj_v.max(0) - proj_v.min(0))
    a = float(angles[int(area.argmin())])
    if a >= _QUARTER_PI:
        a -= math.pi / 2
    u = np.array([math.cos(a), math.sin(a)])
    v = np.array([-u[1], u[0]])
    pu, pv = hull @ u, hull @ v
    extents = np.array([pu.max() - pu.min(), pv.max() - pv.min()])
    center = 0.5 * (pu.max() + pu.min()) * u + 0.5 * (pv.max() + pv.min()) * v
    return center, extents, a


def fit_box3d(
    points_world: np.ndarray,
    floor_z: float | None = None,
    floor_snap: float = 0.05,
    pad: float = 0.0,
    min_size: float = 0.01,
    footprint_xy: np.ndarray | None = None,
    trim: float = 0.0,
    outline_xy: np.ndarray | None = None,
) -> Box3D:
    """Gravity-aligned box around (N, 3) world-frame points (z up).

    floor_z: world height of the floor, if known; a bottom within ``floor_snap`` of it is
    put on the floor (objects stand on it).  pad: added to every extent (half on each side),
    e.g. one pixel footprint, because the points sit at pixel centres, not on silhouettes.
    footprint_xy: (M, 2) points for the footprint instead of the xy of ``points_world``
    (e.g. hull candidates plus completed points); heights always come from ``points_world``.
    trim: for noisy depth, the extents are the ``trim`` and ``1 - trim`` quantiles of the
    points (heights, and the footprint points projected on the rectangle's axes) instead
    of their extremes, which noise pushes outwards; the orientation still comes from the
    minimum-area rectangle.  outline_xy: the footprint's convex hull as ``hull_points``
    returns it, when already known (the footprint points are then only read by ``trim``).
    """
    pts = np.asarray(points_world, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or pts.shape[0] == 0:
        raise ValueError(f"points_world must be (N, 3) with N > 0, got {pts.shape}")
    if not 0.0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim}")
    if trim > 0:
        z_lo, z_hi = trimmed_range(pts[:, 2], trim)
    else:
        z_lo, z_hi = float(pts[:, 2].min()), float(pts[:, 2].max())
    z_lo -= pad / 2
    z_hi += pad / 2
    if floor_z is not None and abs(z_lo - floor_z) < floor_snap:
        z_lo = floor_z
    xy = pts[:, :2] if footprint_xy is None else np.asarray(footprint_xy, dtype=np.float64)
    if outline_xy is None:
        center_xy, extents, yaw = min_area_rectangle(xy)
    else:
        center_xy, extents, yaw = hull_rectangle(np.asarray(outline_xy, dtype=np.float64))
    if trim > 0:
        axes = np.array([[math.cos(yaw), math.sin(yaw)], [-math.sin(yaw), math.cos(yaw)]])
        proj = axes @ xy.T  # (2, M): along the width and the length axis
        lo, hi = np.array([trimmed_range(p, trim) for p in proj]).T
        extents = hi - lo
        center_xy = 0.5 * (lo + hi) @ axes
    w, l = (max(min_size, float(e) + pad) for e in extents)
    h = max(min_size, z_hi - z_lo)
    return Box3D((float(center_xy[0]), float(center_xy[1]), 0.5 * (z_lo + z_hi)), (w, h, l), yaw)
