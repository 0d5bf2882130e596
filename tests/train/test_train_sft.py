"""SFT recipe on a tiny real Qwen2.5-VL: one full step through the CLI, one LoRA step (resume: test_train_resume)."""

from __future__ import annotations

import torch
import yaml
from typer.testing import CliRunner

from spatialforge.cli import app
from spatialforge.train.recipes import load_recipe
from spatialforge.train.sft import build_sft_trainer
from tests.fixtures_models import tiny_paligemma_path, tiny_qwen_path  # noqa: F401


def write_recipe(tmp_path, model_path, dataset, **training):
    dataset.to_parquet(str(tmp_path / "qa.parquet"))
    tree = {
        "kind": "sft",
        "model": {"name_or_path": str(model_path), "dtype": "float32"},
        "data": {"train": str(tmp_path / "qa.parquet"), "prompt": "think",
                 "task_ratios": {"relative_direction": 1, "relative_distance": 1, "relational_comparison": 1}},
        "lora": None,
        "training": {"output_dir": str(tmp_path / "out"), "use_cpu": True, "bf16": False,
                     "gradient_checkpointing": False, "per_device_train_batch_size": 4, "learning_rate": 1e-3,
                     "max_steps": 1, "max_length": None, "logging_steps": 1, "save_strategy": "no",
                     "report_to": "none", **training},
    }
    path = tmp_path / "sft.yaml"
    path.write_text(yaml.safe_dump(tree))
    return path


def test_sft_step_from_the_cli(tmp_path, tiny_qwen_path, pair_dataset):
    recipe = write_recipe(tmp_path, tiny_qwen_path, pair_dataset)
    result = CliRunner().invoke(app, ["train", "sft", "--config", str(recipe), "-o", "training.max_steps=2"])
    assert result.exit_code == 0, result.output
    assert "sft: 2 steps" in result.output
    assert (tmp_path / "out" / "model.safetensors").is_file()
    bad = CliRunner().invoke(app, ["train", "grpo", "--config", str(recipe)])
    assert bad.exit_code != 0 and "run `spatialforge train sft`" in bad.output


def test_lora_step_trains_only_adapters(tmp_path, tiny_qwen_path, pair_dataset):
    recipe = load_recipe(write_recipe(tmp_path, tiny_qwen_path, pair_dataset),
                         ["lora={r: 4, alpha: 8, dropout: 0.0, target_modules: [q_proj, v_proj]}"])
    trainer = build_sft_trainer(recipe)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainable = {n for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    trainer.train()
    changed = {n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])}
    assert changed and changed <= trainable
    assert "loss" in trainer.state.log_history[0]


def test_paligemma_sft_step_with_general_vqa_mixing(tmp_path, tiny_paligemma_path, pair_dataset):
    general = pair_dataset.select(range(4)).map(lambda q: {"question": "What colour dominates? " + q},
                                                input_columns=["question"])
    general.to_parquet(str(tmp_path / "general.parquet"))
    path = write_recipe(tmp_path, tiny_paligemma_path, pair_dataset)
    recipe = load_recipe(path, ["data.prompt=plain", f"data.general={tmp_path / 'general.parquet'}",
                                "data.task_ratios=null"])
    trainer = build_sft_trainer(recipe)
    assert len(trainer.train_dataset) == 16 + 2  # 1 general : 7 spatial
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    assert any(not torch.equal(p, before[n]) for n, p in trainer.model.named_parameters())


def test_paligemma_processor_gets_a_chat_template(tiny_paligemma_path):
    from transformers import AutoConfig

    from spatialforge.models.loading import load_processor
    from spatialforge.models.tiny import PALIGEMMA_CHAT_TEMPLATE
    from spatialforge.train.recipes import ensure_chat_template

    proc = load_processor(tiny_paligemma_path)
    proc.chat_template = None
    ensure_chat_template(proc, AutoConfig.from_pretrained(tiny_paligemma_path))
    assert proc.chat_template == PALIGEMMA_CHAT_TEMPLATE


def test_prefix_lm_collator_puts_labels_on_the_answer_only(tiny_paligemma_path, pair_dataset):
    from spatialforge.models.loading import load_processor
    from spatialforge.train.data import to_sft_dataset
    from spatialforge.train.sft import PrefixLMCollator

    proc = load_processor(tiny_paligemma_path)
    rows = [dict(r) for r in to_sft_dataset(pair_dataset.select(range(2)), "plain")]
    batch = PrefixLMCollator(proc)(rows)
    for i, row in enumerate(rows):
        labelled = batch["labels"][i][batch["labels"][i] != -100]
        assert proc.tokenizer.decode(labelled) == row["completion"][0]["content"] + proc.tokenizer.eos_token
        assert (batch["token_type_ids"][i][batch["labels"][i] != -100] == 1).all()
