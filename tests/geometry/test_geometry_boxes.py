import math

import numpy as np
import pytest

from spatialforge import Box3D
from spatialforge.geometry.boxes import fit_box3d, hull_candidates, hull_points, min_area_rectangle
from spatialforge.geometry.cleanup import edge_pixels
from spatialforge.geometry.masks import rle_pixels
from spatialforge.geometry.pointmap import unproject_pixels


@pytest.mark.parametrize("yaw", [-1.2, -0.3, 0.0, 0.5, 1.5])
def test_min_area_rectangle_recovers_a_rotated_rectangle(yaw):
    rng = np.random.default_rng(0)
    local = rng.uniform(-0.5, 0.5, (3000, 2)) * [2.0, 0.6]
    local[:4] = [[-1, -0.3], [1, -0.3], [1, 0.3], [-1, 0.3]]  # include the corners
    c, s = math.cos(yaw), math.sin(yaw)
    xy = local @ np.array([[c, s], [-s, c]]) + [3.0, -1.0]
    center, extents, angle = min_area_rectangle(xy)
    np.testing.assert_allclose(center, [3.0, -1.0], atol=1e-9)
    assert -math.pi / 4 <= angle < math.pi / 4
    # the same rectangle up to the quarter-turn description
    d = (angle - yaw) % (math.pi / 2)
    assert min(d, math.pi / 2 - d) < 1e-9
    assert sorted(extents) == pytest.approx([0.6, 2.0], abs=1e-9)


def test_hull_points_are_exact_and_degenerate_inputs_work():
    rng = np.random.default_rng(1)
    xy = rng.normal(size=(5000, 2))
    from scipy.spatial import ConvexHull

    ref = {tuple(p) for p in xy[ConvexHull(xy).vertices]}
    assert ref == {tuple(p) for p in hull_points(xy)}
    line = np.c_[np.linspace(0, 1, 50), np.zeros(50)]
    center, extents, _ = min_area_rectangle(line)
    assert max(extents) == pytest.approx(1.0) and min(extents) == pytest.approx(0.0, abs=1e-12)
    center, extents, _ = min_area_rectangle(np.array([[1.0, 2.0]]))
    assert tuple(center) == (1.0, 2.0) and not extents.any()


def test_hull_candidates_give_the_same_box(hand_scene):
    scene, depth, _ = hand_scene
    cam = scene.camera
    for obj in scene.objects:
        rows, cols = rle_pixels(obj.mask)
        z = depth[rows, cols]
        points_world = unproject_pixels(rows, cols, z, cam) @ cam.R.T
        cand = hull_candidates(rows, cols, edge_pixels(rows, cols, z)[1], max_interior=50)
        assert cand.mean() < 0.5
        full = fit_box3d(points_world)
        fast = fit_box3d(points_world, footprint_xy=points_world[cand, :2])
        np.testing.assert_allclose(fast.center, full.center, atol=1e-5)  # within the hull tolerance
        np.testing.assert_allclose(fast.size, full.size, atol=1e-5)


def test_fit_box3d_floor_snap_and_min_size():
    pts = np.array([[0, 0, -1.47], [1, 0, -1.0], [1, 0.5, -1.2], [0, 0.5, -1.3]], float)
    box = fit_box3d(pts, floor_z=-1.5, floor_snap=0.05)
    assert box.center[2] - box.size[1] / 2 == pytest.approx(-1.5)
    box = fit_box3d(pts, floor_z=-1.6, floor_snap=0.05)  # too far above the floor: not snapped
    assert box.center[2] - box.size[1] / 2 == pytest.approx(-1.47)
    flat = fit_box3d(np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0]], float))
    assert isinstance(flat, Box3D) and min(flat.size) == pytest.approx(0.01)
    with pytest.raises(ValueError):
        fit_box3d(np.zeros((0, 3)))


@pytest.mark.parametrize("n", [8192, 3 * 8192 + 77])
def test_hull_points_exact_over_several_prefilter_chunks(n):
    """The octagon prefilter tests the points in chunks: a cloud spanning several (strided, as
    the world points' xy are) keeps every hull vertex, in the order of the full cloud's hull."""
    from scipy.spatial import ConvexHull

    rng = np.random.default_rng(n)
    points = np.c_[rng.uniform(-1, 1, (n, 2)) * [1.5, 0.4] + rng.normal(0, 0.01, (n, 2)), rng.normal(size=n)]
    xy = points[:, :2]
    assert np.array_equal(hull_points(xy), xy[ConvexHull(xy).vertices])
