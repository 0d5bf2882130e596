"""Training recipes: one YAML file = model + data + (LoRA) + trainer arguments.

::

    kind: grpo                      # or sft
    model: {name_or_path: Qwen/Qwen2.5-VL-3B-Instruct, dtype: bfloat16}
    data: {train: data/spatial, prompt: think, task_ratios: null}
    lora: null                      # or {r: 16, alpha: 32, dropout: 0.05, target_modules: all-linear}
    training:                       # SpatialGRPOConfig (grpo) / trl.SFTConfig (sft) keyword arguments
      output_dir: runs/grpo
      consistency: paper

``--override key=value`` edits any entry by its dotted path (``training.learning_rate=1e-5``,
``data.train=/data/x``, ``lora=null``); values are parsed as YAML scalars.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from transformers import AutoConfig, AutoModelForImageTextToText
from trl import SFTConfig

from ..checks import data_path, model_source
from ..errors import ConfigError
from ..models.loading import load_processor
from ..models.rgbd import RGBD_MODEL_TYPES, base_model_type, from_base, register_auto_classes
from ..models.tiny import PALIGEMMA_CHAT_TEMPLATE, resolve_model_path
from .config import DataConfig, LoraOptions, ModelConfig, SpatialGRPOConfig

RECIPE_KINDS = ("sft", "grpo")
_SECTIONS = ("kind", "model", "data", "lora", "training")
_NO_STRATEGIES = ("save_strategy", "eval_strategy", "logging_strategy", "hub_strategy", "report_to")


class RecipeError(ConfigError):
    """A recipe file or override is malformed; the message says where and how to fix it."""


@dataclass
class Recipe:
    kind: str
    model: ModelConfig
    data: DataConfig
    training: dict[str, Any] = field(default_factory=dict)
    lora: LoraOptions | None = None

    def __post_init__(self) -> None:
        if self.kind not in RECIPE_KINDS:
            raise RecipeError(f"recipe kind must be one of {RECIPE_KINDS}, got {self.kind!r}")
        if "output_dir" not in self.training:
            raise RecipeError("training.output_dir is required (where checkpoints and the final model go)")

    def training_args(self):
        """The trainer arguments: ``SpatialGRPOConfig`` (grpo) or ``trl.SFTConfig`` (sft)."""
        kw = dict(self.training)
        kw.pop("resume_from_checkpoint", None)  # passed to Trainer.train, see resume_arg
        for key in _NO_STRATEGIES:  # YAML reads a bare `no` as False
            if kw.get(key) is False:
                kw[key] = "none" if key == "report_to" else "no"
        cls = SpatialGRPOConfig if self.kind == "grpo" else SFTConfig
        try:
            return cls(**kw)
        except TypeError as e:
            raise RecipeError(f"training section: {e} (see {cls.__name__} for the valid keys)") from None
        except ValueError as e:  # the trainer arguments validate themselves (e.g. bf16 without a GPU)
            raise RecipeError(f"training section: {e}") from None

    @property
    def resume_arg(self) -> bool | str | None:
        """``Trainer.train(resume_from_checkpoint=...)``: ``true``/``last`` -> latest checkpoint, a path, or None."""
        v = self.training.get("resume_from_checkpoint")
        if v in (None, False, "", "none", "null"):
            return None
        if v is True or str(v).lower() in ("true", "last", "latest"):
            return True
        return str(v)


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = tree
    for k in keys[:-1]:
        if node.get(k) is None:
            node[k] = {}
        if not isinstance(node[k], dict):
            raise RecipeError(f"override {dotted!r}: {k!r} is not a section")
        node = node[k]
    node[keys[-1]] = value


def apply_overrides(tree: dict[str, Any], overrides: list[str] | tuple[str, ...] = ()) -> dict[str, Any]:
    """A copy of ``tree`` with ``key.path=value`` overrides applied (values parsed as YAML)."""
    tree = copy.deepcopy(tree)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise RecipeError(f"override {item!r} must look like key.path=value (e.g. training.max_steps=10)")
        key = key.strip()
        if key.split(".")[0] not in _SECTIONS:
            raise RecipeError(f"override {item!r}: the first key must be one of {_SECTIONS}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            raise RecipeError(f"override {item!r}: the value is not a YAML scalar, list or mapping") from None
        _set_dotted(tree, key, value)
    return tree


def recipe_from_dict(tree: dict[str, Any], source: str = "<dict>") -> Recipe:
    unknown = sorted(set(tree) - set(_SECTIONS))
    if unknown:
        raise RecipeError(f"{source}: unknown top-level key(s) {unknown}; expected {list(_SECTIONS)}")
    for name in ("kind", "model", "data", "training"):
        if tree.get(name) is None:
            raise RecipeError(f"{source}: missing section {name!r}")
    if isinstance(tree["data"], dict) and not tree["data"].get("train"):
        raise RecipeError(f"{source}: data.train is required (a dataset folder or Parquet/JSON files)")
    try:
        model = ModelConfig(**tree["model"])
        data = DataConfig(**tree["data"])
        lora = LoraOptions(**tree["lora"]) if tree.get("lora") else None
    except (TypeError, ValueError) as e:  # the config dataclasses validate themselves
        raise RecipeError(f"{source}: {e}") from None
    return Recipe(kind=tree["kind"], model=model, data=data, training=dict(tree["training"]), lora=lora)


def load_recipe(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read a recipe YAML, apply ``overrides``, validate every section."""
    path = Path(path)
    try:
        tree = yaml.safe_load(path.read_text()) or {}
    except OSError as e:
        raise RecipeError(f"cannot read recipe {path}: {e}") from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RecipeError(f"{path}: not valid YAML{where} ({getattr(e, 'problem', None) or e})") from None
    if not isinstance(tree, dict):
        raise RecipeError(f"{path}: a recipe is a YAML mapping with sections {list(_SECTIONS)}")
    return recipe_from_dict(apply_overrides(tree, overrides), str(path))


def validate_recipe(recipe: Recipe) -> Recipe:
    """Check that the recipe's model and data paths exist before anything is loaded.

    A hub id must be cached or known to the hub (one short request); ``tiny:`` models are built
    on first use. Raises :class:`~spatialforge.errors.ConfigError` naming the recipe key."""
    for key, name in (("model.name_or_path", recipe.model.name_or_path), ("model.processor", recipe.model.processor)):
        if name and not str(name).startswith("tiny:"):
            model_source(str(name), key)
    for key in ("train", "eval", "general"):
        if getattr(recipe.data, key):
            data_path(getattr(recipe.data, key), f"data.{key}")
    return recipe


def load_model_and_processor(model_cfg: ModelConfig):
    """``(model, processor)`` for a vision-language checkpoint (hub id or local folder).

    Call after building the training arguments, so DeepSpeed ZeRO-3 can shard at load time.
    """
    register_auto_classes()  # an RGB-D checkpoint loads through the Auto classes below
    name = resolve_model_path(model_cfg.name_or_path)
    kw = model_cfg.load_kwargs()
    if model_cfg.rgbd is not None and not _is_rgbd_checkpoint(name, model_cfg.trust_remote_code):
        model = from_base(name, dtype=model_cfg.dtype, device="cpu", **model_cfg.rgbd)  # base weights + a new point branch
    else:
        model = AutoModelForImageTextToText.from_pretrained(name, **kw)
    processor = load_processor(resolve_model_path(model_cfg.processor or name),
                               trust_remote_code=model_cfg.trust_remote_code)
    ensure_chat_template(processor, model.config)
    return model, processor


def _is_rgbd_checkpoint(name: str, trust_remote_code: bool = False) -> bool:
    register_auto_classes()  # AutoConfig must know the RGB-D model types to read their config
    return AutoConfig.from_pretrained(name, trust_remote_code=trust_remote_code).model_type in RGBD_MODEL_TYPES


def model_and_processor(model_cfg: ModelConfig, model: Any = None, processor: Any = None):
    """``(model, processor)``, loading from ``model_cfg`` whichever was not given."""
    if model is None:
        model, loaded = load_model_and_processor(model_cfg)
        processor = processor or loaded
    if processor is None:
        processor = load_processor(resolve_model_path(model_cfg.processor or model_cfg.name_or_path))
    return model, processor


def ensure_chat_template(processor, config) -> None:
    """PaliGemma checkpoints ship no chat template, which TRL's conversational data needs:
    give them the minimal one of :mod:`spatialforge.models.tiny` (image tokens, then the text)."""
    if getattr(processor, "chat_template", None) or base_model_type(config) != "paligemma":  # RGB-D ones too
        return
    processor.chat_template = PALIGEMMA_CHAT_TEMPLATE


def run_recipe(recipe: Recipe):
    """Train with a recipe; returns the trainer (its ``state.log_history`` holds the metrics)."""
    if recipe.kind == "sft":
        from .sft import run_sft  # deferred: a real cycle, sft.py and grpo.py import this module

        return run_sft(recipe)
    from .grpo import run_grpo  # deferred: as above

    return run_grpo(recipe)
