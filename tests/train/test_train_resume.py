"""Resuming restores the trained weights: N steps straight == N-1 steps, stop, resume to N.

The resumed trainer starts from the *base* model, as a restarted job does; only the checkpoint
can bring it to the straight run's weights.  (Before the fix the checkpoint's weights were not
loaded at all: the resumed run continued from the base weights with the trained optimizer.)
"""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForImageTextToText

from spatialforge.models.checkpoint import CheckpointMismatchError, load_saved_weights
from spatialforge.models.rgbd import convert_base_checkpoint
from spatialforge.train.recipes import recipe_from_dict
from spatialforge.train.sft import build_sft_trainer
from tests.fixtures_models import tiny_paligemma_path, tiny_qwen_path  # noqa: F401
from tests.models.test_rgbd_train import write_depth_dataset

STEPS = 2


def sft_recipe(model_dir, data, out_dir, **training):
    return recipe_from_dict({
        "kind": "sft",
        "model": {"name_or_path": str(model_dir), "dtype": "float32"},
        "data": {"train": str(data), "prompt": "plain"},
        "training": {"output_dir": str(out_dir), "use_cpu": True, "bf16": False, "gradient_checkpointing": False,
                     "per_device_train_batch_size": 2, "learning_rate": 1e-2, "max_steps": STEPS,
                     "max_length": None, "logging_steps": 1, "save_strategy": "steps", "save_steps": 1,
                     "report_to": "none", "seed": 0, **training},
    })  # fmt: skip


def weights(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def assert_resume_gives_the_straight_weights(build, tmp_path):
    straight = build(tmp_path / "a")
    base = weights(straight.model)
    straight.train()
    final = weights(straight.model)
    resumed = build(tmp_path / "b")
    resumed.train(resume_from_checkpoint=str(tmp_path / "a" / f"checkpoint-{STEPS - 1}"))
    assert resumed.state.global_step == STEPS
    assert [h["step"] for h in resumed.state.log_history if "loss" in h] == list(range(1, STEPS + 1))
    got = weights(resumed.model)
    trained = [n for n in final if p_requires_grad(straight.model, n)]
    assert any(not torch.equal(final[n], base[n]) for n in trained), "training changed nothing"
    different = [n for n in final if not torch.equal(got[n], final[n])]
    assert not different, f"resumed weights differ from the straight run: {different[:5]}"


def p_requires_grad(model, name):
    return dict(model.named_parameters())[name].requires_grad


@pytest.mark.parametrize("fixture", ["tiny_qwen_path", "tiny_paligemma_path"])
def test_sft_resume_restores_the_weights(fixture, request, tmp_path, pair_dataset):
    pair_dataset.to_parquet(str(tmp_path / "qa.parquet"))
    model = request.getfixturevalue(fixture)
    assert_resume_gives_the_straight_weights(
        lambda out: build_sft_trainer(sft_recipe(model, tmp_path / "qa.parquet", out)), tmp_path)


@pytest.mark.parametrize("fixture", ["tiny_qwen_path", "tiny_paligemma_path"])
def test_rgbd_sft_resume_restores_the_weights(fixture, request, tmp_path):
    model_dir = convert_base_checkpoint(request.getfixturevalue(fixture), tmp_path / "rgbd")
    data = write_depth_dataset(tmp_path / "ds", n=4)
    build = lambda out: build_sft_trainer(sft_recipe(model_dir, data, out))  # noqa: E731
    assert_resume_gives_the_straight_weights(build, tmp_path)


def test_rgbd_lora_resume_restores_adapters_and_point_branch(tmp_path, tiny_qwen_path):
    from spatialforge.train.config import LoraOptions

    model_dir = convert_base_checkpoint(tiny_qwen_path, tmp_path / "rgbd")
    data = write_depth_dataset(tmp_path / "ds", n=4)

    def build(out):
        recipe = sft_recipe(model_dir, data, out)
        recipe.lora = LoraOptions(r=4, alpha=8, dropout=0.0)
        return build_sft_trainer(recipe)

    assert_resume_gives_the_straight_weights(build, tmp_path)


def test_grpo_resume_restores_the_weights(tmp_path, tiny_qwen_path, pair_dataset):
    from spatialforge.models.loading import load_processor
    from spatialforge.train.config import SpatialGRPOConfig
    from spatialforge.train.data import to_grpo_dataset
    from spatialforge.train.grpo import SpatialGRPOTrainer

    def answer(completions, view, **kw):  # deterministic, differs by view and completion
        return [(0.9 if v == "original" else 0.3) + 0.1 * (len(c[0]["content"]) % 5) for c, v in zip(completions, view)]

    def build(out):
        args = SpatialGRPOConfig(
            output_dir=str(out), use_cpu=True, bf16=False, gradient_checkpointing=False, report_to=[], seed=0,
            logging_steps=1, save_strategy="steps", save_steps=1, max_steps=STEPS, max_completion_length=6,
            learning_rate=1e-2, per_device_train_batch_size=4, gradient_accumulation_steps=1, num_generations=2,
            reward_weights=[1.0], consistency_reward="answer")
        model = AutoModelForImageTextToText.from_pretrained(tiny_qwen_path)
        return SpatialGRPOTrainer(model=model, reward_funcs=[answer], args=args,
                                  train_dataset=to_grpo_dataset(pair_dataset, "think"),
                                  processing_class=load_processor(tiny_qwen_path))

    assert_resume_gives_the_straight_weights(build, tmp_path)


def test_recipe_resume_argument():
    recipe = lambda v: sft_recipe("m", "d", "o", resume_from_checkpoint=v)  # noqa: E731
    assert recipe(True).resume_arg is True and recipe("last").resume_arg is True
    assert recipe(None).resume_arg is None and recipe("out/checkpoint-2").resume_arg == "out/checkpoint-2"


def test_a_checkpoint_of_another_model_is_rejected(tmp_path, tiny_qwen_path, tiny_paligemma_path):
    model = AutoModelForImageTextToText.from_pretrained(tiny_qwen_path)
    with pytest.raises(CheckpointMismatchError, match="does not fit Qwen2_5_VLForConditionalGeneration"):
        load_saved_weights(model, tiny_paligemma_path)
