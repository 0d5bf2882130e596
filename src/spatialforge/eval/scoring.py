"""Per-sample scoring of a model output against a typed answer, and aggregation.

``score_sample`` reads one prediction (the ``<answer>`` span is extracted first) with the
parser of its ``eval_type`` and compares it to ``answer_struct`` = {"kind", "value"} (see
``spatialforge.tasks.record``); ``aggregate`` turns a list of scores into metrics. The two
are strictly apart: a score holds everything aggregation needs, so saved scores
re-aggregate without the data. A failed parse is a score with ``parsable=False`` and
``correct=False`` (and not completed); it is never dropped.

Per eval type -- ``correct`` / ``score`` (the continuous [0, 1] value, also usable as a
typed reward):

* numeric (kind length, metres; kind count): success max(p/g, g/p) < 2 (``numeric_rule``
  picks another: "within_25pct", "within_50pct", "distance") / min(p/g, g/p);
* point3d: ||p - g|| <= 25 % of ||g|| (HiSpatial's distance rule on the point) / 1 - rel. error
  (point3d and box3d: numbers the answer states no unit for are in the unit the question
  asks for, "... in centimeters?", else metres);
* vector3d: angle <= ``angle_threshold_deg`` / max(0, cos angle);
* box3d: 3D IoU >= 0.25 / IoU; box2d (pixels): IoU >= 0.75 (SVQA-R1 Acc@0.75) / IoU;
* point2d (gt kind box2d: inside the box); answers' 2D coordinates are read on
  ``coord_scale`` (``spatialforge.eval.coords``: auto, pixel, unit, thousand, qwen25;
  ``coord_strict`` False for a model-profile scale);
* choice, yesno, count, label, order: exact / 0 or 1; labels are read against the truth's
  label set (``answer_struct["labels"]`` when the record has it, else ``LABEL_SETS``), so a
  wrong label of the set ("facing left" for "toward") is parsed and wrong, not unparsable;
* clock (kind clock, int hour 1-12; ``parse_clock_direction``): the hour matches / 0 or 1,
  with ``hours_off`` = ``metrics.clock_hours_off`` (the short way round, 0-6);
* open: no rule (``correct`` None); BLEU-1/2 always, sBERT when asked / sBERT else BLEU-1.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import metrics as M
from .coords import parse_2d
from .parse import (
    ParseFailure,
    extract_answer,
    parse_box2d,
    parse_box3d,
    parse_choice,
    parse_clock_direction,
    parse_count,
    parse_label,
    parse_length,
    parse_order,
    parse_point2d,
    parse_point3d,
    parse_vector3d,
    parse_yes_no,
    unit_asked,
)

EVAL_TYPES = ("numeric", "point3d", "vector3d", "box3d", "box2d", "point2d", "choice", "yesno", "count",
              "label", "order", "clock", "open")
NUMERIC_RULES = tuple(M.NUMERIC_RULES)  # ("success", "within_25pct", "within_50pct", "distance")
# answer kinds with a mirror rule in eval.metrics (open text has none)
MIRROR_KINDS = frozenset(("length", "count", "boolean", "choice", "label", "order", "clock", "point3d",
                           "vector3d", "box3d", "box2d", "point2d"))


@dataclass(frozen=True)
class SampleScore:
    """One prediction scored. ``parsed`` is the typed prediction (None when the parse failed,
    with the reason in ``error``); ``gt_value`` the typed truth it was compared with."""

    eval_type: str
    kind: str
    correct: bool | None
    score: float
    parsable: bool
    parsed: Any = None
    gt_value: Any = None
    error: str | None = None
    ratio: float | None = None  # numeric: max(p/g, g/p) (inf when p <= 0)
    rel_error: float | None = None  # numeric: |p - g| / |g|; point3d: ||p - g|| / ||g||
    iou: float | None = None
    angle_deg: float | None = None
    hours_off: float | None = None  # clock: hours between the stated and the true direction
    bleu1: float | None = None
    bleu2: float | None = None
    sbert: float | None = None
    tags: Mapping[str, Any] = field(default_factory=dict)  # id, task, level, pair_id, view ...


_NAMES = tuple(f.name for f in fields(SampleScore))
_DEFAULTS = {f.name: f.default for f in fields(SampleScore) if f.default is not MISSING}


def _new_score(*args: Any, **kw: Any) -> SampleScore:
    """``SampleScore(*args, **kw)``, filling ``__dict__`` at once: the frozen dataclass's
    ``__init__`` pays one ``object.__setattr__`` per field, ~6 of the ~10 us a prediction took
    to score (measured); the instance is the same and stays frozen."""
    obj = object.__new__(SampleScore)
    d = {**_DEFAULTS, "tags": {}}
    d.update(zip(_NAMES, args))
    d.update(kw)
    obj.__dict__.update(d)
    return obj


def _failed(eval_type: str, kind: str, gt: Any, reason: str, tags: Mapping[str, Any]) -> SampleScore:
    if eval_type == "open":  # no answer at all: zero on every text metric, still no rule
        return _new_score("open", kind, None, 0.0, False, None, gt, reason, bleu1=0.0, bleu2=0.0, sbert=0.0,
                           tags=tags)
    return _new_score(eval_type, kind, False, 0.0, False, None, gt, reason, tags=tags)


#: Label sets: the task label sets of ``spatialforge.tasks`` (direction and perspective sides,
#: orientation's facing, comparison's relative orientation, depth order's points) and their
#: usual counterparts. Records that carry ``answer_struct["labels"]`` use those instead.
LABEL_SETS: tuple[tuple[str, ...], ...] = (
    ("left", "right"), ("front", "behind"), ("above", "below"),
    ("toward", "away", "left", "right", "up", "down"), ("towards", "away"),
    ("same", "perpendicular", "opposite"), ("similar", "orthogonal", "opposite"),
    ("a", "b"), ("closer", "farther"), ("bigger", "smaller"), ("taller", "shorter"), ("wider", "narrower"),
)
_ALTERNATIVES: dict[str, list[str]] = {}
for _set in LABEL_SETS:
    for _w in _set:
        _ALTERNATIVES.setdefault(_w, []).extend(a for a in _set if a != _w and a not in _ALTERNATIVES[_w])


def _label_vocabulary(gt: str) -> list[str]:
    """The truth and the other labels of its label sets, word by word ("facing left" ->
    "facing right", "facing toward", ...; "toward" -> "away", "left", "right", "up", "down"),
    so a wrong label of the set parses as wrong."""
    words = gt.lower().split()
    vocab = [gt]
    for i, w in enumerate(words):
        vocab += [" ".join(words[:i] + [a] + words[i + 1:]) for a in _ALTERNATIVES.get(w, ())]
    return list(dict.fromkeys(vocab))


def score_sample(prediction_text: str | None, answer_struct: Mapping[str, Any], eval_type: str, *,
                 question: str | None = None, choices: Sequence[str] | None = None,
                 reference_text: str | None = None, image_size: tuple[float, float] | None = None,
                 numeric_rule: str = "success", angle_threshold_deg: float = 30.0,
                 iou_threshold: float | None = None, sbert: bool = False, sbert_model: str | None = None,
                 coord_scale: str = "auto", coord_strict: bool = True,
                 tags: Mapping[str, Any] | None = None) -> SampleScore:
    """Score one raw model output; see the module docstring for the rules per eval type."""
    if isinstance(answer_struct, str):  # a Parquet row keeps it as JSON text
        answer_struct = json.loads(answer_struct)
    kind = str(answer_struct.get("kind", ""))
    gt = answer_struct.get("value")
    tags = tags if tags is not None else {}
    if eval_type not in _SCORERS:
        raise ValueError(f"eval_type must be one of {EVAL_TYPES}, got {eval_type!r}")
    if numeric_rule not in NUMERIC_RULES:
        raise ValueError(f"numeric_rule must be one of {NUMERIC_RULES}, got {numeric_rule!r}")
    ans = extract_answer(prediction_text)
    if isinstance(ans, ParseFailure):
        return _failed(eval_type, kind, gt, ans.reason, tags)
    opts = dict(question=question, choices=choices, labels=answer_struct.get("labels"),
                reference_text=reference_text, image_size=image_size,
                numeric_rule=numeric_rule, angle_threshold_deg=angle_threshold_deg,
                iou_threshold=iou_threshold, sbert=sbert, sbert_model=sbert_model,
                coord_scale=coord_scale, coord_strict=coord_strict)
    return _SCORERS[eval_type](ans, kind, gt, tags, opts)


def _numeric(ans, kind, gt, tags, o):
    if kind == "count":
        p = parse_count(ans)
    else:
        p = parse_length(ans, default_unit=unit_asked(o["question"]) if o["question"] else None)
    if isinstance(p, ParseFailure):
        return _failed("numeric", kind, gt, p.reason, tags)
    g = float(gt)
    ratio = M.ratio1(p, g)
    rel = abs(p - g) / abs(g) if g else math.inf
    correct = M.numeric_correct(p, g, o["numeric_rule"])
    return _new_score("numeric", kind, correct, 1.0 / ratio, True, p, g, None, ratio, rel, tags=tags)


def _default_unit(o) -> str:
    """Bare coordinates are in the unit the question asks for ("... in centimeters?"), else metres."""
    return unit_asked(o["question"]) or "m"


def _point3d(ans, kind, gt, tags, o):
    p = parse_point3d(ans, default_unit=_default_unit(o))
    if isinstance(p, ParseFailure):
        return _failed("point3d", kind, gt, p.reason, tags)
    g = tuple(float(v) for v in gt)
    norm = math.hypot(*g)
    rel = math.dist(p, g) / norm if norm > 0 else (0.0 if not any(p) else math.inf)
    return _new_score("point3d", kind, rel <= 0.25, max(0.0, 1.0 - rel), True, p, g, None, rel_error=rel,
                       tags=tags)


def _vector3d(ans, kind, gt, tags, o):
    p = parse_vector3d(ans)
    if isinstance(p, ParseFailure):
        return _failed("vector3d", kind, gt, p.reason, tags)
    g = tuple(float(v) for v in gt)
    ang = M.angle_deg(p, g)
    return _new_score("vector3d", kind, ang <= o["angle_threshold_deg"], max(0.0, math.cos(math.radians(ang))),
                       True, p, g, None, angle_deg=ang, tags=tags)


def _iou_scorer(eval_type, parse, truth, iou, default_threshold):
    """Boxes: IoU >= threshold (``iou_threshold``, else the family's default) / IoU."""
    def scorer(ans, kind, gt, tags, o):
        p = parse(ans, o)
        if isinstance(p, ParseFailure):
            return _failed(eval_type, kind, gt, p.reason, tags)
        g = truth(gt)
        v = iou(p, g)
        thr = default_threshold if o["iou_threshold"] is None else o["iou_threshold"]
        return _new_score(eval_type, kind, v >= thr, v, True, p, g, None, iou=v, tags=tags)
    return scorer


_box3d = _iou_scorer("box3d", lambda a, o: parse_box3d(a, default_unit=_default_unit(o)), lambda g: g,
                     M.box3d_iou, 0.25)
_box2d = _iou_scorer("box2d", lambda a, o: parse_2d(parse_box2d, a, o["coord_scale"], o["image_size"],
                                                     strict=o["coord_strict"]),
                     lambda g: tuple(map(float, g)), M.box_iou, 0.75)


def _point2d(ans, kind, gt, tags, o):
    p = parse_2d(parse_point2d, ans, o["coord_scale"], o["image_size"], strict=o["coord_strict"])
    if isinstance(p, ParseFailure):
        return _failed("point2d", kind, gt, p.reason, tags)
    if kind != "box2d":
        raise ValueError(f"point2d scoring needs a box2d ground truth, got kind {kind!r}")
    x0, y0, x1, y1 = (float(v) for v in gt)
    inside = x0 <= p[0] <= x1 and y0 <= p[1] <= y1
    return _new_score("point2d", kind, inside, float(inside), True, p, (x0, y0, x1, y1), None, tags=tags)


def _exact(eval_type, parse):
    def scorer(ans, kind, gt, tags, o):
        p, g = parse(ans, kind, gt, o)
        if isinstance(p, ParseFailure):
            return _failed(eval_type, kind, g, p.reason, tags)
        ok = p == g
        return _new_score(eval_type, kind, ok, float(ok), True, p, g, None, tags=tags)
    return scorer


def _parse_label_lower(ans: str, gt: Any, choices: Sequence[str] | None,
                       labels: Sequence[str] | None = None) -> str | ParseFailure:
    """The stated label, lower case. The vocabulary: the options, else the record's label set
    (``answer_struct["labels"]``), else the truth's label sets (``_label_vocabulary``)."""
    if choices:
        vocab = list(choices)
    elif labels:
        vocab = list(dict.fromkeys([str(gt), *map(str, labels)]))
    else:
        vocab = _label_vocabulary(str(gt))
    p = parse_label(ans, vocab)
    return p.lower() if isinstance(p, str) else p


def _clock_gt(gt: Any) -> int:
    if isinstance(gt, str):  # "3 o'clock"
        v = parse_clock_direction(gt)
        if isinstance(v, ParseFailure):
            raise ValueError(f"clock ground truth {gt!r}: {v.reason}")
        return v
    return int(gt)


def _clock(ans, kind, gt, tags, o):
    p = parse_clock_direction(ans)
    g = _clock_gt(gt)
    if isinstance(p, ParseFailure):
        return _failed("clock", kind, g, p.reason, tags)
    ok = p == g
    return _new_score("clock", kind, ok, float(ok), True, p, g, None, hours_off=M.clock_hours_off(p, g), tags=tags)


def _yesno_gt(gt: Any) -> bool:
    if isinstance(gt, str):
        v = parse_yes_no(gt)
        if isinstance(v, ParseFailure):
            raise ValueError(f"yes/no ground truth {gt!r}: {v.reason}")
        return v
    return bool(gt)


_SCORERS = {
    "numeric": _numeric, "point3d": _point3d, "vector3d": _vector3d, "box3d": _box3d, "box2d": _box2d,
    "point2d": _point2d,
    "choice": _exact("choice", lambda a, k, g, o: (parse_choice(a, o["choices"] or None), str(g).strip().upper())),
    "yesno": _exact("yesno", lambda a, k, g, o: (parse_yes_no(a), _yesno_gt(g))),
    "count": _exact("count", lambda a, k, g, o: (parse_count(a), int(g))),
    "label": _exact("label", lambda a, k, g, o: (_parse_label_lower(a, g, o["choices"], o["labels"]),
                                                 str(g).lower())),
    "order": _exact("order", lambda a, k, g, o: (parse_order(a, list(g)), tuple(g))),
    "clock": _clock,
}


def _open(ans, kind, gt, tags, o):
    ref = o["reference_text"] if o["reference_text"] is not None else str(gt)
    b1, b2 = M.bleu(ans, ref, 1), M.bleu(ans, ref, 2)
    sb = M.sbert_cosine(ans, ref, model=o["sbert_model"]) if o["sbert"] else None
    return _new_score("open", kind, None, sb if sb is not None else b1, True, ans, ref, None,
                       bleu1=b1, bleu2=b2, sbert=sb, tags=tags)


_SCORERS["open"] = _open


def score_record(prediction_text: str | None, record: Any, **options: Any) -> SampleScore:
    """:func:`score_sample` for a ``QARecord``, tagged with its id, task, level, format and pair."""
    tags = {"id": record.id, "task": record.task, "level": record.level, "format": record.format,
            "pair_id": record.pair_id, "view": record.view}
    return score_sample(prediction_text, record.answer_struct, record.eval_type, question=record.question,
                        choices=record.choices or None, reference_text=record.answer, tags=tags, **options)


def add_sbert(scores: Sequence[SampleScore], *, model: str | None = None, batch_size: int = 64) -> list[SampleScore]:
    """Scores with sBERT filled in for every parsable open-ended sample, in one batched pass."""
    idx = [i for i, s in enumerate(scores) if s.eval_type == "open" and s.parsable and s.sbert is None]
    out = list(scores)
    if idx:
        cos = M.sbert_cosine([str(scores[i].parsed) for i in idx], [str(scores[i].gt_value) for i in idx],
                             model=model, batch_size=batch_size)
        for i, c in zip(idx, cos):
            out[i] = replace(out[i], sbert=float(c), score=float(c))
    return out


# ---------------------------------------------------------------- aggregation
def _key(s: SampleScore, by: str) -> str:
    v = s.eval_type if by == "eval_type" else s.kind if by == "kind" else s.tags.get(by)
    return str(v)


def summarize(scores: Sequence[SampleScore]) -> dict[str, Any]:
    """Metrics of one group of scores (n, completed, accuracy, and per-family metrics)."""
    out: dict[str, Any] = {"n": len(scores), "completed": M._mean(np.asarray([s.parsable for s in scores], bool))}
    ruled = [s for s in scores if s.correct is not None]
    out["accuracy"] = M.accuracy(s.correct for s in ruled) if ruled else math.nan
    out["mean_score"] = M._mean(np.asarray([s.score for s in scores], float))
    fam: dict[str, list[SampleScore]] = defaultdict(list)
    for s in scores:
        fam[s.eval_type].append(s)
    if fam.get("numeric"):
        num = fam["numeric"]
        out["numeric"] = M.numeric_summary([s.parsed for s in num], [s.gt_value for s in num])
    if fam.get("box2d"):
        out["box2d"] = M.box_summary([s.iou for s in fam["box2d"]], 0.75)
    if fam.get("box3d"):
        ious = [s.iou for s in fam["box3d"]]
        out["box3d"] = {**M.box_summary(ious, 0.25), "acc@0.5": M.box_summary(ious, 0.5)["acc@0.5"]}
    if fam.get("vector3d"):
        ang = np.asarray([s.angle_deg for s in fam["vector3d"] if s.angle_deg is not None], float)
        out["vector3d"] = {"accuracy": M.accuracy(s.correct for s in fam["vector3d"]),
                           "mean_angle_deg": M._mean(ang),
                           "median_angle_deg": float(np.median(ang)) if ang.size else math.nan}
    if fam.get("clock"):
        off = np.asarray([s.hours_off for s in fam["clock"] if s.hours_off is not None], float)
        out["clock"] = {"accuracy": M.accuracy(s.correct for s in fam["clock"]), "mean_hours_off": M._mean(off)}
    if fam.get("open"):
        op = fam["open"]
        mean_of = lambda k: M._mean(np.asarray([getattr(s, k) for s in op if getattr(s, k) is not None], float))  # noqa: E731
        out["open"] = {"bleu1": mean_of("bleu1"), "bleu2": mean_of("bleu2"), "sbert": mean_of("sbert")}
    items = [M.MirrorItem(str(s.tags["pair_id"]), str(s.tags.get("view", "original")), s.kind,
                          s.parsed if s.parsable else None, s.gt_value, s.tags.get("image_width"), s.correct)
             for s in scores if s.tags.get("pair_id") and s.kind in MIRROR_KINDS
             and (s.kind not in ("box2d", "point2d") or s.tags.get("image_width"))]
    out.update(M.mirror_summary(items))
    return out


def aggregate(scores: Iterable[SampleScore], by: Sequence[str] = ("eval_type", "task", "level")) -> dict[str, Any]:
    """{"overall": summary, <key>: {<value>: summary}} for each grouping key in ``by``
    (``eval_type``, ``kind`` or any tag such as ``task``, ``level``, ``format``, ``view``)."""
    scores = list(scores)
    out: dict[str, Any] = {"overall": summarize(scores)}
    for key in by:
        groups: dict[str, list[SampleScore]] = defaultdict(list)
        for s in scores:
            groups[_key(s, key)].append(s)
        out[key] = {k: summarize(v) for k, v in sorted(groups.items())}
    return out
