"""spatialforge.pinhole: the one unprojection, used with the same bits everywhere."""

import numpy as np

from spatialforge.geometry.pointmap import depth_to_point_map, unproject_pixels
from spatialforge.pinhole import pixel_centre, project, unproject
from spatialforge.scene import Camera

CAM = Camera(fx=50.0, fy=40.0, cx=15.3, cy=9.7, width=32, height=20)


def test_unproject_then_project_is_the_identity_and_centres_are_half_pixels():
    assert pixel_centre(0) == 0.5 and pixel_centre(np.arange(3, dtype=np.float32)).dtype == np.float32
    x, y, z = unproject(pixel_centre(4), pixel_centre(7), 2.0, CAM.fx, CAM.fy, CAM.cx, CAM.cy)
    assert np.allclose(project(x, y, z, CAM.fx, CAM.fy, CAM.cx, CAM.cy), (4.5, 7.5))
    assert unproject(CAM.cx, CAM.cy, 3.0, CAM.fx, CAM.fy, CAM.cx, CAM.cy) == (0.0, 0.0, 3.0)  # principal point


def test_every_unprojection_agrees_with_the_camera():
    depth = np.random.default_rng(0).uniform(0.5, 4.0, (CAM.height, CAM.width)).astype(np.float32)
    rows, cols = np.mgrid[0:CAM.height, 0:CAM.width]
    uv = np.stack([pixel_centre(cols.ravel()), pixel_centre(rows.ravel())], 1)
    ref = CAM.unproject(uv, depth.ravel())
    pm, _ = depth_to_point_map(depth, CAM)
    np.testing.assert_allclose(pm.reshape(-1, 3), ref, rtol=1e-6)
    np.testing.assert_allclose(unproject_pixels(rows.ravel(), cols.ravel(), depth.ravel(), CAM), ref, rtol=1e-12)
    scalar = unproject(pixel_centre(5), pixel_centre(3), float(depth[3, 5]), CAM.fx, CAM.fy, CAM.cx, CAM.cy)
    assert scalar == tuple(ref[3 * CAM.width + 5])  # scalar and array paths give the same bits
