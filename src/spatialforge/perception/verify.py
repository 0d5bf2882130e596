"""Verified referring expressions (HiSpatial §7.1).

For each askable object of a perceived scene, the candidate phrases that resolve to it alone
in the scene's own geometry (``tasks.references``: category, attributes, extremes, ordinals,
given references; simplest first) are checked one by one with a **grounder**: a detection
backend given the phrase (without its leading "the") as its only text prompt.  A phrase passes when the grounder returns
**exactly one** box (after the score threshold and NMS) and the segmentation backend's mask for
that box has IoU **> iou** (0.7) with the object's own mask.  The first phrase that passes is
the object's reference; an object with none gets the highlighted-box fallback
("the chair highlighted by the red box") or, with ``fallback: skip``, is not asked about, with
the reason recorded.

Config (perception YAML, top level)::

    references:
      verify: true
      iou: 0.7                # a passing mask IoU is strictly greater
      fallback: highlight     # or skip
      max_candidates: 4       # phrases tried per object, simplest first
      grounder: {backend: grounding_dino, kwargs: {...}}   # optional; default: the detection stage

The outcome is ``scene.metadata["reference_check"]``: ``verified`` (object id -> phrase),
``rejected`` (object id -> why each tried phrase failed), ``fallback``, ``iou``; question
generation then uses only those phrases (``tasks.verified_refs``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from .base import ImageItem, register
from .oracle import _SceneReader, _visible

_KIND_ORDER = {"category": 0, "attribute": 1, "extreme": 2, "ordinal": 3, "given": 4}


@dataclass(frozen=True)
class ReferenceConfig:
    verify: bool = False
    iou: float = 0.7
    fallback: str = "highlight"
    max_candidates: int = 4
    grounder: dict[str, Any] | None = field(default=None)


def parse_references(raw: Any, where: str) -> ReferenceConfig:
    if raw is None:
        return ReferenceConfig()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: references: expected a mapping")
    unknown = sorted(set(raw) - {"verify", "iou", "fallback", "max_candidates", "grounder"})
    if unknown:
        raise ConfigError(f"{where}: references: unknown key(s) {', '.join(unknown)}; "
                          "valid: verify, iou, fallback, max_candidates, grounder")
    cfg = ReferenceConfig(**raw)
    if not isinstance(cfg.verify, bool):
        raise ConfigError(f"{where}: references.verify must be true or false")
    if isinstance(cfg.iou, bool) or not isinstance(cfg.iou, (int, float)) or not 0.0 <= cfg.iou < 1.0:
        raise ConfigError(f"{where}: references.iou must be in [0, 1), got {cfg.iou!r}")
    if cfg.fallback not in ("highlight", "skip"):
        raise ConfigError(f"{where}: references.fallback must be 'highlight' or 'skip', got {cfg.fallback!r}")
    if isinstance(cfg.max_candidates, bool) or not isinstance(cfg.max_candidates, int) or cfg.max_candidates < 1:
        raise ConfigError(f"{where}: references.max_candidates must be an integer >= 1")
    g = cfg.grounder
    if g is not None:
        from .base import backend_class

        if isinstance(g, str):
            g = {"backend": g}
        if not isinstance(g, dict) or not isinstance(g.get("backend"), str) or set(g) - {"backend", "kwargs"}:
            raise ConfigError(f"{where}: references.grounder needs 'backend: NAME' (and optional kwargs)")
        try:
            backend_class("detection", g["backend"])
        except ConfigError as e:
            raise ConfigError(f"{where}: references.grounder: {e}") from None
        cfg = ReferenceConfig(cfg.verify, float(cfg.iou), cfg.fallback, cfg.max_candidates,
                              {"backend": g["backend"], "kwargs": dict(g.get("kwargs") or {})})
    return cfg


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b)) / union if union else 0.0


def candidate_phrases(view: Any) -> dict[int, list[str]]:
    """Object index -> the phrases that resolve to it alone in ``view``, simplest first."""
    from ..tasks.references import candidate_texts, resolve

    out: dict[int, list[tuple[int, int, str]]] = {}
    for n, (text, ref) in enumerate(candidate_texts(view).items()):
        if ref.kind not in _KIND_ORDER:  # highlights are the fallback, not a candidate
            continue
        hit = resolve(ref, view)
        if len(hit) == 1 and view.ok[hit[0]]:
            out.setdefault(hit[0], []).append((_KIND_ORDER[ref.kind], n, text))
    return {i: [t for _, _, t in sorted(c)] for i, c in out.items()}


class ReferenceVerifier:
    """``grounder``: a detection backend; ``segmenter``: a segmentation backend."""

    def __init__(self, cfg: ReferenceConfig, grounder: Any, segmenter: Any, score_threshold: float,
                 nms_iou: float) -> None:
        self.cfg, self.grounder, self.segmenter = cfg, grounder, segmenter
        self.score_threshold, self.nms_iou = float(score_threshold), float(nms_iou)

    def check(self, item: ImageItem, phrase: str, target: np.ndarray) -> str | None:
        """None when ``phrase`` grounds to exactly one box whose mask has IoU > cfg.iou with
        ``target``; else why not."""
        from .pipeline import nms

        # detectors take noun phrases ("red mug", "chair closest to the camera"): drop the article
        d = self.grounder([item], [[phrase[4:] if phrase.startswith("the ") else phrase]])[0]
        d = d.take(np.flatnonzero(d.scores >= self.score_threshold))
        d = d.take(nms(d.boxes, d.scores, self.nms_iou))
        if len(d) != 1:
            return f"{phrase!r}: the grounder found {len(d)} boxes (need exactly 1)"
        mask = np.asarray(self.segmenter([item], [d.boxes])[0][0], dtype=bool)
        iou = mask_iou(mask, target)
        if iou <= self.cfg.iou:
            return f"{phrase!r}: mask IoU {iou:.2f} <= {self.cfg.iou}"
        return None

    def __call__(self, scene: Any, item: ImageItem) -> Any:
        """The scene with ``metadata["reference_check"]`` filled."""
        from dataclasses import replace

        from ..tasks.view import SceneView

        view = SceneView(scene)
        verified: dict[str, str] = {}
        rejected: dict[str, list[str]] = {}
        cands = candidate_phrases(view)
        for i in range(view.n):
            if not view.ok[i]:
                continue
            oid = str(view.ids[i])
            target = scene.objects[i].mask.decode() if scene.objects[i].mask is not None else None
            if target is None:
                rejected[oid] = ["no mask to compare with"]
                continue
            why = []
            for phrase in cands.get(i, [])[: self.cfg.max_candidates]:
                reason = self.check(item, phrase, target)
                if reason is None:
                    verified[oid] = phrase
                    break
                why.append(reason)
            else:
                rejected[oid] = why or ["no phrase resolves to it alone in the scene"]
        meta = {**scene.metadata, "reference_check": {"iou": self.cfg.iou, "fallback": self.cfg.fallback,
                                                       "verified": verified, "rejected": rejected}}
        return replace(scene, metadata=meta)


@register("detection", "oracle_grounder")
class OracleGrounder(_SceneReader):
    """A grounder built from ground truth: each text prompt is resolved against the exact scene
    (``<scenes>/<id>.json``) by the same rules that wrote it (``tasks.references``); a bare
    category name gives every visible object of that category.  Boxes are the objects'
    exact 2D boxes, score 1.  ``box_jitter`` (seeded) perturbs them, as the noisy oracles do."""

    def __init__(self, scenes: str, box_jitter: float = 0.0, seed: int = 0) -> None:
        super().__init__(scenes, seed)
        self.box_jitter = float(box_jitter)

    def __call__(self, images: list[ImageItem], vocabularies: list[list[str]]) -> list:
        from ..tasks.references import resolve_text
        from ..tasks.view import SceneView
        from .base import Detections

        out = []
        for item, vocab in zip(images, vocabularies, strict=True):
            scene = self.scene(item)
            view = SceneView(scene)
            visible = {o.id: o for o in _visible(scene)}
            ids: list[int] = []
            for phrase in vocab:  # the verifier drops "the ": the reference texts have it
                hit = [o.id for o in visible.values() if o.category == phrase] or resolve_text(f"the {phrase}", view)
                ids += [i for i in hit if i in visible and i not in ids]
            boxes = np.array([visible[i].box2d for i in ids], dtype=np.float64).reshape(-1, 4)
            if self.box_jitter and len(ids):
                w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
                boxes = boxes + self.box_jitter * np.stack([w, h, w, h], 1) * self.rng(item, "ground").standard_normal(boxes.shape)
            labels = [vocab[0] if vocab else ""] * len(ids)
            out.append(Detections(boxes, np.ones(len(ids)), labels))
        return out


def build_verifier(cfg: Any, backends: dict[str, Any]) -> ReferenceVerifier | None:
    """The verifier of a ``PerceptionConfig`` (None when ``references.verify`` is off), using the
    configured grounder (else the detection stage's backend) and the segmentation stage's."""
    from .base import backend_class

    rc: ReferenceConfig = cfg.references
    if not rc.verify:
        return None
    if rc.grounder is not None:
        grounder = backend_class("detection", rc.grounder["backend"])(**rc.grounder["kwargs"])
    else:
        grounder = backends["detection"]
    return ReferenceVerifier(rc, grounder, backends["segmentation"], cfg.postprocess.score_threshold,
                             cfg.postprocess.nms_iou)
