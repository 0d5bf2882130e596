"""RGB-D vision-language models: a base VLM plus the HiSpatial point-map branch (section 3.3).

Fusion (HiSpatial appendix 6.1-6.2): the vision features and the point features of the same
patch are concatenated and go through the projector, whose RGB half is the pretrained
projector and whose point half is zero-initialised.  We store the two halves as two layers,
``projector(v)`` (the pretrained module, state-dict keys unchanged) and ``point_projector(p)``
(``ZeroLinear``, no bias)::

    Linear([v; p]) = W_v v + b + W_p p        (exactly the concatenated projector)

so the RGB-D model loads the base checkpoint's weights as they are, and at initialisation its
image tokens are bit-identical to the base model's (``+ 0``), whatever the point map.  The
vision encoder is frozen; patchify, projector and language model train.

Variants (``VARIANTS``):

* ``paligemma`` (HiSpatial's base, PaliGemma 2): SigLIP features (B, P, 1152) ++ point
  features (B, P, C_p) from a conv with kernel = stride = 14 -> ``multi_modal_projector.linear``.
* ``qwen2_5_vl``: the projector is the patch merger's MLP (Linear(4C, 4C), GELU, Linear(4C, D)),
  whose input is 2x2 neighbouring patch features concatenated (4C).  The point map is
  patchified at patch x merge = 28 px, one point feature per merged token, and concatenated
  to the merger MLP's input: the first Linear grows from 4C to 4C + C_p inputs, point columns
  zero.  (Joining before the GELU keeps the paper's "concatenate, then project"; joining
  after the merger would need a new identity-initialised layer in the RGB path.)  To do that
  the vision tower's merger only groups and normalises (``_DeferredPatchMerger``); its MLP runs
  in ``get_image_features`` on merged tokens in raster order, where the point features are.

Inputs: ``point_maps`` beside ``pixel_values`` (``rgbd_processor`` builds them):
PaliGemma (num_images, 4, H, W) with H, W the processed image size; Qwen2.5-VL
(num_merged_tokens, 4, 28, 28), one row per image token in order.  Channels x, y, z (camera
frame, metres), validity.  ``generate`` picks them up through ``get_image_features``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import torch
from huggingface_hub.dataclasses import strict
from torch import nn
from transformers import AutoConfig, AutoModelForImageTextToText, PaliGemmaConfig, Qwen2_5_VLConfig
from transformers import initialization as init
from transformers.conversion_mapping import get_checkpoint_conversion_mapping, register_checkpoint_conversion_mapping
from transformers.modeling_outputs import BaseModelOutputWithPooling
from transformers.models.paligemma.modeling_paligemma import (
    PaliGemmaForConditionalGeneration,
    PaliGemmaModel,
    PaliGemmaPreTrainedModel,
)
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import (
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLModel,
    Qwen2_5_VLPatchMerger,
    Qwen2_5_VLPreTrainedModel,
)
from transformers.utils import logging as hf_logging
from transformers.utils.generic import can_return_tuple

from .loading import _IMAGE_ONLY_PROCESSORS, ImageOnlyQwen2_5_VLProcessor, _check_source, _load_error, load_processor
from .pointmap import PointBranchSettings, PointMapEncoder, PointPatchify, ZeroLinear


class MissingPointMapsError(ValueError):
    """An RGB-D model got images without point maps; the message says how to provide them."""


def _resolve_branch(config, vision_hidden_size: int) -> None:
    config.point_branch = PointBranchSettings.from_dict(config.point_branch).resolved(vision_hidden_size).to_dict()


@strict
class RGBDPaliGemmaConfig(PaliGemmaConfig):
    """``PaliGemmaConfig`` + ``point_branch`` (a :class:`PointBranchSettings` as a dict)."""

    model_type = "spatialforge_rgbd_paligemma"
    point_branch: dict | None = None

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        _resolve_branch(self, self.vision_config.hidden_size)


@strict
class RGBDQwen2_5_VLConfig(Qwen2_5_VLConfig):
    """``Qwen2_5_VLConfig`` + ``point_branch`` (a :class:`PointBranchSettings` as a dict)."""

    model_type = "spatialforge_rgbd_qwen2_5_vl"
    point_branch: dict | None = None

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        _resolve_branch(self, self.vision_config.hidden_size)


def branch_settings(config) -> PointBranchSettings:
    return PointBranchSettings.from_dict(config.point_branch)


class _RGBDInit:
    """Mixin (first in the MRO): HiSpatial's init for the branch, the base model's for the rest.

    ``from_pretrained`` on a base checkpoint leaves exactly the branch keys missing; transformers
    initialises missing modules through ``_init_weights``, so the zero point half and the
    Kaiming conv hold whether the model is built from a config or loaded from a base."""

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, PointPatchify):
            init.kaiming_normal_(module.weight, mode="fan_in", nonlinearity="relu")
            if module.bias is not None:
                init.zeros_(module.bias)
        elif isinstance(module, ZeroLinear):
            init.zeros_(module.weight)
            if module.bias is not None:
                init.zeros_(module.bias)
        else:
            super()._init_weights(module)

    def encode_images(self, pixel_values, point_maps, mm_encoder_outputs, **image_kwargs):
        """``(None, {"image": features})`` with the point maps fused in, or the inputs unchanged
        when there are no pixels or they are already encoded.  ``forward`` then takes the base
        model's path for pre-encoded images (``mm_encoder_outputs``)."""
        if pixel_values is None or mm_encoder_outputs is not None:
            return pixel_values, mm_encoder_outputs
        # (the outer models' get_image_features hands the point maps on to the inner model's)
        feats = self.get_image_features(pixel_values, point_maps=point_maps, return_dict=True, **image_kwargs)
        return None, {"image": feats}


def _missing(settings: PointBranchSettings) -> None:
    if settings.missing_point_maps == "error":
        raise MissingPointMapsError(
            "this RGB-D model needs `point_maps` with its `pixel_values` (build both with "
            "spatialforge.models.rgbd_processor.RGBDProcessor, which can also call a depth estimator); "
            "or set config.point_branch['missing_point_maps'] = 'rgb_only' to run without them"
        )


class _RGBDGeneration:
    """Mixin for the ``*ForConditionalGeneration`` classes: point maps into ``forward``, freezing.

    ``forward`` encodes images with their point maps into ``mm_encoder_outputs`` (the hook the
    transformers VLMs offer for pre-encoded images) and calls the base ``forward``; ``generate``
    does the same itself through ``get_image_features(pixel_values, point_maps=...)``.  The
    inner models' ``forward`` takes ``point_maps`` as well, for callers that skip the outer one
    (TRL's fused-LM-head loss calls the backbone directly).
    """

    def point_branch_parameters(self) -> dict[str, nn.Parameter]:
        """The parameters the branch adds: patchify conv and the point half of the projector."""
        return {n: p for n, p in self.named_parameters() if ".point_encoder." in n or ".point_projector." in n}

    def freeze_vision_encoder(self) -> None:
        for p in self.vision_encoder_parameters():
            p.requires_grad_(False)

    @classmethod
    def from_pretrained(cls, *args: Any, **kwargs: Any):
        out = super().from_pretrained(*args, **kwargs)
        model = out[0] if isinstance(out, tuple) else out  # output_loading_info=True gives a pair
        if branch_settings(model.config).freeze_vision_encoder:  # requires_grad is not saved
            model.freeze_vision_encoder()
        return out


# --------------------------------------------------------------------------- PaliGemma
class RGBDPaliGemmaModel(_RGBDInit, PaliGemmaModel):
    config_class = RGBDPaliGemmaConfig  # (annotations are strings here)

    def __init__(self, config: RGBDPaliGemmaConfig):
        super().__init__(config)
        s, vc = branch_settings(config), config.vision_config
        self.point_encoder = PointMapEncoder(s, vc.patch_size, s.hidden_size)
        self.point_projector = ZeroLinear(s.hidden_size, vc.projection_dim, bias=False)
        self.post_init()  # initialises just the new modules

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values=None,
        token_type_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        point_maps: torch.Tensor | None = None,
        **kwargs,
    ):
        pixel_values, mm_encoder_outputs = self.encode_images(pixel_values, point_maps, mm_encoder_outputs)
        return super().forward(
            input_ids=input_ids, pixel_values=pixel_values, attention_mask=attention_mask, position_ids=position_ids,
            past_key_values=past_key_values, token_type_ids=token_type_ids, inputs_embeds=inputs_embeds,
            use_cache=use_cache, mm_encoder_outputs=mm_encoder_outputs, **kwargs,
        )  # fmt: skip

    @can_return_tuple
    def get_image_features(self, pixel_values: torch.Tensor, point_maps: torch.Tensor | None = None, **kwargs):
        """pixel_values (B, 3, S, S), point_maps (B, 4, S, S) -> pooler_output (B, (S/14)^2, D)."""
        out = self.vision_tower(pixel_values, **kwargs)
        feats = self.multi_modal_projector(out.last_hidden_state)  # (B, P, D)
        if point_maps is None:
            _missing(branch_settings(self.config))
        else:
            if point_maps.shape[0] != pixel_values.shape[0] or point_maps.shape[-2:] != pixel_values.shape[-2:]:
                raise ValueError(
                    f"point_maps {tuple(point_maps.shape)} must be (num_images, 4, H, W) matching pixel_values "
                    f"{tuple(pixel_values.shape)}"
                )
            points = self.point_encoder(point_maps.to(pixel_values.device)).flatten(2).transpose(1, 2)  # (B, P, C_p)
            feats = feats + self.point_projector(points).to(feats.dtype)
        out.pooler_output = feats
        return out


class RGBDPaliGemmaForConditionalGeneration(_RGBDGeneration, _RGBDInit, PaliGemmaForConditionalGeneration):
    """PaliGemma (2) with the point-map branch; takes ``point_maps`` (B, 4, H, W) beside ``pixel_values``."""

    config_class = RGBDPaliGemmaConfig  # (annotations are strings here)

    def __init__(self, config: RGBDPaliGemmaConfig):
        PaliGemmaPreTrainedModel.__init__(self, config)  # the parent's __init__ with our inner model
        self.model = RGBDPaliGemmaModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()
        if branch_settings(config).freeze_vision_encoder:
            self.freeze_vision_encoder()

    def vision_encoder_parameters(self):
        return self.model.vision_tower.parameters()

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values=None,
        token_type_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        point_maps: torch.Tensor | None = None,
        **kwargs,
    ):
        pixel_values, mm_encoder_outputs = self.encode_images(pixel_values, point_maps, mm_encoder_outputs)
        return super().forward(
            input_ids=input_ids, pixel_values=pixel_values, attention_mask=attention_mask, position_ids=position_ids,
            past_key_values=past_key_values, token_type_ids=token_type_ids, inputs_embeds=inputs_embeds,
            labels=labels, use_cache=use_cache, logits_to_keep=logits_to_keep,
            mm_encoder_outputs=mm_encoder_outputs, **kwargs,
        )  # fmt: skip


# --------------------------------------------------------------------------- Qwen2.5-VL
class _DeferredPatchMerger(Qwen2_5_VLPatchMerger):
    """Qwen2.5-VL's merger whose MLP runs outside the vision tower (same parameters and keys).

    ``forward`` (called by the vision tower, window order): (N_patches, C) -> (N_merged, 4C)
    normalised and grouped.  ``project`` (raster order): (N_merged, 4C) + optional point term
    (N_merged, 4C) added to the first Linear's output, i.e. the point columns of that Linear.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ln_q(x).view(-1, self.hidden_size)

    def project(self, merged: torch.Tensor, point_term: torch.Tensor | None = None) -> torch.Tensor:
        h = self.mlp[0](merged)
        if point_term is not None:
            h = h + point_term.to(h.dtype)
        return self.mlp[2](self.mlp[1](h))


class RGBDQwen2_5_VLModel(_RGBDInit, Qwen2_5_VLModel):
    config_class = RGBDQwen2_5_VLConfig

    def __init__(self, config: RGBDQwen2_5_VLConfig):
        super().__init__(config)
        s, vc = branch_settings(config), config.vision_config
        self.visual.merger = _DeferredPatchMerger(vc.out_hidden_size, vc.hidden_size, vc.spatial_merge_size)
        self.point_encoder = PointMapEncoder(s, vc.patch_size * vc.spatial_merge_size, s.hidden_size)
        self.point_projector = ZeroLinear(s.hidden_size, self.visual.merger.hidden_size, bias=False)
        self.post_init()

    def _merged_counts(self, grid_thw: torch.Tensor) -> list[int]:
        return (grid_thw.prod(-1) // self.visual.spatial_merge_size**2).tolist()

    def _point_term(self, point_maps: torch.Tensor | None, counts: list[int], device) -> torch.Tensor | None:
        if point_maps is None:
            _missing(branch_settings(self.config))
            return None
        unit = self.point_encoder.patch
        if point_maps.ndim != 4 or point_maps.shape[0] != sum(counts) or point_maps.shape[-2:] != (unit, unit):
            raise ValueError(
                f"point_maps {tuple(point_maps.shape)} must be (num_merged_tokens={sum(counts)}, 4, {unit}, {unit}), "
                "one row per image token (RGBDProcessor builds them from image_grid_thw)"
            )
        image_index = torch.repeat_interleave(torch.arange(len(counts), device=device), torch.tensor(counts, device=device))
        points = self.point_encoder(point_maps.to(device), image_index).flatten(1)  # (N, C_p)
        return self.point_projector(points)

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values=None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        pixel_values: torch.Tensor | None = None,
        pixel_values_videos: torch.Tensor | None = None,
        image_grid_thw: torch.LongTensor | None = None,
        video_grid_thw: torch.LongTensor | None = None,
        mm_token_type_ids: torch.IntTensor | None = None,
        second_per_grid_ts: torch.Tensor | None = None,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        point_maps: torch.Tensor | None = None,
        **kwargs,
    ):
        pixel_values, mm_encoder_outputs = self.encode_images(
            pixel_values, point_maps, mm_encoder_outputs, image_grid_thw=image_grid_thw
        )
        return super().forward(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
            past_key_values=past_key_values, inputs_embeds=inputs_embeds, use_cache=use_cache,
            pixel_values=pixel_values, pixel_values_videos=pixel_values_videos, image_grid_thw=image_grid_thw,
            video_grid_thw=video_grid_thw, mm_token_type_ids=mm_token_type_ids,
            second_per_grid_ts=second_per_grid_ts, mm_encoder_outputs=mm_encoder_outputs, **kwargs,
        )  # fmt: skip

    @can_return_tuple
    def get_image_features(
        self,
        pixel_values: torch.Tensor,
        image_grid_thw: torch.LongTensor | None = None,
        point_maps: torch.Tensor | None = None,
        **kwargs,
    ):
        """pixel_values (N_patches, 3*2*14*14), point_maps (N_merged, 4, 28, 28) -> per-image (n_i, D)."""
        pixel_values = pixel_values.type(self.visual.dtype)
        out = self.visual(pixel_values, grid_thw=image_grid_thw, **kwargs)
        counts = self._merged_counts(image_grid_thw)
        term = self._point_term(point_maps, counts, out.pooler_output.device)
        out.pooler_output = torch.split(self.visual.merger.project(out.pooler_output, term), counts)
        return out

    @can_return_tuple
    def get_video_features(self, pixel_values_videos: torch.Tensor, video_grid_thw: torch.LongTensor | None = None, **kwargs):
        """Videos go through the RGB path only (point maps are per image)."""
        out = self.visual(pixel_values_videos.type(self.visual.dtype), grid_thw=video_grid_thw, **kwargs)
        out.pooler_output = torch.split(self.visual.merger.project(out.pooler_output), self._merged_counts(video_grid_thw))
        return out


class RGBDQwen2_5_VLForConditionalGeneration(_RGBDGeneration, _RGBDInit, Qwen2_5_VLForConditionalGeneration):
    """Qwen2.5-VL with the point-map branch; takes ``point_maps`` (N_merged, 4, 28, 28) beside ``pixel_values``."""

    config_class = RGBDQwen2_5_VLConfig

    def __init__(self, config: RGBDQwen2_5_VLConfig):
        Qwen2_5_VLPreTrainedModel.__init__(self, config)
        self.model = RGBDQwen2_5_VLModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()
        if branch_settings(config).freeze_vision_encoder:
            self.freeze_vision_encoder()

    def vision_encoder_parameters(self):
        # The merger is the projector: it trains.
        return (p for n, p in self.model.visual.named_parameters() if not n.startswith("merger."))

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values=None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        use_cache: bool | None = None,
        pixel_values: torch.Tensor | None = None,
        pixel_values_videos: torch.Tensor | None = None,
        image_grid_thw: torch.LongTensor | None = None,
        video_grid_thw: torch.LongTensor | None = None,
        mm_token_type_ids: torch.IntTensor | None = None,
        second_per_grid_ts: torch.Tensor | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        point_maps: torch.Tensor | None = None,
        **kwargs,
    ):
        pixel_values, mm_encoder_outputs = self.encode_images(
            pixel_values, point_maps, mm_encoder_outputs, image_grid_thw=image_grid_thw
        )
        return super().forward(
            input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
            past_key_values=past_key_values, inputs_embeds=inputs_embeds, labels=labels, use_cache=use_cache,
            pixel_values=pixel_values, pixel_values_videos=pixel_values_videos, image_grid_thw=image_grid_thw,
            video_grid_thw=video_grid_thw, mm_token_type_ids=mm_token_type_ids,
            second_per_grid_ts=second_per_grid_ts, logits_to_keep=logits_to_keep,
            mm_encoder_outputs=mm_encoder_outputs, **kwargs,
        )  # fmt: skip


# --------------------------------------------------------------------------- building
# base model_type -> (RGB-D config class, RGB-D model class)
VARIANTS: dict[str, tuple[type, type]] = {
    "paligemma": (RGBDPaliGemmaConfig, RGBDPaliGemmaForConditionalGeneration),
    "qwen2_5_vl": (RGBDQwen2_5_VLConfig, RGBDQwen2_5_VLForConditionalGeneration),
}
RGBD_MODEL_TYPES = {cfg.model_type: base for base, (cfg, _) in VARIANTS.items()}
# Keys of a base config that must not be copied into the RGB-D config.
_DROP_KEYS = ("model_type", "architectures", "transformers_version", "auto_map")


def base_model_type(config: Any) -> str:
    """The base architecture's ``model_type`` ("paligemma" for an RGB-D PaliGemma), else the
    config's own: code that special-cases a base (prefix-LM collation, chat templates) asks this."""
    model_type = getattr(config, "model_type", "") or ""
    return RGBD_MODEL_TYPES.get(model_type, model_type)


def takes_point_maps(model: Any) -> bool:
    """True for an RGB-D model (also wrapped by PEFT / DDP: the config tells)."""
    return getattr(getattr(model, "config", None), "point_branch", None) is not None


def rgbd_config_from_base(base_config, **settings: Any):
    """The RGB-D config for a base ``PaliGemmaConfig`` / ``Qwen2_5_VLConfig`` (all base fields kept)."""
    if base_config.model_type in RGBD_MODEL_TYPES:
        raise ValueError(f"the config is already RGB-D ({base_config.model_type}); load it with from_pretrained")
    if base_config.model_type not in VARIANTS:
        raise ValueError(
            f"no RGB-D variant for model_type {base_config.model_type!r}; supported bases: {sorted(VARIANTS)}"
        )
    cfg_cls = VARIANTS[base_config.model_type][0]
    d = {k: v for k, v in base_config.to_dict().items() if k not in _DROP_KEYS}
    d["point_branch"] = PointBranchSettings(**settings).to_dict()
    return cfg_cls.from_dict(d)


def from_base(
    model_id_or_path: str | os.PathLike,
    variant: str = "auto",
    *,
    point_encoding: str = "xyz",
    dtype: torch.dtype | str | None = None,
    device: str | None = None,
    local_files_only: bool | None = None,
    **settings: Any,
):
    """Build an RGB-D model from a base PaliGemma (2) or Qwen2.5-VL checkpoint (hub id or folder).

    ``variant``: ``"auto"`` (from the checkpoint's ``model_type``), ``"paligemma"`` or ``"qwen2_5_vl"``.
    ``point_encoding``: ``"xyz"`` (metric point map, default) or ``"relative_depth"`` (ablation).
    ``settings``: other :class:`~spatialforge.models.pointmap.PointBranchSettings` fields.
    ``dtype``: None means float32 on CPU, the checkpoint's own elsewhere; ``device``: None picks
    CUDA when present, ``"auto"`` shards over the GPUs.
    Every base weight is loaded as is; only the branch is new (Kaiming conv, zero point half),
    so the result computes exactly what the base model computes until it is trained.
    """
    register_auto_classes()
    src = _check_source(model_id_or_path, local_files_only)
    lfo = {"local_files_only": local_files_only} if local_files_only is not None else {}
    base_config = AutoConfig.from_pretrained(src, **lfo)
    if variant != "auto" and variant != base_config.model_type:
        raise ValueError(f"variant={variant!r} but {src!r} is a {base_config.model_type!r} checkpoint")
    config = rgbd_config_from_base(base_config, encoding=point_encoding, **settings)
    model_cls = VARIANTS[base_config.model_type][1]
    device = str(device) if device is not None else ("cuda" if torch.cuda.is_available() else "cpu")
    if dtype is None:
        dtype = torch.float32 if device == "cpu" else "auto"
    elif isinstance(dtype, str) and dtype != "auto":
        dtype = getattr(torch, dtype)
    kw: dict[str, Any] = {"dtype": dtype, **lfo}
    if device == "auto":  # shard over the visible GPUs (accelerate)
        kw["device_map"] = "auto"
    # The branch keys are missing from a base checkpoint by design: keep that load report quiet.
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        model = model_cls.from_pretrained(src, config=config, **kw)
    except OSError as e:
        raise _load_error(src, e) from e
    finally:
        hf_logging.set_verbosity(verbosity)
    return model if device == "auto" else model.to(device)


def convert_base_checkpoint(
    model_id_or_path: str | os.PathLike, out_dir: str | os.PathLike, *, local_files_only: bool | None = None, **kwargs: Any
) -> str:
    """``from_base`` + ``save_pretrained`` with the base processor beside it: a folder that a
    training recipe (``model.name_or_path``), ``load_vlm`` and ``load_processor`` accept."""
    model = from_base(model_id_or_path, local_files_only=local_files_only, device="cpu", **kwargs)
    model.save_pretrained(out_dir)
    load_processor(model_id_or_path, local_files_only=local_files_only).save_pretrained(out_dir)
    return str(out_dir)


# Checkpoints store weights under the base models' (legacy) key names, which transformers renames
# by class name or model_type.  Ours are custom classes: give them the renamings of the classes
# they extend, so a base checkpoint loads into them and they save in the base's layout.
_CONVERSION_SOURCES = {
    RGBDPaliGemmaConfig.model_type: "paligemma",
    "RGBDPaliGemmaForConditionalGeneration": "PaliGemmaForConditionalGeneration",
    "RGBDPaliGemmaModel": "PaliGemmaModel",
    RGBDQwen2_5_VLConfig.model_type: "qwen2_5_vl",
    "RGBDQwen2_5_VLForConditionalGeneration": "Qwen2_5_VLForConditionalGeneration",
    "RGBDQwen2_5_VLModel": "Qwen2_5_VLModel",
}


def expose_on_transformers_module() -> None:
    """Put the RGB-D model classes on the ``transformers`` module by name.

    Tools that resolve ``config.architectures[0]`` with ``getattr(transformers, ...)`` (TRL's
    reference-model copy for GRPO with beta > 0) must find them there. Importing TRL replaces
    ``sys.modules["transformers"]`` with a fresh lazy module, so the module object TRL holds can
    differ from ours: set the names on both (called again when a GRPO trainer is built)."""
    modules = [sys.modules.get("transformers"), getattr(sys.modules.get("trl.trainer.utils"), "transformers", None)]
    for module in {id(m): m for m in modules if m is not None}.values():
        for _, model_cls in VARIANTS.values():
            setattr(module, model_cls.__name__, model_cls)


_registered = False


def register_auto_classes() -> None:
    """Make ``AutoConfig`` / ``AutoModelForImageTextToText`` / ``load_processor`` know the
    RGB-D model types.  Idempotent (a no-op after the first call); the loaders (``load_vlm``,
    ``load_processor``, ``from_base``) call it before loading."""
    global _registered
    if _registered:
        return
    for cfg_cls, model_cls in VARIANTS.values():
        AutoConfig.register(cfg_cls.model_type, cfg_cls, exist_ok=True)
        AutoModelForImageTextToText.register(cfg_cls, model_cls, exist_ok=True)
    expose_on_transformers_module()
    for ours, theirs in _CONVERSION_SOURCES.items():
        mapping = get_checkpoint_conversion_mapping(theirs)
        if mapping is not None:
            register_checkpoint_conversion_mapping(ours, mapping, overwrite=True)
    _IMAGE_ONLY_PROCESSORS.setdefault(RGBDQwen2_5_VLConfig.model_type, ImageOnlyQwen2_5_VLProcessor)
    _registered = True
