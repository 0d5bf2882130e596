"""How much error does perception add?  The images path on rendered scenes' RGB files,
measured against their exact ground truth (``spatialforge.perception.quality``).

Rows: oracle backends (the pipeline's own error: should be zero depth error, precision 1),
noisy oracles at increasing noise (depth scale / relative noise, box jitter, mask erosion),
and the tiny random-weight transformers models (a floor: meaningless outputs).

The second table is the share of generated answers that stay correct, per task
(``quality.answer_agreement``): free-form questions drawn on each perceived scene, re-asked
of the exact scene (its GT depth and masks through the same geometry estimate, so oracle
backends keep 100 %), the perceived answer scored by ``eval.scoring`` (numbers within 25 %).
"kept vs GT boxes" re-asks them of the ground-truth boxes instead (adds the estimate's error).

    python benchmarks/perception_quality.py --num 10 --size 320x240
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from spatialforge.perception.config import parse_config
from spatialforge.perception.quality import folder_answer_agreement, folder_quality
from spatialforge.sources.images import perceive_folder

LEVELS = {  # name: (depth_scale, depth_noise, box_jitter, erode)
    "oracle": None,
    "noisy-low": (1.02, 0.01, 0.02, 1),
    "noisy-mid": (1.05, 0.03, 0.05, 1),
    "noisy-high": (1.15, 0.08, 0.10, 2),
}
LOOSE = {"score_threshold": 0.0, "min_mask_box_agreement": 0.0, "min_mask_pixels": 1, "max_detections": 1000}


def oracle_config(scenes: Path, vocab: list[str], level) -> object:
    kinds = ("geometry", "detection", "segmentation")
    if level is None:
        stages = {k: {"backend": "oracle", "kwargs": {"scenes": str(scenes)}} for k in kinds}
    else:
        scale, noise, jitter, erode = level
        s = str(scenes)
        stages = {"geometry": {"backend": "noisy_oracle", "kwargs": {"scenes": s, "depth_scale": scale, "depth_noise": noise}},
                  "detection": {"backend": "noisy_oracle", "kwargs": {"scenes": s, "box_jitter": jitter}},
                  "segmentation": {"backend": "noisy_oracle", "kwargs": {"scenes": s, "erode": erode}}}
    return parse_config({"vocabulary": vocab, "stages": stages, "filter": {"min_objects": 1}, "postprocess": LOOSE})


def tiny_config(models: Path, vocab: list[str]) -> object:
    return parse_config({"vocabulary": vocab, "filter": {"min_objects": 1},
                         "postprocess": {"min_mask_box_agreement": 0.0},
                         "stages": {"geometry": {"backend": "depth_anything_v2", "kwargs": {"model": str(models / "depth_anything")}},
                                    "detection": {"backend": "owlv2", "kwargs": {"model": str(models / "owlv2")}},
                                    "segmentation": {"backend": "sam", "kwargs": {"model": str(models / "sam")}}}})


def fmt(v, spec: str) -> str:
    return "   n/a" if v is None else format(v, spec)


def kept(per_task) -> float | None:
    asked = sum(c["asked"] for c in per_task.values())
    return sum(c["kept"] for c in per_task.values()) / asked if asked else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--num", type=int, default=10)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-tiny", action="store_true")
    ap.add_argument("--per-task", type=int, default=6, help="questions per task and scene for the answer share")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    from spatialforge.sources.synthetic import write_scenes
    from spatialforge.sources.synthetic.catalog import CATEGORIES

    vocab = list(CATEGORIES)
    work = Path(tempfile.mkdtemp(prefix="perception-quality-"))
    try:
        scenes = work / "scenes"
        write_scenes(scenes, args.num, seed=args.seed, size=(w, h))
        photos = work / "photos"
        photos.mkdir()
        for p in sorted((scenes / "images").glob("*.png")):
            shutil.copy(p, photos / p.name)
        configs = {name: oracle_config(scenes, vocab, level) for name, level in LEVELS.items()}
        if not args.no_tiny:
            from spatialforge.perception.tiny import build_tiny_perception

            configs["tiny (random)"] = tiny_config(build_tiny_perception(work / "tiny"), vocab)
        from spatialforge.geometry.estimate import estimate_folder

        estimate_folder(scenes, work / "exact")  # the exact input through the same geometry estimate
        print(f"{args.num} scenes {w}x{h}, seed {args.seed}")
        print(f"{'backends':<14} {'done':>4} {'AbsRel':>7} {'delta1':>7} {'recall':>7} {'prec.':>7} "
              f"{'centre m':>9} {'size rel':>9} {'kept':>6} {'vs GT':>6} {'s/img':>6}")
        shares = {}
        for name, cfg in configs.items():
            out = work / name.replace(" ", "_")
            t0 = time.perf_counter()
            m = perceive_folder(photos, cfg, out)
            dt = (time.perf_counter() - t0) / max(1, args.num)
            q = folder_quality(out, scenes).summary()
            shares[name] = folder_answer_agreement(out, work / "exact", seed=args.seed, per_task=args.per_task)
            vs_gt = folder_answer_agreement(out, scenes, seed=args.seed, per_task=args.per_task)
            print(f"{name:<14} {len(m.done):>4} {fmt(q['abs_rel'], '7.4f')} {fmt(q['delta1'], '7.4f')} "
                  f"{fmt(q['recall'], '7.3f')} {fmt(q['precision'], '7.3f')} {fmt(q['centre_m'], '9.3f')} "
                  f"{fmt(q['size_rel'], '9.3f')} {fmt(kept(shares[name]), '6.3f')} {fmt(kept(vs_gt), '6.3f')} {dt:6.2f}")
        tasks = [t for t in next(iter(shares.values())) if any(s[t]["asked"] for s in shares.values())]
        print("\nshare of generated answers that stay correct on the exact scene, per task (questions asked)")
        print(f"{'backends':<14} " + " ".join(f"{t[:11]:>11}" for t in tasks) + f" {'all':>6}")
        for name, per in shares.items():
            cells = [f"{fmt(kept({t: per[t]}), '5.2f')} ({per[t]['asked']:>3})" for t in tasks]
            print(f"{name:<14} " + " ".join(f"{c:>11}" for c in cells) + f" {fmt(kept(per), '6.3f')}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
