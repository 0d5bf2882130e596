import math

import numpy as np
import pytest

from geometry_raycast import build_scene
from spatialforge import Box3D
from spatialforge.geometry import estimate
from spatialforge.geometry.boxes import hull_points
from spatialforge.geometry.completion import (
    _disc_centre,
    _free_space_keep,
    _own_pixels,
    _reflect,
    _silhouette_ends,
    _true_silhouette,
    symmetric_completion,
)

BOXES = [Box3D((-0.8, 3.0, -1.5 + 0.3), (0.6, 0.6, 0.4), 0.4), Box3D((0.7, 3.6, -1.5 + 0.4), (1.0, 0.8, 0.5), -0.2)]


def _front_arc(centre, r, n=200):
    """The camera (origin) facing half of a circle, with its two tangent ends."""
    c = np.asarray(centre, float)
    d = math.hypot(*c)
    half = math.acos(r / d)  # tangent points seen from the origin
    base = math.atan2(-c[1], -c[0])
    angles = base + np.linspace(-half, half, n)
    arc = c + r * np.stack([np.cos(angles), np.sin(angles)], 1)
    return arc, arc[0], arc[-1]


def test_disc_centre_found_for_round_outlines():
    for centre, r in [((0.4, 3.0), 0.05), ((-1.0, 2.0), 0.3), ((2.5, 4.0), 0.15)]:
        arc, a, b = _front_arc(centre, r)
        got = _disc_centre(hull_points(arc), a, b)
        np.testing.assert_allclose(got, centre, atol=1e-6)


def test_disc_centre_rejects_straight_and_cornered_outlines():
    rng = np.random.default_rng(0)
    # a face seen head-on, a few micrometres of float32 noise: a huge circle would fit it
    t = np.linspace(0, 1, 300)
    line = np.stack([-0.5 + t, 3.0 + 1e-6 * rng.standard_normal(300)], 1)
    assert _disc_centre(hull_points(line), line[0], line[-1]) is None
    # two faces of a box (an L towards the camera)
    corner, left, right = np.array([0.0, 2.8]), np.array([-0.4, 3.2]), np.array([0.5, 3.3])
    ell = np.concatenate([corner + t[:, None] * (left - corner), corner + t[:, None] * (right - corner)])
    assert _disc_centre(hull_points(ell), left, right) is None


def _completion_without_shortcut(points_world, rows, cols, depth, camera, R_world_cam, owner=None, owner_id=0,
                                 outline_xy=None, max_points=800, max_contradicted=0.2, min_contradicted=3,
                                 free_abs=0.01, free_rel=0.005, min_growth=0.2):
    """symmetric_completion's plain rule: the free-space test first, the growth test on what it keeps."""
    nothing = np.empty((0, 3))
    pts = np.asarray(points_world, dtype=np.float64)
    is_own = _own_pixels(owner, owner_id, rows, cols, depth.shape[1])
    if pts.shape[0] > max_points:
        step = int(np.ceil(pts.shape[0] / max_points))
        pts, rows, cols = pts[::step], rows[::step], cols[::step]
    xy = pts[:, :2]
    if xy.shape[0] < 3:
        return nothing
    ends = _silhouette_ends(xy)
    for k in ends:
        z_k = float(pts[k] @ R_world_cam[:, 2])
        if not _true_silhouette(depth, is_own, int(rows[k]), int(cols[k]), z_k, free_abs, free_rel):
            return nothing
    reflected = _reflect(pts, hull_points(xy) if outline_xy is None else outline_xy, ends)
    keep = _free_space_keep(reflected, depth, camera, R_world_cam, max_contradicted, min_contradicted,
                            free_abs, free_rel)
    if keep is None:
        return nothing
    view = xy.mean(0)
    view /= np.hypot(*view)
    seen, added = xy @ view, reflected[keep, :2] @ view
    if added.size == 0 or added.max() - seen.max() < min_growth * (seen.max() - seen.min()):
        return nothing
    return reflected[keep]


@pytest.mark.parametrize("noise", [0.0, 0.01])
def test_completion_growth_shortcut_changes_nothing(monkeypatch, noise):
    """The growth bound checked before the free-space test gives what the plain order gives,
    on scenes where completions are both kept and rejected."""
    calls = {"added": 0, "none": 0}

    def checked(*args, **kwargs):
        got = symmetric_completion(*args, **kwargs)
        assert np.array_equal(got, _completion_without_shortcut(*args, **kwargs))
        calls["added" if got.shape[0] else "none"] += 1
        if got.shape[0]:  # at the largest growth bound the plain rule still completes, so must the shortcut
            lo, hi = kwargs.get("min_growth", 0.2), 10.0
            for _ in range(40):
                mid = (lo + hi) / 2
                lo, hi = (mid, hi) if _completion_without_shortcut(*args, **{**kwargs, "min_growth": mid}).shape[0] \
                    else (lo, mid)
            tight = {**kwargs, "min_growth": lo}
            assert np.array_equal(symmetric_completion(*args, **tight), _completion_without_shortcut(*args, **tight))
        return got

    monkeypatch.setattr(estimate, "symmetric_completion", checked)
    rng = np.random.default_rng(5)
    cylinders = ((0.5, 3.0, 0.2, -1.5, 0.3), (-0.6, 2.6, 0.12, -1.5, -1.1))  # a top above the camera: completed
    for pitch in (0.1, 0.3, 0.6):
        scene, depth, _ = build_scene(BOXES, pitch=pitch, roll=0.03, size=(240, 180), cylinders=cylinders)
        noisy = (depth * (1 + noise * rng.standard_normal(depth.shape))).astype(np.float32)
        estimate.estimate_scene(scene, noisy)
    assert calls["added"] and calls["none"]
