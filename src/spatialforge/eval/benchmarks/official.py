"""Each benchmark's *official* extraction and scoring rules, re-implemented (``--rules official``).

Written from reading the official scorers (never copied); each function says which one and
at which commit. They take the raw model output, as the official scorers do (no ``<answer>``
extraction), and keep their quirks on purpose: the point of this module is to reproduce
the published numbers, and ``docs/evaluation.md`` lists where our own rules differ and why.

* CV-Bench, EmbSpatial-Bench: lmms-eval ``tasks/cv_bench/utils.py`` and
  ``tasks/embspatial/utils.py`` (``_extract_answer_letter``): the letter is the first
  character of the stripped output after optional "(" / spaces, case-insensitive -- so
  "The answer is B" reads T and "answer: B" reads A.
* 3DSRBench: VLMEvalKit ``vlmeval/utils/matching_util.py`` ``can_infer`` (exact matching, no
  judge; commit e8e78f05) and ``vlmeval/dataset/image_mcq.py`` ``_3DSRBench.evaluate``.
* RoboSpatial-Home: RoboSpatial-Eval ``evaluation.py`` ``evaluate_answer`` (commit 19f04a5).
* Q-Spatial: Q-Spatial-Bench-code ``examples/evaluate_success_rate.ipynb``
  ``QSpatialEvaluator`` (commit ebe8137).
* SpatialRGPT-Bench: SpatialRGPT ``scripts/srgpt/eval/evaluate_spatial_with_gpt4.py``
  (commit 16715d4); GPT-4 read the numbers there, our length parser reads them here.

The video / multi-view suites (VSI-Bench, MMSI-Bench, OmniSpatial, ViewSpatial-Bench, SITE,
SPAR-Bench) have theirs in ``official_multiview.py``.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

RULES = ("ours", "official")

# ---------------------------------------------------------------- lmms-eval (CV-Bench, EmbSpatial)
_LMMS_LETTER = re.compile(r"[\(\s]*([A-Z])[\)\.\s]*", re.I)


def lmms_letter(output: str | None) -> str:
    """lmms-eval's ``_extract_answer_letter``: a letter at the very start, else ""."""
    m = _LMMS_LETTER.match((output or "").strip())
    return m.group(1).upper() if m else ""


# ---------------------------------------------------------------- VLMEvalKit exact matching (3DSRBench)
_VERBOSE_ANSWER = re.compile(r"(?i)(?:correct\s+)?answer\s+is\s+\**([ABCD])\**")
_REFUSALS = ("Sorry, I can't help with images of people yet.", "I can't process this file.",
             "I'm sorry, but without the image provided", "Cannot determine the answer")


def _infer_option(answer: str, choices: dict[str, str]) -> str | None:
    if "Failed to obtain answer via API" in answer:
        return None
    if any(r in answer for r in _REFUSALS):
        return "Z"
    words = answer
    for c in ".()[],:;!*#{}":
        words = words.replace(c, " ")
    splits = [w.strip() for w in words.split()]
    found = [c for c in choices if c in splits]
    if len(found) == 1:
        for ch in choices:  # the one letter, if it is among the last five words
            if ch in splits and splits.index(ch) > len(splits) - 5:
                return ch
    elif not found and ("Z" in splits) + ("" in splits) == 1:
        return "Z"
    m = _VERBOSE_ANSWER.search(answer)
    if m and m.group(1).upper() in choices:
        return m.group(1).upper()
    return None


def _infer_text(answer: str, choices: dict[str, str]) -> str | None:
    answer = answer.lower()
    if len(answer) > 2 * sum(len(str(v)) for v in choices.values()):
        return None
    hits = [k for k, v in choices.items() if str(v).lower() in answer]
    return hits[0] if len(hits) == 1 else None


def vlmeval_choice(output: str | None, options: list[str]) -> str:
    """VLMEvalKit ``can_infer`` (option letter, else option text); "Z" when nothing matches
    (its ``exact_matching`` policy marks those as failed: never equal to the answer)."""
    choices = {"ABCDEFGHIJ"[i]: o for i, o in enumerate(options)}
    answer = str(output)
    return _infer_option(answer, choices) or _infer_text(answer, choices) or "Z"


def circular_group(qid: str) -> str:
    """VLMEvalKit's circular key: the 8-character id, ``-flip`` variants apart (13 characters)."""
    return qid[:13] if "-flip" in qid else qid[:8]


def flip_circular_group(qid: str) -> str:
    return qid[:8]


def flip_group(qid: str) -> str:
    """VLMEvalKit's FlipEval key: an id paired with its ``-flip`` twin."""
    return qid.replace("-flip", "")


# ---------------------------------------------------------------- RoboSpatial-Eval
_RS_TUPLE = re.compile(r"\(\s*(\d+\.?\d*)\s*,\s*(\d+\.?\d*)\s*\)")
_RS_LIST = re.compile(r"\[\s*(\d+\.?\d*)\s*,\s*(\d+\.?\d*)\s*\]")
_RS_BRACKET = re.compile(r"\[(.*?)\]", re.S)


def robospatial_point(text: str) -> tuple[float, float] | None:
    """The first point as RoboSpatial-Eval reads it: an ``(x, y)`` tuple, else an ``[x, y]``
    list (both: digits before any dot), else the first ``[...]`` read with
    ``ast.literal_eval`` (never ``eval``) -- so ``[(.45, .62)]`` is (0.45, 0.62)."""
    for pattern in (_RS_TUPLE, _RS_LIST):
        m = pattern.search(text)
        if m:
            return float(m.group(1)), float(m.group(2))
    m = _RS_BRACKET.search(text)
    if m is None:
        return None
    body = re.sub(r",(\S)", r", \1", m.group(1)).strip()
    if body.endswith(","):
        body = body[:-1]
    try:
        value = ast.literal_eval("[" + body + "]")
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        t = _RS_TUPLE.search(body)
        return (float(t.group(1)), float(t.group(2))) if t else None
    if not value:
        return None
    if len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        point = tuple(value)
    elif isinstance(value[0], tuple) or (isinstance(value[0], list) and len(value[0]) == 2):
        point = tuple(value[0])
    else:
        return None
    if len(point) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point):
        return None
    return float(point[0]), float(point[1])


def robospatial_official(gt: str, output: str | None) -> dict[str, Any]:
    """``{"correct", "parsable", "point"}`` by RoboSpatial-Eval's ``evaluate_answer``."""
    from .robospatial import point_in_polygon  # deferred: robospatial imports official

    answer = (output or "").strip().lower()
    g = gt.strip().lower()
    if g in ("yes", "no"):
        return {"correct": answer.startswith(g), "parsable": bool(answer), "point": None}
    try:
        poly = ast.literal_eval(gt)
    except (SyntaxError, ValueError, TypeError):
        return {"correct": False, "parsable": False, "point": None}
    if not isinstance(poly, list) or len(poly) < 3:
        return {"correct": False, "parsable": False, "point": None}
    point = robospatial_point(output or "")
    if point is None:
        return {"correct": False, "parsable": False, "point": None}
    return {"correct": point_in_polygon(point[0], point[1], poly), "parsable": True, "point": list(point)}


# ---------------------------------------------------------------- Q-Spatial
QSPATIAL_CM = {**dict.fromkeys(("meters", "meter", "m", "metre", "metres"), 100.0),
               **dict.fromkeys(("centimeters", "centimeter", "cm"), 1.0),
               **dict.fromkeys(("feet", "foot", "ft"), 30.48),
               **dict.fromkeys(("inch", "inches", "in"), 2.54), "mm": 0.1}
_QS_SCALAR = re.compile(r"scalar{([^}]*)}")
_QS_UNIT = re.compile(r"distance_unit{([^}]*)}")
_QS_NUMBER = re.compile(r"\d+\.?\d*")


def qspatial_cm(unit: str) -> float:
    """The official multiplier: lower case, *not* stripped; an unknown unit counts as cm."""
    return QSPATIAL_CM.get(unit.lower(), 1.0)


def qspatial_official(output: str | None, gt_value: float, gt_unit: str) -> dict[str, Any]:
    """``{"success", "pred_cm", "gt_cm"}`` by ``QSpatialEvaluator.evaluate``: the mean of the
    numbers in the last ``\\scalar{}``, the last ``\\distance_unit{}``, centimetres, and
    ``max(p/g, g/p) < 2`` on raw floats. Where the notebook would raise (no markup), the
    sample fails."""
    text = output or ""
    gt_cm = float(gt_value) * qspatial_cm(gt_unit)
    scalars, units = _QS_SCALAR.findall(text), _QS_UNIT.findall(text)
    if not scalars or not units:
        return {"success": False, "pred_cm": None, "gt_cm": gt_cm}
    numbers = [float(n) for n in _QS_NUMBER.findall(scalars[-1])]
    if not numbers:
        return {"success": False, "pred_cm": None, "gt_cm": gt_cm}
    pred_cm = sum(numbers) / len(numbers) * qspatial_cm(units[-1])
    if pred_cm <= 0 or gt_cm <= 0:
        return {"success": False, "pred_cm": pred_cm, "gt_cm": gt_cm}
    return {"success": max(pred_cm / gt_cm, gt_cm / pred_cm) < 2, "pred_cm": pred_cm, "gt_cm": gt_cm}


# ---------------------------------------------------------------- SpatialRGPT
def srgpt_within(pred_m: float, gt_m: float) -> bool:
    """The official ``(p <= 1.25 * g) and (p >= 0.75 * g)`` on raw floats."""
    return (pred_m <= 1.25 * gt_m) and (pred_m >= 0.75 * gt_m)


# ---------------------------------------------------------------- the report block
def block(metric: str, overall: float | None, metrics: dict[str, Any], source: str) -> dict[str, Any]:
    """The ``official`` entry of an aggregate: the official headline and its breakdowns."""
    if overall is not None and isinstance(overall, float) and math.isnan(overall):
        overall = None
    return {"metric": metric, "overall": overall, "metrics": metrics, "source": source}
