"""Run the configured stages over a batch of images: (photo filter) -> geometry -> (tags) ->
boxes -> masks -> (gravity) -> (orientation).

``Perception(config)`` builds every backend once; ``Perception.run(items)`` returns, per
item, a ``Perceived`` record or the ``DataError`` that rejected it (filter or backend).  A
backend ``DataError`` on a batch is retried image by image, so one bad image never costs
the others.  Detection post-processing (score threshold, class-agnostic NMS, mask checks)
happens here; 3D geometry happens in ``sources.images``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import __version__
from ..errors import DataError
from .base import Detections, GeometryResult, ImageItem, backend_class, mask_to_box
from .config import PerceptionConfig
from .oracle import _box_iou
from .tagging import apply_tags


@dataclass
class Perceived:
    item: ImageItem
    geometry: GeometryResult
    detections: Detections  # after post-processing, one per mask
    masks: np.ndarray  # (N, H, W) bool
    dropped: list[str] = field(default_factory=list)  # why detections were removed
    up_cam: np.ndarray | None = None  # gravity stage: camera-frame up vector (None: the floor fit decides)
    azimuths: list[float | None] | None = None  # orientation stage: per detection (None: no front)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices kept by greedy class-agnostic NMS, highest score first (ties: input order)."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    for i in order:
        if not keep or _box_iou(boxes[i : i + 1], boxes[keep]).max() <= iou:
            keep.append(int(i))
    return keep


class Perception:
    def __init__(self, config: PerceptionConfig) -> None:
        self.config = config
        self.backends: dict[str, Any] = {}
        for kind, stage in config.stages.items():
            self.backends[kind] = backend_class(kind, stage.backend)(**stage.kwargs)

    def provenance(self) -> dict[str, Any]:
        """Per stage: backend name, model path / hub id, library version."""
        out = {}
        for kind, b in self.backends.items():
            out[kind] = {"backend": self.config.stages[kind].backend,
                         "model": getattr(b, "model_path", None),
                         "library": getattr(b, "library_version", f"spatialforge {__version__}")}
        return out

    # ------------------------------------------------------------------ running
    def run(self, items: list[ImageItem]) -> list[Perceived | DataError]:
        if not items:
            return []
        try:
            return self._run(items)
        except DataError as e:
            if len(items) == 1:
                return [e]
            return [r for item in items for r in self.run([item])]

    def _run(self, items: list[ImageItem]) -> list[Perceived | DataError]:
        cfg = self.config
        results: list[Perceived | DataError | None] = [None] * len(items)
        photos = list(range(len(items)))
        if "photo_filter" in self.backends:
            reasons = self.backends["photo_filter"](items)
            for k, reason in enumerate(reasons):
                if reason is not None:
                    results[k] = DataError(f"image {items[k].id!r}: {reason}")
            photos = [k for k, reason in enumerate(reasons) if reason is None]
        geoms_of = dict(zip(photos, self.backends["geometry"]([items[k] for k in photos]), strict=True))
        geoms = [geoms_of.get(k) for k in range(len(items))]
        live: list[int] = []
        for k in photos:
            item, g = items[k], geoms[k]
            if g.depth.shape != item.hw or g.valid.shape != item.hw or g.points.shape != (*item.hw, 3):
                raise DataError(f"image {item.id!r}: geometry backend returned shape {g.depth.shape}, image is {item.hw}")
            invalid = 1.0 - float(np.mean(g.valid))
            if invalid > cfg.filter.max_invalid_depth:
                results[k] = DataError(f"image {item.id!r}: {invalid:.0%} of pixels have no valid depth "
                                       f"(> {cfg.filter.max_invalid_depth:.0%})")
            else:
                live.append(k)
        if "tagging" in self.backends:  # tags -> per-image vocabulary, or a rejection (filter.*_tags)
            tagged = apply_tags([items[k] for k in live], self.backends["tagging"]([items[k] for k in live]),
                                cfg.vocabulary, cfg.filter.include_tags, cfg.filter.exclude_tags)
            for k, t in zip(live, tagged, strict=True):
                if isinstance(t, DataError):
                    results[k] = t
            vocabs = [t for t in tagged if not isinstance(t, DataError)]
            live = [k for k, t in zip(live, tagged, strict=True) if not isinstance(t, DataError)]
        else:
            vocabs = [list(cfg.vocabulary)] * len(live)
        sub = [items[k] for k in live]
        dets = [self._postprocess(d) for d in self.backends["detection"](sub, [list(v) for v in vocabs])]
        with_dets = [j for j, d in enumerate(dets) if len(d)]
        for j, d in enumerate(dets):
            if not len(d):
                results[live[j]] = DataError(f"image {sub[j].id!r}: no detections (vocabulary of {len(vocabs[j])} "
                                             f"categories, score >= {cfg.postprocess.score_threshold})")
        seg_items = [sub[j] for j in with_dets]
        masks = self.backends["segmentation"](seg_items, [dets[j].boxes for j in with_dets])
        for j, m in zip(with_dets, masks, strict=True):
            item = sub[j]
            if m.shape != (len(dets[j]), *item.hw):
                raise DataError(f"image {item.id!r}: segmentation returned {m.shape}, expected {(len(dets[j]), *item.hw)}")
            results[live[j]] = self._check_masks(item, geoms[live[j]], dets[j], m.astype(bool))
        self._optional_stages([r for r in results if isinstance(r, Perceived)])
        return results  # type: ignore[return-value]

    def _optional_stages(self, done: list[Perceived]) -> None:
        """Gravity (an up vector per image) and orientation (an azimuth per kept detection)."""
        if done and "gravity" in self.backends:
            ups = self.backends["gravity"]([p.item for p in done], [p.geometry for p in done])
            for p, up in zip(done, ups, strict=True):
                p.up_cam = None if up is None else np.asarray(up, dtype=np.float64)
        if done and "orientation" in self.backends:
            azs = self.backends["orientation"]([p.item for p in done], [p.detections.boxes for p in done])
            for p, az in zip(done, azs, strict=True):
                if len(az) != len(p.detections):
                    raise DataError(f"image {p.item.id!r}: orientation returned {len(az)} azimuths for "
                                    f"{len(p.detections)} objects")
                p.azimuths = list(az)

    def _postprocess(self, d: Detections) -> Detections:
        p = self.config.postprocess
        d = d.take(np.flatnonzero(d.scores >= p.score_threshold))
        ok = np.all(np.isfinite(d.boxes), axis=1) & (d.boxes[:, 2] > d.boxes[:, 0]) & (d.boxes[:, 3] > d.boxes[:, 1])
        d = d.take(np.flatnonzero(ok))
        return d.take(nms(d.boxes, d.scores, p.nms_iou)[: p.max_detections])

    def _check_masks(self, item: ImageItem, geom: GeometryResult, d: Detections, masks: np.ndarray) -> Perceived | DataError:
        p = self.config.postprocess
        keep, dropped = [], []
        for i in range(len(d)):
            n = int(masks[i].sum())
            name = f"detection {i} ({d.labels[i]})"
            if n < p.min_mask_pixels:
                dropped.append(f"{name}: mask has {n} pixels (< {p.min_mask_pixels})")
                continue
            agree = float(_box_iou(d.boxes[i : i + 1], mask_to_box(masks[i])[None])[0, 0])
            if agree < p.min_mask_box_agreement:
                dropped.append(f"{name}: mask/box IoU {agree:.2f} < {p.min_mask_box_agreement}")
                continue
            keep.append(i)
        if not keep:
            return DataError(f"image {item.id!r}: no detection has a usable mask ({'; '.join(dropped[:3])})")
        return Perceived(item, geom, d.take(keep), masks[keep], dropped)
