"""Spatial-GRPO (SVQA-R1 section 3.3) as a subclass of TRL's ``GRPOTrainer``.

Three override points, nothing forked:

- ``_get_train_sampler`` / ``_get_eval_sampler``: :class:`~.sampler.PairRepeatSampler`, so a
  pair's original and mirrored prompts (G completions each) are in the same generation
  batch for any number of processes, per-device batch and gradient accumulation.
- ``_calculate_rewards``: TRL returns the rewards gathered from every process (one column
  per reward function, in sampler order); the answer-reward column r^s is corrected with
  eqs. 2-4 there, before TRL forms ``r = sum_k w_k r_k`` and the per-group advantages.
- ``_generate_and_score_completions``: with ``consistency="joint"`` the advantages TRL
  computed are replaced by advantages normalised over the 2G completions of each pair.

Logged (under ``consistency/``): ``delta`` (mean signed Delta), ``abs_delta``,
``penalised_frac`` (share of completions penalised), ``cancelled_frac`` (share of penalised
pairs where the whole group was penalised, so per-group normalisation cancels it),
``advantage_change`` (mean |A - A_without_correction|: 0 means the correction changed
nothing), and per view ``semantic_original`` / ``semantic_mirrored`` (r^s before the
correction) and ``reward_original`` / ``reward_mirrored`` (weighted total after it).
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from accelerate.utils import gather_object
from trl import GRPOTrainer

from .config import SpatialGRPOConfig
from .consistency import GroupLayout, advantages, group_layout, paper_correction, segment_ids
from .grpo_inputs import GRPOInputsMixin, check_rgbd_vllm
from .resume import ResumeWeightsMixin
from .sampler import PairRepeatSampler, check_pair_batching, find_pairs


def dataset_pairs(dataset, what: str = "train_dataset") -> list[tuple[int, int]]:
    """(original, mirrored) row pairs of a map-style dataset with ``pair_id`` and ``view`` columns."""
    from datasets import IterableDataset

    if isinstance(dataset, IterableDataset):
        raise ValueError(
            f"pair_sampling needs a map-style {what} (an IterableDataset cannot be indexed by pairs); "
            "load it without streaming, or set pair_sampling=False with consistency='none'"
        )
    cols = getattr(dataset, "column_names", None) or []
    missing = [c for c in ("pair_id", "view") if c not in cols]
    if missing:
        raise ValueError(
            f"pair_sampling needs {missing} column(s) in {what} (generate the data with mirroring: "
            "`spatialforge generate --mirror`), or set pair_sampling=False with consistency='none'"
        )
    pairs, unpaired = find_pairs(list(dataset["pair_id"]), list(dataset["view"]))
    if not pairs:
        raise ValueError(f"{what} has no complete original/mirrored pair; generate it with `--mirror`")
    if unpaired:
        warnings.warn(f"{what}: {len(unpaired)} rows without a mirror partner are left out of Spatial-GRPO sampling",
                      stacklevel=3)
    return pairs


class SpatialGRPOTrainer(ResumeWeightsMixin, GRPOInputsMixin, GRPOTrainer):
    """``GRPOTrainer`` with mirror-pair sampling and the SVQA-R1 view-consistency correction.

    ``reward_funcs=None`` builds the paper's rewards from ``args``: ``[format, answer]`` with
    weights ``[args.format_weight, args.semantic_weight]``.  With your own reward functions,
    the one named ``args.answer_reward_name`` is r^s.  Everything else is ``GRPOTrainer``'s.
    """

    def __init__(self, model: Any, reward_funcs: Any = None, args: SpatialGRPOConfig | None = None,
                 point_map_estimator: Any = None, **kwargs: Any):
        if args is None:
            raise ValueError("SpatialGRPOTrainer needs args=SpatialGRPOConfig(output_dir=...)")
        if not isinstance(args, SpatialGRPOConfig):
            raise TypeError(f"args must be a SpatialGRPOConfig, got {type(args).__name__}")
        if reward_funcs is None:
            from ..rewards.combine import build_rewards

            reward_funcs, weights = build_rewards(
                args.answer_reward, args.semantic_model, args.format_weight, args.semantic_weight
            )
            if args.reward_weights is None:
                args.reward_weights = weights
        if args.pair_sampling:
            check_pair_batching(args.generation_batch_size, args.num_generations)
        check_rgbd_vllm(model, args)
        if kwargs.get("processing_class") is not None:  # TRL pads left only the processors it loads itself
            from ..models.loading import pad_left_for_generation

            pad_left_for_generation(kwargs["processing_class"])
        super().__init__(model=model, reward_funcs=reward_funcs, args=args, **kwargs)
        self._answer_index = None
        if args.answer_reward_name in self.reward_func_names:
            self._answer_index = self.reward_func_names.index(args.answer_reward_name)
        elif args.consistency != "none":
            raise ValueError(
                f"consistency={args.consistency!r} corrects the reward named {args.answer_reward_name!r}, but the "
                f"reward functions are {self.reward_func_names}; set consistency_reward to one of them"
            )
        self._train_pairs = dataset_pairs(self.train_dataset) if args.pair_sampling else None
        self._joint_advantages: torch.Tensor | None = None
        self.last_layout: GroupLayout | None = None
        self._setup_inputs(point_map_estimator)  # RGB-D point maps, PaliGemma prompts (grpo_inputs.py)

    # ------------------------------------------------------------------ sampling
    def _get_train_sampler(self, dataset=None):
        if not self.args.pair_sampling:
            return super()._get_train_sampler(dataset)
        same_rows = dataset is None or len(dataset) == len(self.train_dataset)  # column pruning keeps rows
        pairs = self._train_pairs if same_rows else dataset_pairs(dataset)
        return PairRepeatSampler(
            pairs,
            mini_repeat_count=self.num_generations,
            batch_size=self.args.generation_batch_size // self.num_generations,
            repeat_count=self.num_iterations * self.args.steps_per_generation,
            shuffle=self.shuffle_dataset,
            seed=self.args.seed,
        )

    def _get_eval_sampler(self, eval_dataset):
        cols = getattr(eval_dataset, "column_names", None) or []
        if not self.args.pair_sampling or "pair_id" not in cols or "view" not in cols:
            return super()._get_eval_sampler(eval_dataset)
        return PairRepeatSampler(
            dataset_pairs(eval_dataset, "eval_dataset"), mini_repeat_count=self.num_generations_eval,
            batch_size=2, seed=self.args.seed,
        )

    # ------------------------------------------------------------------ rewards
    def _calculate_rewards(self, inputs, *args, **kwargs):
        rewards_per_func = super()._calculate_rewards(inputs, *args, **kwargs)  # gathered, (N_all, F)
        self._joint_advantages = None
        if self._answer_index is None or not self.args.pair_sampling:
            return rewards_per_func
        mode = "train" if self.model.training else "eval"
        g = self.num_generations if mode == "train" else self.num_generations_eval
        pair_ids = gather_object([str(x.get("pair_id") or "") for x in inputs])
        views = gather_object([str(x.get("view") or "") for x in inputs])
        layout = group_layout(pair_ids, views, g)
        self.last_layout = layout  # the pairs of the last scored batch (for inspection and tests)
        if mode == "train" and layout.unpaired:
            raise RuntimeError(
                f"{len(layout.unpaired)} prompt groups of this generation batch have no mirror partner although "
                "pair sampling is on; a custom sampler or dataloader must keep pairs together"
            )
        if not layout.pairs:
            return rewards_per_func
        return self._apply_consistency(rewards_per_func, layout, mode)

    def _apply_consistency(self, rewards_per_func: torch.Tensor, layout: GroupLayout, mode: str) -> torch.Tensor:
        """Correct the r^s column (eqs. 2-4), prepare joint advantages, log the ``consistency/`` metrics."""
        args, k = self.args, self._answer_index
        weights = self.reward_weights.to(rewards_per_func.device)
        unscorable = torch.isnan(rewards_per_func).all(dim=1)

        def total(rpf: torch.Tensor) -> torch.Tensor:  # TRL's r = sum_k w_k r_k (NaN rows stay NaN)
            r = (rpf * weights.unsqueeze(0)).nansum(dim=1)
            r[unscorable] = torch.nan
            return r

        raw = rewards_per_func[:, k].clone()
        corrected = rewards_per_func
        m = self._metrics[mode]
        if args.consistency == "none":
            grouped = raw.view(-1, layout.num_generations)
            deltas = torch.stack([torch.nanmean(grouped[a]) - torch.nanmean(grouped[b]) for a, b in layout.pairs])
        else:
            corr = paper_correction(raw, layout, args.consistency_threshold, args.consistency_eta)
            deltas = corr.deltas
            corrected = rewards_per_func.clone()
            corrected[:, k] = corr.rewards
            seg = segment_ids(layout, joint=args.consistency == "joint")
            adv = advantages(total(corrected), seg, args.scale_rewards)
            if args.consistency == "joint":
                self._joint_advantages = adv  # swapped in by _generate_and_score_completions
            plain = advantages(total(rewards_per_func), seg, args.scale_rewards)
            m["consistency/penalised_frac"].append(corr.penalised_frac)
            m["consistency/cancelled_frac"].append(corr.cancelled_frac)
            m["consistency/advantage_change"].append((adv - plain).abs().mean().item())
        r_total = total(corrected)
        orig, mirr = layout.view_mask("original").to(raw.device), layout.view_mask("mirrored").to(raw.device)
        m["consistency/delta"].append(torch.nanmean(deltas).item())
        m["consistency/abs_delta"].append(torch.nanmean(deltas.abs()).item())
        m["consistency/semantic_original"].append(torch.nanmean(raw[orig]).item())
        m["consistency/semantic_mirrored"].append(torch.nanmean(raw[mirr]).item())
        m["consistency/reward_original"].append(torch.nanmean(r_total[orig]).item())
        m["consistency/reward_mirrored"].append(torch.nanmean(r_total[mirr]).item())
        return corrected

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        if self._joint_advantages is not None:
            n = len(inputs)
            start = self.accelerator.process_index * n
            adv = self._joint_advantages.to(output["advantages"].device)
            output["advantages"] = adv[start : start + n]
            logged = self._logs["advantages"]  # TRL logged the per-group ones for the whole batch
            for _ in range(min(len(adv), len(logged))):
                logged.pop()
            logged.extend(adv.tolist())
            self._joint_advantages = None
        return output


def build_grpo_trainer(recipe, model: Any = None, processor: Any = None, reward_funcs: Any = None,
                       callbacks: list | None = None, point_map_estimator: Any = None) -> SpatialGRPOTrainer:
    """A :class:`SpatialGRPOTrainer` for a grpo :class:`~spatialforge.train.recipes.Recipe`
    (``point_map_estimator``: image -> point map, for RGB-D models on rows without depth)."""
    from .data import prepare_datasets
    from .recipes import model_and_processor

    if recipe.kind != "grpo":
        raise ValueError(f"build_grpo_trainer needs a grpo recipe, got kind={recipe.kind!r}")
    args = recipe.training_args()  # before loading the model: DeepSpeed ZeRO-3 init needs it
    model, processor = model_and_processor(recipe.model, model, processor)
    train, evald = prepare_datasets(recipe.data, "grpo")
    return SpatialGRPOTrainer(
        model=model,
        reward_funcs=reward_funcs,
        args=args,
        train_dataset=train,
        eval_dataset=evald,
        processing_class=processor,
        peft_config=recipe.lora.to_peft(model) if recipe.lora else None,
        callbacks=callbacks,
        point_map_estimator=point_map_estimator,
    )


def run_grpo(recipe, **kwargs: Any) -> SpatialGRPOTrainer:
    """Build the trainer, train (resuming when ``training.resume_from_checkpoint`` says so), save."""
    trainer = build_grpo_trainer(recipe, **kwargs)
    trainer.train(resume_from_checkpoint=recipe.resume_arg)
    trainer.save_model()
    return trainer
