"""What GRPO feeds the model: left-padded prompts of mixed lengths, point maps for RGB-D models."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from transformers import AutoModelForImageTextToText

from spatialforge.models.loading import load_processor
from spatialforge.train.config import SpatialGRPOConfig
from spatialforge.train.data import to_grpo_dataset
from spatialforge.train.grpo import SpatialGRPOTrainer
from tests.fixtures_models import tiny_paligemma_path, tiny_qwen_path  # noqa: F401
from tests.train.conftest import pair_rows

LONG = ("Looking carefully at the whole room from the camera's point of view, and ignoring the small objects on "
        "the shelves near the window, is the large wooden chair standing to the left of the round table?")


def answer_reward(completions, view, **kw):
    return [(0.9 if v == "original" else 0.3) + 0.1 * (len(c[0]["content"]) % 5) for c, v in zip(completions, view)]


def grpo_args(tmp_path, **kw):
    return SpatialGRPOConfig(**{
        "output_dir": str(tmp_path / "out"), "use_cpu": True, "bf16": False, "gradient_checkpointing": False,
        "report_to": [], "seed": 0, "logging_steps": 1, "save_strategy": "no", "max_steps": 1,
        "max_completion_length": 4, "learning_rate": 1e-2, "per_device_train_batch_size": 8,
        "gradient_accumulation_steps": 1, "num_generations": 2, "reward_weights": [1.0],
        "consistency_reward": "answer_reward", "beta": 0.0, **kw})  # fmt: skip


def mixed_length_pairs() -> Dataset:
    """Two mirror pairs whose prompts differ by ~40 tokens (more than the text before the image)."""
    rows = pair_rows(2)
    for r in rows[2:]:
        r["question"] = LONG
    return Dataset.from_list(rows)


@pytest.mark.parametrize("fixture", ["tiny_qwen_path", "tiny_paligemma_path"])
def test_grpo_step_on_prompts_of_mixed_lengths(fixture, request, tmp_path):
    path = request.getfixturevalue(fixture)
    processor = load_processor(path)
    assert processor.tokenizer.padding_side == "right"  # as the checkpoints ship it
    trainer = SpatialGRPOTrainer(
        model=AutoModelForImageTextToText.from_pretrained(path), reward_funcs=[answer_reward],
        args=grpo_args(tmp_path), train_dataset=to_grpo_dataset(mixed_length_pairs(), "think"),
        processing_class=processor,
    )
    assert processor.tokenizer.padding_side == "left"
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()  # right-padded multimodal fields crashed Qwen's get_rope_index here
    assert trainer.state.global_step == 1
    assert any(not torch.equal(p, before[n]) for n, p in trainer.model.named_parameters())
