"""Load real vision-language checkpoints (hub id or local path) and their processors.

Machines without torchvision are the norm here (its CPU wheel is broken), and there
``AutoProcessor`` cannot build Qwen2-VL/Qwen2.5-VL processors (their video processor needs
torchvision): it silently returns only the tokenizer.  ``load_processor`` notices that and
assembles an image-only processor from the same files, so callers always get a real
``ProcessorMixin``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache
from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
    ProcessorMixin,
)
from transformers.models.qwen2_5_vl.processing_qwen2_5_vl import Qwen2_5_VLProcessor
from transformers.models.qwen2_vl.processing_qwen2_vl import Qwen2VLProcessor

from ..errors import ConfigError


class ModelLoadError(ConfigError, RuntimeError):
    """A checkpoint or processor could not be loaded; the message names the id and the fix."""


class ImageOnlyQwen2_5_VLProcessor(Qwen2_5_VLProcessor):
    """Qwen2.5-VL processor without the video processor (which needs torchvision).

    ``ProcessorMixin`` derives its sub-processors from the ``__init__`` signature, so leaving
    ``video_processor`` out of it is what makes the processor image-only.
    """

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        super().__init__(image_processor, tokenizer, None, chat_template=chat_template, **kwargs)


class ImageOnlyQwen2VLProcessor(Qwen2VLProcessor):
    """Qwen2-VL counterpart of :class:`ImageOnlyQwen2_5_VLProcessor`."""

    def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
        super().__init__(image_processor, tokenizer, None, chat_template=chat_template, **kwargs)


# model_type -> image-only processor class used when AutoProcessor degrades to a tokenizer.
_IMAGE_ONLY_PROCESSORS: dict[str, type[ProcessorMixin]] = {
    "qwen2_5_vl": ImageOnlyQwen2_5_VLProcessor,
    "qwen2_vl": ImageOnlyQwen2VLProcessor,
}


def _looks_like_local_path(name: str) -> bool:
    # Hub ids are "org/name"; anything absolute, relative-explicit or deeper is a path.
    return name.startswith(("/", "./", "../", "~")) or name.count("/") > 1 or (os.sep != "/" and os.sep in name)


def _offline(local_files_only: bool | None) -> bool:
    return bool(local_files_only) or constants.HF_HUB_OFFLINE


def _check_source(path_or_id: str | os.PathLike, local_files_only: bool | None = None) -> str:
    """A local directory as a string, or a hub id; fails fast on a missing path or an uncached id offline."""
    name = str(path_or_id)
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    if _looks_like_local_path(name):
        raise ModelLoadError(f"{name!r}: no such local model directory")
    if _offline(local_files_only):
        if not isinstance(try_to_load_from_cache(name, "config.json"), str):
            raise ModelLoadError(
                f"{name!r} is not in the local Hugging Face cache and Hub access is off (local_files_only / "
                f"HF_HUB_OFFLINE). Download it on a machine with Hub access (`hf download {name} --local-dir DIR`) "
                "and pass DIR instead."
            )
    return name


def _load_error(name: str, err: Exception, what: str = "model") -> ModelLoadError:
    if Path(name).is_dir():
        return ModelLoadError(f"could not load the {what} of local directory {name!r}: {type(err).__name__}: {err}")
    return ModelLoadError(
        f"could not load the {what} {name!r}: it is not a local directory, and the Hugging Face Hub has no "
        f"cached copy or cannot be reached from here ({type(err).__name__}: {err}). Download it on a "
        f"machine with Hub access (`hf download {name} --local-dir DIR`) and pass DIR instead."
    )


def _read_chat_template(src: str, local_files_only: bool | None) -> str | None:
    """The chat template stored beside a checkpoint (``chat_template.jinja`` or ``.json``)."""
    for fname in ("chat_template.jinja", "chat_template.json"):
        if Path(src).is_dir():
            p = Path(src) / fname
            if not p.is_file():
                continue
        else:
            try:
                p = Path(hf_hub_download(src, fname, local_files_only=bool(local_files_only)))
            except Exception:  # missing file or no network: the tokenizer's template may still exist
                continue
        text = p.read_text(encoding="utf-8")
        return json.loads(text)["chat_template"] if fname.endswith(".json") else text
    return None


def load_processor(path_or_id: str | os.PathLike, *, local_files_only: bool | None = None, **kwargs: Any) -> ProcessorMixin:
    """The multimodal processor of a checkpoint, always a ``ProcessorMixin``.

    When ``AutoProcessor`` cannot build a Qwen2(.5)-VL processor (no torchvision: it fails on
    the video processor, or returns just the tokenizer), an image-only processor is assembled
    from the same tokenizer, image processor and chat template.  ``kwargs`` go to
    ``AutoProcessor`` (and to the image processor in the fallback, e.g. ``max_pixels``).
    Raises :class:`ModelLoadError`.
    """
    _register_rgbd()
    src = _check_source(path_or_id, local_files_only)
    lfo = {"local_files_only": local_files_only} if local_files_only is not None else {}
    try:
        proc = AutoProcessor.from_pretrained(src, **lfo, **kwargs)
    except (OSError, ImportError, ValueError) as e:
        proc, first_error = None, e
    else:
        if isinstance(proc, ProcessorMixin):
            return proc
        first_error = TypeError(f"AutoProcessor returned {type(proc).__name__}, not a multimodal processor")

    try:
        model_type = getattr(AutoConfig.from_pretrained(src, **lfo), "model_type", None)
    except (OSError, ValueError) as e:
        raise _load_error(src, e, "processor") from e
    cls = _IMAGE_ONLY_PROCESSORS.get(model_type)
    if cls is None:
        raise ModelLoadError(
            f"{src!r}: no multimodal processor ({type(first_error).__name__}: {first_error}); there is no "
            f"image-only fallback for model_type {model_type!r} (known: {', '.join(sorted(_IMAGE_ONLY_PROCESSORS))})"
        ) from first_error
    try:
        tokenizer = proc if proc is not None and hasattr(proc, "encode") else AutoTokenizer.from_pretrained(src, **lfo)
        image_processor = AutoImageProcessor.from_pretrained(src, **lfo, **kwargs)
    except (OSError, ValueError) as e:
        raise _load_error(src, e, "processor") from e
    chat_template = _read_chat_template(src, local_files_only) or getattr(tokenizer, "chat_template", None)
    return cls(image_processor=image_processor, tokenizer=tokenizer, chat_template=chat_template)


def pad_left_for_generation(processor: Any) -> Any:
    """Make ``processor`` pad (and truncate) prompts on the left, as batched generation needs.

    TRL's GRPOTrainer loads its processor with ``padding_side="left"`` but uses a given one
    as is, and Qwen2.5-VL's processor defaults to right padding: TRL then left-pads the token
    ids itself while the processor's ``mm_token_type_ids`` stay right-padded, so pad positions
    count as image tokens and ``get_rope_index`` fails on prompts of mixed lengths.
    """
    for obj in (processor, getattr(processor, "tokenizer", None)):
        if obj is not None and hasattr(obj, "padding_side"):
            obj.padding_side = "left"
            obj.truncation_side = "left"
    return processor


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_vlm(
    path_or_id: str | os.PathLike,
    dtype: torch.dtype | str | None = None,
    device: str | torch.device | None = None,
    *,
    local_files_only: bool | None = None,
    **kwargs: Any,
) -> torch.nn.Module:
    """Load any ``AutoModelForImageTextToText`` checkpoint in eval mode.

    ``dtype``: None means float32 on CPU and the checkpoint's own dtype ("auto") elsewhere.
    ``device``: None picks CUDA when present; "auto" shards over the visible GPUs (accelerate).
    """
    _register_rgbd()
    src = _check_source(path_or_id, local_files_only)
    device = str(device) if device is not None else default_device()
    if dtype is None:
        dtype = torch.float32 if device == "cpu" else "auto"
    elif isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    lfo = {"local_files_only": local_files_only} if local_files_only is not None else {}
    load_kwargs: dict[str, Any] = {"dtype": dtype, **lfo, **kwargs}
    if local_files_only:  # transformers does not pass it on to its PEFT adapter lookup
        load_kwargs.setdefault("adapter_kwargs", {"local_files_only": True})
    if device == "auto":
        load_kwargs["device_map"] = "auto"
    try:
        model = AutoModelForImageTextToText.from_pretrained(src, **load_kwargs)
    except OSError as e:
        raise _load_error(src, e) from e
    except ValueError as e:  # unknown architecture for this auto class
        raise ModelLoadError(f"{src!r} is not an image-text-to-text model: {e}") from e
    if device != "auto":
        model = model.to(device)
    return model.eval()


def _register_rgbd() -> None:
    """The RGB-D model types in the Auto classes before a load (deferred import: a real cycle,
    ``rgbd`` imports this module's processor helpers)."""
    from .rgbd import register_auto_classes

    register_auto_classes()
