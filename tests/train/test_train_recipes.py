"""Recipe YAML files: every shipped config loads and validates; overrides; errors say the fix."""

from pathlib import Path

import pytest

from spatialforge.train.recipes import RecipeError, apply_overrides, load_recipe, resolve_model_path

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
    with pytest.raises(RecipeError, match="unknown tiny model"):
        resolve_model_path("tiny:llama")
