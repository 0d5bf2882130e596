"""Run the configured stages over a batch of images: (photo filter) -> geometry -> (tags) ->
boxes -> masks -> (gravity) -> (orientation).

The unit of work is a ``Stage``: one configured backend (loaded once, in its constructor)
applied to a batch of ``ItemState`` records, each image's partial result.  Two executors run
the same stages: ``Perception.run`` (in-process, stage after stage on one batch) and
``perception.ray_runner`` (one Ray Data actor pool per stage).  Because each stage sees the
same batches in both, their outputs are identical.

A backend ``DataError`` on a batch is retried image by image within that stage, so one bad
image never costs the others; the image that still fails keeps the error (later stages skip
it).  Detection post-processing (score threshold, class-agnostic NMS, mask checks) happens
here; 3D geometry happens in ``sources.images``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import __version__
from ..errors import DataError
from .base import KINDS, Detections, GeometryResult, ImageItem, backend_class, mask_to_box
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
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)  # provenance of each stage that ran
    up_cam: np.ndarray | None = None  # gravity stage: camera-frame up vector (None: the floor fit decides)
    azimuths: list[float | None] | None = None  # orientation stage: per detection (None: no front)


@dataclass
class ItemState:
    """One image between stages (picklable: the Ray path ships it from pool to pool)."""

    item: ImageItem
    error: DataError | None = None
    geometry: GeometryResult | None = None
    vocabulary: list[str] | None = None
    detections: Detections | None = None
    masks: np.ndarray | None = None
    dropped: list[str] = field(default_factory=list)
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)
    up_cam: np.ndarray | None = None
    azimuths: list[float | None] | None = None

    def result(self) -> Perceived | DataError:
        if self.error is not None:
            return self.error
        if self.masks is None:
            raise RuntimeError(f"image {self.item.id!r}: the segmentation stage did not run")
        return Perceived(self.item, self.geometry, self.detections, self.masks, self.dropped, self.stages,
                         self.up_cam, self.azimuths)


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices kept by greedy class-agnostic NMS, highest score first (ties: input order)."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    for i in order:
        if not keep or _box_iou(boxes[i : i + 1], boxes[keep]).max() <= iou:
            keep.append(int(i))
    return keep


def stage_kinds(config: PerceptionConfig) -> list[str]:
    """The configured stages in running order."""
    return [k for k in KINDS if k in config.stages]


class Stage:
    """One configured stage over a batch of ``ItemState``; see the module doc.

    ``backend_cls`` (default: the registry's class for the configured name) lets the Ray
    runner resolve the class once on the driver and ship it to its actors."""

    def __init__(self, kind: str, config: PerceptionConfig, backend_cls: type | None = None) -> None:
        spec = config.stages[kind]
        self.kind, self.config = kind, config
        self.backend = (backend_cls or backend_class(kind, spec.backend))(**spec.kwargs)
        self.provenance = {"backend": spec.backend, "model": getattr(self.backend, "model_path", None),
                           "library": getattr(self.backend, "library_version", f"spatialforge {__version__}")}
        self._apply: Callable[[list[ItemState]], list[dict[str, Any]]] = getattr(self, f"_{kind}")

    def __call__(self, states: list[ItemState]) -> list[ItemState]:
        """Run the stage on the states without an error (in place); returns ``states``."""
        live = [s for s in states if s.error is None]
        if live:
            self._retrying(live)
        return states

    def _retrying(self, live: list[ItemState]) -> None:
        try:
            updates = self._apply(live)  # computed for the whole batch before any state changes
        except DataError as e:
            if len(live) == 1:
                live[0].error = e
            else:
                for s in live:
                    self._retrying([s])
            return
        for s, update in zip(live, updates, strict=True):
            for k, v in update.items():
                setattr(s, k, v)
            if s.error is None:
                s.stages[self.kind] = self.provenance

    # ------------------------------------------------------------------ one function per kind
    def _photo_filter(self, live: list[ItemState]) -> list[dict[str, Any]]:
        reasons = self.backend([s.item for s in live])
        return [{} if r is None else {"error": DataError(f"image {s.item.id!r}: {r}")}
                for s, r in zip(live, reasons, strict=True)]

    def _geometry(self, live: list[ItemState]) -> list[dict[str, Any]]:
        limit = self.config.filter.max_invalid_depth
        out = []
        for s, g in zip(live, self.backend([s.item for s in live]), strict=True):
            item = s.item
            if g.depth.shape != item.hw or g.valid.shape != item.hw or g.points.shape != (*item.hw, 3):
                raise DataError(f"image {item.id!r}: geometry backend returned shape {g.depth.shape}, image is {item.hw}")
            invalid = 1.0 - float(np.mean(g.valid))
            if invalid > limit:
                out.append({"error": DataError(f"image {item.id!r}: {invalid:.0%} of pixels have no valid depth "
                                               f"(> {limit:.0%})")})
            else:
                out.append({"geometry": g})
        return out

    def _tagging(self, live: list[ItemState]) -> list[dict[str, Any]]:
        """Tags -> each image's detector vocabulary, or its rejection (``filter.include_tags`` / ``exclude_tags``)."""
        items, f = [s.item for s in live], self.config.filter
        tagged = apply_tags(items, self.backend(items), self.config.vocabulary, f.include_tags, f.exclude_tags)
        return [{"error": t} if isinstance(t, DataError) else {"vocabulary": list(t)} for t in tagged]

    def _detection(self, live: list[ItemState]) -> list[dict[str, Any]]:
        vocabs = [list(s.vocabulary) if s.vocabulary is not None else list(self.config.vocabulary) for s in live]
        out = []
        for s, v, d in zip(live, vocabs, self.backend([s.item for s in live], [list(v) for v in vocabs]), strict=True):
            d = self._postprocess(d)
            if not len(d):
                out.append({"error": DataError(f"image {s.item.id!r}: no detections (vocabulary of {len(v)} "
                                               f"categories, score >= {self.config.postprocess.score_threshold})")})
            else:
                out.append({"detections": d})
        return out

    def _segmentation(self, live: list[ItemState]) -> list[dict[str, Any]]:
        masks = self.backend([s.item for s in live], [s.detections.boxes for s in live])
        out = []
        for s, m in zip(live, masks, strict=True):
            if m.shape != (len(s.detections), *s.item.hw):
                raise DataError(f"image {s.item.id!r}: segmentation returned {m.shape}, "
                                f"expected {(len(s.detections), *s.item.hw)}")
            out.append(self._check_masks(s, m.astype(bool)))
        return out

    def _gravity(self, live: list[ItemState]) -> list[dict[str, Any]]:
        ups = self.backend([s.item for s in live], [s.geometry for s in live])
        return [{"up_cam": None if up is None else np.asarray(up, dtype=np.float64)} for up in ups]

    def _orientation(self, live: list[ItemState]) -> list[dict[str, Any]]:
        out = []
        for s, az in zip(live, self.backend([s.item for s in live], [s.detections.boxes for s in live]), strict=True):
            if len(az) != len(s.detections):
                raise DataError(f"image {s.item.id!r}: orientation returned {len(az)} azimuths for "
                                f"{len(s.detections)} objects")
            out.append({"azimuths": list(az)})
        return out

    def _postprocess(self, d: Detections) -> Detections:
        p = self.config.postprocess
        d = d.take(np.flatnonzero(d.scores >= p.score_threshold))
        ok = np.all(np.isfinite(d.boxes), axis=1) & (d.boxes[:, 2] > d.boxes[:, 0]) & (d.boxes[:, 3] > d.boxes[:, 1])
        d = d.take(np.flatnonzero(ok))
        return d.take(nms(d.boxes, d.scores, p.nms_iou)[: p.max_detections])

    def _check_masks(self, s: ItemState, masks: np.ndarray) -> dict[str, Any]:
        p, d = self.config.postprocess, s.detections
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
            return {"error": DataError(f"image {s.item.id!r}: no detection has a usable mask ({'; '.join(dropped[:3])})")}
        return {"detections": d.take(keep), "masks": masks[keep], "dropped": dropped}


class Perception:
    """Every configured stage, built once; ``run`` takes one batch through all of them."""

    def __init__(self, config: PerceptionConfig) -> None:
        self.config = config
        self.stages = [Stage(kind, config) for kind in stage_kinds(config)]
        self.backends: dict[str, Any] = {s.kind: s.backend for s in self.stages}

    def provenance(self) -> dict[str, Any]:
        """Per stage: backend name, model path / hub id, library version."""
        by_kind = {s.kind: s.provenance for s in self.stages}
        return {kind: by_kind[kind] for kind in self.config.stages}

    def run(self, items: list[ImageItem]) -> list[Perceived | DataError]:
        """Per item, a ``Perceived`` record or the ``DataError`` that rejected it."""
        states = [ItemState(item) for item in items]
        for stage in self.stages:
            stage(states)
        return [s.result() for s in states]
