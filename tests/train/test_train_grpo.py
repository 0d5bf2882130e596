"""Spatial-GRPO on a tiny real Qwen2.5-VL built offline: config defaults and validation, one
real step per consistency mode and logged metrics (resuming: test_train_resume.py)."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoModelForImageTextToText
from trl import GRPOConfig

from spatialforge.models.loading import load_processor
from spatialforge.train.config import SpatialGRPOConfig
from spatialforge.train.consistency import mode_advantages
from spatialforge.train.data import to_grpo_dataset
from spatialforge.train.grpo import SpatialGRPOTrainer
from tests.fixtures_models import tiny_qwen_path  # noqa: F401

CPU = dict(use_cpu=True, bf16=False, gradient_checkpointing=False, report_to=[], logging_steps=1,
           save_strategy="no", max_completion_length=6, learning_rate=1e-3, seed=0)


def make_args(tmp_path, **kw):
    return SpatialGRPOConfig(output_dir=str(tmp_path / "out"), **{**CPU, "per_device_train_batch_size": 4,
                                                                   "gradient_accumulation_steps": 1,
                                                                   "num_generations": 2, "max_steps": 1, **kw})


def make_trainer(path, args, dataset, reward_funcs=None):
    model = AutoModelForImageTextToText.from_pretrained(path)
    return SpatialGRPOTrainer(model=model, reward_funcs=reward_funcs, args=args,
                              train_dataset=to_grpo_dataset(dataset, "think"), processing_class=load_processor(path))


def test_defaults_are_the_papers_and_differ_from_trl(tmp_path):
    ours, trl = SpatialGRPOConfig(output_dir=str(tmp_path), use_cpu=True, bf16=False), GRPOConfig(
        output_dir=str(tmp_path), use_cpu=True, bf16=False)
    paper = dict(loss_type="grpo", beta=0.04, num_generations=8, epsilon=0.2, max_completion_length=2048,
                 gradient_accumulation_steps=2, per_device_train_batch_size=8, consistency="paper",
                 consistency_threshold=0.5, consistency_eta=1.0, format_weight=0.5, semantic_weight=0.5,
                 answer_reward="semantic", scale_rewards="group")
    assert {k: getattr(ours, k) for k in paper} == paper
    for k in ("loss_type", "beta", "max_completion_length", "gradient_accumulation_steps"):
        assert getattr(trl, k) != getattr(ours, k) and f"``{k}=" in SpatialGRPOConfig.__doc__


@pytest.mark.parametrize("kw,match", [
    (dict(per_device_train_batch_size=2, num_generations=2), "even number of prompts"),
    (dict(consistency="both"), "consistency must be one of"),
    (dict(pair_sampling=False), "set pair_sampling=True"),
    (dict(consistency_eta=-1.0), "consistency_eta must be >= 0"),
    (dict(consistency_weight=-0.5), "consistency_weight must be >= 0"),
    (dict(multi_objective_aggregation="normalize_then_sum"), "sum_then_normalize"),
])
def test_config_errors_say_the_fix(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        make_args(tmp_path, **kw)


def test_dataset_without_pairs_is_rejected(tmp_path, tiny_qwen_path, pair_dataset):
    no_pairs = pair_dataset.remove_columns(["pair_id"])
    with pytest.raises(ValueError, match=r"\['pair_id'\] column.*--mirror"):
        make_trainer(tiny_qwen_path, make_args(tmp_path, reward_weights=[0.5, 0.5]), no_pairs, fixed_rewards())
    with pytest.raises(ValueError, match="corrects the reward named 'semantic'.*consistency_reward"):
        make_trainer(tiny_qwen_path, make_args(tmp_path), pair_dataset, [lambda completions, **k: [0.0]])


def _params(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def test_one_real_step_with_the_paper_rewards(tmp_path, tiny_qwen_path, pair_dataset):
    trainer = make_trainer(tiny_qwen_path, make_args(tmp_path, per_device_train_batch_size=8), pair_dataset)
    assert trainer.reward_func_names == ["format", "semantic"] and trainer.reward_weights.tolist() == [0.5, 0.5]
    before = _params(trainer.model)
    trainer.train()
    changed = [n for n, p in trainer.model.named_parameters() if not torch.equal(p, before[n])]
    assert changed, "no parameter moved"
    logs = trainer.state.log_history[0]
    for key in ("consistency/delta", "consistency/abs_delta", "consistency/penalised_frac",
                "consistency/changed_frac", "consistency/cancelled_frac", "consistency/advantage_change",
                "consistency/answer_original", "consistency/answer_mirrored", "consistency/agreement",
                "rewards/format/mean", "rewards/semantic/mean", "kl"):
        assert key in logs, key
    assert 0.0 <= logs["consistency/penalised_frac"] <= 0.5  # only one view of a pair is ever penalised
    _check_logged_advantages(trainer)


def fixed_rewards():
    """Deterministic rewards that differ by view, so Delta != 0 and every original sample is > delta."""

    def format(completions, **kw):  # noqa: A001 - the column name TRL shows
        return [1.0] * len(completions)

    def semantic(completions, view, **kw):
        return [(0.9 if v == "original" else 0.3) + 0.01 * (len(c[0]["content"]) % 5)
                for c, v in zip(completions, view)]

    return [format, semantic]


@pytest.mark.parametrize("mode", ["paper", "joint"])
def test_correction_effect_by_mode(tmp_path, tiny_qwen_path, pair_dataset, mode):
    args = make_args(tmp_path, per_device_train_batch_size=8, consistency=mode, reward_weights=[0.5, 0.5])
    trainer = make_trainer(tiny_qwen_path, args, pair_dataset, reward_funcs=fixed_rewards())
    trainer.train()
    logs = trainer.state.log_history[0]
    assert logs["consistency/delta"] > 0.5 and logs["consistency/penalised_frac"] == 0.5
    assert logs["consistency/changed_frac"] == 1.0
    assert logs["rewards/semantic/mean"] > 0.6  # the logged rewards are the reward function's, unpenalised
    if mode == "paper":  # the whole better group is above delta: per-group normalisation cancels the penalty
        assert logs["consistency/cancelled_frac"] == 1.0
        assert logs["consistency/advantage_change"] == pytest.approx(0.0, abs=1e-5)
    else:  # the penalty moves the original view's advantages below the mirrored view's
        assert logs["consistency/cancelled_frac"] == 0.0
        assert logs["consistency/advantage_change"] > 0.1
    _check_logged_advantages(trainer)


def test_agreement_mode_step(tmp_path, tiny_qwen_path, pair_dataset):
    args = make_args(tmp_path, per_device_train_batch_size=8, consistency="agreement", answer_reward="typed")
    trainer = make_trainer(tiny_qwen_path, args, pair_dataset)
    trainer.train()
    logs = trainer.state.log_history[0]
    assert 0.0 <= logs["consistency/agreement"] <= 1.0 and "consistency/changed_frac" in logs
    assert trainer.last_agreement is not None and not torch.isnan(trainer.last_agreement).any()
    _check_logged_advantages(trainer)
    with pytest.raises(ValueError, match="answer_struct"):
        make_trainer(tiny_qwen_path, args, pair_dataset.remove_columns(["answer_struct"]))


def test_trainer_leaves_the_callers_config_alone(tmp_path, tiny_qwen_path, pair_dataset):
    args = make_args(tmp_path)
    trainer = make_trainer(tiny_qwen_path, args, pair_dataset)
    assert args.reward_weights is None and trainer.reward_weights.tolist() == [0.5, 0.5]


def test_eval_rewards_are_logged_before_the_penalty(tmp_path, tiny_qwen_path, pair_dataset):
    args = make_args(tmp_path, per_device_train_batch_size=8, reward_weights=[0.5, 0.5], per_device_eval_batch_size=4)
    model = AutoModelForImageTextToText.from_pretrained(tiny_qwen_path)
    data = to_grpo_dataset(pair_dataset, "think")
    trainer = SpatialGRPOTrainer(model=model, reward_funcs=fixed_rewards(), args=args, train_dataset=data,
                                 eval_dataset=data.select(range(4)), processing_class=load_processor(tiny_qwen_path))
    metrics = trainer.evaluate()
    # originals score ~0.92, mirrors ~0.32: the raw mean is ~0.62; penalised originals would make it ~0.32
    assert metrics["eval_consistency/delta"] > 0.5
    assert metrics["eval_rewards/semantic/mean"] == pytest.approx(0.62, abs=0.03)


def _check_logged_advantages(trainer):
    """The advantages TRL logged for the last generation batch follow from its logged (raw) rewards."""
    n = len(trainer._logs["prompt"])
    rewards = torch.stack([torch.tensor(list(trainer._logs["rewards"][k]))[-n:] for k in trainer.reward_func_names], 1)
    total = (rewards * trainer.reward_weights).sum(1)
    logged = torch.tensor(list(trainer._logs["advantages"])[-n:])
    layout, args = trainer.last_layout, trainer.args
    assert layout.num_groups * layout.num_generations == n and not layout.unpaired
    k = trainer._answer_index
    expected = mode_advantages(total, rewards[:, k], layout, args.consistency, answer_weight=args.semantic_weight,
                               threshold=args.consistency_threshold, eta=args.consistency_eta,
                               agreement=trainer.last_agreement, agreement_weight=args.consistency_weight,
                               scale_rewards=args.scale_rewards)
    assert torch.allclose(logged, expected.advantages, atol=1e-4)


def test_typed_answer_reward_is_the_corrected_column(tmp_path, tiny_qwen_path, pair_dataset):
    trainer = make_trainer(tiny_qwen_path, make_args(tmp_path, answer_reward="typed"), pair_dataset)
    assert trainer.reward_func_names == ["format", "typed"] and trainer._answer_index == 1
    batch = to_grpo_dataset(pair_dataset, "think").select(range(2))
    done = [[{"role": "assistant", "content": f"<think>t</think> <answer>{a}</answer>"}] for a in batch["answer"]]
    cols = {k: batch[k] for k in batch.column_names if k not in ("prompt", "image")}
    assert trainer.reward_funcs[1](done, **cols) == [1.0, 1.0]


def test_the_trl_internals_we_override_are_still_there():
    """A TRL upgrade that renames or re-signs what SpatialGRPOTrainer overrides fails here, not mid-run."""
    import inspect

    from trl import GRPOTrainer

    params = list(inspect.signature(GRPOTrainer._calculate_rewards).parameters)
    assert params == ["self", "inputs", "prompts", "completions", "completion_ids_list"]
    assert list(inspect.signature(GRPOTrainer._generate_and_score_completions).parameters) == ["self", "inputs"]
    assert callable(GRPOTrainer._log_metric) and callable(GRPOTrainer._get_train_sampler)
