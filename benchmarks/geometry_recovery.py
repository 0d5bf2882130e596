"""How well do depth + masks alone recover the ground-truth 3D boxes and gravity?

Renders synthetic scenes (exact GT), runs ``estimate_scene`` on the depth map and the
instance masks only (the GT boxes and camera rotation are never given to it), and prints
median errors split into fully visible objects (occlusion == truncation == 0) and
occluded/truncated ones:

* centre error (m): distance between box centres, compared in the camera frame so an
  error in the estimated gravity does not move the reference;
* relative size error: mean over (w, h, l) of |est - gt| / gt, with the estimated
  footprint sides matched to the GT sides by orientation (a box described as (yaw, w, l)
  is the same box as (yaw + 90 deg, l, w));
* yaw error (deg): angle between the long footprint axes, modulo 180 deg, for objects whose
  GT footprint is clearly non-square (long / short >= 1.25);
* gravity angle error (deg) per scene.

    python benchmarks/geometry_recovery.py --num 200 --size 640x480
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

import numpy as np

from spatialforge.geometry.estimate import GeometryConfig, estimate_scene
from spatialforge.geometry.accuracy import box_errors, gravity_angle_deg

def _median(values: list[float]) -> str:
    return f"{np.median(values):.4f}" if values else "   n/a"


def _summary(name: str, rows: list[dict[str, float]]) -> str:
    c = [r["centre"] for r in rows]
    s = [r["size"] for r in rows]
    y = [r["yaw"] for r in rows if "yaw" in r]
    keys = ("signed_w", "signed_h", "signed_l")
    dims = " ".join(f"{k[-1]}={np.median([r[k] for r in rows]):+.3f}" for k in keys) if rows else ""
    return (f"{name:<22} n={len(rows):5d}  centre {_median(c)} m  size {_median(s)}  "
            f"yaw {_median(y)} deg (n={len(y)})  | median signed size {dims}")


def add_depth_noise(depth: np.ndarray, rel: float, rng: np.random.Generator) -> np.ndarray:
    """Sensor-like degradation: per-pixel multiplicative Gaussian noise (sigma = rel * z) and
    1% of the pixels dropped (set to 0, invalid)."""
    noisy = depth * (1.0 + rel * rng.standard_normal(depth.shape))
    noisy[rng.random(depth.shape) < 0.01] = 0.0
    return noisy.astype(np.float32)


def _baseline():
    """``baseline_scene`` of geometry_speed.py (the public-pipeline-style baseline)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("geometry_speed", Path(__file__).with_name("geometry_speed.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.baseline_scene


def run(num: int, size: tuple[int, int], seed: int, use_camera_gravity: bool, config: GeometryConfig,
        depth_noise: float = 0.0, baseline: bool = False) -> None:
    from spatialforge.sources.synthetic import render_synthetic

    baseline_scene = _baseline() if baseline else None

    groups: dict[str, list[dict[str, float]]] = {"fully visible": [], "occluded/truncated": []}
    by_category: dict[str, list[dict[str, float]]] = {}
    gravity_err: list[float] = []
    sources: Counter[str] = Counter()
    drops: Counter[str] = Counter()
    n_visible = 0
    seconds = []
    for index in range(num):
        sample = render_synthetic(seed, index, size)
        scene = sample.scene
        depth = sample.depth
        if depth_noise > 0:
            depth = add_depth_noise(depth, depth_noise, np.random.default_rng([seed, index]))
        t0 = time.process_time()
        if baseline_scene is None:
            result = estimate_scene(scene, depth=depth, use_camera_gravity=use_camera_gravity,
                                    config=config, instance_ids=sample.instance_ids)
            R_est, dropped = result.scene.camera.R, result.dropped
            estimated = {o.id: o.box3d for o in result.scene.objects}
            sources[result.gravity_source] += 1
        else:
            R_est, estimated = baseline_scene(scene, depth, sample.instance_ids)
            dropped = {o.id: "baseline: too few points" for o in scene.objects if o.id not in estimated}
            sources["baseline floor RANSAC"] += 1
        seconds.append(time.process_time() - t0)
        R_gt = scene.camera.R
        gravity_err.append(gravity_angle_deg(R_est, R_gt))
        for gt in scene.objects:
            if gt.mask is None:  # not visible at all: nothing to estimate from
                continue
            n_visible += 1
            if gt.id not in estimated:
                drops[dropped[gt.id].split(" (")[0].split(":")[0]] += 1
                continue
            err = box_errors(estimated[gt.id], gt.box3d, R_est, R_gt)
            full = (gt.occlusion or 0.0) == 0.0 and (gt.truncation or 0.0) == 0.0
            groups["fully visible" if full else "occluded/truncated"].append(err)
            by_category.setdefault(gt.category, []).append(err)
    g = np.asarray(gravity_err)
    mode = "camera gravity (trusted)" if use_camera_gravity else "gravity estimated from the floor"
    if baseline:
        mode = "BASELINE pipeline (SOR + full-cloud DBSCAN, geometry_speed.py), " + mode
    noise = f", depth noise {100 * depth_noise:.1f}% + 1% dropouts" if depth_noise > 0 else ", exact depth"
    print(f"geometry recovery: {num} synthetic scenes (seed {seed}), {size[0]}x{size[1]}, {mode}{noise}")
    print(f"visible objects {n_visible}, estimated {n_visible - sum(drops.values())}, dropped {dict(drops) or 0}")
    for name, rows in groups.items():
        print(_summary(name, rows))
    print(_summary("all", groups["fully visible"] + groups["occluded/truncated"]))
    print(f"gravity angle error: median {np.median(g):.3f} deg, p95 {np.percentile(g, 95):.3f}, max {g.max():.3f} "
          f"(sources: {dict(sources)})")
    print(f"time: median {1e3 * np.median(seconds):.1f} CPU ms/scene (speed: benchmarks/geometry_speed.py)")
    print("per category (all visibility):")
    for cat in sorted(by_category, key=lambda k: -len(by_category[k])):
        print("  " + _summary(cat, by_category[cat]))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--num", type=int, default=200)
    p.add_argument("--size", default="640x480", help="WIDTHxHEIGHT")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--camera-gravity", action="store_true", help="trust the camera rotation instead of the floor fit")
    p.add_argument("--depth-noise", type=float, default=0.0,
                   help="relative per-pixel depth noise (e.g. 0.01), plus 1%% dropped pixels")
    p.add_argument("--baseline", action="store_true", help="score the baseline pipeline of geometry_speed.py instead")
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    run(args.num, (w, h), args.seed, args.camera_gravity, GeometryConfig(), args.depth_noise, args.baseline)


if __name__ == "__main__":
    main(sys.argv[1:])
