"""QA records per second per core, from scenes to Parquet shards (one thread, CPU time).

    python benchmarks/qa_speed.py [--num-scenes 100] [--size 640x480] [--qa-per-scene 20 100 400] [--mirror]
                                  [--repeats 3]

Untimed setup: ``spatialforge.sources.synthetic`` renders the scenes into a temp folder
(``write_scenes``: JSON + RGB + depth, as ``generate_dataset`` lays them out), loads each
scene, its image and its PNG file's bytes, and reads every depth map into the task engine's
cache (rendering and file reads are not QA generation).  Timed, with the pipeline's own
functions, as ``process_scene`` calls them: ``generate_qa`` (per-scene views and the mirrored
scene included) -> ``build_table`` (the original view reuses the PNG bytes read from disk; the
mirrored view is flipped and PNG-encoded once per scene; Arrow columns) -> ``_write_outcomes``
(shard buffering, ``write_shard`` with zstd Parquet, manifest updates).
Target: >= 20,000 QA/s/core.

Per-scene work (two scene views, the mirrored scene, the flipped PNG, table set-up: ~3-4 ms,
most of it the flipped view's PNG: zlib level 1, chosen over ~10x faster ISA-L for byte-identical
runs, see ``encode_png``) is shared by the scene's records, so the rate depends on the per-scene QA budget; it is
measured at 20 (our CLI default), 100 and 400 (HiSpatial's scale: 2 B QA from 5 M images).

Two passes: **with** PNG encoding (what a real run pays per scene) and **without** it
(the mirrored PNGs encoded beforehand, untimed, and reused), so it is visible which part dominates.
The floor is the cost of bare string formatting: one f-string question and answer per
record.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "ARROW_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pyarrow as pa  # noqa: E402

pa.set_cpu_count(1)
pa.set_io_thread_count(1)

import spatialforge.tasks.view as view_mod  # noqa: E402
from spatialforge.datasets.parquet import DATA_DIR, SHARD_GLOB, encode_png  # noqa: E402
from spatialforge.datasets.pipeline import SceneOutcome, _write_outcomes, build_table, scene_seed  # noqa: E402
from spatialforge.manifest import RunManifest  # noqa: E402
from spatialforge.mirror import flip_horizontal  # noqa: E402
from spatialforge.scene import Scene  # noqa: E402
from spatialforge.sources.synthetic import write_scenes  # noqa: E402
from spatialforge.tasks import clear_caches, generate_qa  # noqa: E402


def _timed_run(loaded, out: Path, gen_kwargs: dict, pngs_per_scene: list[dict]) -> tuple[int, float, int]:
    """CPU seconds of scenes -> QA -> rows -> shards; returns (records, seconds, shard bytes)."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    manifest = RunManifest(out / "manifest.json", "generate", {})
    manifest.stats["shards"] = []
    clear_caches()
    view_mod._DEPTH_CACHE_SIZE = 10**6
    for scene, *_ in loaded:  # depth reads are file I/O: cached before timing ...
        view_mod._load_depth(scene)
    view_mod._VIEWS.clear()  # ... but per-scene views (references etc.) are timed
    # fresh Scene objects, as process_scene loads them: the mirrored scene a Scene caches is timed
    scenes = [dataclasses.replace(scene) for scene, *_ in loaded]
    n = 0

    def outcomes():
        nonlocal n
        for i, (scene, (_, image, path, _)) in enumerate(zip(scenes, loaded)):
            res = generate_qa(scene, seed=scene_seed(0, scene.id), **gen_kwargs)
            table = build_table(res.records, scene, image, root=out, scene_path=path, pngs=dict(pngs_per_scene[i]))
            n += table.num_rows
            yield SceneOutcome(path.name, scene.id, table=table, skipped=[(str(a), str(b)) for a, b in res.skipped])

    t0 = time.process_time()
    _write_outcomes(outcomes(), manifest, out, shard_size=1000, total=len(loaded), progress=False)
    dt = time.process_time() - t0
    size = sum(p.stat().st_size for p in (out / DATA_DIR).glob(SHARD_GLOB))
    return n, dt, size


def _format_floor(loaded, n_records: int) -> float:
    """CPU seconds per record of one f-string question + answer (the floor of any generator)."""
    names = [o.category for s, *_ in loaded for o in s.objects]
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
    ap.add_argument("--qa-per-scene", type=int, nargs="+", default=[20, 100, 400],
                    help="per-scene QA budgets to measure (HiSpatial: 2 B QA from 5 M images, ~400 per image)")
    ap.add_argument("--mirror", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each pass; the median is reported")
    args = ap.parse_args()
    W, H = (int(v) for v in args.size.lower().split("x"))
    target = 20_000
    with tempfile.TemporaryDirectory(prefix="sf_qa_speed_") as tmp:
        tmp = Path(tmp)
        t0 = time.time()
        paths = write_scenes(tmp / "scenes", num=args.num_scenes, seed=args.seed, size=(W, H))
        loaded = []
        for p in paths:
            scene = Scene.load(p)
            loaded.append((scene, scene.load_image(), p, scene._path(scene.image_path).read_bytes()))
        print(f"setup (untimed): rendered + loaded {len(loaded)} synthetic scenes at {W}x{H} "
              f"in {time.time() - t0:.1f} s wall")
        print(f"settings: mirror={args.mirror} shard_size=1000, one thread, CPU time (time.process_time), "
              f"median of {args.repeats} interleaved runs per pass "
              f"(the median is the figure; the range shows how much runs drift)")

        on_disk = [{(False, False): png} for *_, png in loaded]  # what process_scene reads from disk
        # [B] reuses each scene's mirrored PNG, encoded beforehand (untimed)
        pre_encoded = [{**d, (True, False): encode_png(flip_horizontal(image))} for d, (_, image, *_) in zip(on_disk, loaded)]
        t_enc0 = time.process_time()
        for _, image, *_ in loaded:
            encode_png(flip_horizontal(image))
        enc_per_scene = (time.process_time() - t_enc0) / len(loaded)
        print(f"PNG flip + encode: {1e3 * enc_per_scene:.2f} ms CPU per view image ({W}x{H}); "
              f"{1 if args.mirror else 0} per scene (the original view's PNG is reused from disk)")
        for budget in args.qa_per_scene:
            gen_kwargs = {"qa_per_scene": budget, "tasks": None, "ratios": None,
                          "formats": ("free", "mcq", "tf"), "mirror": args.mirror}
            _timed_run(loaded[:5], tmp / "warmup", gen_kwargs, on_disk)  # untimed: imports, caches
            runs: dict[str, list[float]] = {"A": [], "B": []}
            for _ in range(args.repeats):  # interleaved, so drifts of a shared machine hit both alike
                n, dt, size = _timed_run(loaded, tmp / "ds_png", gen_kwargs, on_disk)
                runs["A"].append(dt / n)
                n2, dt2, _ = _timed_run(loaded, tmp / "ds_nopng", gen_kwargs, pre_encoded)
                runs["B"].append(dt2 / n2)
            per_with, per_without = statistics.median(runs["A"]), statistics.median(runs["B"])
            spread = {k: f"{1 / max(v):,.0f}-{1 / min(v):,.0f}" for k, v in runs.items()}
            print(f"\n--qa-per-scene {budget}: {n} records/run ({n / len(loaded):.0f} per scene), shards {size / 1e6:.1f} MB")
            best = 1 / min(runs["A"])
            print(f"  [A] WITH PNG encoding (what generate_dataset pays): median {1 / per_with:,.0f} QA/s/core "
                  f"({1e6 * per_with:.1f} us/record; runs {spread['A']})  target >= {target:,}: "
                  f"{'MET' if 1 / per_with >= target else 'NOT MET'} by the median, "
                  f"{'met' if best >= target else 'not met'} by the best run")
            print(f"  [B] WITHOUT PNG encoding (mirrored PNGs pre-encoded, bytes still written): "
                  f"{1 / per_without:,.0f} QA/s/core ({1e6 * per_without:.1f} us/record; runs {spread['B']})")

        floor = _format_floor(loaded, n)
        print(f"\n[floor] bare f-string question+answer: {1e6 * floor:.3f} us/record -> {1 / floor:,.0f} records/s/core "
              f"(last budget: [A] is {per_with / floor:,.0f}x the floor)")


if __name__ == "__main__":
    main()
