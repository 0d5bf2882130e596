"""Orientation (object front) backends, and turning a predicted azimuth into a world front.

Protocol (``OrientationBackend``): ``__call__(images, boxes)`` returns, per image, one azimuth in
degrees per box, or None where the estimator is not confident (that object keeps no front).
Where no orientation stage is configured, objects have no front and the orientation tasks are
skipped with their reason ("no referable object with a known front"): never guessed.

**Azimuth convention**: the angle of the object's front in the horizontal (gravity) plane,
measured from the direction *from the object toward the camera*, positive turning toward the
camera's right: 0 = facing the camera, 90 = front points to the viewer's right, 180 = facing
away, 270 = to the viewer's left (``front_from_azimuth``).  Orient Anything's released head
predicts the same kind of angle bins.

``dinov2_head``: a ``Dinov2Model`` backbone (transformers; any local folder or hub id with a
DINOv2 config and image processor) and a small head loaded from a local **state-dict file**
(``head``), so users can train one on their own crops:

* file: safetensors (``*.safetensors``), tensors ``layers.{k}.weight`` / ``layers.{k}.bias`` for
  k = 0..L-1: ``Linear`` layers applied in order, GELU between them (L = 1: a linear probe);
* metadata (the safetensors header's string map): ``format`` =
  ``"spatialforge-orientation-head"``, ``version`` = ``"1"``, ``bins`` = number of azimuth bins
  B (bin b is centred on b x 360 / B degrees), ``features`` = ``"cls"`` (the CLS token of the
  backbone's last hidden state, after its layer norm) or ``"cls+mean"`` (CLS concatenated with
  the mean of the patch tokens, DINOv2's linear-probe input);
* the first layer's input size must be the backbone's hidden size (x 2 for ``cls+mean``), the
  last layer's output size B.

The crop is the box grown by ``pad`` (share of its size) on each side, clipped to the image;
the predicted azimuth is the highest-probability bin's centre, and None when that probability is
under ``min_confidence``.  ``save_head`` writes the format.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import ConfigError, DataError
from .base import ImageItem, register
from .hf import _HFBackend, _load, pil_processor

HEAD_FORMAT = "spatialforge-orientation-head"
FEATURES = ("cls", "cls+mean")


class OrientationBackend(Protocol):
    def __call__(self, images: list[ImageItem], boxes: list[np.ndarray]) -> list[list[float | None]]: ...


def front_from_azimuth(center_world: np.ndarray, azimuth_deg: float) -> tuple[float, float, float] | None:
    """Unit world front (z up, camera at the origin) of an object at ``center_world`` whose
    front makes ``azimuth_deg`` with the direction toward the camera (positive: toward the
    camera's right).  None when the object is straight above/below the camera."""
    to_cam = -np.asarray(center_world, dtype=np.float64)
    to_cam[2] = 0.0
    n = np.linalg.norm(to_cam)
    if n < 1e-9:
        return None
    t = to_cam / n
    right = np.cross([0.0, 0.0, 1.0], t)  # up x toward-camera = the viewer's right
    a = math.radians(azimuth_deg)
    f = math.cos(a) * t + math.sin(a) * right
    f = f / np.linalg.norm(f)
    return (float(f[0]), float(f[1]), float(f[2]))


def with_fronts(scene: Any, ids: list[int], azimuths: list[float | None]) -> Any:
    """The estimated scene with ``front`` set from each detection's azimuth (``ids[k]`` is the
    object id of detection k; objects the geometry dropped are ignored) and
    ``metadata["orientation"]`` saying how many objects got one."""
    from dataclasses import replace

    az = dict(zip(ids, azimuths, strict=True))
    objects = []
    for o in scene.objects:
        a = az.get(int(o.id))
        front = None if a is None else front_from_azimuth(np.asarray(o.box3d.center), float(a))
        objects.append(replace(o, front=front))
    n = sum(o.front is not None for o in objects)
    backend = scene.metadata.get("perception", {}).get("stages", {}).get("orientation", {}).get("backend", "orientation")
    meta = {**scene.metadata, "orientation": f"{backend}: {n} of {len(objects)} objects have a front "
                                            f"(the others: estimator not confident)"}
    return replace(scene, objects=tuple(objects), metadata=meta)


def crop_box(box: np.ndarray, hw: tuple[int, int], pad: float) -> tuple[int, int, int, int]:
    """Integer pixel rectangle (x0, y0, x1, y1) of ``box`` grown by ``pad`` x its size per side."""
    H, W = hw
    x0, y0, x1, y1 = (float(v) for v in box)
    dx, dy = pad * (x1 - x0), pad * (y1 - y0)
    r = (max(0, math.floor(x0 - dx)), max(0, math.floor(y0 - dy)), min(W, math.ceil(x1 + dx)), min(H, math.ceil(y1 + dy)))
    if r[2] <= r[0] or r[3] <= r[1]:
        raise DataError(f"box {list(map(float, box))} is empty inside the {W}x{H} image")
    return r


def save_head(path: str | Path, layers: list[tuple[Any, Any]], bins: int, features: str = "cls") -> Path:
    """Write a head file: ``layers`` = [(weight (out, in), bias (out,)), ...] torch tensors."""
    from safetensors.torch import save_file

    if features not in FEATURES:
        raise ValueError(f"features must be one of {FEATURES}")
    tensors = {}
    for k, (w, b) in enumerate(layers):
        tensors[f"layers.{k}.weight"], tensors[f"layers.{k}.bias"] = w.contiguous(), b.contiguous()
    path = Path(path)
    save_file(tensors, str(path), metadata={"format": HEAD_FORMAT, "version": "1", "bins": str(int(bins)),
                                             "features": features})
    return path


def load_head(path: str | Path, in_dim: int) -> tuple[list[tuple[Any, Any]], int, str]:
    """(layers, bins, features) of a head file, checked against the backbone's ``in_dim``."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    where = f"orientation head {path}"
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (OSError, SafetensorError) as e:
        raise ConfigError(f"{where}: not a readable safetensors file ({e})") from None
    if meta.get("format") != HEAD_FORMAT or meta.get("version") != "1":
        raise ConfigError(f"{where}: metadata format/version must be {HEAD_FORMAT!r}/'1', got {meta}")
    features = meta.get("features", "cls")
    if features not in FEATURES:
        raise ConfigError(f"{where}: features must be one of {', '.join(FEATURES)}, got {features!r}")
    try:
        bins = int(meta["bins"])
    except (KeyError, ValueError):
        raise ConfigError(f"{where}: metadata 'bins' must be an integer") from None
    layers = []
    while f"layers.{len(layers)}.weight" in tensors:
        k = len(layers)
        layers.append((tensors.pop(f"layers.{k}.weight").float(), tensors.pop(f"layers.{k}.bias", None)))
    if not layers or tensors or any(b is None for _, b in layers):
        raise ConfigError(f"{where}: expected tensors layers.0..L-1.weight/bias only; left over: {sorted(tensors)}")
    want = in_dim * (2 if features == "cls+mean" else 1)
    for k, (w, b) in enumerate(layers):
        if w.ndim != 2 or b.shape != (w.shape[0],) or (k and w.shape[1] != layers[k - 1][0].shape[0]):
            raise ConfigError(f"{where}: layer {k} has weight {tuple(w.shape)} and bias {tuple(b.shape)}")
    if layers[0][0].shape[1] != want or layers[-1][0].shape[0] != bins or bins < 2:
        raise ConfigError(f"{where}: the head maps {layers[0][0].shape[1]} -> {layers[-1][0].shape[0]}; the backbone "
                          f"gives {want} features ({features}) and the metadata says {bins} bins (>= 2)")
    return [(w, b.float()) for w, b in layers], bins, features


@register("orientation", "dinov2_head")
class DinoV2Orientation(_HFBackend):
    def __init__(self, backbone: str, head: str, pad: float = 0.1, min_confidence: float = 0.0,
                 batch_size: int = 16, device: str = "cpu") -> None:
        super().__init__(backbone, device)
        from transformers import Dinov2Model

        self.head_path = str(head)
        self.model_path = f"{backbone} + {head}"
        if not 0.0 <= float(pad) <= 1.0 or not 0.0 <= float(min_confidence) <= 1.0:
            raise ConfigError(f"dinov2_head: pad and min_confidence must be in [0, 1], got {pad}, {min_confidence}")
        self.pad, self.min_confidence, self.batch_size = float(pad), float(min_confidence), max(1, int(batch_size))
        self.processor = _load(pil_processor("BitImageProcessor"), backbone, "dinov2_head")
        self.net = self._ready(_load(Dinov2Model, backbone, "dinov2_head"))
        layers, self.bins, self.features = load_head(head, int(self.net.config.hidden_size))
        self.layers = [(w.to(device), b.to(device)) for w, b in layers]

    def probabilities(self, crops: list[np.ndarray]) -> np.ndarray:
        """(crops, bins) softmax of the head over each crop's features."""
        torch = self.torch
        out = []
        for s in range(0, len(crops), self.batch_size):
            pixels = self.processor(images=crops[s : s + self.batch_size], return_tensors="pt")["pixel_values"]
            with torch.inference_mode():
                h = self.net(pixel_values=pixels.to(self.device)).last_hidden_state.float()
                x = h[:, 0] if self.features == "cls" else torch.cat([h[:, 0], h[:, 1:].mean(dim=1)], dim=1)
                for k, (w, b) in enumerate(self.layers):
                    x = torch.nn.functional.linear(x, w, b)
                    if k < len(self.layers) - 1:
                        x = torch.nn.functional.gelu(x)
                out.append(x.softmax(dim=-1).double().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.bins))

    def __call__(self, images: list[ImageItem], boxes: list[np.ndarray]) -> list[list[float | None]]:
        crops, owner = [], []
        for k, (item, b) in enumerate(zip(images, boxes, strict=True)):
            for box in np.asarray(b, dtype=np.float64).reshape(-1, 4):
                if not np.all(np.isfinite(box)):
                    raise DataError(f"image {item.id!r}: non-finite box given to the orientation head")
                try:
                    x0, y0, x1, y1 = crop_box(box, item.hw, self.pad)
                except DataError as e:
                    raise DataError(f"image {item.id!r}: {e}") from None
                crops.append(np.ascontiguousarray(item.rgb[y0:y1, x0:x1]))
                owner.append(k)
        probs = self.probabilities(crops)
        out: list[list[float | None]] = [[] for _ in images]
        for k, p in zip(owner, probs, strict=True):
            b = int(np.argmax(p))
            out[k].append(b * 360.0 / self.bins if p[b] >= self.min_confidence else None)
        return out


def build_tiny_orientation(out: str | Path, seed: int = 0, bins: int = 8) -> Path:
    """A tiny random ``Dinov2Model`` (after transformers' Dinov2ModelTester) + its PIL image
    processor in ``out/backbone``, and a random two-layer ``cls+mean`` head in ``out/head.safetensors``."""
    import torch
    from transformers import Dinov2Config, Dinov2Model

    out = Path(out)
    (out / "backbone").mkdir(parents=True, exist_ok=True)
    cfg = Dinov2Config(image_size=28, patch_size=14, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=32)
    torch.manual_seed(seed)
    Dinov2Model(cfg).save_pretrained(out / "backbone")
    pil_processor("BitImageProcessor")(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28},
                                       image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225],
                                       do_convert_rgb=True).save_pretrained(out / "backbone")
    g = torch.Generator().manual_seed(seed)
    layers = [(torch.randn(12, 32, generator=g), torch.randn(12, generator=g)),
              (torch.randn(bins, 12, generator=g) * 3, torch.randn(bins, generator=g))]
    save_head(out / "head.safetensors", layers, bins, "cls+mean")
    return out
