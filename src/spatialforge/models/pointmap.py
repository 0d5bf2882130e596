"""Point-map branch of the RGB-D VLM (HiSpatial section 3.3, appendix 6.1).

A point map holds, per pixel, the 3D point seen there in the camera frame (OpenCV: x right,
y down, z forward; metres).  The branch turns it into one feature per vision patch:

1. **Validity.** A pixel is valid when its validity flag is set, its xyz is finite and z > 0.
   Invalid pixels are zeroed *before* encoding (so NaN/inf never reach the network) and their
   encoding is zeroed after, so an invalid pixel contributes nothing but the conv bias.
2. **Sinusoidal encoding** of each coordinate c (metres) with F = ``num_frequencies`` = 32
   wavelengths lambda_k log-spaced from ``min_wavelength`` = 0.01 m to ``max_wavelength`` = 100 m
   (ratio ~1.35 between neighbours)::

       [sin(2 pi c / lambda_0) ... sin(2 pi c / lambda_{F-1}), cos(2 pi c / lambda_0) ... cos(...)]

   = 64 channels per coordinate, 192 for xyz, + 1 validity channel = **193 channels**.  The sin/cos
   pair of the longest wavelength is unambiguous over any 100 m interval (z in (0, 100) m,
   x, y in [-50, 50) m); the shortest resolves ~1 cm.  Coordinates are clamped to
   [-``max_range``, ``max_range``] = [-100, 100] m so far outliers saturate instead of
   wrapping through the fine frequencies with float error.  Encoding runs in float32 whatever
   the model dtype (a bf16 angle of 600 rad is meaningless).
3. **Patchify**: Conv2d(193 -> ``hidden_size``, kernel = stride = patch), Kaiming-normal
   initialised (fan-in, ReLU gain: the unit-variance encodings give unit-variance features),
   bias zero.  One output feature per vision patch, on the vision feature grid.  (Computed as
   the equivalent matmul over non-overlapping patches; the weights are the conv's.)

Relative-depth ablation (``encoding="relative_depth"``, HiSpatial section 4.4 / appendix 6.3):
each image's valid z is min-max normalised (near 0, far 1) and discretised to integers
0..``depth_levels``-1 (255 by default); that integer, copied to the three coordinate slots,
goes through the same encoding with wavelengths in level units (default 2 .. 512 levels:
the finest is the Nyquist limit of integer inputs, the coarsest covers the whole range).
The architecture (193 channels, conv, projector) is unchanged, as in the paper.

Shapes: point maps enter as ``(N, 4, H, W)`` float tensors (x, y, z, validity in {0, 1});
``H`` and ``W`` are multiples of the patch size.  ``image_index`` (N,) groups rows into images
for the per-image normalisation of the relative-depth variant (Qwen2.5-VL passes one row per
merged token); ``None`` means one image per row.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

POINT_ENCODINGS = ("xyz", "relative_depth")
MISSING_POINT_MAPS = ("error", "rgb_only")


@dataclass(frozen=True)
class PointBranchSettings:
    """Settings of the point-map branch; stored in the model config as ``point_branch``.

    ``None`` fields take the defaults of the encoding (see :meth:`resolved`).
    ``hidden_size``: width of a point feature (``None``: the vision feature width).
    ``missing_point_maps``: what a forward pass with images but no point maps does:
    ``"error"`` (default) or ``"rgb_only"`` (the point term is left out, i.e. zero features).
    ``freeze_vision_encoder``: HiSpatial trains patchify, projector and LM, not the vision encoder.
    """

    encoding: str = "xyz"
    num_frequencies: int = 32
    min_wavelength: float | None = None
    max_wavelength: float | None = None
    max_range: float = 100.0
    depth_levels: int = 256
    hidden_size: int | None = None
    missing_point_maps: str = "error"
    freeze_vision_encoder: bool = True

    def __post_init__(self) -> None:
        if self.encoding not in POINT_ENCODINGS:
            raise ValueError(f"point_branch.encoding must be one of {POINT_ENCODINGS}, got {self.encoding!r}")
        if self.missing_point_maps not in MISSING_POINT_MAPS:
            raise ValueError(
                f"point_branch.missing_point_maps must be one of {MISSING_POINT_MAPS}, got {self.missing_point_maps!r}"
            )
        if self.num_frequencies < 1:
            raise ValueError(f"point_branch.num_frequencies must be >= 1, got {self.num_frequencies}")
        if self.depth_levels < 2:
            raise ValueError(f"point_branch.depth_levels must be >= 2, got {self.depth_levels}")
        if not self.max_range > 0:
            raise ValueError(f"point_branch.max_range must be > 0 metres, got {self.max_range}")
        if self.hidden_size is not None and self.hidden_size < 1:
            raise ValueError(f"point_branch.hidden_size must be >= 1 or None, got {self.hidden_size}")
        lo, hi = self.wavelength_range
        if not 0 < lo <= hi:
            raise ValueError(f"point_branch wavelengths must satisfy 0 < min <= max, got {lo}, {hi}")

    @property
    def wavelength_range(self) -> tuple[float, float]:
        if self.encoding == "xyz":
            lo, hi = 0.01, 100.0  # metres
        else:
            lo, hi = 2.0, 2.0 * self.depth_levels  # depth levels
        return (float(self.min_wavelength if self.min_wavelength is not None else lo),
                float(self.max_wavelength if self.max_wavelength is not None else hi))  # fmt: skip

    @property
    def in_channels(self) -> int:
        """3 coordinates x (sin, cos) x F frequencies + 1 validity channel (193 by default)."""
        return 3 * 2 * self.num_frequencies + 1

    def resolved(self, vision_hidden_size: int) -> "PointBranchSettings":
        """A copy with every ``None`` default filled in (what the config stores)."""
        lo, hi = self.wavelength_range
        hidden = self.hidden_size if self.hidden_size is not None else vision_hidden_size
        kw = {**asdict(self), "min_wavelength": lo, "max_wavelength": hi, "hidden_size": int(hidden)}
        return PointBranchSettings(**kw)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "PointBranchSettings":
        d = dict(d or {})
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown point_branch setting(s) {unknown}; valid: {[f.name for f in fields(cls)]}")
        return cls(**d)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def wavelengths(settings: PointBranchSettings, device: torch.device | None = None) -> torch.Tensor:
    """(F,) float32 wavelengths, log-spaced from the minimum to the maximum (both included)."""
    lo, hi = settings.wavelength_range
    return torch.logspace(math.log10(lo), math.log10(hi), settings.num_frequencies, device=device, dtype=torch.float32)


def valid_mask(point_maps: torch.Tensor) -> torch.Tensor:
    """(N, 4, H, W) point maps -> (N, H, W) bool: flag set, xyz finite, z > 0."""
    xyz, flag = point_maps[:, :3], point_maps[:, 3]
    return (flag > 0.5) & torch.isfinite(xyz).all(dim=1) & (xyz[:, 2] > 0)


def relative_depth_levels(z: torch.Tensor, valid: torch.Tensor, levels: int, image_index: torch.Tensor | None) -> torch.Tensor:
    """Per-image min-max normalised, discretised depth: (N, H, W) z -> (N, H, W) float in {0..levels-1}.

    Near is 0, far is ``levels - 1``; invalid pixels get 0 (they are masked later anyway).
    An image with one depth value (or none valid) maps to 0.
    """
    n = z.shape[0]
    idx = torch.arange(n, device=z.device) if image_index is None else image_index.to(z.device)
    inf = torch.tensor(float("inf"), device=z.device)
    row_min = torch.where(valid, z, inf).flatten(1).amin(1)
    row_max = torch.where(valid, z, -inf).flatten(1).amax(1)
    groups = int(idx.max().item()) + 1 if n else 0
    zmin = torch.full((groups,), float("inf"), device=z.device).scatter_reduce(0, idx, row_min, "amin")
    zmax = torch.full((groups,), float("-inf"), device=z.device).scatter_reduce(0, idx, row_max, "amax")
    lo, hi = zmin[idx].view(n, 1, 1), zmax[idx].view(n, 1, 1)
    span = torch.where(torch.isfinite(hi - lo) & (hi > lo), hi - lo, torch.ones_like(hi))
    rel = torch.where(valid & (hi > lo), (z - lo) / span, torch.zeros_like(z))
    return torch.round(rel.clamp(0, 1) * (levels - 1))


def encode_point_maps(
    point_maps: torch.Tensor, settings: PointBranchSettings, image_index: torch.Tensor | None = None
) -> torch.Tensor:
    """(N, 4, H, W) point maps -> (N, 193, H, W) float32 encoding (module docstring).

    Channel order: for x, y, z in turn, F sines then F cosines; the validity channel last.
    Invalid pixels are exactly zero in every channel, whatever their stored xyz.
    """
    if point_maps.ndim != 4 or point_maps.shape[1] != 4:
        raise ValueError(f"point maps must be (N, 4, H, W) = x, y, z, validity; got {tuple(point_maps.shape)}")
    pm = point_maps.float()
    valid = valid_mask(pm)
    # Zero invalid xyz first: sin(NaN) * 0 would still be NaN.
    xyz = torch.where(valid.unsqueeze(1), pm[:, :3], torch.zeros_like(pm[:, :3]))
    if settings.encoding == "relative_depth":
        rel = relative_depth_levels(xyz[:, 2], valid, settings.depth_levels, image_index)
        coords = rel.unsqueeze(1).expand(-1, 3, -1, -1)
    else:
        coords = xyz.clamp(-settings.max_range, settings.max_range)
    omega = (2 * math.pi / wavelengths(settings, pm.device)).view(1, 1, -1, 1, 1)
    angles = coords.unsqueeze(2) * omega  # (N, 3, F, H, W)
    enc = torch.cat([torch.sin(angles), torch.cos(angles)], dim=2).flatten(1, 2)  # (N, 6F, H, W)
    vmask = valid.unsqueeze(1).to(enc.dtype)
    return torch.cat([enc * vmask, vmask], dim=1)


class PointPatchify(nn.Conv2d):
    """Conv2d(193 -> C, kernel = stride = patch), applied to patches already cut out.

    A subclass so ``_init_weights`` can find it and give it the Kaiming init of HiSpatial
    appendix 6.2 (transformers' default would be N(0, 0.02)).  ``forward`` takes
    (M, 193, patch, patch) patches and returns (M, C): with kernel == stride the conv is this
    matmul (2x faster than conv2d on CPU, no copy of the 193-channel tensor).  Running it in
    the module's own ``forward`` keeps DeepSpeed ZeRO-3's parameter gathering working.
    """

    def reset_parameters(self) -> None:  # also what plain construction uses
        nn.init.kaiming_normal_(self.weight, mode="fan_in", nonlinearity="relu")
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        if patches.shape[1:] != (self.in_channels, *self.kernel_size):
            raise ValueError(f"expected (M, {self.in_channels}, {self.kernel_size[0]}, {self.kernel_size[1]}) "
                             f"patches, got {tuple(patches.shape)}")  # fmt: skip
        return nn.functional.linear(patches.flatten(1).to(self.weight.dtype), self.weight.flatten(1), self.bias)


class ZeroLinear(nn.Linear):
    """The point half of a fused projector: zero-initialised so the RGB-D model starts exactly
    at its base model (HiSpatial appendix 6.2).  A subclass so ``_init_weights`` can find it."""

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)


class PointMapEncoder(nn.Module):
    """Sinusoidal encoding + patchify conv: (N, 4, H, W) -> (N, C, H / patch, W / patch).

    ``patch``: the vision patch size (PaliGemma: 14) or patch x merge size (Qwen2.5-VL: 28).
    """

    def __init__(self, settings: PointBranchSettings, patch: int, hidden_size: int):
        super().__init__()
        self.settings = settings
        self.patch = int(patch)
        self.patchify = PointPatchify(settings.in_channels, hidden_size, kernel_size=self.patch, stride=self.patch)

    def forward(self, point_maps: torch.Tensor, image_index: torch.Tensor | None = None) -> torch.Tensor:
        n, c, hh, ww = point_maps.shape
        p = self.patch
        if hh % p or ww % p:
            raise ValueError(f"point map size {hh}x{ww} is not a multiple of the patch size {p}")
        h, w = hh // p, ww // p
        # Cut the 4-channel map into patches first and encode them in that layout,
        # (n*h*w, 193, p, p): the patchify matmul then needs no copy of the big tensor.
        patches = point_maps.reshape(n, c, h, p, w, p).permute(0, 2, 4, 1, 3, 5).reshape(n * h * w, c, p, p)
        idx = torch.arange(n, device=point_maps.device) if image_index is None else image_index.to(point_maps.device)
        enc = encode_point_maps(patches, self.settings, idx.repeat_interleave(h * w))
        return self.patchify(enc).view(n, h, w, -1).permute(0, 3, 1, 2)
