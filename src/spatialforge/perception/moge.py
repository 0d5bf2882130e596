"""MoGe-2 geometry backend (what HiSpatial uses): metric point map, depth, valid mask and
intrinsics from one image.  Optional extra ``[moge]`` (the ``dlr-moge`` package, module ``moge``).

``moge.model.v2.MoGeModel.from_pretrained(model)`` takes a local ``model.pt`` (a dict
``{"model_config": ..., "model": state_dict}``) or a hub id (e.g. ``Ruicheng/moge-2-vitl-normal``);
``.infer(image)`` returns, in OpenCV camera axes (x right, y down, z forward) and metres:
``points`` (H, W, 3), ``depth`` (H, W), ``mask`` (H, W) and ``intrinsics`` *normalised* by the
image size (fx / W, fy / H, cx / W, cy / H, with uv in [0, 1] and pixel centres at
(col + 0.5) / W).  ``pixel_intrinsics`` turns those into the pixel K of docs/conventions.md.
Pixels outside the mask (sky, far background) or with non-finite depth are invalid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import ConfigError, DataError
from ..extras import require
from .base import GeometryResult, ImageItem, register


def pixel_intrinsics(normalised: np.ndarray, width: int, height: int) -> np.ndarray:
    """MoGe's normalised 3x3 intrinsics -> pixels (row 0 x W, row 1 x H)."""
    K = np.asarray(normalised, dtype=np.float64).copy()
    K[0] *= width
    K[1] *= height
    return K


@register("geometry", "moge2")
class MoGe2Geometry:
    """``resolution_level`` (0-9, MoGe's speed/detail knob) and ``num_tokens`` (overrides it)
    are passed to ``infer``; ``fp16`` only on CUDA."""

    def __init__(self, model: str, resolution_level: int = 9, num_tokens: int | None = None,
                 device: str = "cpu", fp16: bool = True) -> None:
        require("moge", "the moge2 geometry backend")
        import moge
        import torch
        from moge.model.v2 import MoGeModel

        self.torch = torch
        self.model_path = str(model)
        self.library_version = f"moge {getattr(moge, '__version__', 'unknown')}"
        if not 0 <= int(resolution_level) <= 9:
            raise ConfigError(f"moge2: resolution_level must be in [0, 9], got {resolution_level}")
        self.resolution_level, self.num_tokens = int(resolution_level), num_tokens
        self.device = device
        self.fp16 = bool(fp16) and str(device).startswith("cuda")
        path = Path(model)
        if path.is_dir():
            path = path / "model.pt"
        source = str(path) if path.exists() else str(model)
        try:
            self.net = MoGeModel.from_pretrained(source).to(device).eval()
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise ConfigError(f"moge2: cannot load {model!r} ({type(e).__name__}: {str(e).splitlines()[0]})") from None

    def __call__(self, images: list[ImageItem]) -> list[GeometryResult]:
        torch = self.torch
        out = []
        for item in images:  # sizes differ between images: one at a time
            H, W = item.hw
            x = torch.tensor(item.rgb).permute(2, 0, 1).float().div(255.0).to(self.device)
            res = self.net.infer(x, num_tokens=self.num_tokens, resolution_level=self.resolution_level,
                                 use_fp16=self.fp16)
            points = res["points"].float().cpu().numpy()
            depth = res["depth"].float().cpu().numpy()
            valid = res["mask"].cpu().numpy().astype(bool) & np.isfinite(depth) & (depth > 0)
            valid &= np.all(np.isfinite(points), axis=-1)
            K = pixel_intrinsics(res["intrinsics"].float().cpu().numpy(), W, H)
            if not np.all(np.isfinite(K)) or K[0, 0] <= 0 or K[1, 1] <= 0:
                raise DataError(f"image {item.id!r}: moge2 recovered no usable focal length")
            points = np.where(valid[..., None], points, 0.0).astype(np.float32)
            out.append(GeometryResult(points, np.where(valid, depth, 0.0).astype(np.float32), valid, K))
        return out


def build_tiny_moge(path: str | Path, seed: int = 0) -> Path:
    """A MoGe-2 model with a random ViT-S/14 backbone (the smallest MoGe's DINOv2 loader builds)
    and tiny neck/heads, saved as ``{"model_config", "model"}`` to ``path`` (a ``model.pt``).
    ~90 MB: build it at test time, never commit it."""
    require("moge", "the tiny MoGe-2 model")
    import torch
    from moge.model.v2 import MoGeModel

    levels = 5
    config = {
        "encoder": {"backbone": "dinov2_vits14", "intermediate_layers": 4, "dim_out": 16},
        "neck": {"dim_in": [16 + 2] + [2] * (levels - 1), "dim_res_blocks": [16, 8, 8, 8, 8],
                 "dim_out": [None] * levels, "resamplers": ["bilinear"] * (levels - 1), "num_res_blocks": 1, "res_block_hidden_norm": "layer_norm"},
        "points_head": {"dim_in": [16, 8, 8, 8, 8], "dim_res_blocks": [8] * levels, "dim_out": [None] * 4 + [3],
                        "resamplers": ["bilinear"] * (levels - 1), "num_res_blocks": 1, "res_block_hidden_norm": "layer_norm"},
        "mask_head": {"dim_in": [16, 8, 8, 8, 8], "dim_res_blocks": [8] * levels, "dim_out": [None] * 4 + [1],
                      "resamplers": ["bilinear"] * (levels - 1), "num_res_blocks": 1, "res_block_hidden_norm": "layer_norm"},
        "scale_head": {"dims": [384, 16, 1]},
        "remap_output": "exp",
        "num_tokens_range": [16, 64],
    }
    torch.manual_seed(seed)
    model = MoGeModel(**config)
    with torch.no_grad():  # random heads give a flat, masked-out scene: bias them to a valid, varied one
        model.mask_head.output_blocks[-1].bias.fill_(5.0)
        model.points_head.output_blocks[-1].weight.mul_(0.1)
        model.points_head.output_blocks[-1].bias.copy_(torch.tensor([0.0, 0.0, 1.0]))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model_config": config, "model": model.state_dict()}, path)
    return path
