"""Learning curve on CPU: a tiny VLM warm-started by SFT, then Spatial-GRPO in three modes.

1. Data: "two squares" scenes built in code (a red and a blue square on grey, one in each
   half of a 112x112 px image, 1 px = 1 cm), each with its exact mirror: "Is the red square to the left of the blue square?"
   (yes/no, flips), "Which square is further left? (A) ... (B) ..." (letter, flips) and "How
   wide is the red square in centimeters?" (numeric, invariant); the SFT think trace is the
   scene fact the answer follows from ("red is left of blue").  ``--data DIR`` trains on a
   dataset written by ``spatialforge generate --mirror`` instead.
2. SFT (TRL SFTTrainer via spatialforge.train.data) of the tiny offline Qwen2.5-VL on the
   think/answer completions, from random weights.
3. From the same SFT checkpoint, Spatial-GRPO with consistency = paper, joint, none (same
   seed, same batches): reward per step, Delta, share penalised, advantage change.
4. Before/after, on held-out pairs (greedy decoding): accuracy per view (eval.scoring),
   format rate, and the mirror-consistency score (eval.metrics.mirror_consistency: share of
   pairs whose two answers agree after mirroring).

    python benchmarks/learning_curve.py                 # ~5-8 minutes on 2 CPU cores
    python benchmarks/learning_curve.py --answer-reward typed --grpo-steps 100

This is a smoke-scale experiment: a ~0.4 M-parameter model, minutes of CPU.  It shows that
the whole path runs and what the logged quantities do, not what the paper's 3B model gains.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

IMG = 112


def squares_rows(num_pairs: int, seed: int, size: int = IMG) -> list[dict]:
    """Original/mirrored pairs of two-square scenes with exact answers (one square per half)."""
    from PIL import Image, ImageDraw, ImageOps

    rng = np.random.default_rng(seed)
    rows = []
    kinds = ("yesno", "choice", "numeric")
    half = size // 2
    for i in range(num_pairs):
        sr, sb = (int(v) for v in rng.integers(size // 7, size // 3, size=2))
        red_first = bool(rng.integers(2))
        x_left = int(rng.integers(1, half - (sr if red_first else sb)))
        x_right = int(rng.integers(half, size - (sb if red_first else sr)))
        xr, xb = (x_left, x_right) if red_first else (x_right, x_left)
        yr, yb = int(rng.integers(1, size - sr)), int(rng.integers(1, size - sb))
        img = Image.new("RGB", (size, size), (128, 128, 128))
        d = ImageDraw.Draw(img)
        d.rectangle([xr, yr, xr + sr - 1, yr + sr - 1], fill=(220, 30, 30))
        d.rectangle([xb, yb, xb + sb - 1, yb + sb - 1], fill=(30, 30, 220))
        kind = kinds[i % 3]
        for view, im in (("original", img), ("mirrored", ImageOps.mirror(img))):
            red_left = (xr + sr / 2 < xb + sb / 2) == (view == "original")
            fact = "red is left of blue" if red_left else "blue is left of red"  # the think trace
            if kind == "yesno":
                q = "Is the red square to the left of the blue square?"
                ans, struct = ("yes" if red_left else "no"), {"kind": "boolean", "value": red_left}
            elif kind == "choice":
                q = "Which square is further left? (A) the red square (B) the blue square"
                letter = "A" if red_left else "B"
                ans, struct = letter, {"kind": "choice", "value": letter}
            else:
                q = "How wide is the red square in centimeters?"
                ans, struct = f"{sr} cm", {"kind": "length", "value": sr / 100}
                fact = f"red is {sr} px wide, 1 px is 1 cm"
            rows.append({"id": f"s{i}-{view}", "pair_id": f"s{i}", "view": view, "scene_id": f"s{i}", "image": im,
                         "question": q, "answer": ans, "answer_struct": json.dumps(struct), "task": kind,
                         "level": 2, "format": "tf" if kind == "yesno" else "mcq" if kind == "choice" else "free",
                         "eval_type": kind, "reasoning": fact})
    return rows


def load_data(args):
    from datasets import Dataset

    if args.data:
        from spatialforge.train.data import load_qa_dataset

        ds = load_qa_dataset(args.data)
        pair_ids = sorted(set(ds["pair_id"]))
        rng = np.random.default_rng(args.seed)
        held = set(rng.choice(pair_ids, size=min(args.eval_pairs, len(pair_ids) // 4), replace=False).tolist())
        evald = ds.filter(lambda p: p in held, input_columns=["pair_id"])
        train = ds.filter(lambda p: p not in held, input_columns=["pair_id"])
        return train, evald
    train = Dataset.from_list(squares_rows(args.train_pairs, args.seed, args.image_size))
    evald = Dataset.from_list(squares_rows(args.eval_pairs, args.seed + 1000, args.image_size))
    return train, evald


def evaluate(model, processor, dataset, prompt: str, max_new_tokens: int) -> dict:
    """Greedy answers on every row; accuracy per view, format rate, mirror consistency."""
    from spatialforge.eval.metrics import MirrorItem, mirror_consistency
    from spatialforge.eval.prompts import format_prompt
    from spatialforge.eval.runners import GenRequest, make_runner
    from spatialforge.eval.scoring import score_sample
    from spatialforge.rewards.format import format_reward

    runner = make_runner("transformers", model, processor=processor)
    rows = list(dataset)
    outs: list[str] = []
    for start in range(0, len(rows), 16):
        batch = rows[start:start + 16]
        reqs = [GenRequest(r["id"], format_prompt(prompt, r["question"]), [r["image"]]) for r in batch]
        outs += runner.generate(reqs, max_new_tokens=max_new_tokens)
    items, correct = [], {"original": [], "mirrored": []}
    for r, text in zip(rows, outs):
        struct = json.loads(r["answer_struct"])
        s = score_sample(text, struct, r["eval_type"], question=r["question"])
        correct[r["view"]].append(bool(s.correct))
        items.append(MirrorItem(r["pair_id"], r["view"], struct["kind"], s.parsed if s.parsable else None,
                                gt=struct["value"]))
    return {"acc_original": float(np.mean(correct["original"])), "acc_mirrored": float(np.mean(correct["mirrored"])),
            "format": float(np.mean(format_reward(outs))), "mirror_consistency": mirror_consistency(items),
            "example": outs[0]}


def sft(model_path, train, out, args):
    from transformers import AutoModelForImageTextToText
    from trl import SFTConfig, SFTTrainer

    from spatialforge.models.loading import load_processor
    from spatialforge.train.data import to_sft_dataset

    cfg = SFTConfig(output_dir=str(out), use_cpu=True, bf16=False, gradient_checkpointing=False,
                    per_device_train_batch_size=8, learning_rate=args.sft_lr, lr_scheduler_type="cosine",
                    warmup_steps=10, max_steps=args.sft_steps, max_length=None, logging_steps=25,
                    save_strategy="no", report_to=[], seed=args.seed, disable_tqdm=True)
    model = AutoModelForImageTextToText.from_pretrained(model_path)
    processor = load_processor(model_path)
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=to_sft_dataset(train, args.prompt),
                         processing_class=processor)
    _quiet(trainer)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    print(f"SFT: {args.sft_steps} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}", flush=True)
    trainer.save_model(str(out))
    processor.save_pretrained(str(out))
    return out


def _quiet(trainer):
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def grpo(sft_path, train, mode, out, args):
    from transformers import AutoModelForImageTextToText

    from spatialforge.models.loading import load_processor
    from spatialforge.train.config import SpatialGRPOConfig
    from spatialforge.train.data import to_grpo_dataset
    from spatialforge.train.grpo import SpatialGRPOTrainer

    cfg = SpatialGRPOConfig(
        output_dir=str(out), use_cpu=True, bf16=False, gradient_checkpointing=False,
        per_device_train_batch_size=args.prompts_per_step * args.num_generations, gradient_accumulation_steps=1,
        num_generations=args.num_generations, max_completion_length=args.max_new_tokens,
        learning_rate=args.grpo_lr, max_steps=args.grpo_steps, logging_steps=1, save_strategy="no", report_to=[],
        seed=args.seed, consistency=mode, answer_reward=args.answer_reward, disable_tqdm=True,
    )
    model = AutoModelForImageTextToText.from_pretrained(sft_path)
    trainer = SpatialGRPOTrainer(model=model, args=cfg, train_dataset=to_grpo_dataset(train, args.prompt),
                                 processing_class=load_processor(sft_path))
    _quiet(trainer)
    trainer.train()
    hist = [h for h in trainer.state.log_history if "reward" in h]
    return trainer.model, hist


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="a `spatialforge generate --mirror` folder (default: squares)")
    p.add_argument("--train-pairs", type=int, default=768)
    p.add_argument("--image-size", type=int, default=IMG, help="px; 112 gives the tiny Qwen 16 image tokens")
    p.add_argument("--eval-pairs", type=int, default=96)
    p.add_argument("--sft-steps", type=int, default=200)
    p.add_argument("--sft-lr", type=float, default=3e-3)
    p.add_argument("--grpo-steps", type=int, default=200)
    p.add_argument("--grpo-lr", type=float, default=2e-4)
    p.add_argument("--prompts-per-step", type=int, default=4, help="even: 2 views per pair")
    p.add_argument("--num-generations", type=int, default=4)
    p.add_argument("--max-new-tokens", type=int, default=40)
    p.add_argument("--answer-reward", choices=["semantic", "typed"], default="semantic")
    p.add_argument("--prompt", default="think")
    p.add_argument("--modes", default="paper,joint,none")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (tiny ops: 1 is fastest, see docs)")
    args = p.parse_args(argv)

    import torch

    from spatialforge.models.loading import load_processor
    from spatialforge.models.tiny import build_tiny_qwen2_5_vl

    torch.set_num_threads(args.threads)
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="learning_curve_"))
    train, evald = load_data(args)
    print(f"data: {len(train)} train rows, {len(evald)} held-out rows ({len(evald) // 2} pairs)", flush=True)
    model_path = build_tiny_qwen2_5_vl(tmp / "tiny_qwen")
    sft_path = sft(model_path, train, tmp / "sft", args)

    from transformers import AutoModelForImageTextToText

    processor = load_processor(sft_path)
    before = evaluate(AutoModelForImageTextToText.from_pretrained(sft_path), processor, evald, args.prompt,
                      args.max_new_tokens)
    print(f"after SFT: {_fmt(before)}\n  e.g. {before['example']!r}  [{time.time() - t0:.0f} s]", flush=True)

    results = {}
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        torch.manual_seed(args.seed)
        model, hist = grpo(sft_path, train, mode, tmp / f"grpo_{mode}", args)
        print(f"\nGRPO consistency={mode}: step reward (format, {args.answer_reward}) | Delta | penalised | "
              f"advantage change", flush=True)
        for h in hist:
            ans = h.get(f"rewards/{args.answer_reward}/mean", float("nan"))
            print(f"  step {h['step']:3d}  reward {h['reward']:.3f} ({h.get('rewards/format/mean', 0):.2f}, "
                  f"{ans:.3f})  Delta {h.get('consistency/delta', float('nan')):+.3f}  "
                  f"penalised {h.get('consistency/penalised_frac', 0):.2f}  "
                  f"adv change {h.get('consistency/advantage_change', 0):.3f}")
        after = evaluate(model, processor, evald, args.prompt, args.max_new_tokens)
        first, last = _mean(hist[: len(hist) // 4], "reward"), _mean(hist[-(len(hist) // 4):], "reward")
        results[mode] = (first, last, after, _mean(hist, "consistency/cancelled_frac"),
                         _mean(hist, "consistency/advantage_change"))
        print(f"  after GRPO: {_fmt(after)}  [{time.time() - t0:.0f} s]", flush=True)

    print("\nsummary (held-out pairs, greedy):")
    print(f"  {'':8s} {'reward first/last quarter':>26s} {'acc orig':>9s} {'acc mirr':>9s} {'format':>7s} "
          f"{'mirror-cons':>11s} {'cancelled':>9s} {'adv change':>10s}")
    print(f"  {'SFT':8s} {'':>26s} {before['acc_original']:9.3f} {before['acc_mirrored']:9.3f} "
          f"{before['format']:7.3f} {before['mirror_consistency']:11.3f}")
    for mode, (first, last, after, cancelled, change) in results.items():
        c = "-" if np.isnan(cancelled) else f"{cancelled:.2f}"
        a = "-" if np.isnan(change) else f"{change:.3f}"
        print(f"  {mode:8s} {first:12.3f} -> {last:11.3f} {after['acc_original']:9.3f} {after['acc_mirrored']:9.3f} "
              f"{after['format']:7.3f} {after['mirror_consistency']:11.3f} {c:>9s} {a:>10s}")
    print(f"total {time.time() - t0:.0f} s")


def _mean(hist, key):
    vals = [h[key] for h in hist if h.get(key) is not None]
    return float(np.mean(vals)) if vals else float("nan")


def _fmt(r: dict) -> str:
    return (f"acc original {r['acc_original']:.3f}, mirrored {r['acc_mirrored']:.3f}, format {r['format']:.3f}, "
            f"mirror consistency {r['mirror_consistency']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
