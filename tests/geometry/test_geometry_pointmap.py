import numpy as np
import pytest

from spatialforge import Camera, SceneError
from spatialforge.geometry.masks import instance_pixels, rle_pixels
from spatialforge.geometry.pointmap import depth_to_point_map, pixel_ray_tables, unproject_pixels
from spatialforge.scene import MaskRLE


def test_unproject_project_round_trip():
    cam = Camera(300.0, 310.0, 161.3, 118.7, 320, 240)
    rng = np.random.default_rng(0)
    depth = rng.uniform(0.5, 8.0, (240, 320)).astype(np.float32)
    points_cam, valid = depth_to_point_map(depth, cam)
    assert points_cam.shape == (240, 320, 3) and points_cam.dtype == np.float32 and valid.all()
    uv = cam.project(points_cam.reshape(-1, 3))
    rows, cols = np.mgrid[0:240, 0:320]
    expected = np.stack([cols.ravel() + 0.5, rows.ravel() + 0.5], 1)  # pixel centres
    np.testing.assert_allclose(uv, expected, atol=1e-3)
    np.testing.assert_allclose(points_cam[..., 2], depth)
    # the per-pixel helper agrees with the map and with Camera.unproject
    r, c = rows.ravel()[:500], cols.ravel()[:500]
    pts = unproject_pixels(r, c, depth[r, c], cam)
    np.testing.assert_allclose(pts, points_cam[r, c], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pts, cam.unproject(expected[:500], depth[r, c]), rtol=1e-6, atol=1e-6)


def test_invalid_depth_is_masked_not_fatal():
    cam = Camera(50.0, 50.0, 8.0, 6.0, 16, 12)
    depth = np.full((12, 16), 2.0, np.float32)
    depth[0, 0], depth[1, 1], depth[2, 2], depth[3, 3], depth[4, 4] = np.nan, np.inf, 0.0, -1.0, -np.inf
    points_cam, valid = depth_to_point_map(depth, cam)
    assert valid.sum() == 16 * 12 - 5
    assert np.isnan(points_cam[~valid]).all() and np.isfinite(points_cam[valid]).all()


def test_depth_shape_mismatch_raises():
    cam = Camera(50.0, 50.0, 8.0, 6.0, 16, 12)
    with pytest.raises(SceneError, match="12x16"):
        depth_to_point_map(np.ones((10, 16), np.float32), cam)


def test_rle_and_instance_pixels_match_decoded_masks():
    rng = np.random.default_rng(1)
    for _ in range(20):
        mask = rng.random((23, 17)) < rng.uniform(0, 1)  # dense masks: runs span columns
        rows, cols = rle_pixels(MaskRLE.encode(mask))
        ref_cols, ref_rows = np.nonzero(mask.T)  # column-major order
        assert np.array_equal(rows, ref_rows) and np.array_equal(cols, ref_cols)
    full = np.ones((23, 17), bool)
    full[0, 0] = full[-1, -1] = False  # one run over every column
    rows, cols = rle_pixels(MaskRLE.encode(full))
    assert np.array_equal(cols * 23 + rows, np.arange(1, 23 * 17 - 1))
    ids = rng.integers(-1, 4, (23, 17))
    got = instance_pixels(ids)
    assert set(got) == set(np.unique(ids[ids >= 0]).tolist())
    for k, (rows, cols) in got.items():
        assert (ids[rows, cols] == k).all() and rows.size == (ids == k).sum()


def test_rle_pixels_equal_the_divmod_of_flat_indices():
    """Pieces cut at column ends give what dividing every flat index by the height gives."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        h, w = rng.integers(1, 9, 2)
        mask = rng.random((h, w)) < rng.uniform(0, 1)
        rows, cols = rle_pixels(MaskRLE.encode(mask))
        ref_cols, ref_rows = np.divmod(np.flatnonzero(mask.ravel(order="F")), h)
        assert rows.dtype == cols.dtype == np.int64
        assert np.array_equal(rows, ref_rows) and np.array_equal(cols, ref_cols)


def test_unproject_pixels_with_ray_tables_equals_per_pixel_rays():
    """Looked-up rays give exactly the numbers computed per pixel."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        w, h = (int(v) for v in rng.integers(8, 64, 2))
        cam = Camera(fx=float(rng.uniform(50, 900)), fy=float(rng.uniform(50, 900)), cx=float(rng.uniform(0, w)),
                     cy=float(rng.uniform(0, h)), width=w, height=h)
        rows, cols = rng.integers(0, h, 500), rng.integers(0, w, 500)
        z = rng.uniform(0.1, 9.0, 500).astype(np.float32)
        expected = unproject_pixels(rows, cols, z, cam)
        assert np.array_equal(unproject_pixels(rows, cols, z, cam, pixel_ray_tables(cam)), expected)


@pytest.mark.parametrize("n_wanted", [0, 2, 12])
def test_instance_pixels_of_wanted_ids_equal_those_of_all(n_wanted):
    """Asking for some ids (one pass each, or the sort when many) gives their entries of the full answer."""
    rng = np.random.default_rng(n_wanted)
    ids = rng.integers(-1, 15, (31, 23))
    wanted = rng.choice(20, n_wanted, replace=False).tolist()  # some absent from the map
    every = instance_pixels(ids)
    got = instance_pixels(ids, wanted)
    assert set(got) == set(wanted) & set(every)
    for k, (rows, cols) in got.items():
        assert np.array_equal(rows, every[k][0]) and np.array_equal(cols, every[k][1])
        assert rows.dtype == cols.dtype == np.int64
