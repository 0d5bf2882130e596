"""Gravity from the floor: plane RANSAC on background pixels, least-squares refinement,
and the gravity-aligned rotation ``R_world_cam`` built from the floor normal.

World frame (scene.py): origin at the camera centre, z up = floor normal pointing to the
camera, x = camera x projected onto the floor plane, y = z x x (forward).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..scene import Camera
from .order_stats import median
from .pointmap import unproject_pixels, valid_depth


@dataclass(frozen=True)
class GravityConfig:
    """Floor RANSAC parameters (lengths in metres)."""

    max_points: int = 4000  # background pixels are taken on a regular grid of about this many
    n_hypotheses: int = 192
    neighbourhood: int = 5  # the 3 points of a hypothesis lie within this many grid cells
    max_tilt_deg: float = 60.0  # floor normal vs camera up (-y): larger tilts are not floors
    min_height: float = 0.2  # the camera is at least this high above the floor
    inlier_abs: float = 0.01  # inlier band: inlier_abs + inlier_rel * depth
    inlier_rel: float = 0.01
    min_inliers: int = 60  # on the grid sample
    refine_iters: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_points < 100 or self.n_hypotheses < 1 or self.neighbourhood < 1:
            raise ValueError("max_points must be >= 100, n_hypotheses and neighbourhood >= 1")
        if not 0 < self.max_tilt_deg < 90:
            raise ValueError(f"max_tilt_deg must be in (0, 90), got {self.max_tilt_deg}")


@dataclass(frozen=True)
class FloorPlane:
    """Floor plane in the camera frame: ``normal_cam . p + height = 0`` for floor points p.

    ``normal_cam`` (3,) is unit and points up (towards the camera); ``height`` > 0 is the
    camera's height above the floor, so the floor lies at world z = -height."""

    normal_cam: tuple[float, float, float]
    height: float
    n_inliers: int
    n_points: int
    rms: float

    @property
    def confidence(self) -> float:
        support = min(1.0, self.n_inliers / 300.0)
        return float(support * max(0.0, 1.0 - self.rms / 0.05))


def rotation_from_up(up_cam: np.ndarray) -> np.ndarray:
    """(3,) up direction in the camera frame -> (3, 3) R_world_cam (rows: world x, y, z in camera coordinates)."""
    z_w = np.asarray(up_cam, dtype=np.float64)
    z_w = z_w / np.linalg.norm(z_w)
    x_w = np.array([1.0, 0.0, 0.0]) - z_w[0] * z_w  # camera x made horizontal
    norm = np.linalg.norm(x_w)
    if norm < 1e-6:  # camera x points straight up: use camera z made horizontal as forward instead
        y_w = np.array([0.0, 0.0, 1.0]) - z_w[2] * z_w
        y_w /= np.linalg.norm(y_w)
        x_w = np.cross(y_w, z_w)
    else:
        x_w /= norm
    y_w = np.cross(z_w, x_w)
    return np.stack([x_w, y_w, z_w])


def gravity_angle_deg(R_a: np.ndarray, R_b: np.ndarray) -> float:
    """Angle in degrees between the world up axes (in camera coordinates) of two R_world_cam."""
    up_a, up_b = np.asarray(R_a, float)[2], np.asarray(R_b, float)[2]
    return math.degrees(math.acos(float(np.clip(up_a @ up_b, -1.0, 1.0))))


def background_grid(
    depth: np.ndarray, camera: Camera, foreground: np.ndarray | None, max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """Regular pixel grid of the depth map -> (h, w, 3) camera points (float64) and (h, w)
    usable mask (valid depth, not foreground)."""
    H, W = depth.shape
    step = max(1, int(round(math.sqrt(H * W / max_points))))
    rows = np.arange(step // 2, H, step)
    cols = np.arange(step // 2, W, step)
    z = depth[np.ix_(rows, cols)].astype(np.float64)
    usable = valid_depth(z)
    if foreground is not None:
        usable &= ~foreground[np.ix_(rows, cols)]
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    points = unproject_pixels(rr.ravel(), cc.ravel(), np.where(usable, z, 0.0).ravel(), camera)
    return points.reshape(len(rows), len(cols), 3), usable


def _inlier_band(points: np.ndarray, cfg: GravityConfig) -> np.ndarray:
    return cfg.inlier_abs + cfg.inlier_rel * points[..., 2]


def _refine(points: np.ndarray, band: np.ndarray, normal: np.ndarray, height: float, iters: int):
    """Least-squares plane on the inliers, re-selecting inliers each round with a band that
    shrinks to 3 robust sigmas of the residuals (so the foot of a wall, within the initial
    band of the floor, stops tilting it)."""
    inl = np.abs(points @ normal + height) < band
    for _ in range(iters):
        if inl.sum() < 3:
            break
        p = points[inl]
        centroid = p.mean(0)
        _, _, vt = np.linalg.svd(p - centroid, full_matrices=False)
        n = vt[2] if vt[2][1] < 0 else -vt[2]  # keep it pointing up (camera -y)
        normal, height = n, float(-n @ centroid)
        resid = points @ normal + height
        sigma = 1.4826 * median(np.abs(resid[inl]))
        band = np.minimum(band, np.maximum(3.0 * sigma, 0.003 + 0.001 * points[:, 2]))
        inl = np.abs(resid) < band
    resid = points[inl] @ normal + height
    rms = float(np.sqrt(np.mean(resid**2))) if inl.any() else float("inf")
    return normal, height, inl, rms


def fit_floor_plane(grid_points: np.ndarray, usable: np.ndarray,
                    cfg: GravityConfig = GravityConfig()) -> FloorPlane | None:
    """RANSAC + least squares for the floor on a grid of background points.

    grid_points: (h, w, 3) camera-frame points; usable: (h, w) bool.  Hypotheses are drawn
    from three grid points within ``cfg.neighbourhood`` cells of each other (local triples
    are far more often coplanar than global ones), kept only if the plane faces camera-up
    within ``max_tilt_deg`` and passes at least ``min_height`` below the camera, then all
    are scored at once with one matrix product.  Returns None when no floor is found.
    """
    h, w = usable.shape
    flat_ok = np.flatnonzero(usable.ravel())
    if flat_ok.size < max(cfg.min_inliers, 3):
        return None
    points = grid_points.reshape(-1, 3)
    rng = np.random.default_rng(cfg.seed)
    k = 4 * cfg.n_hypotheses
    anchors = flat_ok[rng.integers(0, flat_ok.size, k)]
    ai, aj = np.divmod(anchors, w)
    R = cfg.neighbourhood
    tri = [anchors]
    ok = np.ones(k, bool)
    for _ in range(2):
        bi = ai + rng.integers(-R, R + 1, k)
        bj = aj + rng.integers(-R, R + 1, k)
        inside = (bi >= 0) & (bi < h) & (bj >= 0) & (bj < w)
        b = np.where(inside, bi * w + bj, 0)
        ok &= inside & usable.ravel()[b] & (b != anchors)
        tri.append(b)
    tri = np.stack(tri, 1)[ok][: cfg.n_hypotheses]
    if tri.shape[0] == 0:
        return None
    p0, p1, p2 = points[tri[:, 0]], points[tri[:, 1]], points[tri[:, 2]]
    normals = np.cross(p1 - p0, p2 - p0)
    norms = np.linalg.norm(normals, axis=1)
    good = norms > 1e-9
    normals = normals[good] / norms[good, None]
    p0 = p0[good]
    normals *= np.where(normals[:, 1] > 0, -1.0, 1.0)[:, None]  # point up: camera -y
    heights = -(normals * p0).sum(1)
    plausible = (-normals[:, 1] >= math.cos(math.radians(cfg.max_tilt_deg))) & (heights >= cfg.min_height)
    normals, heights = normals[plausible], heights[plausible]
    if normals.shape[0] == 0:
        return None

    pts = points[flat_ok]
    band = _inlier_band(pts, cfg)
    # (hypotheses, points) residuals in place, counted along rows: 2x faster than (points, hypotheses) .sum(0).
    resid = normals @ pts.T
    resid += heights[:, None]
    counts = np.count_nonzero(np.abs(resid, out=resid) < band, axis=1)
    best = int(counts.argmax())
    if counts[best] < cfg.min_inliers:
        return None
    normal, height, inl, rms = _refine(pts, band, normals[best], float(heights[best]), cfg.refine_iters)
    # Unmasked table tops or seats are horizontal too: a well-populated level parallel to
    # the best plane and clearly below it is the floor (the floor is under everything).
    lower = _lower_level(pts, normal, height, inl, rms)
    if lower is not None:
        normal, height, inl, rms = _refine(pts, band, normal, lower, cfg.refine_iters)
    n_inl = int(inl.sum())
    if n_inl < cfg.min_inliers or height < cfg.min_height or -normal[1] < math.cos(math.radians(cfg.max_tilt_deg)):
        return None
    return FloorPlane(tuple(float(v) for v in normal), float(height), n_inl, int(pts.shape[0]), rms)


def _lower_level(points: np.ndarray, normal: np.ndarray, height: float, inliers: np.ndarray, rms: float,
                 min_share: float = 0.3) -> float | None:
    """Height (camera above it) of a level parallel to the plane, clearly below it and with at
    least ``min_share`` of its inlier count in one 2 cm height bin; None if there is none.
    Walls below a table top spread over many bins; a floor piles up in one."""
    above = points @ normal + height  # signed height above the plane
    below = above[above < -max(0.05, 4.0 * rms)]
    if below.size < min_share * inliers.sum():
        return None
    edges = np.arange(below.min(), below.max() + 0.04, 0.02)
    if edges.size < 2:
        return None
    hist, edges = np.histogram(below, edges)
    k = int(hist.argmax())
    if hist[k] < min_share * inliers.sum():
        return None
    level = 0.5 * (edges[k] + edges[k + 1])  # height of the lower level relative to the plane
    return height - level


def floor_height_given_up(grid_points: np.ndarray, usable: np.ndarray, up_cam: np.ndarray,
                          cfg: GravityConfig = GravityConfig()) -> FloorPlane | None:
    """With a trusted up direction, the floor is the most populated height level below the
    camera: a 2 cm histogram of the background heights, refined by the median around its peak."""
    pts = grid_points[usable]
    if pts.shape[0] < cfg.min_inliers:
        return None
    up = np.asarray(up_cam, float) / np.linalg.norm(up_cam)
    z_up = pts @ up
    below = z_up < -cfg.min_height
    if below.sum() < cfg.min_inliers:
        return None
    zb = z_up[below]
    edges = np.arange(zb.min(), zb.max() + 0.02, 0.02)
    if edges.size < 2:
        edges = np.array([zb.min() - 0.01, zb.max() + 0.01])
    hist, edges = np.histogram(zb, edges)
    peak = int(hist.argmax())
    centre = 0.5 * (edges[peak] + edges[peak + 1])
    band = _inlier_band(pts, cfg)
    inl = np.abs(z_up - centre) < band
    if inl.sum() < cfg.min_inliers:
        return None
    level = median(z_up[inl])
    inl = np.abs(z_up - level) < band
    resid = z_up[inl] - level
    return FloorPlane(tuple(float(v) for v in up), -level, int(inl.sum()), int(pts.shape[0]),
                      float(np.sqrt(np.mean(resid**2))))
