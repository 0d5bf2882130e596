"""Recipe YAML files: every shipped config loads and validates; overrides; errors say the fix."""

from pathlib import Path

import pytest

from spatialforge.errors import ConfigError
from spatialforge.models.tiny import resolve_model_path
from spatialforge.train.recipes import RecipeError, apply_overrides, load_recipe
from tests.fixtures_models import tiny_paligemma_path  # noqa: F401

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("name", ["grpo_qwen2_5_vl_3b.yaml", "sft_qwen2_5_vl_3b.yaml", "sft_paligemma2_3b.yaml",
                                  "grpo_tiny_cpu.yaml", "sft_tiny_cpu.yaml"])
def test_shipped_recipes_validate(name):
    recipe = load_recipe(CONFIGS / name, ["training.bf16=false", "training.use_cpu=true"])
    args = recipe.training_args()
    assert args.output_dir and recipe.kind in name
    if recipe.kind == "grpo":
        assert (args.consistency, args.consistency_threshold, args.consistency_eta) == ("paper", 0.5, 1.0)


def test_paper_recipe_matches_section_4_1():
    args = load_recipe(CONFIGS / "grpo_qwen2_5_vl_3b.yaml", ["training.bf16=false", "training.use_cpu=true"]
                       ).training_args()
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps, args.num_generations,
            args.max_completion_length, args.loss_type, args.epsilon) == (8, 2, 8, 2048, "grpo", 0.2)
    assert (args.format_weight, args.semantic_weight, args.beta > 0) == (0.5, 0.5, True)


def test_overrides_parse_yaml_values():
    tree = apply_overrides({"training": {"output_dir": "x"}}, ["training.max_steps=10", "data.task_ratios={a: 2}",
                                                              "training.use_vllm=true", "lora=null"])
    assert tree["training"]["max_steps"] == 10 and tree["training"]["use_vllm"] is True
    assert tree["data"]["task_ratios"] == {"a": 2} and tree["lora"] is None
    args = load_recipe(CONFIGS / "sft_tiny_cpu.yaml", ["training.save_strategy=no"]).training_args()
    assert args.save_strategy == "no"  # YAML's bare `no` is False
    with pytest.raises(RecipeError, match="key.path=value"):
        apply_overrides({}, ["max_steps"])
    with pytest.raises(RecipeError, match="first key must be one of"):
        apply_overrides({}, ["trainer.max_steps=1"])


def test_recipe_errors(tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text("kind: grpo\nmodel: {name_or_path: m}\ndata: {train: d}\ntraining: {output_dir: o, bogus: 1}\n")
    with pytest.raises(RecipeError, match="bogus"):
        load_recipe(p).training_args()
    with pytest.raises(RecipeError, match="missing section 'data'"):
        load_recipe(p, ["data=null"])
    with pytest.raises(ValueError, match="data.prompt must be one of"):
        load_recipe(p, ["data.prompt=chatty"])
    with pytest.raises(ConfigError, match="unknown tiny model"):
        resolve_model_path("tiny:llama")


def test_paligemma_recipe_is_hispatials():
    recipe = load_recipe(CONFIGS / "sft_paligemma2_3b.yaml", ["training.bf16=false", "training.use_cpu=true"])
    args = recipe.training_args()
    assert recipe.model.name_or_path == "google/paligemma2-3b-mix-448" and recipe.model.rgbd["encoding"] == "xyz"
    assert recipe.data.task_ratios == "hispatial" and recipe.data.general
    assert recipe.data.general_ratio == pytest.approx(1 / 7, abs=1e-6)
    assert args.per_device_train_batch_size * args.gradient_accumulation_steps * 8 == 256  # on 8 GPUs
    assert args.max_steps == 70000 and recipe.lora is None


def test_model_rgbd_builds_the_point_branch_on_a_base_checkpoint(tiny_paligemma_path, tmp_path):
    from spatialforge.models.rgbd import convert_base_checkpoint
    from spatialforge.train.config import ModelConfig
    from spatialforge.train.recipes import load_model_and_processor

    model, _ = load_model_and_processor(ModelConfig(str(tiny_paligemma_path), dtype="float32", rgbd={}))
    assert model.config.point_branch["encoding"] == "xyz" and "model.point_projector.weight" in model.state_dict()
    rgbd_dir = convert_base_checkpoint(tiny_paligemma_path, tmp_path / "rgbd", point_encoding="relative_depth")
    again, _ = load_model_and_processor(ModelConfig(rgbd_dir, dtype="float32", rgbd={}))  # loaded as it is
    assert again.config.point_branch["encoding"] == "relative_depth"
    with pytest.raises(ValueError, match="model.rgbd"):
        ModelConfig("m", rgbd={"bogus": 1})
