"""Oracle and noisy-oracle backends for rendered scenes.

They ignore the pixels and read the exact ground truth of the image from its scene JSON
(``<scenes>/<image id>.json``, as written by ``spatialforge scenes``): depth and intrinsics,
the visible objects' 2D boxes, categories and masks.  The noisy variants add controlled,
seeded errors (depth scale and relative noise, box jitter, mask erosion), so the error the
pipeline itself adds can be measured apart from the models'.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from ..errors import DataError
from ..scene import Scene, SceneError
from .base import Detections, GeometryResult, ImageItem, register, unproject_depth


class _SceneReader:
    def __init__(self, scenes: str | Path, seed: int = 0) -> None:
        self.scenes = Path(scenes)
        if not self.scenes.is_dir():
            from ..errors import ConfigError

            raise ConfigError(f"oracle backend: scenes folder {self.scenes} not found")
        self.seed = int(seed)
        self.model_path = str(self.scenes)

    def scene(self, item: ImageItem) -> Scene:
        try:
            scene = Scene.load(self.scenes / f"{item.id}.json")
        except SceneError as e:
            raise DataError(f"image {item.id!r}: no ground truth for the oracle ({e})") from None
        if (scene.camera.height, scene.camera.width) != item.hw:
            raise DataError(f"image {item.id!r} is {item.hw[0]}x{item.hw[1]}, its scene is "
                            f"{scene.camera.height}x{scene.camera.width}")
        return scene

    def rng(self, item: ImageItem, stage: str) -> np.random.Generator:
        """Per image and stage: the same noise whatever the batch or order."""
        return np.random.default_rng([self.seed, zlib.crc32(f"{stage}/{item.id}".encode())])


def _visible(scene: Scene) -> list:
    return [o for o in scene.objects if o.mask is not None and o.box2d is not None and o.mask.area > 0]


@register("geometry", "oracle")
class OracleGeometry(_SceneReader):
    """Exact depth and intrinsics.  Noisy: depth * depth_scale * (1 + depth_noise * N(0, 1))."""

    def __init__(self, scenes: str | Path, depth_scale: float = 1.0, depth_noise: float = 0.0, seed: int = 0) -> None:
        super().__init__(scenes, seed)
        self.depth_scale, self.depth_noise = float(depth_scale), float(depth_noise)

    def __call__(self, images: list[ImageItem]) -> list[GeometryResult]:
        out = []
        for item in images:
            scene = self.scene(item)
            try:
                depth = scene.load_depth().astype(np.float32)
            except SceneError as e:
                raise DataError(str(e)) from None
            valid = np.isfinite(depth) & (depth > 0)
            if self.depth_scale != 1.0 or self.depth_noise:
                noise = self.rng(item, "depth").standard_normal(depth.shape) if self.depth_noise else 0.0
                depth = np.where(valid, depth * self.depth_scale * (1.0 + self.depth_noise * noise), depth)
                depth = depth.astype(np.float32)
                valid &= depth > 0
            K = scene.camera.K.astype(np.float64)
            out.append(GeometryResult(unproject_depth(np.where(valid, depth, 0.0), K), depth, valid, K))
        return out


@register("geometry", "noisy_oracle")
class NoisyOracleGeometry(OracleGeometry):
    def __init__(self, scenes: str | Path, depth_scale: float = 1.05, depth_noise: float = 0.01, seed: int = 0) -> None:
        super().__init__(scenes, depth_scale, depth_noise, seed)


@register("detection", "oracle")
class OracleDetection(_SceneReader):
    """The visible objects (with a mask and a 2D box) whose category is in the vocabulary,
    score 1, in id order; extras carry the id, shape (what fills the box), attributes,
    references, occlusion and truncation.  Noisy: each box side moves by box_jitter * box size * N(0, 1)."""

    def __init__(self, scenes: str | Path, box_jitter: float = 0.0, seed: int = 0) -> None:
        super().__init__(scenes, seed)
        self.box_jitter = float(box_jitter)

    def __call__(self, images: list[ImageItem], vocabularies: list[list[str]]) -> list[Detections]:
        out = []
        for item, vocab in zip(images, vocabularies, strict=True):
            scene = self.scene(item)
            objs = [o for o in _visible(scene) if not vocab or o.category in vocab]
            boxes = np.array([o.box2d for o in objs], dtype=np.float64).reshape(-1, 4)
            if self.box_jitter and len(objs):
                H, W = item.hw
                w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
                size = np.stack([w, h, w, h], axis=1)
                boxes = boxes + self.box_jitter * size * self.rng(item, "boxes").standard_normal(boxes.shape)
                boxes = np.clip(boxes, 0, [W, H, W, H])
                boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1e-3)
            extras: list[dict[str, Any]] = [
                {"id": o.id, "shape": o.shape, "attributes": dict(o.attributes), "references": list(o.references),
                 "occlusion": o.occlusion, "truncation": o.truncation} for o in objs]
            out.append(Detections(boxes, np.ones(len(objs)), [o.category for o in objs], extras))
        return out


@register("detection", "noisy_oracle")
class NoisyOracleDetection(OracleDetection):
    def __init__(self, scenes: str | Path, box_jitter: float = 0.05, seed: int = 0) -> None:
        super().__init__(scenes, box_jitter, seed)


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N, 4) with every box in b (M, 4)."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area = lambda x: np.prod(np.clip(x[:, 2:] - x[:, :2], 0, None), axis=1)  # noqa: E731
    union = area(a)[:, None] + area(b)[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


@register("segmentation", "oracle")
class OracleSegmentation(_SceneReader):
    """Each box gets the exact mask of the visible object whose 2D box overlaps it most
    (an empty mask if none overlaps).  Noisy: masks eroded by ``erode`` pixels."""

    def __init__(self, scenes: str | Path, erode: int = 0, seed: int = 0) -> None:
        super().__init__(scenes, seed)
        if int(erode) < 0:
            from ..errors import ConfigError

            raise ConfigError(f"oracle segmentation: erode must be >= 0, got {erode}")
        self.erode = int(erode)

    def __call__(self, images: list[ImageItem], boxes: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for item, b in zip(images, boxes, strict=True):
            scene = self.scene(item)
            objs = _visible(scene)
            b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
            masks = np.zeros((b.shape[0], *item.hw), dtype=bool)
            if objs and b.shape[0]:
                iou = _box_iou(b, np.array([o.box2d for o in objs], dtype=np.float64))
                for i, j in enumerate(iou.argmax(axis=1)):
                    if iou[i, j] > 0:
                        m = objs[j].mask.decode()
                        masks[i] = ndimage.binary_erosion(m, iterations=self.erode) if self.erode else m
            out.append(masks)
        return out


@register("segmentation", "noisy_oracle")
class NoisyOracleSegmentation(OracleSegmentation):
    def __init__(self, scenes: str | Path, erode: int = 1, seed: int = 0) -> None:
        super().__init__(scenes, erode, seed)
