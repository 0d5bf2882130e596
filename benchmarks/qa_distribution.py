"""What the QA generator produces over many scenes: task shares vs the target ratios, MCQ letter
balance, true/false balance, length units, formats, and the answer distribution per task, format
and variant (``tasks.answer_stats``): a categorical answer above 1.5x its uniform share is
printed as a ``FAIL`` line and the script exits with status 1.

    python benchmarks/qa_distribution.py --num-scenes 1000 [--size 320x240] [--workers 2] [--layout-only]

Scenes come from ``spatialforge.sources.synthetic.render_synthetic`` (small images: the
renderer's cost does not matter here) and are cached as JSON + RGB + depth under
``$TMPDIR/spatialforge_qa_distribution/seed<S>_<W>x<H>`` (``--cache DIR``), so a rerun
only generates.  Each scene gets ``generate_qa(scene, seed=scene_seed(seed, id),
qa_per_scene=20)`` with the default task ratios (HiSpatial Table 7, ``DEFAULT_RATIOS``) and
all three formats, exactly as ``generate_dataset`` calls it.  ``--layout-only`` skips the
renderer: each scene is the sampled layout's first attempt with at least 3 objects, built
straight from its 3D boxes (no 2D boxes, masks, occlusion or depth, so no point queries):
thousands of scenes a second, used by ``tests/tasks/test_answer_balance.py``.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from multiprocessing import get_context  # noqa: E402
from pathlib import Path  # noqa: E402

_ARGS: dict = {}


def _init(args: dict) -> None:
    _ARGS.update(args)


def _scene_path(index: int) -> tuple[str | None, str]:
    """The cached scene JSON of ``index`` (rendered and written on a miss), or (None, reason)."""
    from spatialforge.files import write_depth, write_image
    from spatialforge.sources.synthetic import render_synthetic
    from spatialforge.sources.synthetic.generate import scene_id

    cache, seed, size = Path(_ARGS["cache"]), _ARGS["seed"], _ARGS["size"]
    path = cache / f"{scene_id(seed, index)}.json"
    if path.is_file():
        return str(path), ""
    try:
        sample = render_synthetic(seed, index, size)
    except Exception as e:  # noqa: BLE001 - a layout that cannot be rendered is reported, not fatal
        return None, f"{type(e).__name__}: {e}"
    sc = sample.scene
    write_image(cache / sc.image_path, sample.rgb)
    write_depth(cache / sc.depth_path, sample.depth)
    tmp = path.with_suffix(".json.tmp")
    sc.save(tmp)
    os.replace(tmp, path)  # JSON last: its presence means the scene is complete
    return str(path), ""


def layout_scene(seed: int, index: int, size: tuple[int, int] = (320, 240)):
    """Scene ``index`` of ``seed`` without rendering: the first sampled layout with >= 3
    objects, as a ``Scene`` of 3D boxes, colours, references and fronts (no 2D boxes, masks,
    occlusion or depth)."""
    import numpy as np

    from spatialforge.scene import Object3D, Scene
    from spatialforge.sources.synthetic.generate import scene_id
    from spatialforge.sources.synthetic.layout import references, sample_layout

    W, H = size
    rng = np.random.default_rng([int(seed), int(index)])
    while True:
        layout = sample_layout(rng, H / W)
        if len(layout.objects) >= 3:
            break
    refs = references(layout.objects)
    objs = tuple(Object3D(o.id, o.category, o.box3d, attributes={"color": o.color}, references=refs[o.id],
                          front=o.front) for o in layout.objects)
    sid = scene_id(seed, index)
    return Scene(sid, f"images/{sid}.png", layout.rig.camera(W, H), objs, source="synthetic")


def _work(index: int) -> tuple[int, list[tuple], list[tuple[str, str]], str]:
    from spatialforge.datasets.pipeline import scene_seed
    from spatialforge.scene import Scene
    from spatialforge.tasks import generate_qa
    from spatialforge.tasks.answer_stats import answer_class

    if _ARGS.get("layout_only"):
        scene = layout_scene(_ARGS["seed"], index, _ARGS["size"])
    else:
        path, why = _scene_path(index)
        if path is None:
            return index, [], [], why
        scene = Scene.load(path)
    res = generate_qa(scene, seed=scene_seed(_ARGS["seed"], scene.id), qa_per_scene=_ARGS["qa_per_scene"])
    rows = []
    for r in res.records:
        a = r.answer_struct
        rows.append((r.task, r.format, a["kind"], a["value"] if a["kind"] in ("choice", "boolean") else None,
                     r.meta.get("unit") if a["kind"] == "length" else None, len(r.choices), answer_class(r)))
    return index, rows, [(str(i), str(w)) for i, w in res.skipped], ""


def _share_table(title: str, counts: Counter, keys, target: dict | None = None) -> None:
    total = sum(counts.values())
    print(f"\n{title} (n={total:,})")
    for k in keys:
        c = counts.get(k, 0)
        line = f"  {str(k):18s} {c:7,d}  {100 * c / max(total, 1):6.2f} %"
        if target is not None:
            t = target.get(k, 0.0)
            line += f"   target {100 * t:6.2f} %   ratio {c / max(total, 1) / t if t else float('nan'):5.2f}"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-scenes", type=int, default=1000)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--qa-per-scene", type=int, default=20)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--cache", default=None, help="scene cache folder (default under the temp dir)")
    ap.add_argument("--layout-only", action="store_true", help="unrendered layouts (fast; see the module doc)")
    args = ap.parse_args()
    W, H = (int(v) for v in args.size.lower().split("x"))
    cache = Path(args.cache or Path(tempfile.gettempdir()) / "spatialforge_qa_distribution" / f"seed{args.seed}_{W}x{H}")
    if not args.layout_only:
        for sub in ("images", "depth"):
            (cache / sub).mkdir(parents=True, exist_ok=True)
    shared = {"cache": str(cache), "seed": args.seed, "size": (W, H), "qa_per_scene": args.qa_per_scene,
              "layout_only": args.layout_only}

    from spatialforge.tasks import DEFAULT_RATIOS, TASKS

    t0 = time.time()
    rows: list[tuple] = []
    failed: list[tuple[int, str]] = []
    skip_reasons: Counter = Counter()
    n_ok = 0
    with get_context("spawn").Pool(args.workers, initializer=_init, initargs=(shared,)) as pool:
        for index, recs, skipped, why in pool.imap_unordered(_work, range(args.num_scenes), chunksize=8):
            if why:
                failed.append((index, why))
                continue
            n_ok += 1
            rows.extend(recs)
            for item, reason in skipped:
                if "/" in item:
                    skip_reasons[(item.split("/", 1)[1] if item.split("/", 1)[1] in TASKS else "object")] += 1
    wall = time.time() - t0
    print(f"{n_ok} scenes ({len(failed)} could not be rendered) at {W}x{H}, seed {args.seed}, "
          f"qa_per_scene={args.qa_per_scene}: {len(rows):,} records in {wall:.0f} s wall on {args.workers} "
          f"processes ({'layout only, not rendered' if args.layout_only else f'scene cache: {cache}'})")

    total_ratio = sum(DEFAULT_RATIOS.values())
    target = {k: v / total_ratio for k, v in DEFAULT_RATIOS.items()}
    _share_table("Task share vs target (DEFAULT_RATIOS = HiSpatial Table 7, normalised)",
                 Counter(r[0] for r in rows), list(TASKS), target)
    if skip_reasons:
        print("  scenes where a task was unsupported (skipped per scene): "
              + ", ".join(f"{k} {v}" for k, v in skip_reasons.most_common()))

    _share_table("Format share", Counter(r[1] for r in rows), ["free", "mcq", "tf"],
                 {"free": 1 / 3, "mcq": 1 / 3, "tf": 1 / 3})

    mcq = [r for r in rows if r[1] == "mcq"]
    letters = Counter(r[3] for r in mcq)
    _share_table("Multiple-choice answer letter", letters, sorted(letters))
    by_n = Counter(r[5] for r in mcq)
    print("  options per MCQ: " + ", ".join(f"{k} options {v:,}" for k, v in sorted(by_n.items())))
    for n_opt in sorted(by_n):
        lc = Counter(r[3] for r in mcq if r[5] == n_opt)
        tot = sum(lc.values())
        print(f"  with {n_opt} options (uniform {100 / n_opt:.1f} %): "
              + "  ".join(f"{k} {100 * v / tot:5.1f} %" for k, v in sorted(lc.items())))

    tf = Counter("true" if r[3] else "false" for r in rows if r[1] == "tf")
    _share_table("True/false answers (tf format)", tf, ["true", "false"])
    tf_by_task = {}
    for r in rows:
        if r[1] == "tf":
            tf_by_task.setdefault(r[0], Counter())["true" if r[3] else "false"] += 1
    print("  true share per task: " + ", ".join(
        f"{t} {100 * c['true'] / sum(c.values()):.0f} %" for t, c in sorted(tf_by_task.items())))

    units = Counter(r[4] for r in rows if r[2] == "length")
    _share_table("Units of length answers (free/mcq/tf with a length answer; ftin = feet+inches)", units,
                 ["m", "cm", "ft", "in", "ftin"] + sorted(k for k in units if k not in ("m", "cm", "ft", "in", "ftin")))
    if failed:
        print(f"\nscenes not rendered: {failed[:5]}{' ...' if len(failed) > 5 else ''}")

    from spatialforge.tasks.answer_stats import MAX_RATIO, MIN_PER_CLASS, balance_report, format_report

    groups = balance_report(r[6] for r in rows if r[6] is not None)
    print(f"\nAnswer classes per task / format / variant (top class share vs uniform 1/k; FLAG above "
          f"{MAX_RATIO}x; n/a: fewer than {MIN_PER_CLASS} records per class, or open answers)")
    lines = format_report(groups)
    print("\n".join(lines))
    if any(g.over for g in groups):
        raise SystemExit(1)
    print("PASS: no categorical answer above its limit")


if __name__ == "__main__":
    main()
