"""Spatial-GRPO (SVQA-R1 section 3.3) as a subclass of TRL's ``GRPOTrainer``.

Override points, nothing forked (tested on TRL 1.16; each is the minimum the feature needs):

- ``_get_train_sampler`` / ``_get_eval_sampler`` (Transformers' ``Trainer`` hooks):
  :class:`~.sampler.PairRepeatSampler`, so a pair's original and mirrored prompts (G
  completions each) are in the same generation batch for any number of processes,
  per-device batch and gradient accumulation.
- ``_calculate_rewards`` (TRL): called through ``super()``; its result -- the rewards gathered
  from every process, one column per reward function, in sampler order -- is returned
  unchanged, and the consistency mode's advantages are computed from it
  (:func:`~.consistency.mode_advantages`).  So every logged reward (train and eval) is the
  reward functions' own, before any penalty or agreement term.
- ``_generate_and_score_completions`` (TRL): in training, with a mode other than ``"none"``,
  the advantages TRL returned are replaced by the mode's, and so are the ones TRL put in its
  completions table (``_logs["advantages"]``, the one private attribute touched).  In
  evaluation nothing is replaced: advantages do not matter there.

Logged through TRL's ``log_metric`` (under ``consistency/``): ``delta`` (mean signed Delta of
the answer reward), ``abs_delta``, ``answer_original`` / ``answer_mirrored`` (r^s per view),
``agreement`` (mean a_i: the share of cross-view completion pairs that agree after
mirroring, every mode, when rows carry typed answers) and, for paper / joint / agreement,
``changed_frac`` (share of pairs whose rewards the mode changed), ``cancelled_frac`` (share
of those whose advantages normalisation left exactly as without the change, whatever the
cause), ``advantage_change`` (mean |A - A_plain GRPO|), ``penalised_frac`` (paper, joint).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import torch
from accelerate.utils import gather_object
from datasets import IterableDataset
from trl import GRPOTrainer

from ..errors import ConfigError
from ..models.loading import pad_left_for_generation
from ..models.rgbd import expose_on_transformers_module
from ..rewards.combine import build_rewards
from ..rewards.format import completion_to_text
from .agreement import agreement_shares, parse_inputs
from .config import SpatialGRPOConfig
from .consistency import GroupLayout, ModeResult, group_layout, mode_advantages
from .data import prepare_datasets
from .grpo_inputs import GRPOInputsMixin, check_rgbd_vllm
from .recipes import model_and_processor
from .resume import ResumeWeightsMixin
from .sampler import PairRepeatSampler, check_pair_batching, find_pairs


def dataset_pairs(dataset, what: str = "train_dataset") -> list[tuple[int, int]]:
    """(original, mirrored) row pairs of a map-style dataset with ``pair_id`` and ``view`` columns."""
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
            reward_funcs, weights = build_rewards(
                args.answer_reward, args.semantic_model, args.format_weight, args.semantic_weight
            )
            if args.reward_weights is None:  # on a copy: the caller's config stays as it was
                args = copy.copy(args)
                args.reward_weights = weights
        if args.pair_sampling:
            check_pair_batching(args.generation_batch_size, args.num_generations)
        check_rgbd_vllm(model, args)
        expose_on_transformers_module()  # TRL's reference copy looks the RGB-D class up by name
        if kwargs.get("processing_class") is not None:  # TRL pads left only the processors it loads itself
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
        if args.consistency == "agreement":
            missing = [c for c in ("answer_struct", "eval_type") if c not in (self.train_dataset.column_names or [])]
            if missing:
                raise ConfigError(f"consistency='agreement' parses answers by type and needs the {missing} column(s) "
                                  "of `spatialforge generate` data in train_dataset")
        self._mode_advantages: torch.Tensor | None = None
        self.last_layout: GroupLayout | None = None  # the last scored batch, for inspection and tests
        self.last_result: ModeResult | None = None
        self.last_agreement: torch.Tensor | None = None
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
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        self._mode_advantages = None
        if self._answer_index is None or not self.args.pair_sampling:
            return rewards_per_func
        mode = "train" if self.model.training else "eval"
        g = self.num_generations if mode == "train" else self.num_generations_eval
        pair_ids = gather_object([str(x.get("pair_id") or "") for x in inputs])
        views = gather_object([str(x.get("view") or "") for x in inputs])
        layout = group_layout(pair_ids, views, g)
        self.last_layout = layout
        if mode == "train" and layout.unpaired:
            raise RuntimeError(
                f"{len(layout.unpaired)} prompt groups of this generation batch have no mirror partner although "
                "pair sampling is on; a custom sampler or dataloader must keep pairs together"
            )
        if layout.pairs:
            self._consistency(rewards_per_func, layout, inputs, completions, mode)
        return rewards_per_func  # unchanged: logged rewards are the reward functions' own

    def _consistency(self, rewards_per_func: torch.Tensor, layout: GroupLayout, inputs, completions,
                     mode: str) -> None:
        """The mode's advantages (kept for training) and the ``consistency/`` metrics."""
        args, k = self.args, self._answer_index
        weights = self.reward_weights.to(rewards_per_func.device)
        total = (rewards_per_func * weights.unsqueeze(0)).nansum(dim=1)  # TRL's r = sum_k w_k r_k
        total[torch.isnan(rewards_per_func).all(dim=1)] = torch.nan  # unscorable rows, as TRL
        answer = rewards_per_func[:, k]
        typed_rows = "answer_struct" in inputs[0] and "eval_type" in inputs[0]
        agreement = None
        if typed_rows or args.consistency == "agreement":
            parsed = gather_object(parse_inputs([completion_to_text(c) for c in completions], inputs))
            agreement = agreement_shares(parsed, layout).to(total.device)
        result = mode_advantages(
            total, answer, layout, args.consistency, answer_weight=float(weights[k]),
            threshold=args.consistency_threshold, eta=args.consistency_eta, agreement=agreement,
            agreement_weight=args.consistency_weight, scale_rewards=args.scale_rewards,
        )
        self.last_result, self.last_agreement = result, agreement
        if mode == "train" and args.consistency != "none":
            self._mode_advantages = result.advantages  # swapped in by _generate_and_score_completions
        orig, mirr = layout.view_mask("original").to(total.device), layout.view_mask("mirrored").to(total.device)
        metrics = {"delta": torch.nanmean(result.deltas), "abs_delta": torch.nanmean(result.deltas.abs()),
                   "answer_original": torch.nanmean(answer[orig]), "answer_mirrored": torch.nanmean(answer[mirr])}
        if agreement is not None:
            metrics["agreement"] = torch.nanmean(agreement)
        if args.consistency != "none":
            metrics.update(changed_frac=result.changed.float().mean(), cancelled_frac=result.cancelled_frac,
                           advantage_change=result.advantage_change)
        if args.consistency in ("paper", "joint"):
            metrics["penalised_frac"] = result.penalised_frac
        for name, value in metrics.items():
            value = float(value)
            if value == value:  # NaN (nothing to average) is not logged
                self._log_metric(f"consistency/{name}", value)

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        if self._mode_advantages is not None:
            adv = self._mode_advantages.to(output["advantages"].device)
            n = len(output["advantages"])
            start = self.accelerator.process_index * n
            output["advantages"] = adv[start : start + n]
            logged = self._logs["advantages"]  # TRL's completions table: the batch's last len(adv) entries
            for _ in range(min(len(adv), len(logged))):
                logged.pop()
            logged.extend(adv.tolist())
            self._mode_advantages = None
        return output


# Our GRPO path (rewards, RGB-D point-map inputs, the agreement groups) is built and tested per image.
GRPO_SINGLE_IMAGE = "GRPO training takes one image per row (multi-image rows: SFT on a model that takes them)"


def build_grpo_trainer(recipe, model: Any = None, processor: Any = None, reward_funcs: Any = None,
                       callbacks: list | None = None, point_map_estimator: Any = None) -> SpatialGRPOTrainer:
    """A :class:`SpatialGRPOTrainer` for a grpo :class:`~spatialforge.train.recipes.Recipe`
    (``point_map_estimator``: image -> point map, for RGB-D models on rows without depth)."""
    if recipe.kind != "grpo":
        raise ValueError(f"build_grpo_trainer needs a grpo recipe, got kind={recipe.kind!r}")
    args = recipe.training_args()  # before loading the model: DeepSpeed ZeRO-3 init needs it
    model, processor = model_and_processor(recipe.model, model, processor)
    train, evald = prepare_datasets(recipe.data, "grpo", single_image=GRPO_SINGLE_IMAGE)
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
