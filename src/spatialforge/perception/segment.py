"""More segmentation-from-boxes backends: SAM-HQ and SAM 2 (transformers ``SamHQModel``,
``Sam2Model``).  Same protocol as ``hf.SAMFromBoxes``: per image, one (H, W) bool mask per box.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError
from .base import ImageItem, register
from .hf import SAMFromBoxes, _HFBackend, _load


@register("segmentation", "sam_hq")
class SamHQFromBoxes(SAMFromBoxes):
    """``SamHQModel`` through SAM's processor.  ``hq_token_only``: False (default, the SAM-HQ
    authors' advice for images with several objects) corrects SAM's mask with the HQ output;
    True uses the HQ output alone."""

    model_class = "SamHQModel"

    def __init__(self, model: str, hq_token_only: bool = False, device: str = "cpu") -> None:
        super().__init__(model, device)
        self.forward_kwargs = {"hq_token_only": bool(hq_token_only)}


@register("segmentation", "sam2")
class Sam2FromBoxes(_HFBackend):
    """``Sam2Model`` from boxes, single-mask output.

    transformers 5's ``Sam2ImageProcessor`` needs torchvision, so its steps are done here with
    torch, as it does them: resize to the configured square (bilinear, antialiased, no aspect
    kept), rescale and normalise; boxes scaled by the same factors per axis; the low-resolution
    mask logits resized bilinearly to the image and thresholded at 0.  Only the checkpoint's
    ``preprocessor_config.json`` is read."""

    def __init__(self, model: str, device: str = "cpu") -> None:
        super().__init__(model, device)
        from transformers import Sam2Model
        from transformers.utils import cached_file

        try:
            pp = json.loads(Path(cached_file(model, "preprocessor_config.json")).read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(f"sam2: cannot read the preprocessor config of {model!r} ({e})") from None
        size = pp.get("size", {})
        self.size = (int(size.get("height", 1024)), int(size.get("width", 1024)))
        self.mean = np.asarray(pp.get("image_mean", [0.485, 0.456, 0.406]), dtype=np.float32)
        self.std = np.asarray(pp.get("image_std", [0.229, 0.224, 0.225]), dtype=np.float32)
        self.scale = float(pp.get("rescale_factor", 1 / 255))
        self.net = self._ready(_load(Sam2Model, model, "sam2"))

    def __call__(self, images: list[ImageItem], boxes: list[np.ndarray]) -> list[np.ndarray]:
        torch = self.torch
        F = torch.nn.functional
        out = []
        for item, b in zip(images, boxes, strict=True):
            b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
            H, W = item.hw
            if b.shape[0] == 0:
                out.append(np.zeros((0, H, W), dtype=bool))
                continue
            if not np.all(np.isfinite(b)):
                raise DataError(f"image {item.id!r}: non-finite box given to SAM 2")
            x = torch.tensor(item.rgb).permute(2, 0, 1)[None].float()
            x = F.interpolate(x, size=self.size, mode="bilinear", antialias=True, align_corners=False)
            x = (x.permute(0, 2, 3, 1) * self.scale - torch.from_numpy(self.mean)) / torch.from_numpy(self.std)
            sh, sw = self.size
            scaled = b * [sw / W, sh / H, sw / W, sh / H]
            with torch.inference_mode():
                pred = self.net(pixel_values=x.permute(0, 3, 1, 2).contiguous().to(self.device),
                                input_boxes=torch.tensor(scaled[None], dtype=torch.float32, device=self.device),
                                multimask_output=False)
            logits = pred.pred_masks[0, :, :1].float().cpu()  # (boxes, 1, h, w)
            masks = F.interpolate(logits, size=(H, W), mode="bilinear", align_corners=False)[:, 0] > 0
            out.append(masks.numpy())
        return out
