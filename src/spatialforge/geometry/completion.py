"""Symmetric completion of one-sided object clouds, checked against free space.

A depth map shows only the camera-facing side of an object.  When the top is visible the
footprint is complete already; when it is not (bottles, vases, tall cabinets seen from
below their top), the hidden back half is missing and a box around the visible points is
too shallow along the viewing direction.  Most object footprints are centrally symmetric
(rectangles, discs), so the visible footprint points are reflected through their
centre: the midpoint of the object's left and right silhouette extremes (the points of
extreme azimuth seen from the camera), which for a box showing two faces is the middle of
opposite corners; for a round outline (many hull vertices on one circle whose radius
matches the silhouette) the fitted circle's centre, since the tangent points' midpoint
lies r^2/D in front of it.  An L of two box faces becomes the full rectangle, a front arc
the full disc.  A completion that deepens the footprint by less than ``min_growth`` is a
complete footprint reflected through a slightly wrong centre, and is dropped.

The symmetry hypothesis is then tested against the depth map.  A reflected point is
*hidden* (behind a nearer observed surface, or outside the image: no evidence either
way), *confirmed* (on the observed surface) or *seen through* (the observed depth lies
clearly behind it: the camera would have seen it, a contradiction).  With the right
centre a symmetric object's reflected points are its own points, hidden or confirmed.
When more than ``max_contradicted`` of the informative (confirmed or seen-through)
points are seen through -- a footprint that was complete already (a visible top face)
reflected through an off-centre point, or an asymmetric object -- the completion is
rejected as a whole.  Otherwise only the seen-through points are dropped, so completion
never pushes a box into observed free space.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..pinhole import project
from ..scene import Camera
from .boxes import hull_points


def _true_silhouette(depth: np.ndarray, is_own, row: int, col: int, z: float,
                     free_abs: float, free_rel: float, radius: int = 2) -> bool:
    """False when pixel (row, col) at depth z lies within ``radius`` pixels of the image
    border or of a clearly nearer surface that is not the object itself (an occluder).
    is_own: flat (row-major) pixel indices -> bool, True for the object's own pixels."""
    H, W = depth.shape
    if row < radius or col < radius or row >= H - radius or col >= W - radius:
        return False
    window = depth[row - radius : row + radius + 1, col - radius : col + radius + 1]
    with np.errstate(invalid="ignore"):
        nearer = (window > 0) & (window < z - free_abs - free_rel * z)
    if not nearer.any():
        return True
    r, c = np.nonzero(nearer)
    return bool(is_own((row - radius + r) * W + (col - radius + c)).all())  # only the object's own nearer parts


def _disc_centre(hull: np.ndarray, end_a: np.ndarray, end_b: np.ndarray, min_vertices: int = 8,
                 max_rms: float = 0.02) -> np.ndarray | None:
    """Centre (2,) of the footprint when its camera-facing outline is a circular arc, else None.

    hull: (M, 2) convex hull vertices of the footprint; end_a, end_b: the silhouette ends.
    The hull vertices in front of the chord between the ends are fitted with a circle
    (algebraic least squares); a round outline has many of them, all on the circle (rms
    below ``max_rms`` of the radius), and its centre lies behind the chord.  A box's
    outline has a few corners only.
    """
    chord = end_b - end_a
    normal = np.array([-chord[1], chord[0]])
    if normal @ -end_a < 0:  # orient towards the camera at the origin
        normal = -normal
    norm = float(np.hypot(*normal))
    if norm < 1e-12:
        return None
    front = hull[(hull - end_a) @ normal >= -1e-9 * norm]
    if front.shape[0] < min_vertices:
        return None
    A = np.column_stack([front, np.ones(front.shape[0])])
    sol, *_ = np.linalg.lstsq(A, (front**2).sum(1), rcond=None)
    centre = sol[:2] / 2
    radius2 = sol[2] + centre @ centre
    if radius2 <= 0:
        return None
    radius = float(np.sqrt(radius2))
    resid = np.hypot(*(front - centre).T) - radius
    if np.sqrt(np.mean(resid**2)) > max_rms * radius or (centre - end_a) @ normal > 0:
        return None
    # Seen from outside, a disc's tangent points span a chord of 2 r sqrt(1 - (r/D)^2): the
    # radius must match it (a straight edge fits a huge circle just as well).
    half_chord = 0.5 * float(np.hypot(*chord))
    if not 0.96 * half_chord <= radius <= 1.2 * half_chord:
        return None
    return centre


def symmetric_completion(
    points_world: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    depth: np.ndarray,
    camera: Camera,
    R_world_cam: np.ndarray,
    owner: np.ndarray | None = None,
    owner_id: int = 0,
    outline_xy: np.ndarray | None = None,
    max_points: int = 800,
    max_contradicted: float = 0.2,
    min_contradicted: int = 3,
    free_abs: float = 0.01,
    free_rel: float = 0.005,
    min_growth: float = 0.2,
) -> np.ndarray:
    """Hidden reflected points consistent with the depth map.

    points_world: (N, 3) one object's cleaned cloud in the gravity-aligned world frame
    (origin at the camera); rows, cols: (N,) their pixels; depth: (H, W) the observed
    z-depth; owner: optional (H, W) int map of which object each pixel shows, this
    object's pixels being ``owner_id`` (saves building a lookup from rows/cols);
    outline_xy: the footprint's convex hull (M, 2), if already known; max_points: the
    cloud is subsampled to about this many points; a reflected point is seen through when
    the observed depth is beyond it by free_abs + free_rel * z; min_growth: the completion
    must deepen the footprint along the view by this fraction of its visible depth, else
    it is dropped.  Nothing is completed when a silhouette extreme is not a true
    silhouette: at the image border (truncated) or next to a nearer surface (occluded),
    the object may go on beyond it and its midpoint is not the centre.
    Returns (K, 3) world points (K may be 0); their z is that of the points they reflect.

    Steps: silhouette ends (``_silhouette_ends``), reflection through the centre
    (``_reflect``), the growth test on all reflected points (nothing can grow more), the
    free-space test (``_free_space_keep``), the growth test on the points it keeps.
    """
    nothing = np.empty((0, 3))
    pts = np.asarray(points_world, dtype=np.float64)
    is_own = _own_pixels(owner, owner_id, rows, cols, depth.shape[1])
    if pts.shape[0] > max_points:  # the reflection only feeds a convex hull: a subsample does
        step = int(np.ceil(pts.shape[0] / max_points))
        pts, rows, cols = pts[::step], rows[::step], cols[::step]
    xy = pts[:, :2]
    if not np.isfinite(xy).all() or xy.shape[0] < 3:
        return nothing
    ends = _silhouette_ends(xy)
    for k in ends:
        z_k = float(pts[k] @ R_world_cam[:, 2])  # camera-frame depth of the point
        if not _true_silhouette(depth, is_own, int(rows[k]), int(cols[k]), z_k, free_abs, free_rel):
            return nothing
    reflected = _reflect(pts, hull_points(xy) if outline_xy is None else outline_xy, ends)
    # A true completion adds a back half (a half disc becomes a disc); a small growth along
    # the view is a slightly off-centre reflection of a footprint that was complete.
    view = xy.mean(0)
    view /= np.hypot(*view)
    seen = xy @ view
    min_reach = seen.max() + min_growth * (seen.max() - seen.min())
    # The kept points are some of the reflected ones: when all of them fall short, so do the
    # kept ones, and the free-space test need not run (the margin covers rounding).
    if (reflected[:, :2] @ view).max() < min_reach - 1e-9:
        return nothing
    keep = _free_space_keep(reflected, depth, camera, R_world_cam, max_contradicted, min_contradicted,
                            free_abs, free_rel)
    if keep is None:
        return nothing
    added = reflected[keep, :2] @ view
    if added.size == 0 or added.max() - seen.max() < min_growth * (seen.max() - seen.min()):
        return nothing
    return reflected[keep]


def _own_pixels(owner: np.ndarray | None, owner_id: int, rows: np.ndarray, cols: np.ndarray,
                width: int) -> Callable[[np.ndarray], np.ndarray]:
    """flat (row-major) pixel indices -> bool, True for the object's own pixels: a look-up in
    the owner map when there is one, else a binary search in the object's sorted pixels."""
    if owner is not None:
        owner_flat = owner.ravel()

        def is_own(flat: np.ndarray) -> np.ndarray:
            return owner_flat[flat] == owner_id
    else:
        own_flat = np.sort(rows * width + cols)

        def is_own(flat: np.ndarray) -> np.ndarray:
            pos = np.minimum(np.searchsorted(own_flat, flat), own_flat.size - 1)
            return own_flat[pos] == flat
    return is_own


def _silhouette_ends(xy: np.ndarray) -> tuple[int, int]:
    """Indices of the silhouette generators: the points of extreme azimuth seen from the
    camera (at the origin).  On a box showing two faces they are opposite corners (midpoint =
    centre); on a box showing one face they are that face's ends, and reflecting through its
    middle adds nothing.  On a disc they are the tangent points, whose midpoint lies r^2/D in
    front of the centre, so round outlines reflect through their fitted circle's centre."""
    azimuth = np.arctan2(xy[:, 0], xy[:, 1])
    return int(azimuth.argmin()), int(azimuth.argmax())


def _reflect(pts: np.ndarray, hull: np.ndarray, ends: tuple[int, int]) -> np.ndarray:
    """(N, 3) points reflected through the footprint's centre (the fitted disc's centre for a
    round outline, else the midpoint of the silhouette ends); z unchanged."""
    xy = pts[:, :2]
    disc = _disc_centre(hull, xy[ends[0]], xy[ends[1]])
    centre = 2.0 * disc if disc is not None else xy[ends[0]] + xy[ends[1]]  # twice the reflection centre
    return np.column_stack([centre[0] - xy[:, 0], centre[1] - xy[:, 1], pts[:, 2]])


def _free_space_keep(reflected: np.ndarray, depth: np.ndarray, camera: Camera, R_world_cam: np.ndarray,
                     max_contradicted: float, min_contradicted: int, free_abs: float,
                     free_rel: float) -> np.ndarray | None:
    """(N,) bool: the reflected points that are not seen through, or None when too many are
    (the symmetry hypothesis is contradicted by the depth map as a whole)."""
    points_cam = reflected @ R_world_cam  # world -> camera (R is orthonormal)
    z = points_cam[:, 2]
    front = z > 1e-6
    with np.errstate(divide="ignore", invalid="ignore"):  # behind the camera: not ``inside`` anyway
        u, v = project(points_cam[:, 0], points_cam[:, 1], z, camera.fx, camera.fy, camera.cx, camera.cy)
    inside = front & (u >= 0) & (u < camera.width) & (v >= 0) & (v < camera.height)
    cols, rows = u[inside].astype(np.int64), v[inside].astype(np.int64)
    # Nearest observed depth in the 3x3 window: a reflected point on the object's own
    # silhouette may fall on a background pixel by quantisation alone.
    H, W = depth.shape
    offsets = np.array([-1, 0, 1])[:, None]
    rr = np.clip(rows + offsets, 0, H - 1)  # (3, M)
    cc = np.clip(cols + offsets, 0, W - 1)
    window = depth.ravel()[(rr[:, None, :] * W + cc[None, :, :]).reshape(9, -1)]  # (9, M), depth's dtype
    window[~(window > 0)] = 0  # invalid depth: nothing known, never a contradiction
    observed = window.min(0).astype(np.float64)  # the min of exact conversions: the same numbers
    zi = z[inside]
    known = observed > 0
    tol = zi * free_rel + free_abs
    seen_through = known & np.isfinite(observed) & (observed > zi + tol)
    confirmed = known & (np.abs(observed - zi) <= tol)
    # Points hidden behind a nearer surface (the object itself, an occluder) or outside the
    # image say nothing; the test is on the rest: seen through vs lying on what was seen.
    n_bad = int(seen_through.sum()) + int((~front).sum())
    if n_bad > max(min_contradicted, max_contradicted * (n_bad + int(confirmed.sum()))):
        return None
    keep = front.copy()
    keep[np.flatnonzero(inside)[seen_through]] = False
    return keep
