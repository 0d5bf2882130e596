"""``vlm_grounder``: a VLM as an open-vocabulary detector / reference grounder (HiSpatial §7.1
prompts Qwen2.5-VL to localise each generated reference).

Each text prompt (a category or a referring phrase) is one request to the project's transformers
runner (``eval.runners``); every ``[x0, y0, x1, y1]`` in the answer is a box (Qwen2.5-VL's
``{"bbox_2d": [...]}`` JSON, or a plain list).  ``coordinates``:

* ``absolute`` (Qwen2.5-VL): pixels of the image *as the processor resized it*
  (``smart_resize``: sides multiples of patch x merge, area within the processor's pixel
  bounds), mapped back to the original size per axis;
* ``normalized_1000`` (Qwen2-VL and others): 0-1000 on both axes.

Boxes are clipped to the image; empty ones dropped; score 1 (a VLM gives no calibrated score).
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import ConfigError
from .base import Detections, ImageItem, register
from .hf import vlm_runner

_NUM = r"\s*(-?\d+(?:\.\d+)?)\s*"
_BOX = re.compile(r"\[" + ",".join([_NUM] * 4) + r"\]")


def parse_boxes(text: str) -> np.ndarray:
    """(N, 4) float: every bracketed list of exactly four numbers in ``text``, in order."""
    return np.array([[float(v) for v in m.groups()] for m in _BOX.finditer(text)], dtype=np.float64).reshape(-1, 4)


@register("detection", "vlm_grounder")
class VLMGrounder:
    def __init__(self, model: str, prompt: str = 'Locate every "{phrase}" in the image and output the bbox '
                 'coordinates in JSON format.', coordinates: str = "absolute", max_new_tokens: int = 128,
                 device: str = "cpu") -> None:
        if "{phrase}" not in prompt:
            raise ConfigError(f"vlm_grounder: prompt must contain '{{phrase}}', got {prompt!r}")
        if coordinates not in ("absolute", "normalized_1000"):
            raise ConfigError(f"vlm_grounder: coordinates must be 'absolute' or 'normalized_1000', got {coordinates!r}")
        self.prompt, self.coordinates, self.max_new_tokens = prompt, coordinates, int(max_new_tokens)
        self.model_path = str(model)
        self.runner, self.library_version = vlm_runner(model, device, "vlm_grounder")
        self.answers: list[str] = []

    def model_size(self, hw: tuple[int, int]) -> tuple[int, int]:
        """(height, width) of the image as the model saw it (absolute coordinates' frame)."""
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

        ip = self.runner.processor.image_processor
        size = ip.size
        return smart_resize(hw[0], hw[1], factor=ip.patch_size * ip.merge_size,
                            min_pixels=size["shortest_edge"], max_pixels=size["longest_edge"])

    def to_pixels(self, boxes: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
        H, W = hw
        if self.coordinates == "absolute":
            h, w = self.model_size(hw)
            scale = np.array([W / w, H / h, W / w, H / h])
        else:
            scale = np.array([W, H, W, H]) / 1000.0
        boxes = np.clip(boxes * scale, 0, [W, H, W, H])
        return boxes[(boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])]

    def __call__(self, images: list[ImageItem], vocabularies: list[list[str]]) -> list[Detections]:
        from PIL import Image

        from ..eval.runners import GenRequest

        reqs, owner = [], []
        for k, (item, vocab) in enumerate(zip(images, vocabularies, strict=True)):
            for phrase in vocab:
                reqs.append(GenRequest(f"{item.id}/{phrase}", self.prompt.replace("{phrase}", phrase),
                                       [Image.fromarray(item.rgb)]))
                owner.append((k, phrase))
        self.answers = self.runner.generate(reqs, max_new_tokens=self.max_new_tokens) if reqs else []
        boxes: list[list[np.ndarray]] = [[] for _ in images]
        labels: list[list[str]] = [[] for _ in images]
        for (k, phrase), answer in zip(owner, self.answers, strict=True):
            b = self.to_pixels(parse_boxes(answer), images[k].hw)
            boxes[k].append(b)
            labels[k] += [phrase] * len(b)
        return [Detections(np.concatenate(b) if b else np.zeros((0, 4)), np.ones(len(lab)), lab)
                for b, lab in zip(boxes, labels, strict=True)]
