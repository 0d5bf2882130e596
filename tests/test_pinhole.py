"""spatialforge.pinhole: the one unprojection, used with the same bits everywhere."""

import numpy as np

from spatialforge.datasets.parquet import point_map_from_row
from spatialforge.geometry.pointmap import depth_to_point_map, unproject_pixels
from spatialforge.models.rgbd_processor import point_map_from_depth
from spatialforge.perception.base import unproject_depth
from spatialforge.pinhole import nearest_index, pixel_centre, project, unproject, unproject_pixel
from spatialforge.scene import Camera, Scene
from spatialforge.tasks.view import SceneView

CAM = Camera(fx=50.0, fy=40.0, cx=15.3, cy=9.7, width=32, height=20)


def test_unproject_then_project_is_the_identity_and_centres_are_half_pixels():
    assert pixel_centre(0) == 0.5 and pixel_centre(np.arange(3, dtype=np.float32)).dtype == np.float32
    x, y, z = unproject(pixel_centre(4), pixel_centre(7), 2.0, CAM.fx, CAM.fy, CAM.cx, CAM.cy)
    assert np.allclose(project(x, y, z, CAM.fx, CAM.fy, CAM.cx, CAM.cy), (4.5, 7.5))
    assert unproject(CAM.cx, CAM.cy, 3.0, CAM.fx, CAM.fy, CAM.cx, CAM.cy) == (0.0, 0.0, 3.0)  # principal point
    assert unproject_pixel(4, 7, 2.0, CAM.fx, CAM.fy, CAM.cx, CAM.cy) == (x, y, z)


def test_every_unprojection_gives_the_cameras_bits(tmp_path):
    """Every pixel -> 3D path of the package goes through ``pinhole.unproject_pixel``: a copy
    with its own grouping of the formula (e.g. ``(col + (0.5 - cx)) * (z / fx)``) fails here."""
    depth = np.random.default_rng(0).uniform(0.5, 4.0, (CAM.height, CAM.width)).astype(np.float32)
    rows, cols = np.mgrid[0:CAM.height, 0:CAM.width]
    uv = np.stack([pixel_centre(cols.ravel()), pixel_centre(rows.ravel())], 1)
    ref = CAM.unproject(uv, depth.ravel())  # float64
    assert np.array_equal(unproject_pixels(rows.ravel(), cols.ravel(), depth.ravel(), CAM), ref)
    ref32 = ref.astype(np.float32).reshape(CAM.height, CAM.width, 3)  # float64 maths, float32 storage
    assert np.array_equal(depth_to_point_map(depth, CAM)[0], ref32)
    assert np.array_equal(point_map_from_depth(depth, CAM)[0], ref32)
    assert np.array_equal(unproject_depth(depth, CAM.K), ref32)
    scalar = unproject_pixel(5, 3, float(depth[3, 5]), CAM.fx, CAM.fy, CAM.cx, CAM.cy)
    assert scalar == tuple(ref[3 * CAM.width + 5])  # scalar and array paths give the same bits
    view = SceneView(Scene("s", "s.png", CAM, ()))
    assert view.unproject(5, 3, float(depth[3, 5])) == scalar
    # the dataset reader works in float32 throughout, as the row stores the intrinsics
    np.save(tmp_path / "d.npy", depth)
    row = {"flipped": False, "point_map_path": None, "depth_path": "d.npy",
           **{k: getattr(CAM, k) for k in ("fx", "fy", "cx", "cy")}}
    f32 = [np.float32(getattr(CAM, k)) for k in ("fx", "fy", "cx", "cy")]
    x, y, z = unproject_pixel(cols.astype(np.float32), rows.astype(np.float32), depth, *f32)
    assert np.array_equal(point_map_from_row(row, tmp_path), np.stack([x, y, z], -1))


def test_nearest_index_takes_the_input_pixel_that_holds_each_output_centre():
    """Exact for every size pair: (j + 0.5) * n_in / n_out multiplied first, so an output centre
    on an input pixel border (e.g. 49 -> 2 pixels, j = 24: exactly 1.0) is not floored to 0."""
    from fractions import Fraction

    for n_in in range(1, 65):
        for n_out in range(1, 65):
            exact = [min(int(Fraction(2 * j + 1, 2) * n_in / n_out), n_in - 1) for j in range(n_out)]
            assert nearest_index(n_out, n_in).tolist() == exact, (n_out, n_in)
