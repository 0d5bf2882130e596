"""Learning curve on CPU: SFT warm start, then Spatial-GRPO per consistency mode, over seeds.

1. Data: "two squares" scenes built in code (a red and a blue square on grey, one in each
   half of the image), each with its exact mirror.  Question kinds (``--kinds``): ``side``
   "Is the red square left or right of the blue square?" (label, flips), ``yesno`` "Is the
   red square to the left of the blue square?" (flips), ``choice`` "Which square is further
   left? (A) the red square (B) the blue square" (letter, flips), ``numeric`` "How wide is
   the red square in centimeters?" (1 px = 1 cm; invariant).  The SFT think trace is the scene fact the answer
   follows from ("red is left of blue").
2. Per seed: SFT (TRL SFTTrainer) of a tiny Qwen2.5-VL from random weights (``--model``:
   ``tiny`` = spatialforge.models.tiny, ~0.4 M parameters; ``small`` = the same architecture
   with a 4x wider text model, which learns left/right within minutes), then from that SFT
   checkpoint GRPO with each ``--modes`` entry (same seed, same batches).
3. Greedy evaluation on held-out pairs: accuracy (both views), mirror consistency (share of
   pairs whose answers agree after the exact mirror, eval.metrics) and both-correct.
4. Summary over seeds: mean and 95 % t-interval per mode, and the paired difference of each
   mode from ``none`` (same seed, same SFT start), with its t-interval.

    python benchmarks/learning_curve.py --seeds 0 --sft-steps 20 --grpo-steps 4  # smoke run
    nice python benchmarks/learning_curve.py --out lc.json                      # the comparison

Smoke-scale: a tiny model and minutes of CPU per run; it measures what the modes do to
accuracy and consistency here, not what the paper's 3B model gains.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

IMG = 56
KINDS = ("side", "yesno", "choice", "numeric")


def squares_rows(num_pairs: int, seed: int, size: int = IMG, kinds: tuple[str, ...] = ("side",)) -> list[dict]:
    """Original/mirrored pairs of two-square scenes with exact answers (one square per half)."""
    from PIL import Image, ImageDraw, ImageOps

    rng = np.random.default_rng(seed)
    rows = []
    half = size // 2
    for i in range(num_pairs):
        sr, sb = (int(v) for v in rng.integers(size // 6, size // 3, size=2))
        red_first = bool(rng.integers(2))
        x_left = int(rng.integers(1, half - (sr if red_first else sb)))
        x_right = int(rng.integers(half, size - (sb if red_first else sr)))
        xr, xb = (x_left, x_right) if red_first else (x_right, x_left)
        yr, yb = int(rng.integers(1, size - sr)), int(rng.integers(1, size - sb))
        img = Image.new("RGB", (size, size), (128, 128, 128))
        d = ImageDraw.Draw(img)
        d.rectangle([xr, yr, xr + sr - 1, yr + sr - 1], fill=(220, 30, 30))
        d.rectangle([xb, yb, xb + sb - 1, yb + sb - 1], fill=(30, 30, 220))
        kind = kinds[i % len(kinds)]
        for view, im in (("original", img), ("mirrored", ImageOps.mirror(img))):
            red_left = (xr + sr / 2 < xb + sb / 2) == (view == "original")
            fact = "red is left of blue" if red_left else "blue is left of red"  # the think trace
            if kind == "side":
                q = "Is the red square left or right of the blue square?"
                side = "left" if red_left else "right"
                ans, struct, fmt = side, {"kind": "label", "value": side, "labels": ["left", "right"]}, "free"
            elif kind == "yesno":
                q = "Is the red square to the left of the blue square?"
                ans, struct, fmt = ("yes" if red_left else "no"), {"kind": "boolean", "value": red_left}, "tf"
            elif kind == "choice":
                q = "Which square is further left? (A) the red square (B) the blue square"
                letter = "A" if red_left else "B"
                ans, struct, fmt = letter, {"kind": "choice", "value": letter}, "mcq"
            else:
                q = "How wide is the red square in centimeters?"  # 1 px = 1 cm
                ans, struct, fmt = f"{sr} cm", {"kind": "length", "value": sr / 100}, "free"
                fact = f"red is {sr} px wide, 1 px is 1 cm"
            eval_type = {"side": "label", "yesno": "yesno", "choice": "choice", "numeric": "numeric"}[kind]
            rows.append({"id": f"s{i}-{view}", "pair_id": f"s{i}", "view": view, "scene_id": f"s{i}", "image": im,
                         "question": q, "answer": ans, "answer_struct": json.dumps(struct), "task": kind,
                         "level": 2, "format": fmt, "eval_type": eval_type, "reasoning": fact})
    return rows


def load_data(args, seed: int):
    from datasets import Dataset

    if args.data:
        from spatialforge.train.data import load_qa_dataset

        ds = load_qa_dataset(args.data)
        pair_ids = sorted(set(ds["pair_id"]))
        rng = np.random.default_rng(seed)
        held = set(rng.choice(pair_ids, size=min(args.eval_pairs, len(pair_ids) // 4), replace=False).tolist())
        evald = ds.filter(lambda p: p in held, input_columns=["pair_id"])
        train = ds.filter(lambda p: p not in held, input_columns=["pair_id"])
        return train, evald
    kinds = tuple(args.kinds.split(","))
    train = Dataset.from_list(squares_rows(args.train_pairs, seed, args.image_size, kinds))
    evald = Dataset.from_list(squares_rows(args.eval_pairs, seed + 1000, args.image_size, kinds))
    return train, evald


def build_model(kind: str, path: Path, seed: int) -> Path:
    """The project's tiny Qwen2.5-VL, or ``small``: a 128-wide, 4-layer text model whose rotary
    embedding can see image columns (see below), and full attention in the vision tower."""
    from spatialforge.models.tiny import build_tiny_qwen2_5_vl

    tiny = build_tiny_qwen2_5_vl(path.parent / "tiny_qwen")
    if kind == "tiny":
        return tiny
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    config = AutoConfig.from_pretrained(tiny)
    t, v = config.text_config, config.vision_config
    t.hidden_size, t.intermediate_size, t.num_hidden_layers = 128, 256, 4
    t.layer_types = ["full_attention"] * t.num_hidden_layers
    # head_dim 32: 16 rotary pairs.  M-RoPE gives the width section the lowest frequencies; with
    # theta 1e6 they turn by ~1e-4 rad per image column, so the text model cannot tell left from
    # right.  theta 10 and 10 pairs for the width make a column turn them by 0.1-0.4 rad.
    t.rope_parameters = {**t.rope_parameters, "rope_theta": 10.0, "mrope_section": [2, 4, 10]}
    v.hidden_size, v.intermediate_size, v.out_hidden_size = 64, 128, 128
    v.fullatt_block_indexes = [0, 1]  # the two squares sit in different attention windows
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config)
    model.generation_config = AutoModelForImageTextToText.from_pretrained(tiny).generation_config
    model.save_pretrained(path)
    for f in tiny.iterdir():  # the processor's files (tokenizer, chat template, image processor)
        if f.is_file() and not (path / f.name).exists() and f.suffix != ".safetensors":
            shutil.copy(f, path / f.name)
    return path


def evaluate(model, processor, dataset, prompt: str, max_new_tokens: int) -> dict:
    """Greedy answers on every row: accuracy per view, format rate, mirror consistency, both correct."""
    from spatialforge.eval.metrics import MirrorItem, mirror_summary
    from spatialforge.prompts import format_prompt
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
        items.append(MirrorItem(r["pair_id"], r["view"], s.kind, s.parsed if s.parsable else None,
                                gt=s.gt_value, correct=bool(s.correct)))
    mirror = mirror_summary(items)
    return {"accuracy": float(np.mean(correct["original"] + correct["mirrored"])),
            "acc_original": float(np.mean(correct["original"])), "acc_mirrored": float(np.mean(correct["mirrored"])),
            "format": float(np.mean(format_reward(outs))), "mirror_consistency": mirror.get("mirror_consistency"),
            "both_correct": mirror.get("mirror_both_correct"), "example": outs[0]}


def sft(model_path, train, out, args, seed):
    from transformers import AutoModelForImageTextToText
    from trl import SFTConfig, SFTTrainer

    from spatialforge.models.loading import load_processor
    from spatialforge.train.data import to_sft_dataset

    cfg = SFTConfig(output_dir=str(out), use_cpu=True, bf16=False, gradient_checkpointing=False,
                    per_device_train_batch_size=8, learning_rate=args.sft_lr, lr_scheduler_type="cosine",
                    warmup_steps=min(10, args.sft_steps // 10), max_steps=args.sft_steps, max_length=None,
                    logging_steps=max(1, min(25, args.sft_steps // 4)), save_strategy="no", report_to=[], seed=seed,
                    disable_tqdm=True)
    model = AutoModelForImageTextToText.from_pretrained(model_path)
    processor = load_processor(model_path)
    trainer = SFTTrainer(model=model, args=cfg, train_dataset=to_sft_dataset(train, args.prompt),
                         processing_class=processor)
    _quiet(trainer)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    if losses:
        print(f"SFT: {args.sft_steps} steps, loss {losses[0]:.3f} -> {losses[-1]:.3f}", flush=True)
    trainer.save_model(str(out))
    processor.save_pretrained(str(out))
    return out


def _quiet(trainer):
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def grpo(sft_path, train, mode, out, args, seed):
    from transformers import AutoModelForImageTextToText

    from spatialforge.models.loading import load_processor
    from spatialforge.train.config import SpatialGRPOConfig
    from spatialforge.train.data import to_grpo_dataset
    from spatialforge.train.grpo import SpatialGRPOTrainer

    cfg = SpatialGRPOConfig(
        output_dir=str(out), use_cpu=True, bf16=False, gradient_checkpointing=False,
        per_device_train_batch_size=args.prompts_per_step * args.num_generations, gradient_accumulation_steps=1,
        num_generations=args.num_generations, max_completion_length=args.max_new_tokens, beta=args.beta,
        learning_rate=args.grpo_lr, max_steps=args.grpo_steps, logging_steps=1, save_strategy="no", report_to=[],
        seed=seed, consistency=mode, answer_reward=args.answer_reward, consistency_weight=args.agreement_weight,
        scale_rewards=args.scale_rewards, disable_tqdm=True,
    )
    model = AutoModelForImageTextToText.from_pretrained(sft_path)
    trainer = SpatialGRPOTrainer(model=model, args=cfg, train_dataset=to_grpo_dataset(train, args.prompt),
                                 processing_class=load_processor(sft_path))
    _quiet(trainer)
    trainer.train()
    hist = [h for h in trainer.state.log_history if "reward" in h]
    return trainer.model, hist


# ---------------------------------------------------------------- statistics
def t_interval(values, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student-t interval (NaN half-width for one value)."""
    from scipy import stats

    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if x.size == 0:
        return math.nan, math.nan
    if x.size == 1:
        return float(x[0]), math.nan
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean()), float(half)


def _ci(values) -> str:
    m, h = t_interval(values)
    return f"{m:.3f}" if math.isnan(h) else f"{m:.3f} ± {h:.3f}"


METRICS = ("accuracy", "mirror_consistency", "both_correct")


def summarize(runs: dict) -> str:
    """Per mode: mean ± 95 % t-interval over seeds; and paired differences from ``none``."""
    modes = list(next(iter(runs.values())).keys())
    lines = [f"{'':10s}" + "".join(f"{m:>22s}" for m in METRICS) + f"{'cancelled':>16s}{'adv change':>16s}"]
    for mode in modes:
        per = [runs[s][mode] for s in runs]
        row = f"{mode:10s}" + "".join(f"{_ci([p['eval'][m] for p in per]):>22s}" for m in METRICS)
        row += f"{_ci([p.get('cancelled_frac', math.nan) for p in per]):>16s}"
        row += f"{_ci([p.get('advantage_change', math.nan) for p in per]):>16s}"
        lines.append(row)
    if "none" in modes:
        lines.append("paired difference from none (same seed and SFT start), mean ± 95 % t-interval:")
        for mode in modes:
            if mode in ("none", "sft"):
                continue
            diffs = {m: [runs[s][mode]["eval"][m] - runs[s]["none"]["eval"][m] for s in runs
                         if runs[s][mode]["eval"][m] is not None and runs[s]["none"]["eval"][m] is not None]
                     for m in METRICS}
            lines.append(f"{mode:10s}" + "".join(f"{_ci(diffs[m]):>22s}" for m in METRICS))
    return "\n".join(lines)


def _mean(hist, key):
    vals = [h[key] for h in hist if h.get(key) is not None]
    return float(np.mean(vals)) if vals else float("nan")


def _fmt(r: dict) -> str:
    f = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    return (f"accuracy {f(r['accuracy'])} (original {f(r['acc_original'])}, mirrored {f(r['acc_mirrored'])}), "
            f"format {f(r['format'])}, mirror consistency {f(r['mirror_consistency'])}, "
            f"both correct {f(r['both_correct'])}")


def run_seed(seed: int, args, tmp: Path, t0: float) -> dict:
    import torch
    from transformers import AutoModelForImageTextToText

    from spatialforge.models.loading import load_processor

    train, evald = load_data(args, seed)
    print(f"\n=== seed {seed}: {len(train)} train rows, {len(evald) // 2} held-out pairs", flush=True)
    model_path = build_model(args.model, tmp / f"{args.model}_{seed}", seed)
    torch.manual_seed(seed)
    sft_path = sft(model_path, train, tmp / f"sft_{seed}", args, seed)
    processor = load_processor(sft_path)
    before = evaluate(AutoModelForImageTextToText.from_pretrained(sft_path), processor, evald, args.prompt,
                      args.max_new_tokens)
    print(f"after SFT: {_fmt(before)}\n  e.g. {before['example']!r}  [{time.time() - t0:.0f} s]", flush=True)
    out = {"sft": {"eval": before}}
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        torch.manual_seed(seed)
        model, hist = grpo(sft_path, train, mode, tmp / f"grpo_{mode}_{seed}", args, seed)
        after = evaluate(model, processor, evald, args.prompt, args.max_new_tokens)
        q = max(1, len(hist) // 4)
        out[mode] = {"eval": after, "reward_first": _mean(hist[:q], "reward"), "reward_last": _mean(hist[-q:], "reward"),
                     "train_agreement": _mean(hist, "consistency/agreement"),
                     "cancelled_frac": _mean(hist, "consistency/cancelled_frac"),
                     "advantage_change": _mean(hist, "consistency/advantage_change")}
        print(f"GRPO {mode:9s}: reward {out[mode]['reward_first']:.3f} -> {out[mode]['reward_last']:.3f}, "
              f"train agreement {out[mode]['train_agreement']:.3f}, cancelled {out[mode]['cancelled_frac']:.2f}, "
              f"adv change {out[mode]['advantage_change']:.3f}\n  held-out: {_fmt(after)}  "
              f"[{time.time() - t0:.0f} s]", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=None, help="a `spatialforge generate --mirror` folder (default: squares)")
    p.add_argument("--kinds", default="side", help=f"squares question kinds, comma-separated, of {KINDS}")
    p.add_argument("--model", choices=["tiny", "small"], default="small")
    p.add_argument("--train-pairs", type=int, default=1024)
    p.add_argument("--image-size", type=int, default=IMG, help="px; 56 gives 4 image tokens, 112 gives 16")
    p.add_argument("--eval-pairs", type=int, default=48)
    p.add_argument("--sft-steps", type=int, default=300)
    p.add_argument("--sft-lr", type=float, default=3e-3)
    p.add_argument("--grpo-steps", type=int, default=40)
    p.add_argument("--grpo-lr", type=float, default=2e-4)
    p.add_argument("--beta", type=float, default=0.0, help="KL coefficient (0: no reference model, faster)")
    p.add_argument("--prompts-per-step", type=int, default=4, help="even: 2 views per pair")
    p.add_argument("--num-generations", type=int, default=4)
    p.add_argument("--max-new-tokens", type=int, default=24)
    p.add_argument("--answer-reward", choices=["semantic", "typed"], default="typed")
    p.add_argument("--agreement-weight", type=float, default=0.25)
    p.add_argument("--scale-rewards", choices=["group", "batch", "none"], default="group",
                   help="TRL's advantage scaling; 'batch' keeps reward magnitudes across groups")
    p.add_argument("--prompt", default="think")
    p.add_argument("--modes", default="none,paper,joint,agreement")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--threads", type=int, default=1, help="torch threads (tiny ops: 1 is fastest, see docs)")
    p.add_argument("--out", default=None, help="write every figure as JSON here")
    args = p.parse_args(argv)
    bad = [k for k in args.kinds.split(",") if k not in KINDS]
    if bad:
        p.error(f"--kinds: unknown {bad}; choose from {KINDS}")

    import torch

    torch.set_num_threads(args.threads)
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="learning_curve_"))
    runs: dict = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        runs[seed] = run_seed(seed, args, tmp, t0)
        if args.out:
            Path(args.out).write_text(json.dumps({"args": vars(args), "runs": runs}, indent=1, default=str))
    print(f"\nsummary over seeds {list(runs)} (held-out pairs, greedy):")
    print(summarize(runs))
    print(f"total {time.time() - t0:.0f} s")


def _quiet_libraries() -> None:
    """No progress bars or info logs from datasets / transformers (command line only)."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()


if __name__ == "__main__":
    _quiet_libraries()
    sys.exit(main())
