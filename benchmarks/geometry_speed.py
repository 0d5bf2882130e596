"""Speed (and box-size accuracy) of depth -> 3D boxes (gravity included), ours vs. baselines, one core.

**Stand-in baseline** (always run; NOT open3d): what public pipelines do, with scipy and
scikit-learn in place of Open3D: unproject the whole depth map; fit the floor with a RANSAC
loop over random triples of background points (200 iterations, each scoring all points);
then per object take its full-resolution cloud, remove statistical outliers (mean distance
to the 20 nearest neighbours, ``scipy.spatial.cKDTree``, keep those within mean + 2 std),
``sklearn.cluster.DBSCAN`` on the full cloud (eps = 3x the median nearest-neighbour
distance, min_samples = 10), keep the largest cluster, fit the same gravity-aligned box.
An outside measurement (issue #17) found this stand-in 1.8-2.3x *slower* and much less
accurate than real open3d (DBSCAN on the full-resolution cloud fragments objects): its
ratio overstates our gain over an open3d pipeline by about 2x.  Label it as a stand-in.

**open3d baseline** (``--open3d-python PY``: an interpreter with ``open3d``, e.g. a venv with
``pip install open3d-cpu``; open3d is not a project dependency): per object, open3d's
``remove_statistical_outlier(nb_neighbors=10, std_ratio=1.2)``, ``voxel_down_sample(max(0.01,
scale / 40))``, ``cluster_dbscan(eps=0.2, min_points=10)`` (largest cluster) and
``get_oriented_bounding_box()`` -- the SpatialRGPT-style per-object pipeline the issue
measured (parameters as in its data pipeline's point-cloud processor; floor fitting not
included, so it is timed on less work than ours).

Ours: ``spatialforge.geometry.estimate_file``, what ``spatialforge geometry`` runs per scene
file (scene JSON and depth read, ``estimate_scene``: vectorised floor RANSAC on a pixel grid,
mixed-pixel filter, DBSCAN on a bounded grid subsample, symmetric completion; the estimated
scene JSON written).  The stand-in reads the same files (JSON, depth, instance PNG) and writes
its boxes as JSON, so both sides are timed on the path users run: scene on disk in, estimate out.

**Another checkout** (``--baseline-src OTHER/src``, before/after): the same ``estimate_file``
from another checkout's ``src``, in a child process (its own imports, one thread) that times
each scene itself (CPU time) when asked, in the same interleaved rounds as ours.

Same number of timed runs for every side (``--repeats`` interleaved rounds: every scene once
per side per round); the per-scene figure is the median of its rounds.  Accuracy: per object, the mean relative error
of the sorted box sides against the ground truth (frame-free, so every side is comparable);
for ours and another checkout also the yaw error (degrees, modulo the box's quarter turn).
``--depth-noise 0.01`` multiplies depth by (1 + 1 % Gaussian noise) first.
Target (issue #17): ours <= 20 ms per 10-object scene with 1 % depth noise.

    python benchmarks/geometry_speed.py --num 20 --size 640x480 --depth-noise 0.01 [--open3d-python PY]
                                        [--baseline-src OTHER_CHECKOUT/src] [--skip-stand-in]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"  # one core: set before numpy / scipy / sklearn load their thread pools

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402
from sklearn.cluster import DBSCAN  # noqa: E402

from spatialforge.files import read_instance_mask  # noqa: E402
from spatialforge.geometry.boxes import fit_box3d  # noqa: E402
from spatialforge.geometry.estimate import estimate_file  # noqa: E402
from spatialforge.geometry.gravity import rotation_from_up  # noqa: E402
from spatialforge.geometry.pointmap import depth_to_point_map  # noqa: E402
from spatialforge.scene import Box3D, Scene  # noqa: E402
from spatialforge.sources.synthetic import write_scenes  # noqa: E402


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


# --------------------------------------------------------------------------- open3d (optional)
_O3D_CHILD = r"""
import json, sys, time
import numpy as np
import open3d as o3d
data = np.load(sys.argv[1])
repeats = int(sys.argv[2])
out = {"cpu_ms": [], "sides": {}}
for key in sorted({k.split("_")[0] for k in data.files}):  # scene index s<i>, objects o<j>
    clouds = [(k, data[k]) for k in data.files if k.startswith(key + "_")]
    runs = []
    for _ in range(repeats):
        t0 = time.process_time()
        for name, pts in clouds:
            pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts.astype(np.float64)))
            pcd, _ = pcd.remove_statistical_outlier(nb_neighbors=10, std_ratio=1.2)
            scale = float(np.linalg.norm(np.asarray(pcd.points).std(axis=0))) * 3.0 + 1e-6
            pcd = pcd.voxel_down_sample(voxel_size=max(0.01, scale / 40))
            labels = np.asarray(pcd.cluster_dbscan(eps=0.2, min_points=10))
            if (labels >= 0).any():
                pcd = pcd.select_by_index(np.flatnonzero(labels == np.bincount(labels[labels >= 0]).argmax()))
            if len(pcd.points) >= 4:
                out["sides"][name] = sorted(np.asarray(pcd.get_oriented_bounding_box().extent).tolist())
        runs.append(time.process_time() - t0)
    out["cpu_ms"].append(1e3 * float(np.median(runs)))
print(json.dumps(out))
"""


def run_open3d(python: str, clouds: dict[str, np.ndarray], repeats: int, tmp: str) -> dict | None:
    """Per-scene CPU ms and per-object sorted box sides from real open3d, or None (message printed)."""
    probe = subprocess.run([python, "-c", "import open3d"], capture_output=True, text=True)
    if probe.returncode != 0:
        print(f"open3d baseline skipped: {python} cannot import open3d")
        return None
    path = os.path.join(tmp, "clouds.npz")
    np.savez(path, **clouds)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    res = subprocess.run([python, "-c", _O3D_CHILD, path, str(repeats)], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        print(f"open3d baseline failed: {res.stderr[-2000:]}")
        return None
    return json.loads(res.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- another checkout (optional)
_CHECKOUT_CHILD = r"""
import json, sys, time
from pathlib import Path
from spatialforge.geometry.estimate import estimate_file
out = Path(sys.argv[1])
for line in sys.stdin:  # one scene path per line -> its CPU seconds and boxes
    t0 = time.process_time()
    result = estimate_file(Path(line.rstrip("\n")), out)[0]
    cpu = time.process_time() - t0
    boxes = {o.id: [list(o.box3d.size), o.box3d.yaw] for o in result.scene.objects}
    print(json.dumps({"cpu": cpu, "boxes": boxes}), flush=True)
"""


class OtherCheckout:
    """``estimate_file`` of another checkout's ``src`` in a child process, timed there per scene."""

    def __init__(self, src: Path, out: Path):
        env = {**os.environ, "PYTHONPATH": str(src.resolve())}
        out.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen([sys.executable, "-c", _CHECKOUT_CHILD, str(out)], env=env, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def run(self, path: Path) -> tuple[float, dict[int, tuple[list[float], float]]]:
        """(CPU seconds, {object id: (box size, yaw)}) of one scene file."""
        self._proc.stdin.write(f"{path}\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise SystemExit(f"--baseline-src child failed on {path} (its error is above)")
        d = json.loads(line)
        return d["cpu"], {int(k): (v[0], v[1]) for k, v in d["boxes"].items()}

    def close(self) -> None:
        self._proc.stdin.close()
        self._proc.wait()


def yaw_error(est: float, gt: float) -> float:
    """Degrees between two box yaws, modulo the quarter turn that maps a box onto itself."""
    d = (est - gt) % (math.pi / 2)
    return math.degrees(min(d, math.pi / 2 - d))


def side_error(est: list[float], gt: tuple[float, float, float]) -> float:
    """Mean relative error of the sorted box sides."""
    e, g = sorted(est), sorted(gt)
    return float(np.mean([abs(a - b) / b for a, b in zip(e, g)]))


# --------------------------------------------------------------------------- timing
def _time(fn) -> float:
    c0 = time.process_time()
    fn()
    return time.process_time() - c0


def write_noisy_scenes(folder: Path, num: int, seed: int, size: tuple[int, int], noise: float) -> list[Path]:
    """Synthetic scenes on disk (JSON, PNG, depth .npy, instance PNG), their depth maps
    multiplied by (1 + ``noise`` Gaussian) in place: the input ``spatialforge geometry`` reads."""
    paths = write_scenes(folder, num, seed, size)
    rng = np.random.default_rng(seed)
    for path in paths:
        scene = Scene.load(path)
        depth = scene.load_depth()
        if noise:
            depth = (depth * (1 + noise * rng.standard_normal(depth.shape))).astype(np.float32)
            np.save(scene._path(scene.depth_path), depth)
    return paths


def ours_on_disk(path: Path, out: Path):
    """Scene file in, estimated scene file out: ``estimate_folder``'s per-file work."""
    return estimate_file(path, out)[0]


def baseline_on_disk(path: Path, out: Path):
    """The stand-in on the same files: scene JSON, depth and instance PNG in, boxes JSON out."""
    scene = Scene.load(path)
    ids = read_instance_mask(scene._path(scene.metadata["instance_mask_path"]), scene.id)
    R, boxes = baseline_scene(scene, scene.load_depth(), ids)
    text = json.dumps({"R_world_cam": R.tolist(), "boxes": {k: b.to_dict() for k, b in boxes.items()}})
    (out / f"{scene.id}.baseline.json").write_text(text)
    return R, boxes


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--num", type=int, default=20, help="synthetic scenes")
    p.add_argument("--size", default="640x480", help="WIDTHxHEIGHT")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds: each scene timed once per side per round")
    p.add_argument("--depth-noise", type=float, default=0.0, help="relative Gaussian depth noise, e.g. 0.01")
    p.add_argument("--open3d-python", default=None, help="an interpreter with open3d for the real open3d baseline")
    p.add_argument("--baseline-src", type=Path, default=None,
                   help="another checkout's src folder, timed in the same rounds (before/after)")
    p.add_argument("--skip-stand-in", action="store_true", help="do not run the (slow) scikit-learn stand-in")
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_noisy_scenes(Path(tmp) / "scenes", args.num, args.seed, (w, h), args.depth_noise)
        out = Path(tmp) / "out"
        out.mkdir()
        scenes = [Scene.load(path) for path in paths]
        other = None if args.baseline_src is None else OtherCheckout(args.baseline_src, Path(tmp) / "out_other")
        stand_in = not args.skip_stand_in
        for path in paths:  # warm caches (imports, allocator) on every side
            ours_on_disk(path, out)
            if stand_in:
                baseline_on_disk(path, out)
            if other is not None:
                other.run(path)
        t_ours = [[] for _ in paths]
        t_base = [[] for _ in paths]
        t_other = [[] for _ in paths]
        for _ in range(args.repeats):  # interleaved rounds: drifts of a shared machine hit both alike
            for i, path in enumerate(paths):
                t_ours[i].append(_time(lambda: ours_on_disk(path, out)))
                if other is not None:
                    t_other[i].append(other.run(path)[0])
                if stand_in:
                    t_base[i].append(_time(lambda: baseline_on_disk(path, out)))
        ms = {"ours": t_ours, "stand-in": t_base, "other": t_other}
        ms = {k: 1e3 * np.array([np.median(t) for t in v]) for k, v in ms.items() if v[0]}
        err = {"ours": [], "stand-in": [], "open3d": [], "other": []}
        yaw = {"ours": [], "other": []}
        clouds: dict[str, np.ndarray] = {}
        gt_sides: dict[str, tuple] = {}
        n_objects = []
        for si, (path, scene) in enumerate(zip(paths, scenes)):
            n_objects.append(sum(o.mask is not None and o.mask.area > 0 for o in scene.objects))  # visible ones
            got = {o.id: (list(o.box3d.size), o.box3d.yaw) for o in ours_on_disk(path, out).scene.objects}
            bboxes = baseline_on_disk(path, out)[1] if stand_in else {}
            got_other = other.run(path)[1] if other is not None else {}
            depth = scene.load_depth()
            ids = read_instance_mask(scene._path(scene.metadata["instance_mask_path"]), scene.id)
            pts, valid = depth_to_point_map(depth, scene.camera)
            for o in scene.objects:
                if o.mask is None:
                    continue
                for side, boxes in (("ours", got), ("other", got_other)):
                    if o.id in boxes:
                        err[side].append(side_error(boxes[o.id][0], o.box3d.size))
                        yaw[side].append(yaw_error(boxes[o.id][1], o.box3d.yaw))
                if o.id in bboxes:
                    err["stand-in"].append(side_error(list(bboxes[o.id].size), o.box3d.size))
                sel = valid & (ids == o.id)
                if sel.sum() >= 30:
                    clouds[f"s{si:04d}_o{o.id}"] = pts[sel]
                    gt_sides[f"s{si:04d}_o{o.id}"] = o.box3d.size
        if other is not None:
            other.close()
        o3d = None
        if args.open3d_python:
            o3d = run_open3d(args.open3d_python, clouds, args.repeats, tmp)
            if o3d:
                err["open3d"] = [side_error(v, gt_sides[k]) for k, v in o3d["sides"].items()]
    report(args, (w, h), ms, np.asarray(n_objects), err, yaw, o3d)


def report(args, size, ms, n_objects, err, yaw, o3d) -> None:
    many = (n_objects >= 8) & (n_objects <= 12)
    ours_ms = ms["ours"]

    def row(name, times, e, yaws=None):
        m = f"{np.median(times[many]):7.1f}" if many.any() else "    nan"
        acc = f"{100 * np.median(e):5.2f} %" if e else "   n/a"
        line = (f"{name:<22}: median {np.median(times):7.1f} ms/scene   8-12 objects ({many.sum()}): {m} ms   "
                f"box-side error (median over objects) {acc}")
        return line + (f"   yaw error median {np.median(yaws):.3f} deg" if yaws else "")

    print(f"geometry: {args.num} synthetic scenes {size[0]}x{size[1]}, depth noise {100 * args.depth_noise:.1f} %, "
          f"one thread, scene files on disk in -> estimate out (JSON, depth, masks read; result written); "
          f"CPU ms per scene = median of {args.repeats} interleaved rounds per side; objects/scene mean "
          f"{np.mean(n_objects):.1f}")
    print(row("ours", ours_ms, err["ours"], yaw["ours"]) + f"   target <= 20 ms (10 objects, 1 % noise): "
          f"{'MET' if many.any() and np.median(ours_ms[many]) <= 20 else 'NOT MET'}")
    if "other" in ms:
        print(row("--baseline-src checkout", ms["other"], err["other"], yaw["other"])
              + f"   -> {np.median(ms['other'] / ours_ms):.2f}x ours (per-scene median ratio; {args.baseline_src})")
    if "stand-in" in ms:
        print(row("stand-in (NOT open3d)", ms["stand-in"], err["stand-in"])
              + f"   -> {np.median(ms['stand-in'] / ours_ms):.1f}x ours (per-scene median ratio)")
    if o3d:
        o3_ms = np.asarray(o3d["cpu_ms"])
        print(row("open3d (real)", o3_ms, err["open3d"]) + f"   -> {np.median(o3_ms / ours_ms):.1f}x ours "
              f"(per-object pipeline only, no floor fit, clouds handed over in memory)")
    else:
        print("open3d (real)         : not run (pass --open3d-python); the stand-in above is NOT a measured "
              "open3d figure")


if __name__ == "__main__":
    main(sys.argv[1:])
