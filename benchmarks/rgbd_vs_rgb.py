"""RGB vs RGB-D after the same SFT budget: tiny Qwen2.5-VL on synthetic metric questions.

Data: the built-in synthetic source (rendered rooms, exact metric depth), tasks ``distance``
and ``size`` (free-form numeric answers), train and test from different scene seeds, made by
``spatialforge.datasets.generate_dataset``.  By default only questions answered in metres are
kept (the generator mixes cm, ft-in and m; a 64-wide LM cannot learn the formatting in
minutes, and the comparison is about the number).  Rows carry ``depth_path`` + intrinsics, so
the RGB-D run goes through the real SFT path (``build_sft_trainer`` -> ``RGBDDataCollator`` ->
point maps from the depth files).

Models: the same tiny Qwen2.5-VL checkpoint (0.23 M parameters, hidden 64) twice:
* RGB: the base model, vision encoder frozen except the merger (as in the RGB-D model);
* RGB-D: ``from_base`` (identical at step 0), point maps from the ground-truth depth.
Same data, order, steps, learning rate; repeated over ``--seeds`` training seeds.

Evaluation: greedy answers on the test questions, parsed to metres by the evaluation parsers;
success rate (within a factor 2), within 25 %, sMAPE, per task.  Controls: a constant
predictor (the training median per task) and the RGB-D model fed the point maps of *other*
test images (if it used depth, that should hurt).

    python benchmarks/rgbd_vs_rgb.py [--train-scenes 150] [--test-scenes 40] [--steps 600] [--seeds 2]

~2.5 min per seed on 2 idle CPU cores.  Expectation, stated before running: at this scale
neither model is likely to read metric values from its inputs, and the comparison may show
nothing; then it says so.  It is an end-to-end check of the RGB-D training path with a
measured outcome, not evidence for or against HiSpatial's result.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

TASKS = ("distance", "size")


def make_data(root: Path, seed: int, scenes: int, qa_per_scene: int, metres_only: bool) -> Path:
    """Render + generate under ``root``; returns the Parquet file of the rows used.

    ``metres_only`` keeps the questions answered in metres ("2.9 m"): the generator varies the
    unit (cm, ft and in, m), which a 64-wide LM cannot learn to format in minutes; with one unit
    the comparison is about the number only.  The file sits in ``root`` (beside manifest.json),
    so its relative depth paths resolve.
    """
    from spatialforge.datasets.parquet import load_hf_dataset
    from spatialforge.datasets.pipeline import generate_dataset

    os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    generate_dataset(root, num_scenes=scenes, seed=seed, qa_per_scene=qa_per_scene, tasks=list(TASKS),
                     formats=("free",), size=(112, 84))  # fmt: skip
    ds = load_hf_dataset(root)
    if metres_only:
        ds = ds.filter(lambda a: a.endswith(" m"), input_columns=["answer"])
    out = root / ("metres.parquet" if metres_only else "all.parquet")
    ds.to_parquet(str(out))
    return out


def sft(model, processor, data_file: Path, out: Path, steps: int, lr: float, seed: int):
    from transformers.trainer_callback import PrinterCallback

    from spatialforge.train.recipes import recipe_from_dict
    from spatialforge.train.sft import build_sft_trainer

    recipe = recipe_from_dict({
        "kind": "sft",
        "model": {"name_or_path": "unused: the model is passed in", "dtype": "float32"},
        "data": {"train": str(data_file), "prompt": "plain"},
        "training": {"output_dir": str(out), "use_cpu": True, "bf16": False, "gradient_checkpointing": False,
                     "per_device_train_batch_size": 8, "learning_rate": lr, "lr_scheduler_type": "constant",
                     "max_steps": steps, "max_length": None, "logging_steps": max(1, steps // 10),
                     "save_strategy": "no", "report_to": "none", "seed": seed, "data_seed": seed,
                     "disable_tqdm": True},
    })  # fmt: skip
    trainer = build_sft_trainer(recipe, model=model, processor=processor)
    trainer.remove_callback(PrinterCallback)  # losses are summarised below
    t = time.perf_counter()
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return trainer.model, time.perf_counter() - t, losses


def load_rows(data_file: Path) -> list[dict]:
    from datasets import load_dataset

    return list(load_dataset("parquet", data_files=str(data_file), split="train"))


def evaluate(model, processor, test_file: Path, point_maps: str | None) -> tuple[list[float | None], list[str]]:
    """(metres, raw text) predicted per test row; ``point_maps``: None (RGB), "own" or "shuffled"."""
    from spatialforge.datasets.parquet import point_map_from_row
    from spatialforge.eval.parse_length import parse_length, unit_asked
    from spatialforge.prompts import format_prompt
    from spatialforge.eval.runners import GenRequest, TransformersRunner

    test_dir = test_file.parent
    runner = TransformersRunner(model, processor)
    rows = load_rows(test_file)
    order = np.random.default_rng(1).permutation(len(rows))
    reqs = []
    for i, r in enumerate(rows):
        extra = {}
        if point_maps:
            src = rows[i] if point_maps == "own" else rows[int(order[i])]
            while point_maps == "shuffled" and src["scene_id"] == r["scene_id"]:
                src = rows[(rows.index(src) + 1) % len(rows)]
            extra["point_map"] = point_map_from_row(src, test_dir)
        reqs.append(GenRequest(r["id"], format_prompt("plain", r["question"]), [r["image"]], extra))
    preds, texts = [], []
    for b in range(0, len(reqs), 16):
        for r, text in zip(rows[b:b + 16], runner.generate(reqs[b:b + 16], max_new_tokens=12), strict=True):
            v = parse_length(text, unit_asked(r["question"]))
            preds.append(float(v) if isinstance(v, float) else None)
            texts.append(text)
    return preds, texts


def truths(data_file: Path) -> tuple[list[float], list[str]]:
    rows = load_rows(data_file)
    return [json.loads(r["answer_struct"])["value"] for r in rows], [r["task"] for r in rows]


def report(name: str, preds, gts, tasks) -> dict[str, float]:
    from spatialforge.eval.metrics import numeric_summary

    out = {}
    cells = []
    for task in (*TASKS, "all"):
        idx = [i for i, t in enumerate(tasks) if task in ("all", t)]
        p = [np.nan if preds[i] is None else preds[i] for i in idx]
        s = numeric_summary(p, [gts[i] for i in idx])
        out[task] = s
        cells.append(f"{100 * s['success_rate']:5.1f} {100 * s['within_25pct']:5.1f} {s['smape']:6.1f}")
    print(f"{name:34s} " + " | ".join(cells) + f" | parsed {100 * out['all']['samples_completed']:5.1f}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train-scenes", type=int, default=150)
    ap.add_argument("--test-scenes", type=int, default=40)
    ap.add_argument("--qa-per-scene", type=int, default=16)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--all-units", action="store_true", help="keep cm / ft-in answers too (default: metres only)")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0, help="data seed and first training seed")
    ap.add_argument("--seeds", type=int, default=2, help="training seeds (each trains both models)")
    ap.add_argument("--work", type=Path, default=None, help="folder for data and models (default: a temp dir)")
    args = ap.parse_args(argv)

    import torch

    from spatialforge.models.loading import load_processor, load_vlm
    from spatialforge.models.rgbd import from_base
    from spatialforge.models.tiny import build_tiny_qwen2_5_vl

    t0 = time.perf_counter()
    work = args.work or Path(tempfile.mkdtemp(prefix="rgbd_vs_rgb_"))
    metres = not args.all_units
    train_file = make_data(work / "train", 1000 + args.seed, args.train_scenes, args.qa_per_scene, metres)
    test_file = make_data(work / "test", 2000 + args.seed, args.test_scenes, args.qa_per_scene, metres)
    gts, tasks = truths(test_file)
    base_path = build_tiny_qwen2_5_vl(work / "tiny_qwen")
    print(f"data: {args.train_scenes} train / {args.test_scenes} test scenes ({'metre answers only' if metres else 'all units'}"
          f"): {len(truths(train_file)[0])} train, {len(gts)} test questions "
          f"({', '.join(f'{t}: {tasks.count(t)}' for t in TASKS)}); {time.perf_counter() - t0:.0f} s")

    results = {}
    print(f"{'':34s} {'distance: succ  <25%  sMAPE':>24s} | {'size':^18s} | {'all':^18s}")
    # Constant baseline: the training median (metres) per task.
    train_vals, train_tasks = truths(train_file)
    med = {t: statistics.median(v for v, tt in zip(train_vals, train_tasks) if tt == t) for t in TASKS}
    results["constant (train median)"] = report("constant (train median per task)", [med[t] for t in tasks], gts, tasks)

    diffs = []
    for seed in range(args.seed, args.seed + args.seeds):
        print(f"-- seed {seed} (data order; RGB-D conv init) --")
        runs = {}
        for kind in ("rgb", "rgbd"):
            torch.manual_seed(seed)
            model = from_base(base_path) if kind == "rgbd" else load_vlm(base_path)
            if kind == "rgb":  # same trainable set as the RGB-D model: vision encoder frozen, merger trains
                for n, p in model.named_parameters():
                    p.requires_grad_(not n.startswith("model.visual.") or ".merger." in n)
            processor = load_processor(base_path)
            model, secs, losses = sft(model, processor, train_file, work / f"out_{kind}", args.steps, args.lr, seed)
            runs[kind] = (model, processor)
            print(f"  trained {kind}: {args.steps} steps in {secs:.0f} s; loss {losses[0]:.3f} -> {losses[-1]:.3f} "
                  f"(last-3 mean {np.mean(losses[-3:]):.3f})")
        outputs = {}
        for key, name, kind, pms in (("rgb", "RGB", "rgb", None), ("rgbd", "RGB-D (own point maps)", "rgbd", "own"),
                                     ("rgbd_shuffled", "RGB-D (other images' point maps)", "rgbd", "shuffled")):
            preds, texts = evaluate(*runs[kind], test_file, pms)
            results[key] = report(name, preds, gts, tasks)
            outputs[key] = texts
        for key in ("rgb", "rgbd"):
            distinct = sorted(set(outputs[key]), key=outputs[key].count, reverse=True)
            print(f"  {key}: {len(distinct)} distinct answers; most common: {distinct[:5]}")
        print(f"  point half of the projector after training: |W| = "
              f"{runs['rgbd'][0].model.point_projector.weight.norm().item():.3f} (0 at start)")
        a, b, c = (results[k]["all"]["success_rate"] for k in ("rgb", "rgbd", "rgbd_shuffled"))
        diffs.append((100 * (b - a), 100 * (b - c)))
    n = len(gts)
    se = np.sqrt(max(results["rgb"]["all"]["success_rate"] * (1 - results["rgb"]["all"]["success_rate"]), 1e-9) / n)
    d = np.array(diffs)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"total {time.perf_counter() - t0:.0f} s (load average {load}); columns: success rate % (factor 2), "
          "within 25 % %, sMAPE")
    print(f"success, all questions, over {len(d)} seed(s): RGB-D - RGB {d[:, 0].mean():+.1f} points "
          f"(per seed {', '.join(f'{x:+.1f}' for x in d[:, 0])}); own - shuffled point maps {d[:, 1].mean():+.1f} "
          f"(per seed {', '.join(f'{x:+.1f}' for x in d[:, 1])}); one binomial s.e. at n={n}: ~{100 * se:.1f} points")
    return 0


if __name__ == "__main__":
    sys.exit(main())
