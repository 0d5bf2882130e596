"""What GRPO feeds the model: left-padded prompts of mixed lengths, point maps for RGB-D models."""

from __future__ import annotations

import numpy as np
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
    model = AutoModelForImageTextToText.from_pretrained(path)
    calls = []  # (input_ids, mm_token_type_ids) of every model call that has both
    model.register_forward_pre_hook(
        lambda m, a, kw: calls.append((kw["input_ids"], kw["mm_token_type_ids"]))
        if kw.get("mm_token_type_ids") is not None and kw.get("input_ids") is not None else None, with_kwargs=True)
    trainer = SpatialGRPOTrainer(
        model=model, reward_funcs=[answer_reward], args=grpo_args(tmp_path),
        train_dataset=to_grpo_dataset(mixed_length_pairs(), "think"), processing_class=processor,
    )
    assert processor.tokenizer.padding_side == "left"
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()  # right-padded multimodal fields crashed Qwen's get_rope_index (larger images) or,
    assert trainer.state.global_step == 1  # with few image tokens, silently marked the wrong positions:
    image_id = getattr(model.config, "image_token_id", None)
    for ids, types in calls:  # the image-token marks sit on the image tokens
        assert torch.equal(types == 1, ids == image_id)
    assert calls or fixture == "tiny_paligemma_path"
    assert any(not torch.equal(p, before[n]) for n, p in trainer.model.named_parameters())


def depth_pairs(root, n_pairs: int = 2):
    """Mirror pairs in a ``generate``-like folder, each row with a depth file (the mirrored row flips it)."""
    from PIL import ImageOps

    from tests.fixtures_models import make_image

    (root / "depth").mkdir(parents=True)
    rows = pair_rows(n_pairs)
    for i, r in enumerate(rows):
        depth = np.random.default_rng(i // 2).uniform(1.0, 4.0, (56, 56)).astype(np.float32)
        depth[:14] = 0.0  # a band without depth
        np.save(root / "depth" / f"{i}.npy", depth)
        img = make_image(i // 2)
        r.update(image=img if r["view"] == "original" else ImageOps.mirror(img), depth_path=f"depth/{i}.npy",
                 fx=50.0, fy=50.0, cx=28.0, cy=28.0, flipped=r["view"] == "mirrored")
    (root / "data").mkdir()
    Dataset.from_list(rows).to_parquet(str(root / "data" / "shard-00000.parquet"))
    return root


@pytest.mark.parametrize("fixture,beta", [("tiny_qwen_path", 0.04), ("tiny_paligemma_path", 0.0)])
def test_rgbd_grpo_feeds_point_maps(fixture, beta, request, tmp_path):
    from spatialforge.models.rgbd import convert_base_checkpoint, register_auto_classes
    from spatialforge.train.data import load_qa_dataset

    model_dir = convert_base_checkpoint(request.getfixturevalue(fixture), tmp_path / "rgbd")
    register_auto_classes()  # the Auto classes below load an RGB-D checkpoint
    ds = to_grpo_dataset(load_qa_dataset(depth_pairs(tmp_path / "ds")), "think")
    seen = []
    model = AutoModelForImageTextToText.from_pretrained(model_dir)
    model.model.point_encoder.register_forward_pre_hook(lambda m, a: seen.append(a[0]))  # every encoded batch
    trainer = SpatialGRPOTrainer(model=model, reward_funcs=[answer_reward], args=grpo_args(tmp_path, beta=beta),
                                 train_dataset=ds, processing_class=load_processor(model_dir))
    assert (trainer.ref_model is not None) == (beta > 0)  # beta > 0: TRL's reference copy of the RGB-D model
    ref_seen = []
    if beta > 0:
        trainer.ref_model.model.point_encoder.register_forward_pre_hook(lambda m, a: ref_seen.append(a[0]))
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    assert len(seen) == 2 and len(ref_seen) == (beta > 0)  # generation, loss (, reference); none may miss them
    valid = torch.cat([pm[:, 3].flatten() for pm in seen + ref_seen])
    assert 0.5 < valid.float().mean() < 0.95  # the band without depth is invalid, the rest valid
    moved = [n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])]
    assert any("point_projector" in n for n in moved)


def test_rgbd_grpo_start_up_checks(tmp_path, tiny_qwen_path):
    from spatialforge.errors import ConfigError
    from spatialforge.models.rgbd import convert_base_checkpoint, register_auto_classes

    model_dir = convert_base_checkpoint(tiny_qwen_path, tmp_path / "rgbd")
    register_auto_classes()  # the Auto classes below load an RGB-D checkpoint
    no_depth = to_grpo_dataset(mixed_length_pairs(), "think")

    def build(estimator=None, **kw):
        return SpatialGRPOTrainer(model=AutoModelForImageTextToText.from_pretrained(model_dir),
                                  reward_funcs=[answer_reward], args=grpo_args(tmp_path, **kw),
                                  train_dataset=no_depth, processing_class=load_processor(model_dir),
                                  point_map_estimator=estimator)

    with pytest.raises(ConfigError, match=r"train_dataset: 4 of 4 rows \(e.g. row 0\) have no depth"):
        build()
    with pytest.raises(ConfigError, match="vLLM rollouts cannot pass point maps"):
        build(use_vllm=True)
    calls = []

    def estimator(image):  # image -> (H, W, 3) point map, 2 m in front of the camera
        calls.append(image.size)
        w, h = image.size
        return np.dstack([np.zeros((h, w, 2)), np.full((h, w), 2.0)])

    trainer = build(estimator)
    trainer.train()
    assert trainer.state.global_step == 1 and len(calls) >= 8  # every row's image, generation and loss
