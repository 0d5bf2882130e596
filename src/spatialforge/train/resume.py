"""Resuming that restores the weights, not just the step count.

Trainer's ``_load_from_checkpoint`` reads ``model.safetensors`` with ``load_state_dict(...,
strict=False)``; the checkpoint holds the architecture's original key names, the live model
the new ones, so nothing matched and a resumed run silently continued from the base weights
with the trained optimizer state.  :class:`ResumeWeightsMixin` loads those weights through
:func:`spatialforge.models.checkpoint.load_saved_weights` (renamed keys, loud on mismatch).
Adapter (PEFT), FSDP and DeepSpeed checkpoints keep Trainer's own loaders.
"""

from __future__ import annotations

from typing import Any

from transformers.trainer import _is_peft_model

from ..models.checkpoint import has_saved_weights, load_saved_weights


class ResumeWeightsMixin:
    """Put first in the bases of a ``transformers.Trainer`` subclass."""

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
        target = self.model if model is None else model
        if self.is_fsdp_enabled or _is_peft_model(target) or not has_saved_weights(resume_from_checkpoint):
            return super()._load_from_checkpoint(resume_from_checkpoint, model)
        load_saved_weights(target, resume_from_checkpoint)
