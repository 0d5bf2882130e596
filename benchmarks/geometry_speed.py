"""Speed of depth -> 3D boxes (gravity included), ours vs. a straightforward baseline, on one core.

The baseline does what public pipelines do (SpatialRGPT / VQASynth style, with scipy and
scikit-learn standing in for Open3D): unproject the whole depth map; fit the floor with a
RANSAC loop over random triples of background points (200 iterations, each scoring all
points); then per object take its full-resolution cloud, remove statistical outliers
(mean distance to the 20 nearest neighbours with ``scipy.spatial.cKDTree``, keep those
within mean + 2 std), run ``sklearn.cluster.DBSCAN`` on the full cloud (eps = 3x the
median nearest-neighbour distance, min_samples = 10), keep the largest cluster and fit
the same gravity-aligned box (hull + minimum-area rectangle).

Ours: ``spatialforge.geometry.estimate_scene`` (vectorised floor RANSAC on a pixel grid,
mixed-pixel filter, DBSCAN on a bounded grid subsample, symmetric completion).

    python benchmarks/geometry_speed.py --num 20 --size 640x480
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"  # one core: set before numpy / scipy / sklearn load their thread pools

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402
from sklearn.cluster import DBSCAN  # noqa: E402

from spatialforge.geometry.boxes import fit_box3d  # noqa: E402
from spatialforge.geometry.estimate import estimate_scene  # noqa: E402
from spatialforge.geometry.gravity import rotation_from_up  # noqa: E402
from spatialforge.geometry.pointmap import depth_to_point_map  # noqa: E402
from spatialforge.scene import Box3D, Scene  # noqa: E402


# --------------------------------------------------------------------------- baseline
def baseline_floor(points_cam: np.ndarray, rng: np.random.Generator, iterations: int = 200,
                   threshold: float = 0.02, max_points: int = 20000) -> tuple[np.ndarray, float] | None:
    """Open3D ``segment_plane``-style RANSAC loop: (up normal (3,), camera height) or None."""
    if points_cam.shape[0] > max_points:
        points_cam = points_cam[rng.choice(points_cam.shape[0], max_points, replace=False)]
    best, best_count = None, 0
    for _ in range(iterations):
        p = points_cam[rng.choice(points_cam.shape[0], 3, replace=False)]
        n = np.cross(p[1] - p[0], p[2] - p[0])
        norm = np.linalg.norm(n)
        if norm < 1e-9:
            continue
        n = n / norm
        if n[1] > 0:
            n = -n
        d = -float(n @ p[0])
        if -n[1] < math.cos(math.radians(60)) or d < 0.2:  # floor: faces camera-up, below the camera
            continue
        count = int((np.abs(points_cam @ n + d) < threshold).sum())
        if count > best_count:
            best, best_count = (n, d), count
    if best is None:
        return None
    n, d = best
    inl = points_cam[np.abs(points_cam @ n + d) < threshold]
    centroid = inl.mean(0)
    n = np.linalg.svd(inl - centroid, full_matrices=False)[2][2]
    n = -n if n[1] > 0 else n
    return n, float(-n @ centroid)


def baseline_object(points_cam: np.ndarray, R_world_cam: np.ndarray, floor_z: float | None) -> Box3D | None:
    """SOR (k-NN mean distance) + DBSCAN on the full cloud + largest cluster + box."""
    if points_cam.shape[0] < 30:
        return None
    k = min(20, points_cam.shape[0] - 1)
    dist, _ = cKDTree(points_cam).query(points_cam, k=k + 1)
    mean_d = dist[:, 1:].mean(1)
    keep = mean_d <= mean_d.mean() + 2.0 * mean_d.std()
    pts = points_cam[keep]
    eps = 3.0 * float(np.median(dist[keep, 1]))
    labels = DBSCAN(eps=max(eps, 1e-4), min_samples=10).fit(pts).labels_
    if (labels >= 0).any():
        pts = pts[labels == np.bincount(labels[labels >= 0]).argmax()]
    if pts.shape[0] < 10:
        return None
    return fit_box3d(pts @ R_world_cam.T, floor_z=floor_z)


def baseline_scene(scene: Scene, depth: np.ndarray, instance_ids: np.ndarray, seed: int = 0):
    """-> (R_world_cam (3, 3), {object id: Box3D})."""
    points_map, valid = depth_to_point_map(depth, scene.camera)
    background = valid & (instance_ids < 0)
    floor = baseline_floor(points_map[background].astype(np.float64), np.random.default_rng(seed))
    if floor is None:
        R, floor_z = rotation_from_up(np.array([0.0, -1.0, 0.0])), None
    else:
        R, floor_z = rotation_from_up(floor[0]), -floor[1]
    boxes = {}
    for obj in scene.objects:
        sel = valid & (instance_ids == obj.id)
        box = baseline_object(points_map[sel].astype(np.float64), R, floor_z)
        if box is not None:
            boxes[obj.id] = box
    return R, boxes


# --------------------------------------------------------------------------- timing
def _time(fn, repeats: int) -> tuple[float, float]:
    """Best of ``repeats`` runs: (CPU seconds of this process, wall seconds).  With one
    thread the CPU time is what one core spends, and it barely moves when other processes
    share the machine; the wall time is reported alongside."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        best_cpu = min(best_cpu, time.process_time() - c0)
        best_wall = min(best_wall, time.perf_counter() - w0)
    return best_cpu, best_wall


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--num", type=int, default=20, help="synthetic scenes")
    p.add_argument("--size", default="640x480", help="WIDTHxHEIGHT")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=5, help="ours: best of this many runs per scene")
    p.add_argument("--baseline-repeats", type=int, default=2)
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))

    from spatialforge.sources.synthetic import render_synthetic

    samples = [render_synthetic(args.seed, i, (w, h)) for i in range(args.num)]
    ours, base, ours_wall, base_wall, n_objects, n_pixels = [], [], [], [], [], []
    for s in samples:
        estimate_scene(s.scene, depth=s.depth, instance_ids=s.instance_ids)  # warm caches
        cpu, wall = _time(lambda: estimate_scene(s.scene, depth=s.depth, instance_ids=s.instance_ids), args.repeats)
        ours.append(cpu)
        ours_wall.append(wall)
        cpu, wall = _time(lambda: baseline_scene(s.scene, s.depth, s.instance_ids), args.baseline_repeats)
        base.append(cpu)
        base_wall.append(wall)
        n_objects.append(sum(o.mask is not None for o in s.scene.objects))
        n_pixels.append(int((s.instance_ids >= 0).sum()))
    ours_ms, base_ms = 1e3 * np.asarray(ours), 1e3 * np.asarray(base)
    many = (np.asarray(n_objects) >= 8) & (np.asarray(n_objects) <= 12)
    print(f"geometry speed: {args.num} synthetic scenes {w}x{h}, one thread, depth -> boxes incl. gravity; "
          f"CPU ms (best of {args.repeats} / {args.baseline_repeats} runs)")
    print(f"objects/scene: mean {np.mean(n_objects):.1f}; object pixels/scene: mean {np.mean(n_pixels):.0f}")
    print(f"ours     : median {np.median(ours_ms):7.1f} ms/scene   mean {ours_ms.mean():7.1f}   "
          f"max {ours_ms.max():7.1f}   scenes with 8-12 objects ({many.sum()}): median "
          f"{np.median(ours_ms[many]) if many.any() else float('nan'):.1f}")
    print(f"baseline : median {np.median(base_ms):7.1f} ms/scene   mean {base_ms.mean():7.1f}   "
          f"max {base_ms.max():7.1f}   scenes with 8-12 objects ({many.sum()}): median "
          f"{np.median(base_ms[many]) if many.any() else float('nan'):.1f}")
    print(f"speed-up : {np.median(base_ms) / np.median(ours_ms):.1f}x (median/median), "
          f"{base_ms.sum() / ours_ms.sum():.1f}x (total/total)")
    load = os.getloadavg()[0]
    print(f"wall clock (machine shared, load {load:.1f}): ours median {1e3 * np.median(ours_wall):.1f} ms, "
          f"baseline median {1e3 * np.median(base_wall):.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
