"""Load a ``save_pretrained`` checkpoint back into a live model (the weights of a resumed run).

``save_pretrained`` writes the checkpoint under the *original* key names of the architecture
(Qwen2.5-VL: ``visual.*``, ``model.layers.*``; PaliGemma: ``language_model.model.*``), while
the live model's ``state_dict`` uses the new ones (``model.visual.*``,
``model.language_model.*``).  ``from_pretrained`` renames on load, but Trainer's resume calls
``model.load_state_dict(..., strict=False)``, which then matches nothing and silently keeps the
base weights (transformers issue #43701).  :func:`load_saved_weights` renames the keys with the
exact inverse of what saving this model does, and fails loudly when keys still do not match.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file
from transformers.core_model_loading import revert_weight_conversion

WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX = "model.safetensors.index.json"


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's weights do not fit the model (missing or unexpected keys after renaming)."""


def saved_key_names(model: torch.nn.Module) -> dict[str, str]:
    """``{name in a save_pretrained checkpoint: name in model.state_dict()}`` for this model.

    Runs transformers' own save-time renaming (``revert_weight_conversion``) on placeholder
    tensors that carry each key's index, so the map is the inverse of what saving wrote.
    """
    keys = list(model.state_dict())
    saved = revert_weight_conversion(model, {k: torch.tensor(i) for i, k in enumerate(keys)})
    if len(saved) != len(keys) or any(t.ndim != 0 for t in saved.values()):
        raise CheckpointMismatchError(
            f"{type(model).__name__} converts (not just renames) weights when saving; loading such a checkpoint "
            "into a live model is not supported here: start from it with from_pretrained instead"
        )
    return {name: keys[int(t)] for name, t in saved.items()}


def read_saved_weights(folder: str | Path) -> dict[str, torch.Tensor]:
    """All tensors of a ``save_pretrained`` folder (one ``model.safetensors`` or an index + shards)."""
    folder = Path(folder)
    if (folder / WEIGHTS_FILE).is_file():
        return load_file(folder / WEIGHTS_FILE, device="cpu")
    if (folder / WEIGHTS_INDEX).is_file():
        shards = sorted(set(json.loads((folder / WEIGHTS_INDEX).read_text())["weight_map"].values()))
        out: dict[str, torch.Tensor] = {}
        for shard in shards:
            out.update(load_file(folder / shard, device="cpu"))
        return out
    raise FileNotFoundError(f"{folder}: no {WEIGHTS_FILE} or {WEIGHTS_INDEX}")


def has_saved_weights(folder: str | Path) -> bool:
    return (Path(folder) / WEIGHTS_FILE).is_file() or (Path(folder) / WEIGHTS_INDEX).is_file()


def load_saved_weights(model: torch.nn.Module, folder: str | Path) -> None:
    """Copy the weights of a ``save_pretrained`` folder into ``model`` (keys renamed to the model's).

    Every model tensor must be loaded, except tied ones (e.g. ``lm_head`` sharing the
    embedding, which saving leaves out); raises :class:`CheckpointMismatchError` otherwise.
    """
    names = saved_key_names(model)
    state = {names.get(k, k): v for k, v in read_saved_weights(folder).items()}
    result = model.load_state_dict(state, strict=False)
    live = model.state_dict(keep_vars=True)
    loaded = {live[k].data_ptr() for k in state if k in live}
    missing = [k for k in result.missing_keys if live[k].data_ptr() not in loaded]  # tied weights were loaded
    if missing or result.unexpected_keys:
        raise CheckpointMismatchError(
            f"{folder}: the checkpoint does not fit {type(model).__name__}: {len(missing)} model weights missing "
            f"(e.g. {missing[:3]}), {len(result.unexpected_keys)} unexpected (e.g. {result.unexpected_keys[:3]}); "
            "was it written by a different model?"
        )
