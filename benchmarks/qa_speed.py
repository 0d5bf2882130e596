"""QA records per second per core, from scenes to Parquet shards (one thread, CPU time).

    python benchmarks/qa_speed.py [--num-scenes 100] [--size 640x480] [--qa-per-scene 20] [--mirror]

Untimed setup: ``spatialforge.sources.synthetic`` renders the scenes into a temp folder
(``write_scenes``: JSON + RGB + depth, as ``generate_dataset`` lays them out), loads each
scene and its image, and reads every depth map into the task engine's cache (rendering and
file reads are not QA generation).  Timed, with the pipeline's own functions:
``generate_qa`` (per-scene views included) -> ``build_rows`` (PNG encoding once per view +
``record_row``) -> ``_write_outcomes`` (shard buffering, ``write_shard`` with zstd Parquet,
manifest updates).  Target: >= 20,000 QA/s/core.

Two passes: **with** PNG encoding (what a real run pays per scene) and **without** it
(the PNGs encoded beforehand, untimed, and reused), so it is visible which part dominates.
The floor is the cost of bare string formatting: one f-string question and answer per
record.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "ARROW_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pyarrow as pa  # noqa: E402

pa.set_cpu_count(1)
pa.set_io_thread_count(1)

import spatialforge.tasks.view as view_mod  # noqa: E402
from spatialforge.datasets.parquet import DATA_DIR, SHARD_GLOB, encode_png  # noqa: E402
from spatialforge.datasets.pipeline import SceneOutcome, _write_outcomes, build_rows, scene_seed  # noqa: E402
from spatialforge.runlog import RunManifest  # noqa: E402
from spatialforge.scene import Scene  # noqa: E402
from spatialforge.sources.synthetic import write_scenes  # noqa: E402
from spatialforge.tasks import clear_caches, generate_qa  # noqa: E402


def _timed_run(loaded, out: Path, gen_kwargs: dict, pngs_per_scene: list[dict] | None) -> tuple[int, float, int]:
    """CPU seconds of scenes -> QA -> rows -> shards; returns (records, seconds, shard bytes)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    manifest = RunManifest(out / "manifest.json", "generate", {})
    manifest.stats["shards"] = []
    clear_caches()
    view_mod._DEPTH_CACHE_SIZE = 10**6
    for scene, _, _ in loaded:  # depth reads are file I/O: cached before timing ...
        view_mod._load_depth(scene)
    view_mod._VIEWS.clear()  # ... but per-scene views (references etc.) are timed
    n = 0

    def outcomes():
        nonlocal n
        for i, (scene, image, path) in enumerate(loaded):
            res = generate_qa(scene, seed=scene_seed(0, scene.id), **gen_kwargs)
            pngs = None if pngs_per_scene is None else dict(pngs_per_scene[i])
            rows = build_rows(res.records, scene, image, root=out, scene_path=path, pngs=pngs)
            n += len(rows)
            yield SceneOutcome(path.name, scene.id, rows=rows, skipped=[(str(a), str(b)) for a, b in res.skipped])

    t0 = time.process_time()
    _write_outcomes(outcomes(), manifest, out, shard_size=1000, total=len(loaded), progress=False)
    dt = time.process_time() - t0
    size = sum(p.stat().st_size for p in (out / DATA_DIR).glob(SHARD_GLOB))
    return n, dt, size


def _format_floor(loaded, n_records: int) -> float:
    """CPU seconds per record of one f-string question + answer (the floor of any generator)."""
    names = [o.category for s, _, _ in loaded for o in s.objects]
    m = len(names)
    reps = max(n_records, 200_000)
    t0 = time.process_time()
    out = []
    for i in range(reps):
        a, b = names[i % m], names[(i * 7 + 3) % m]
        out.append((f"How far is the {a} from the {b}? Answer in meters.", f"{0.01 * (i % 997):.2f} m"))
    return (time.process_time() - t0) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-scenes", type=int, default=100)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--qa-per-scene", type=int, default=20)
    ap.add_argument("--mirror", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    W, H = (int(v) for v in args.size.lower().split("x"))
    gen_kwargs = {"qa_per_scene": args.qa_per_scene, "tasks": None, "ratios": None,
                  "formats": ("free", "mcq", "tf"), "mirror": args.mirror}
    with tempfile.TemporaryDirectory(prefix="sf_qa_speed_") as tmp:
        tmp = Path(tmp)
        t0 = time.time()
        paths = write_scenes(tmp / "scenes", num=args.num_scenes, seed=args.seed, size=(W, H))
        loaded = []
        for p in paths:
            scene = Scene.load(p)
            loaded.append((scene, scene.load_image(), p))
        print(f"setup (untimed): rendered + loaded {len(loaded)} synthetic scenes at {W}x{H} "
              f"in {time.time() - t0:.1f} s wall")
        print(f"settings: qa_per_scene={args.qa_per_scene} mirror={args.mirror} shard_size=1000, "
              f"one thread, CPU time (time.process_time)")

        _timed_run(loaded[:5], tmp / "warmup", gen_kwargs, None)  # untimed: imports (datasets, PIL, pyarrow)
        n, dt, size = _timed_run(loaded, tmp / "ds_png", gen_kwargs, None)
        per_with = dt / n
        print(f"[A] WITH PNG encoding (what generate_dataset pays): {n} records in {dt:.3f} s CPU -> "
              f"{n / dt:,.0f} QA/s/core ({1e6 * per_with:.1f} us/record; shards {size / 1e6:.1f} MB)")

        # [B]: the same run with each scene's view PNGs encoded beforehand (untimed) and reused
        pngs_per_scene = []
        for scene, image, _ in loaded:
            d = {bool(scene.flipped): encode_png(image)}
            if args.mirror:
                d[not bool(scene.flipped)] = encode_png(image[:, ::-1])
            pngs_per_scene.append(d)
        t_enc0 = time.process_time()
        for scene, image, _ in loaded:
            encode_png(image)
        enc_per_scene = (time.process_time() - t_enc0) / len(loaded)
        n2, dt2, _ = _timed_run(loaded, tmp / "ds_nopng", gen_kwargs, pngs_per_scene)
        per_without = dt2 / n2
        print(f"[B] WITHOUT PNG encoding (PNGs pre-encoded, bytes still written): {n2} records in {dt2:.3f} s CPU -> "
              f"{n2 / dt2:,.0f} QA/s/core ({1e6 * per_without:.1f} us/record)")
        views = 2 if args.mirror else 1
        print(f"    PNG encoding: {1e3 * enc_per_scene:.1f} ms CPU per view image ({W}x{H}), "
              f"{views} per scene = {100 * (dt - dt2) / dt:.0f} % of [A]")

        floor = _format_floor(loaded, n)
        print(f"[floor] bare f-string question+answer: {1e6 * floor:.3f} us/record -> {1 / floor:,.0f} records/s/core")
        print(f"ratio to floor: [A] {per_with / floor:,.0f}x, [B] {per_without / floor:,.0f}x")
        target = 20_000
        for name, rate in (("A (with encoding)", n / dt), ("B (without encoding)", n2 / dt2)):
            print(f"target >= {target:,} QA/s/core, {name}: {'MET' if rate >= target else 'NOT MET'} ({rate:,.0f})")


if __name__ == "__main__":
    main()
