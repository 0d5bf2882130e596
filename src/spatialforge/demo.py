"""`make demo`: the main job on a built-in default, end to end on a CPU.

Renders synthetic scenes, generates a mirrored hierarchical spatial-VQA dataset from them,
writes the HTML page of samples, re-estimates the scenes' 3D boxes from depth + masks
alone and prints how close they come to the ground truth.

    python -m spatialforge.demo --out demo_out [--num-scenes 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from .datasets.parquet import load_records
from .datasets.pipeline import generate_dataset
from .files import list_scene_files
from .geometry.accuracy import box_errors, gravity_angle_deg
from .geometry.estimate import estimate_scene
from .scene import Scene
from .viz.show import build_show_page


def geometry_summary(scenes_dir: Path, limit: int = 20) -> dict[str, float]:
    """Median box errors of depth-only estimates vs ground truth on fully visible objects."""
    rows, gravity = [], []
    for path in list_scene_files(scenes_dir)[:limit]:
        gt = Scene.load(path)
        est = estimate_scene(gt).scene
        gravity.append(gravity_angle_deg(est.camera.R, gt.camera.R))
        est_by_id = {o.id: o for o in est.objects}
        for o in gt.objects:
            if o.id in est_by_id and o.occlusion == 0 and o.truncation == 0:
                rows.append(box_errors(est_by_id[o.id].box3d, o.box3d, est.camera.R, gt.camera.R))
    return {
        "scenes": min(limit, len(gravity)),
        "objects": len(rows),
        "centre_m": float(np.median([r["centre"] for r in rows])) if rows else float("nan"),
        "size_rel": float(np.median([r["size"] for r in rows])) if rows else float("nan"),
        "gravity_deg": float(np.median(gravity)) if gravity else float("nan"),
    }


def run_demo(out: Path, num_scenes: int = 50, seed: int = 0, size: tuple[int, int] = (640, 480)) -> dict:
    console = Console()
    out = Path(out)
    t0 = time.perf_counter()
    manifest = generate_dataset(out / "data", source="synthetic", num_scenes=num_scenes, seed=seed,
                                mirror=True, size=size, progress=True)
    t_gen = time.perf_counter() - t0
    page = build_show_page(out / "data", num=24)
    records = load_records(out / "data")
    geo = geometry_summary(out / "data" / "scenes")

    by_task = Counter((r.level, r.task) for r in records)
    table = Table(title=f"{len(records)} QA records from {num_scenes} scenes ({t_gen:.0f} s)")
    for col in ("level", "task", "records"):
        table.add_column(col)
    for (level, task), n in sorted(by_task.items()):
        table.add_row(str(level), task, str(n))
    console.print(table)
    formats = Counter(r.format for r in records)
    pairs = len({r.pair_id for r in records if r.view == "mirrored"})
    console.print(f"formats: {dict(formats)}; mirror pairs: {pairs}; skipped: {len(manifest.skipped)} (reasons in {manifest.path})")
    console.print(
        f"geometry from depth + masks only, {geo['objects']} fully visible objects in {geo['scenes']} scenes: "
        f"median centre error {geo['centre_m'] * 100:.2f} cm, size error {geo['size_rel'] * 100:.1f} %, "
        f"gravity error {geo['gravity_deg']:.2f} deg"
    )
    console.print(f"dataset: {out / 'data'}  (load with datasets.load_dataset('parquet', data_files='{out / 'data'}/data/*.parquet'))")
    console.print(f"look at it: {page}")
    cli = os.path.relpath(Path(sys.executable).parent / "spatialforge")  # the venv's command, as `make demo` ran it
    console.print(f"or in the app: {cli} app --dataset {out}")
    return {"records": len(records), "pairs": pairs, "page": str(page), "geometry": geo, "seconds": t_gen}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("demo_out"))
    ap.add_argument("--num-scenes", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    run_demo(args.out, args.num_scenes, args.seed)


if __name__ == "__main__":
    main()
