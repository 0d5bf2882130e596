"""Step time of Spatial-GRPO vs TRL's plain ``GRPOTrainer`` on the same tiny model and batch.

Same tiny offline Qwen2.5-VL (fresh copy of the same weights for every run), same paired
dataset, same arguments (per-device batch, G, completion length, beta, loss); the plain
trainer uses TRL's ``RepeatSampler``, ours the pair sampler and the consistency modes
(paper, joint: eqs. 2-4; agreement: every completion parsed and compared with the partner
view's).  Runs are interleaved (plain, paper, joint, agreement, plain, ...); each
run's first step (warm-up) is dropped; the median step time per variant is compared.
Also timed directly: the time spent in Spatial-GRPO's own code per step (the gather of
pair ids, the parsing and agreement, the advantages, the metrics).

    python benchmarks/grpo_overhead.py [--rounds 5] [--steps 6] [--rewards cheap|paper]

Target: <= 5 % overhead.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np


def paired_dataset(num_pairs: int, seed: int = 0):
    from datasets import Dataset
    from PIL import Image, ImageOps

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(num_pairs):
        img = Image.fromarray(rng.integers(0, 256, (56, 56, 3), dtype=np.uint8))
        for view, im in (("original", img), ("mirrored", ImageOps.mirror(img))):
            left = (i % 2 == 0) == (view == "original")
            rows.append({"prompt": [{"role": "user", "content": f"Is the chair {i} to the left of the table?"}],
                         "image": im, "answer": "yes" if left else "no", "pair_id": f"p{i}", "view": view,
                         "answer_struct": json.dumps({"kind": "boolean", "value": left}), "eval_type": "yesno"})
    return Dataset.from_list(rows)


def cheap_rewards():
    def format(completions, **kw):  # noqa: A001 - the reward column name
        return [float("<answer>" in c[0]["content"]) for c in completions]

    def semantic(completions, answer, **kw):
        return [len(set(c[0]["content"]) & set(a)) / max(1, len(set(a))) for c, a in zip(completions, answer)]

    return [format, semantic]


class StepTimer:
    """Trainer callback: wall time of every optimizer step."""

    def __init__(self):
        from transformers import TrainerCallback

        timer = self

        class _CB(TrainerCallback):
            def on_step_begin(self, args, state, control, **kw):
                timer._t0 = time.perf_counter()

            def on_step_end(self, args, state, control, **kw):
                timer.times.append(time.perf_counter() - timer._t0)

        self.times: list[float] = []
        self.callback = _CB()


TIMES: dict[str, float] = defaultdict(float)


def _timed(cls, name: str, key: str) -> None:
    orig = getattr(cls, name)

    @functools.wraps(orig)
    def wrapper(self, *a, **k):
        t = time.perf_counter()
        try:
            return orig(self, *a, **k)
        finally:
            TIMES[key] += time.perf_counter() - t

    setattr(cls, name, wrapper)


def instrument() -> None:
    """Time TRL's and our versions of the two overridden methods; ours minus TRL's is our code."""
    from trl import GRPOTrainer

    from spatialforge.train.grpo import SpatialGRPOTrainer

    _timed(GRPOTrainer, "_calculate_rewards", "trl_rewards")
    _timed(GRPOTrainer, "_generate_and_score_completions", "trl_score")
    _timed(SpatialGRPOTrainer, "_calculate_rewards", "ours_rewards")
    _timed(SpatialGRPOTrainer, "_generate_and_score_completions", "ours_score")


def run(variant: str, model_path: Path, dataset, args_kw: dict, rewards: str, out: Path) -> tuple[list[float], float]:
    """Per-step times (first dropped) and Spatial-GRPO's own seconds per step."""
    from transformers import AutoModelForImageTextToText
    from trl import GRPOConfig, GRPOTrainer

    from spatialforge.models.loading import load_processor
    from spatialforge.rewards.combine import build_rewards
    from spatialforge.train.config import SpatialGRPOConfig
    from spatialforge.train.grpo import SpatialGRPOTrainer

    model = AutoModelForImageTextToText.from_pretrained(model_path)
    timer = StepTimer()
    funcs, weights = (cheap_rewards(), [0.5, 0.5]) if rewards == "cheap" else build_rewards()
    common = dict(reward_funcs=funcs, train_dataset=dataset, processing_class=load_processor(model_path),
                  callbacks=[timer.callback])
    if variant == "plain":
        args = GRPOConfig(output_dir=str(out), reward_weights=weights, **args_kw)
        trainer = GRPOTrainer(model=model, args=args, **common)
    else:
        args = SpatialGRPOConfig(output_dir=str(out), consistency=variant, reward_weights=weights, **args_kw)
        trainer = SpatialGRPOTrainer(model=model, args=args, **common)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # no log lines from the timed runs
    TIMES.clear()
    trainer.train()
    own = (TIMES["ours_score"] - TIMES["trl_score"]) + (TIMES["ours_rewards"] - TIMES["trl_rewards"])
    return timer.times[1:], (own / args.max_steps if variant != "plain" else 0.0)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--rewards", choices=["cheap", "paper"], default="cheap",
                   help="cheap: trivial rewards (worst case for our relative overhead); paper: format + sBERT")
    p.add_argument("--completion-length", type=int, default=32)
    p.add_argument("--threads", type=int, default=1, help="torch threads (tiny ops: 1 is fastest, see docs)")
    a = p.parse_args(argv)

    import torch

    from spatialforge.models.tiny import build_tiny_qwen2_5_vl

    torch.set_num_threads(a.threads)
    instrument()
    tmp = Path(tempfile.mkdtemp(prefix="grpo_overhead_"))
    model_path = build_tiny_qwen2_5_vl(tmp / "tiny_qwen")
    dataset = paired_dataset(64)
    args_kw = dict(use_cpu=True, bf16=False, gradient_checkpointing=False, report_to=[], logging_steps=1,
                   save_strategy="no", per_device_train_batch_size=16, gradient_accumulation_steps=1,
                   num_generations=4, max_completion_length=a.completion_length, max_steps=a.steps + 1,
                   learning_rate=1e-5, beta=0.04, loss_type="grpo", seed=0, disable_tqdm=True)
    variants = ["plain", "paper", "joint", "agreement"]
    times: dict[str, list[float]] = {v: [] for v in variants}
    own: dict[str, list[float]] = {v: [] for v in variants}
    for r in range(a.rounds):
        for v in variants:
            t, o = run(v, model_path, dataset, args_kw, a.rewards, tmp / f"out_{v}_{r}")
            times[v].extend(t)
            own[v].append(o)
        print(f"round {r + 1}/{a.rounds}: " + ", ".join(f"{v} {statistics.median(times[v]) * 1e3:.1f} ms"
                                                       for v in variants), flush=True)
    base = statistics.median(times["plain"])
    print(f"\nstep time, median of {len(times['plain'])} steps per variant "
          f"(tiny Qwen2.5-VL, CPU, 16 completions/step, G=4, {a.completion_length} tokens, rewards={a.rewards}):")
    for v in variants:
        med = statistics.median(times[v])
        line = f"  {v:9s} {med * 1e3:8.1f} ms  ({(med / base - 1) * 100:+.1f} % vs plain GRPOTrainer)"
        if v != "plain":
            o = statistics.median(own[v])
            line += f"; Spatial-GRPO's own code {o * 1e3:.2f} ms/step = {o / med * 100:.2f} % of the step"
        print(line)


if __name__ == "__main__":
    sys.exit(main())
