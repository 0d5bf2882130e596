import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import DBSCAN

from spatialforge.geometry.cleanup import (
    CleanupConfig,
    clean_object_points,
    connected_labels,
    dbscan_labels,
    depth_crop,
    edge_pixels,
    mixed_pixel_mask,
)
from spatialforge.geometry.masks import rle_pixels


@pytest.mark.parametrize("seed", range(5))
def test_connected_labels_match_scipy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    m = int(rng.integers(0, 2 * n))
    i, j = rng.integers(0, n, m), rng.integers(0, n, m)
    ours = connected_labels(n, i, j)
    count, ref = connected_components(coo_matrix((np.ones(m), (i, j)), shape=(n, n)), directed=False)
    assert len(np.unique(ours)) == count
    assert len(set(zip(ours.tolist(), ref.tolist()))) == count  # same partition


@pytest.mark.parametrize("seed", range(8))
def test_dbscan_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    blobs = [rng.normal(rng.uniform(-4, 4, 3), rng.uniform(0.1, 0.8), (int(rng.integers(3, 150)), 3))
             for _ in range(int(rng.integers(1, 5)))]
    points = np.concatenate(blobs + [rng.uniform(-6, 6, (20, 3))])
    eps, min_samples = float(rng.uniform(0.2, 0.8)), int(rng.integers(2, 8))
    ours = dbscan_labels(points, eps, min_samples)
    ref = DBSCAN(eps=eps, min_samples=min_samples).fit(points)
    core = np.zeros(len(points), bool)
    core[ref.core_sample_indices_] = True
    assert np.array_equal(ours == -1, ref.labels_ == -1)
    assert np.array_equal(ours[core], ref.labels_[core])  # border points may join either cluster


def _object_pixels(hand_scene, k):
    scene, depth, _ = hand_scene
    rows, cols = rle_pixels(scene.objects[k].mask)
    return scene, depth, rows, cols


def test_clean_object_keeps_a_clean_object(hand_scene):
    scene, depth, rows, cols = _object_pixels(hand_scene, 1)
    keep, stats = clean_object_points(rows, cols, depth[rows, cols], scene.camera.fx)
    assert keep.all() and stats.n_outliers == 0


def test_injected_outliers_are_removed(hand_scene):
    """A mask that leaks onto the far wall/floor and flying pixels between object and
    background: both go, the object stays."""
    scene, depth, rows, cols = _object_pixels(hand_scene, 1)
    rng = np.random.default_rng(0)
    z = depth[rows, cols].astype(np.float64).copy()
    # 1) a blob of mask leak: pixels right of the object showing the background well behind
    r_leak, c_leak = np.mgrid[rows.min() + 5 : rows.min() + 25, cols.max() + 1 : cols.max() + 15]
    r_leak, c_leak = r_leak.ravel(), c_leak.ravel()
    z_leak = depth[r_leak, c_leak].astype(np.float64)
    assert (z_leak > z.max() + 0.5).all()
    # 2) flying pixels: object boundary pixels pushed halfway towards the background
    boundary = np.flatnonzero(cols == cols.min())[:10]
    z_fly = z.copy()
    z_fly[boundary] += rng.uniform(0.5, 1.5, boundary.size)
    all_r, all_c = np.concatenate([rows, r_leak]), np.concatenate([cols, c_leak])
    all_z = np.concatenate([z_fly, z_leak])
    keep, stats = clean_object_points(all_r, all_c, all_z, scene.camera.fx)
    n = rows.size
    assert not keep[n:].any(), "mask leak kept"
    assert not keep[boundary].any(), "flying pixels kept"
    assert keep[:n].mean() > 0.99
    assert stats.n_mixed + stats.n_outliers >= r_leak.size + boundary.size


def test_mixed_pixel_only_flags_boundary_disagreement():
    rows, cols = np.mgrid[0:10, 0:10]
    rows, cols = rows.ravel(), cols.ravel()
    z = np.full(100, 2.0)
    z[5 * 10 + 0] = 4.0  # a boundary pixel far behind: mixed
    z[5 * 10 + 5] = 4.0  # an interior spike: not a boundary pixel, left to DBSCAN
    mixed = mixed_pixel_mask(rows, cols, z)
    assert mixed[50] and not mixed[55] and mixed.sum() == 1


def test_cleanup_config_validates():
    with pytest.raises(ValueError):
        CleanupConfig(max_dbscan_points=3)
    with pytest.raises(ValueError):
        CleanupConfig(eps_factor=0.5)


def test_thin_parts_survive_subsampling():
    """A table-like object: a slab plus a 2-pixel-wide leg, big enough to be subsampled."""
    rows, cols = np.mgrid[0:120, 0:200]
    slab = rows < 100
    leg = (rows >= 100) & (cols >= 50) & (cols < 52)
    sel = slab | leg
    rows, cols = rows[sel], cols[sel]
    z = 3.0 + 0.002 * rows  # a gently slanted surface
    keep, stats = clean_object_points(rows, cols, z.astype(np.float64), 500.0)
    assert stats.stride > 1
    assert keep.all()


def test_shared_depth_crop_gives_the_same_results(hand_scene):
    """edge_pixels, mixed_pixel_mask and clean_object_points given the object's crop answer
    as they do when they make it themselves (noisy depth, every object)."""
    scene, depth, _ = hand_scene
    rng = np.random.default_rng(2)
    noisy = (depth * (1 + 0.01 * rng.standard_normal(depth.shape))).astype(np.float32)
    for obj in scene.objects:
        rows, cols = rle_pixels(obj.mask)
        z = noisy[rows, cols]
        crop = depth_crop(rows, cols, z)
        boundary, edge, noise = edge_pixels(rows, cols, z)
        shared = edge_pixels(rows, cols, z, crop=crop)
        assert np.array_equal(shared[0], boundary) and np.array_equal(shared[1], edge) and shared[2] == noise
        assert np.array_equal(mixed_pixel_mask(rows, cols, z, boundary=boundary, crop=crop),
                              mixed_pixel_mask(rows, cols, z))
        keep, stats = clean_object_points(rows, cols, z, scene.camera.fx, boundary=boundary, crop=crop)
        ref_keep, ref_stats = clean_object_points(rows, cols, z, scene.camera.fx)
        assert np.array_equal(keep, ref_keep) and stats == ref_stats
