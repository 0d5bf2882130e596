import numpy as np
import pytest

from geometry_raycast import build_scene, camera_rotation
from spatialforge import Box3D, Camera
from spatialforge.geometry.gravity import (
    GravityConfig,
    background_grid,
    fit_floor_plane,
    floor_height_given_up,
    gravity_angle_deg,
    rotation_from_up,
)

BOXES = [Box3D((-0.8, 3.0, -1.5 + 0.3), (0.6, 0.6, 0.4), 0.4), Box3D((0.7, 3.6, -1.5 + 0.4), (1.0, 0.8, 0.5), -0.2)]


def test_rotation_from_up_follows_the_scene_convention():
    level = rotation_from_up(np.array([0.0, -1.0, 0.0]))
    np.testing.assert_allclose(level, Camera(1, 1, 0, 0, 2, 2).R, atol=1e-12)  # the default camera
    rng = np.random.default_rng(0)
    for _ in range(20):
        up = rng.normal(size=3)
        up[1] = -abs(up[1]) - 0.5
        R = rotation_from_up(up)
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(R) == pytest.approx(1.0)
        np.testing.assert_allclose(R[2], up / np.linalg.norm(up), atol=1e-12)  # world z = up
        assert abs(R[0] @ up) < 1e-12  # world x is horizontal, points like camera x ...
        assert R[0] @ [1.0, 0, 0] > 0
        # ... and lies in the plane of camera x and up (camera x made horizontal)
        assert abs(np.linalg.det(np.stack([R[0], [1.0, 0, 0], up]))) < 1e-12


@pytest.mark.parametrize("pitch,roll", [(0.1, 0.0), (0.35, 0.08), (0.6, -0.09), (0.2, 0.15)])
def test_gravity_from_the_floor_of_a_pitched_rolled_camera(pitch, roll):
    scene, depth, ids = build_scene(BOXES, pitch=pitch, roll=roll, size=(240, 180))
    grid, usable = background_grid(depth, scene.camera, ids >= 0, 3000)
    floor = fit_floor_plane(grid, usable)
    assert floor is not None
    R_est = rotation_from_up(np.asarray(floor.normal_cam))
    assert gravity_angle_deg(R_est, camera_rotation(pitch, roll)) < 0.1
    assert floor.height == pytest.approx(1.5, abs=0.01)
    # with the up direction trusted, the histogram finds the same floor height
    level = floor_height_given_up(grid, usable, camera_rotation(pitch, roll)[2])
    assert level.height == pytest.approx(1.5, abs=0.01)


def test_noisy_floor_still_within_a_degree():
    scene, depth, ids = build_scene(BOXES, pitch=0.4, roll=-0.06, size=(240, 180))
    rng = np.random.default_rng(0)
    noisy = depth * (1 + rng.normal(0, 0.01, depth.shape)).astype(np.float32)
    grid, usable = background_grid(noisy, scene.camera, ids >= 0, 3000)
    floor = fit_floor_plane(grid, usable)
    assert gravity_angle_deg(rotation_from_up(np.asarray(floor.normal_cam)), camera_rotation(0.4, -0.06)) < 1.0


def test_no_floor_in_view_returns_none():
    # camera looking up at a wall only: no plane faces camera-up below the camera
    scene, depth, ids = build_scene([], pitch=-0.5, roll=0.0, size=(120, 90), wall_y=3.0)
    grid, usable = background_grid(depth, scene.camera, None, 2000)
    assert fit_floor_plane(grid, usable, GravityConfig()) is None


def test_gravity_config_validates():
    with pytest.raises(ValueError):
        GravityConfig(max_tilt_deg=95)


def test_an_unmasked_table_top_does_not_pass_for_the_floor():
    platform = Box3D((0.0, 3.0, -1.5 + 0.3), (6.0, 0.6, 4.0), 0.0)  # a big low top filling the view
    scene, depth, ids = build_scene([platform], pitch=0.8, roll=0.0, size=(240, 180))
    grid, usable = background_grid(depth, scene.camera, None, 3000)  # the platform is not masked out
    heights = grid[usable] @ scene.camera.R[2]
    assert (np.abs(heights + 0.9) < 0.005).sum() > (np.abs(heights + 1.5) < 0.005).sum()  # more top than floor
    floor = fit_floor_plane(grid, usable)
    assert floor.height == pytest.approx(1.5, abs=0.02)
