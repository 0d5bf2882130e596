"""Perception on Ray Data: throughput with 1 and 2 workers (tiny random-weight models, CPU).

A worker is one actor per stage pool (geometry, detection, segmentation) plus the finishing
map (the 3D estimate), one torch thread per actor, asking Ray for one CPU in all.  Rounds
are interleaved (1, 2, 2, 1, ...) and the median is reported, so a machine whose load drifts
biases both alike.  Each setting runs ``--num`` and ``3 x --num`` images: "marginal" is
2 x num / (time(3 x num) - time(num)), the throughput once the actors are up (Ray's start-up,
seconds per dataset, cancels out); "wall" is 3 x num / time(3 x num), start-up included.
Goal: 2 workers >= 0.85 x linear (1.7 x one worker).  The in-process path (one process, one
torch thread) is the baseline of the same run.

    python benchmarks/perception_ray.py --num 16 --rounds 3 --cpus 2
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from spatialforge.geometry.estimate import GeometryConfig
from spatialforge.perception.base import ImageItem
from spatialforge.perception.config import parse_config
from spatialforge.perception.pipeline import Perception
from spatialforge.sources.image_files import load_rgb
from spatialforge.sources.images import estimate


def tiny_config(models: Path, vocab: list[str], batch_size: int):
    return parse_config({"vocabulary": vocab, "filter": {"min_objects": 1}, "batch_size": batch_size,
                         "postprocess": {"min_mask_box_agreement": 0.0},
                         "stages": {"geometry": {"backend": "depth_anything_v2", "kwargs": {"model": str(models / "depth_anything")}},
                                    "detection": {"backend": "owlv2", "kwargs": {"model": str(models / "owlv2")}},
                                    "segmentation": {"backend": "sam", "kwargs": {"model": str(models / "sam")}}}})


def on_ray(items, cfg, workers: int) -> float:
    """Seconds to perceive and estimate ``items``."""
    from spatialforge.perception.ray_runner import run_perception

    finish = partial(estimate, config=cfg, geometry=GeometryConfig())
    t0 = time.perf_counter()
    n = sum(1 for _ in run_perception(items, cfg, finish, workers=workers, torch_threads=1))
    assert n == len(items)
    return time.perf_counter() - t0


def rates(items, cfg, workers: int, num: int) -> tuple[float, float]:
    """(wall, marginal) images per second; see the module doc."""
    t_small = on_ray(items[:num], cfg, workers)
    t_big = on_ray(items, cfg, workers)
    return len(items) / t_big, (len(items) - num) / max(t_big - t_small, 1e-9)


def in_process(items, cfg) -> float:
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        p = Perception(cfg)
        for start in range(0, len(items), cfg.batch_size):
            batch = items[start : start + cfg.batch_size]
            for res in p.run(batch):
                estimate(res, cfg, GeometryConfig())
        return len(items) / (time.perf_counter() - t0)
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num", type=int, default=16, help="images of the small run (the big one has 3x)")
    ap.add_argument("--size", default="160x120")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    ap.add_argument("--batch-size", type=int, default=2)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    import ray

    from spatialforge.perception.tiny import build_tiny_perception
    from spatialforge.sources.synthetic import write_scenes
    from spatialforge.sources.synthetic.catalog import CATEGORIES

    work = Path(tempfile.mkdtemp(prefix="perception-ray-"))
    try:
        write_scenes(work / "scenes", 3 * args.num, seed=0, size=(w, h))
        items = [ImageItem(p.stem, load_rgb(p)) for p in sorted((work / "scenes" / "images").glob("*.png"))]
        cfg = tiny_config(build_tiny_perception(work / "tiny"), list(CATEGORIES), args.batch_size)
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        runs: dict[str, list[tuple[float, float]]] = {"1": [], "2": []}
        base = []
        for r in range(args.rounds):
            base.append(in_process(items, cfg))
            for workers in ((1, 2) if r % 2 == 0 else (2, 1)):
                runs[str(workers)].append(rates(items, cfg, workers, args.num))
                print(f"round {r}: {workers} worker(s): wall {runs[str(workers)][-1][0]:.2f} img/s, "
                      f"marginal {runs[str(workers)][-1][1]:.2f} img/s", flush=True)
        med = {k: (statistics.median(v[0] for v in vals), statistics.median(v[1] for v in vals))
               for k, vals in runs.items()}
        print(f"\n{len(items)} images {w}x{h}, batch {args.batch_size}, local Ray with {args.cpus} CPUs, "
              f"median of {args.rounds} interleaved rounds")
        print(f"in-process (1 thread): {statistics.median(base):.2f} img/s")
        print(f"{'workers':>7} {'wall img/s':>11} {'marginal img/s':>15}")
        for k, (wall, steady) in med.items():
            print(f"{k:>7} {wall:11.2f} {steady:15.2f}")
        for i, label in ((0, "wall"), (1, "marginal")):
            ratio = med["2"][i] / med["1"][i]
            print(f"speed-up 1 -> 2 workers ({label}): {ratio:.2f}x = {ratio / 2:.2f} of linear (goal >= 0.85)")
    finally:
        ray.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
