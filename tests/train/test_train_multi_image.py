"""Multi-image training rows: kept for Qwen2.5-VL (a real SFT step on a 2-image row), refused
with the file and row named for PaliGemma, RGB-D models and GRPO."""

from __future__ import annotations

import math

import pytest
import torch

from spatialforge.errors import ConfigError, DataError
from spatialforge.train.data import load_qa_dataset, mix_general, single_image_reason, to_sft_dataset
from spatialforge.train.recipes import recipe_from_dict
from spatialforge.train.sft import build_sft_trainer
from tests.fixtures_models import make_image, tiny_paligemma_path, tiny_qwen_path  # noqa: F401


def write_rows(path, counts: list[int]):
    """A Parquet of QA rows with an ``images`` list column holding ``counts[i]`` images in row i."""
    from datasets import Dataset, Features, Image as HFImage, List, Value

    feats = Features({"images": List(HFImage()), "question": Value("string"), "answer": Value("string")})
    rows = [{"images": [make_image(10 * i + k) for k in range(n)], "question": f"Is the chair in image {n}?",
             "answer": "yes" if i % 2 else "no"} for i, n in enumerate(counts)]  # fmt: skip
    Dataset.from_list(rows, features=feats).to_parquet(str(path))
    return path


def recipe(model_dir, data, out_dir, **data_opts):
    return recipe_from_dict({
        "kind": "sft",
        "model": {"name_or_path": str(model_dir), "dtype": "float32"},
        "data": {"train": str(data), "prompt": "plain", **data_opts},
        "training": {"output_dir": str(out_dir), "use_cpu": True, "bf16": False, "gradient_checkpointing": False,
                     "per_device_train_batch_size": 2, "learning_rate": 1e-2, "max_steps": 1, "max_length": None,
                     "logging_steps": 1, "save_strategy": "no", "report_to": "none"},
    })  # fmt: skip


def test_loader_keeps_image_lists_only_when_the_model_takes_them(tmp_path):
    path = write_rows(tmp_path / "multi.parquet", [1, 2, 1])
    with pytest.raises(ConfigError, match=r"multi.parquet: row 1 has 2 images .*1 such rows.*one image per row"):
        load_qa_dataset(path)  # the default: one image per row
    ds = load_qa_dataset(path, single_image=None)
    assert "images" in ds.column_names and [len(x) for x in ds["images"]] == [1, 2, 1]
    sft = to_sft_dataset(ds, "plain")
    assert set(sft.column_names) == {"prompt", "completion", "images"}
    one = load_qa_dataset(write_rows(tmp_path / "one.parquet", [1, 1]), single_image=None)
    assert "image" in one.column_names and "images" not in one.column_names  # as before: an 'image' column
    with pytest.raises(DataError, match=r"empty.parquet: row 1 has no image"):
        load_qa_dataset(write_rows(tmp_path / "empty.parquet", [1, 0]), single_image=None)


def test_general_single_image_rows_mix_with_multi_image_rows(tmp_path):
    spatial = to_sft_dataset(load_qa_dataset(write_rows(tmp_path / "m.parquet", [2, 3, 1, 2]), single_image=None))
    general = to_sft_dataset(load_qa_dataset(write_rows(tmp_path / "g.parquet", [1, 1])))
    mixed = mix_general(spatial, general, ratio=0.5, seed=0)
    assert "image" not in mixed.column_names
    assert sorted(len(x) for x in mixed["images"]) == [1, 1, 1, 2, 2, 3]


def test_sft_step_on_two_image_rows_tiny_qwen(tmp_path, tiny_qwen_path):
    data = write_rows(tmp_path / "two.parquet", [2, 2, 2, 2])
    trainer = build_sft_trainer(recipe(tiny_qwen_path, data, tmp_path / "out"))
    batch = trainer.data_collator([trainer.train_dataset[0], trainer.train_dataset[1]])
    assert len(batch["image_grid_thw"]) == 4  # both images of both rows reach the model
    vision_start = trainer.processing_class.tokenizer.convert_tokens_to_ids("<|vision_start|>")
    assert ((batch["input_ids"] == vision_start).sum(-1) == 2).all()  # two image slots per row
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    loss = trainer.state.log_history[0]["loss"]
    assert math.isfinite(loss)
    assert any(not torch.equal(p, before[n]) for n, p in trainer.model.named_parameters())


def test_paligemma_refuses_multi_image_rows_naming_the_row(tmp_path, tiny_paligemma_path):
    data = write_rows(tmp_path / "two.parquet", [1, 2])
    with pytest.raises(ConfigError, match=r"two.parquet: row 1 has 2 images.*PaliGemma 2 .*one image per row"):
        build_sft_trainer(recipe(tiny_paligemma_path, data, tmp_path / "out"))


def test_rgbd_and_grpo_refuse_multi_image_rows(tmp_path, tiny_qwen_path):
    from spatialforge.models.loading import load_vlm
    from spatialforge.models.rgbd import from_base
    from spatialforge.train.data import prepare_datasets
    from spatialforge.train.grpo import GRPO_SINGLE_IMAGE

    assert single_image_reason(load_vlm(tiny_qwen_path)) is None
    assert "RGB-D" in single_image_reason(from_base(tiny_qwen_path))
    data = write_rows(tmp_path / "two.parquet", [2])
    with pytest.raises(ConfigError, match=r"two.parquet: row 0 has 2 images.*GRPO training takes one image"):
        prepare_datasets(recipe(tiny_qwen_path, data, tmp_path / "o").data, "grpo", single_image=GRPO_SINGLE_IMAGE)
