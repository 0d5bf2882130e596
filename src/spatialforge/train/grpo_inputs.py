"""What GRPO feeds the model beyond TRL's defaults: point maps for RGB-D models, PaliGemma prompts.

TRL's ``GRPOTrainer`` runs the processor on the prompts and images twice per generation batch
(tokenised prompts for ``generate``; padded prompts for the log-probabilities) and passes the
processor's tensors on.  An RGB-D model also needs ``point_maps``, built from each row's depth
columns, in the same order as the images.  :class:`GRPOInputsMixin` makes that happen:

* :func:`generation_processor` gives the processor a subclass (same class name, so saving and
  ``AutoProcessor`` are unchanged) that adds ``point_maps`` for the images of the current
  generation batch, and drops the ``labels`` PaliGemma's processor adds to every call (TRL
  would hand them to ``generate`` and fail on prompts of unequal length);
* ``_generate_and_score_completions`` hands the batch's point maps to the processor and
  keeps them per sample in the output, so TRL's shuffling and splitting keep them aligned;
* ``_get_per_token_logps_and_entropies`` (old / reference / training log-probs) adds the
  matching point maps to each model call through a forward pre-hook.

Start-up checks (:func:`check_rgbd_vllm`, :func:`check_rgbd_data`) replace errors in the middle
of a run: vLLM rollouts cannot take point maps, and rows without depth need an estimator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from ..models.rgbd import takes_point_maps
from ..models.rgbd_processor import RGBDProcessor, _flatten, point_map_from_example, rows_without_depth


class _GenerationProcessorMixin:
    _pending_point_maps: list | None = None  # one point-map-like per image of the current batch
    _last_point_maps: torch.Tensor | None = None
    point_map_estimator: Any = None

    def __call__(self, images=None, text=None, **kwargs):
        suffix = kwargs.get("suffix")
        out = super().__call__(images=images, text=text, **kwargs)
        if suffix is None and "token_type_ids" in out:
            out.pop("labels", None)  # PaliGemma's backward-compatibility labels (prompt only here)
        if self._pending_point_maps is not None and images is not None:
            flat = _flatten(images)
            if len(flat) != len(self._pending_point_maps):
                raise RuntimeError(f"{len(flat)} images but {len(self._pending_point_maps)} point maps in this batch")
            view = {k: torch.as_tensor(np.stack(out[k]) if isinstance(out[k], list) else np.asarray(out[k]))
                    for k in ("pixel_values", "image_grid_thw") if k in out}  # fmt: skip
            rgbd = RGBDProcessor(self, estimator=self.point_map_estimator)
            out["point_maps"] = self._last_point_maps = rgbd.batch_point_maps(view, self._pending_point_maps, flat)
        return out


def generation_processor(processor: Any) -> Any:
    """``processor`` itself, re-classed once to add point maps / drop PaliGemma's labels (see module doc)."""
    cls = type(processor)
    if isinstance(processor, _GenerationProcessorMixin):
        return processor
    processor.__class__ = type(cls.__name__, (_GenerationProcessorMixin, cls), {"__module__": cls.__module__})
    return processor


def split_point_maps(point_maps: torch.Tensor, image_grid_thw: torch.Tensor | None,
                     num_images: Sequence[int], merge: int = 2) -> list[torch.Tensor]:  # fmt: skip
    """A batch's ``point_maps`` -> one tensor per sample (Qwen: its merged tokens; PaliGemma: its images)."""
    if image_grid_thw is not None:
        per_image = (image_grid_thw.prod(-1) // merge**2).tolist()  # merged tokens
    else:
        per_image = [1] * int(sum(num_images))
    per_image_maps = torch.split(point_maps, per_image)
    out, i = [], 0
    for n in num_images:
        out.append(torch.cat(per_image_maps[i : i + n]) if n else point_maps[:0])
        i += n
    return out


def _row_point_map(row: dict[str, Any]):
    return point_map_from_example(row, None)  # dataset paths were made absolute when loading


def check_rgbd_vllm(model: Any, args: Any) -> None:
    """Before TRL starts vLLM: its rollouts cannot pass point maps to an RGB-D model."""
    if takes_point_maps(model) and getattr(args, "use_vllm", False):
        raise ConfigError("training.use_vllm: vLLM rollouts cannot pass point maps to an RGB-D model; set "
                          "training.use_vllm=false (generation then runs in the trainer)")


def check_rgbd_data(trainer: Any, estimator: Any = None) -> None:
    """Fail at start-up, with the fix, where rows without depth would fail when first drawn."""
    if estimator is not None:
        return
    for name, ds in (("train_dataset", trainer.train_dataset), ("eval_dataset", trainer.eval_dataset)):
        if ds is None or not hasattr(ds, "column_names"):
            continue
        missing = rows_without_depth(ds)
        if missing:
            raise ConfigError(f"{name}: {len(missing)} of {len(ds)} rows (e.g. row {missing[0]}) have no depth or "
                              "point map, which the RGB-D model needs: generate the data with depth, drop those "
                              "rows, or pass a point-map estimator")


class GRPOInputsMixin:
    """Put before ``GRPOTrainer`` in the bases; call :meth:`_setup_inputs` at the end of ``__init__``."""

    _rgbd = False
    _loss_point_maps: list | None = None

    def _setup_inputs(self, estimator: Any = None) -> None:
        self.processing_class = generation_processor(self.processing_class)
        self._rgbd = takes_point_maps(self.model)
        self._merge = int(getattr(self.processing_class.image_processor, "merge_size", 1) or 1)
        if self._rgbd:
            check_rgbd_data(self, estimator)
            self.processing_class.point_map_estimator = estimator

    def _generate_and_score_completions(self, inputs):
        if not self._rgbd:
            return super()._generate_and_score_completions(inputs)
        proc = self.processing_class
        proc._pending_point_maps = [_row_point_map(x) for x in inputs]  # one image per row (data.py checks)
        try:
            output = super()._generate_and_score_completions(inputs)
        finally:
            proc._pending_point_maps = None
        # the last processor call was the padded one for the log-probs: all rows, in order
        output["point_maps"] = split_point_maps(proc._last_point_maps, output.get("image_grid_thw"),
                                                output.get("num_images") or [1] * len(inputs), self._merge)
        return output

    def _compute_loss(self, model, inputs):
        self._loss_point_maps = inputs.get("point_maps") if self._rgbd else None
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self._loss_point_maps = None

    def _get_per_token_logps_and_entropies(self, model, input_ids, *args, point_maps=None, **kwargs):
        if not self._rgbd:
            return super()._get_per_token_logps_and_entropies(model, input_ids, *args, **kwargs)
        if point_maps is not None:  # the whole generation batch, from the processor
            per_sample = split_point_maps(point_maps, kwargs.get("image_grid_thw"), kwargs.get("num_images"),
                                          self._merge)
        else:
            per_sample = list(self._loss_point_maps)
        if len(per_sample) != input_ids.shape[0]:
            raise RuntimeError(f"{len(per_sample)} samples of point maps for {input_ids.shape[0]} sequences")
        queue = list(per_sample)

        def add_point_maps(module, call_args, call_kwargs):  # TRL calls the model chunk by chunk, in order
            n = call_kwargs["input_ids"].shape[0]
            chunk, queue[:n] = queue[:n], []
            call_kwargs["point_maps"] = torch.cat(chunk).to(call_kwargs["input_ids"].device)
            return call_args, call_kwargs

        handle = model.register_forward_pre_hook(add_point_maps, with_kwargs=True)
        try:
            return super()._get_per_token_logps_and_entropies(model, input_ids, *args, **kwargs)
        finally:
            handle.remove()
