"""How much error perception adds: perceived scenes measured against the exact ground truth.

For rendered scenes (the images path run on their RGB files), per scene and pooled:

* depth: AbsRel = mean |d - d*| / d* and delta1 = share with max(d/d*, d*/d) < 1.25, over
  pixels valid in both the perceived and the GT depth;
* objects: a perceived object matches the GT object whose mask it overlaps most, if that
  mask IoU is >= ``iou`` (greedy, best IoU first, one-to-one).  recall = matched / GT objects
  with a visible mask of at least ``min_pixels``; precision = matched / perceived objects;
* 3D: median centre error (m, camera frame) and relative size error of matched objects
  (``geometry.accuracy.box_errors``: the same measures as benchmarks/geometry_recovery.py).

* answers (``answer_agreement``): per task, the share of the free-form answers generated
  from the perceived scene that stay correct on the exact scene: each question's plan (its
  objects mapped to their matched exact objects, same pixels, template and unit) is realised
  on the exact scene, and the perceived answer text is scored against that truth by the
  evaluation's own scorer (``eval.scoring.score_sample``, numbers within 25 %).  A question
  about a perceived object with no exact match, or one the exact scene cannot pose (e.g. its
  reference is no longer unique), counts as not kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
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


def match_objects(perceived: Scene, gt: Scene, iou: float = 0.5, min_pixels: int = 30) -> list[tuple[int, int]]:
    """``(perceived index, gt index)`` pairs: greedy on mask IoU, best first, one-to-one, IoU >=
    ``iou``; GT objects need a mask of at least ``min_pixels``."""
    gts = [j for j, o in enumerate(gt.objects) if o.mask is not None and o.mask.area >= min_pixels]
    gm = {j: gt.objects[j].mask.decode() for j in gts}
    pairs = []
    for i, p in enumerate(perceived.objects):
        if p.mask is None:
            continue
        pm = p.mask.decode()
        pairs += [(_mask_iou(pm, gm[j]), i, j) for j in gts]
    used_p, used_g, out = set(), set(), []
    for v, i, j in sorted(pairs, key=lambda t: (-t[0], t[1], t[2])):
        if v < iou or i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        out.append((i, j))
    return out


def scene_quality(perceived: Scene, gt: Scene, iou: float = 0.5, min_pixels: int = 30) -> Quality:
    q = Quality(scenes=1)
    d, g = perceived.load_depth(), gt.load_depth()
    ok = np.isfinite(d) & (d > 0) & np.isfinite(g) & (g > 0)
    if ok.any():
        dv, gv = d[ok].astype(np.float64), g[ok].astype(np.float64)
        q.abs_rel_sum = float(np.sum(np.abs(dv - gv) / gv))
        q.delta1_hits = int(np.count_nonzero(np.maximum(dv / gv, gv / dv) < 1.25))
        q.depth_pixels = int(dv.size)
    q.gt_objects = sum(o.mask is not None and o.mask.area >= min_pixels for o in gt.objects)
    q.perceived_objects = len(perceived.objects)
    R_est, R_gt = perceived.camera.R, gt.camera.R
    matches = match_objects(perceived, gt, iou, min_pixels)
    for i, j in matches:
        err = box_errors(perceived.objects[i].box3d, gt.objects[j].box3d, R_est, R_gt)
        q.centre.append(err["centre"])
        q.size.append(err["size"])
    q.matched = len(matches)
    return q


#: answer_agreement outcomes per task
OUTCOMES = ("asked", "kept", "unmatched", "unaskable", "unscored")


def answer_agreement(perceived: Scene, exact: Scene, *, seed: int = 0, per_task: int = 6,
                     iou: float = 0.5) -> dict[str, Counter]:
    """Per task, counts of ``OUTCOMES`` over up to ``per_task`` free-form questions drawn on the
    perceived scene (see the module doc); ``kept / asked`` is the share that stays correct.
    ``unscored``: the scorer has no rule for the answer (open text), not counted in ``asked``."""
    from ..eval.scoring import score_sample
    from ..tasks import TASKS, Skip, Stream, get_view, stable_hash
    from ..tasks.plan import RealiseError

    ids = {perceived.objects[i].id: exact.objects[j].id for i, j in match_objects(perceived, exact, iou)}
    pv, ev = get_view(perceived), get_view(exact)
    rs = Stream(np.random.default_rng([int(seed), stable_hash(perceived.id)]))
    out: dict[str, Counter] = {}
    for name, task in TASKS.items():
        tally = out.setdefault(name, Counter())
        if task.unsupported(pv):
            continue
        for k in range(per_task):
            plan = task.plan(pv, rs, "free", f"{perceived.id}-{name}-{k}")
            if isinstance(plan, Skip):
                continue
            try:
                rec = task.realise(plan, pv)
            except RealiseError:
                continue
            tally["asked"] += 1
            if any(o not in ids for o in plan.objects):
                tally["unmatched"] += 1
                continue
            try:
                truth = task.realise(replace(plan, objects=tuple(ids[o] for o in plan.objects)), ev)
            except RealiseError:
                tally["unaskable"] += 1
                continue
            score = score_sample(rec.answer, truth.answer_struct, truth.eval_type, question=truth.question,
                                 numeric_rule="within_25pct")
            if score.correct is None:
                tally["asked"] -= 1
                tally["unscored"] += 1
            elif score.correct:
                tally["kept"] += 1
    return out


def folder_answer_agreement(perceived_dir: str | Path, exact_dir: str | Path, *, seed: int = 0,
                            per_task: int = 6) -> dict[str, Counter]:
    """``answer_agreement`` pooled over the perceived scenes that have an exact scene of the same
    id (images the perception skipped ask nothing)."""
    total: dict[str, Counter] = {}
    for p in sorted(Path(perceived_dir).glob("*.json")):
        exact = Path(exact_dir) / p.name
        if p.name == "manifest.json" or not exact.exists():
            continue
        for task, c in answer_agreement(Scene.load(p), Scene.load(exact), seed=seed, per_task=per_task).items():
            total.setdefault(task, Counter()).update(c)
    return total


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
