"""Training: SFT (TRL ``SFTTrainer``) and Spatial-GRPO (a ``GRPOTrainer`` subclass with a
mirror-pair sampler and the SVQA-R1 view-consistency correction), driven by YAML recipes.

Names are imported lazily (``from spatialforge.train import SpatialGRPOTrainer``), so the
pure modules (``consistency``, ``sampler``) load without TRL.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SpatialGRPOConfig": "config", "ModelConfig": "config", "DataConfig": "config", "LoraOptions": "config",
    "SpatialGRPOTrainer": "grpo", "build_grpo_trainer": "grpo", "run_grpo": "grpo",
    "build_sft_trainer": "sft", "run_sft": "sft",
    "Recipe": "recipes", "RecipeError": "recipes", "load_recipe": "recipes", "run_recipe": "recipes",
    "PairRepeatSampler": "sampler", "check_pair_batching": "sampler", "find_pairs": "sampler",
    "paper_correction": "consistency", "advantages": "consistency", "group_layout": "consistency",
    "to_grpo_dataset": "data", "to_sft_dataset": "data", "resample_by_task": "data", "mix_general": "data",
    "prepare_datasets": "data", "load_qa_dataset": "data",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
