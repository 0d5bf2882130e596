"""How much error perception adds: perceived scenes measured against the exact ground truth.

For rendered scenes (the images path run on their RGB files), per scene and pooled:

* depth: AbsRel = mean |d - d*| / d* and delta1 = share with max(d/d*, d*/d) < 1.25, over
  pixels valid in both the perceived and the GT depth;
* objects: a perceived object matches the GT object whose mask it overlaps most, if that
  mask IoU is >= ``iou`` (greedy, best IoU first, one-to-one).  recall = matched / GT objects
  with a visible mask of at least ``min_pixels``; precision = matched / perceived objects;
* 3D: median centre error (m, camera frame) and relative size error of matched objects
  (``geometry.accuracy.box_errors``: the same measures as benchmarks/geometry_recovery.py).

Not yet: the share of generated answers that stay correct when re-asked on the exact scene.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..geometry.accuracy import box_errors
from ..scene import Scene


@dataclass
class Quality:
    abs_rel_sum: float = 0.0
    delta1_hits: int = 0
    depth_pixels: int = 0
    gt_objects: int = 0
    perceived_objects: int = 0
    matched: int = 0
    centre: list[float] = field(default_factory=list)
    size: list[float] = field(default_factory=list)
    scenes: int = 0

    def add(self, other: "Quality") -> None:
        for k in ("abs_rel_sum", "delta1_hits", "depth_pixels", "gt_objects", "perceived_objects", "matched", "scenes"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.centre += other.centre
        self.size += other.size

    def summary(self) -> dict[str, float | int | None]:
        def med(v: list[float]) -> float | None:
            return float(np.median(v)) if v else None

        n = self.depth_pixels
        return {
            "scenes": self.scenes,
            "abs_rel": self.abs_rel_sum / n if n else None,
            "delta1": self.delta1_hits / n if n else None,
            "recall": self.matched / self.gt_objects if self.gt_objects else None,
            "precision": self.matched / self.perceived_objects if self.perceived_objects else None,
            "centre_m": med(self.centre),
            "size_rel": med(self.size),
        }


def _mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 0.0


def scene_quality(perceived: Scene, gt: Scene, iou: float = 0.5, min_pixels: int = 30) -> Quality:
    q = Quality(scenes=1)
    d, g = perceived.load_depth(), gt.load_depth()
    ok = np.isfinite(d) & (d > 0) & np.isfinite(g) & (g > 0)
    if ok.any():
        dv, gv = d[ok].astype(np.float64), g[ok].astype(np.float64)
        q.abs_rel_sum = float(np.sum(np.abs(dv - gv) / gv))
        q.delta1_hits = int(np.count_nonzero(np.maximum(dv / gv, gv / dv) < 1.25))
        q.depth_pixels = int(dv.size)
    gts = [o for o in gt.objects if o.mask is not None and o.mask.area >= min_pixels]
    q.gt_objects, q.perceived_objects = len(gts), len(perceived.objects)
    gm = [o.mask.decode() for o in gts]
    pairs = []
    for i, p in enumerate(perceived.objects):
        if p.mask is None:
            continue
        pm = p.mask.decode()
        pairs += [(_mask_iou(pm, m), i, j) for j, m in enumerate(gm)]
    used_p, used_g = set(), set()
    R_est, R_gt = perceived.camera.R, gt.camera.R
    for v, i, j in sorted(pairs, key=lambda t: (-t[0], t[1], t[2])):
        if v < iou or i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        err = box_errors(perceived.objects[i].box3d, gts[j].box3d, R_est, R_gt)
        q.centre.append(err["centre"])
        q.size.append(err["size"])
    q.matched = len(used_p)
    return q


def folder_quality(perceived_dir: str | Path, gt_dir: str | Path, iou: float = 0.5) -> Quality:
    """Pooled quality of every perceived scene that has a GT scene of the same id; images the
    perception skipped count as scenes with every GT object missed."""
    perceived_dir, gt_dir = Path(perceived_dir), Path(gt_dir)
    total = Quality()
    for gt_path in sorted(gt_dir.glob("*.json")):
        if gt_path.name == "manifest.json":
            continue
        gt = Scene.load(gt_path)
        p = perceived_dir / gt_path.name
        if p.exists():
            total.add(scene_quality(Scene.load(p), gt, iou))
        else:
            total.add(Quality(scenes=1, gt_objects=sum(o.mask is not None and o.mask.area >= 30 for o in gt.objects)))
    return total
