"""Q-Spatial Bench: Q-Spatial++ (101 questions) and Q-Spatial-ScanNet (170).

Sources (read 2026-11):

* schema: ``andrewliao11/Q-Spatial-Bench`` README in github.com/andrewliao11/Q-Spatial-Bench-code
  -- splits ``QSpatial_plus`` / ``QSpatial_scannet``, columns ``question, answer_value,
  answer_unit, question_type, image_path, image`` (ScanNet images are not redistributed:
  download them with the repo's script and point ``image_path`` at them);
* prompts: ``prompt_templates/system_prompt.txt``, ``zero_shot_prompt.txt`` (our ``plain``)
  and ``spatial_prompt_steps.txt`` (our ``spatial``) of the same repo, verbatim;
* scoring: ``examples/evaluate_success_rate.ipynb`` -- the answer is the mean of the numbers
  in the last ``\\scalar{...}``, the unit is the last ``\\distance_unit{...}``
  (``parse_length.qspatial_markup``, which ``parse_length`` uses too); values go to
  centimetres with the table below; success iff ``max(pred/gt, gt/pred) < delta`` with
  ``delta = 2`` (``metrics.success_hits``, the one definition of the factor rule);
* SVQA-R1 section 4.3: success rate, samples completed, sMAPE over parsable answers and the
  share of answers in the 50-100 / 100-150 / 150-200 % ranges of the ground truth, computed
  by ``spatialforge.eval.metrics.numeric_summary`` (range boundaries documented there); also
  ``within_50pct`` (HiSpatial section 6.4 words the Q-Spatial rule as "relative error within
  50 %"; the official code is the factor-2 rule, our headline).

Deviations, on purpose (``--rules official`` gives the notebook's number next to ours, from
``official.qspatial_official``):

* the notebook prints "Unknown unit" and silently treats the value as centimetres; here an
  unknown unit is a counted failure (``error="unknown unit"``);
* the unit is stripped of surrounding whitespace before the lookup (``\\distance_unit{ m }``
  is metres); the notebook only lower-cases it, so " m" is an unknown unit, i.e. centimetres;
* an answer without the official ``\\scalar{}`` markup is read with our general length parser
  (``format="fallback"``, counted in ``official_format_rate``) so the ``think`` and ``spatial``
  prompt styles, which answer in ``<answer>`` tags, are still scored; the notebook fails it;
* the factor-2 test compares the ratio rounded to 9 decimals (``metrics.success_hits``), so a
  unit conversion cannot move the boundary: 35 cm against 0.7 m is a factor of exactly 2 and
  fails, as in the notebook's centimetre arithmetic (in metres, raw floats give 1.9999999999999998).
"""

from __future__ import annotations

from typing import Any
import math

from ...units import UNIT_METRES
from ..parse_length import qspatial_markup as parse_official  # the official reading, shared with parse_length
from . import official
from .base import Benchmark, BenchSample, image_ref, register_benchmark
from .common import clean, final_answer, rate, summary
from ..metrics import numeric_summary, ratio, success_hits
from ..parse import parse_length, ParseFailure

SYSTEM_PROMPT = (
    "You will be provided with a question and a 2D image. The question involves measuring the precise "
    "distance in 3D space through a 2D image. You will answer the question by providing a numeric answer "
    'consisting of a scalar and a distance unit in the format of """\\scalar{scalar} \\distance_unit{distance unit}""" '
    "at the end of your response."
)
ZERO_SHOT_PROMPT = "Question: {question}\nLet's think step by step."
SPATIAL_STEPS_PROMPT = """Question: {question}

---

Use the following 4 steps sequentially to answer the question:

Step 1 **Analyze the question**

Step 2 **Identify up to 10 reference scales in the image, ranging from large to small sizes, and list them in the specified format**
- A reference scale must be typical in size.
- A reference scale can be the dimensions of an object or an object part.
- A reference scale must NOT be floor tiles or floor planks.
- Formulate the reference scales using the format: \"\"\"The [choose from front-to-back, side-to-side, left-to-right, diameter, height (top to bottom edge), or mounting height (bottom edge to floor)] of [object or object part] is approximately [dimension estimate].\"\"\"

Step 3 **Propose a robust step-by-step plan to answer the question by using the reference scales in Step 2**
- A robust step-by-step plan performs the estimation in a coarse-to-fine manner.
    - First, use a reliable and large-sized reference scale as the primary reference for estimation.
    - Then, gradually use a reliable and smaller-sized reference scale for adjustment.
    - Repeat until the estimation is precise enough.
- When performing visual comparison, be aware of perspective distortion.
- Do NOT rely on pixel measurements from the images.

Step 4 **Focus on the image and follow the plan in Step 3 to answer the question**"""

# The unit names the official evaluation knows (QSpatialEvaluator._get_multiplier); the factors
# are ours (spatialforge.units.UNIT_METRES), equal to the official multipliers / 100.
OFFICIAL_UNITS = ("meters", "meter", "m", "metre", "metres", "centimeters", "centimeter", "cm",
                  "feet", "foot", "ft", "inch", "inches", "in", "mm")
UNIT_TO_M = {u: UNIT_METRES[u] for u in OFFICIAL_UNITS}
DELTA = 2.0


def unit_to_metres(unit: str) -> float | None:
    return UNIT_TO_M.get(unit.strip().lower())


def numeric_record(pred_m: float | None, gt_m: float) -> dict[str, Any]:
    """Per-sample fields of one parsed length (metres): success (factor ``DELTA``) and its ratio."""
    if pred_m is None:
        return {"parsable": False, "success": False, "pred_value": None, "gt_value": gt_m, "ratio": None}
    r = float(ratio(pred_m, gt_m)[0])
    return {"parsable": True, "success": bool(success_hits([pred_m], [gt_m], DELTA)[0]), "pred_value": pred_m,
            "gt_value": gt_m, "ratio": r if math.isfinite(r) else None}


def numeric_metrics(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """SVQA-R1 Table 2 metrics (``metrics.numeric_summary``): success over all samples; sMAPE
    and the 50-100 / 100-150 / 150-200 % shares over parsable ones (ranges defined there)."""
    if not rows:
        return {}
    return clean(numeric_summary([r.get("pred_value") for r in rows], [r["gt_value"] for r in rows]))


class _QSpatial(Benchmark):
    hf_id = "andrewliao11/Q-Spatial-Bench"

    def rows_to_samples(self, row, index, root):
        unit = str(row["answer_unit"])
        gt_scale = unit_to_metres(unit)
        if gt_scale is None:
            raise ValueError(f"ground-truth unit {unit!r} is not in the official unit table")
        image = image_ref(row.get("image"), root) or image_ref(row.get("image_path"), root)
        return [
            BenchSample(
                id=f"{self.name}-{index:04d}",
                question=str(row["question"]),
                answer=float(row["answer_value"]) * gt_scale,  # metres
                images=[image] if image is not None else [],
                task=str(row.get("question_type") or "distance"),
                level=2,  # horizontal distance between objects: HiSpatial level 2
                meta={"answer_value": float(row["answer_value"]), "answer_unit": unit},
            )
        ]

    def system_prompt(self, sample):
        return SYSTEM_PROMPT

    def question_text(self, sample):
        return ZERO_SHOT_PROMPT.format(question=sample.question)

    def build_prompt(self, sample, style="plain"):
        if style == "spatial":  # the benchmark's own reference-scale prompt (= SVQA-R1 Table 9 (b))
            return SPATIAL_STEPS_PROMPT.format(question=sample.question)
        return super().build_prompt(sample, style)

    def score(self, sample, prediction, judge=None):
        rec = self.base_record(sample, prediction)
        text = prediction or ""
        value, unit, error = parse_official(text)
        pred_m = None
        if value is not None or error is not None:
            rec["format"] = "official"
            if error is None:
                scale = unit_to_metres(unit)
                if scale is None:
                    error = f"unknown unit {unit!r}"
                else:
                    pred_m = value * scale
        else:
            rec["format"] = "fallback"
            parsed = parse_length(final_answer(text))
            if isinstance(parsed, ParseFailure):
                error = parsed.reason
            else:
                pred_m = float(parsed)
        rec.update(numeric_record(pred_m, float(sample.answer)))
        rec["correct"] = rec["success"]
        if error:
            rec["error"] = error
        off = official.qspatial_official(prediction, sample.meta["answer_value"], sample.meta["answer_unit"])
        rec.update(official_correct=bool(off["success"]), official_pred_cm=off["pred_cm"])
        return rec

    def aggregate(self, per_sample):
        metrics = numeric_metrics(per_sample)
        metrics["official_format_rate"] = rate(
            [{"f": r.get("format") == "official"} for r in per_sample], "f"
        )
        off = {"success_rate": rate(per_sample, "official_correct")}
        return summary(self.name, per_sample, metrics.get("success_rate"), "success_rate", metrics,
                       official=official.block("success_rate", off["success_rate"], off,
                                               "Q-Spatial-Bench-code evaluate_success_rate.ipynb (centimetres)"))


@register_benchmark("qspatial_plus")
class QSpatialPlus(_QSpatial):
    description = "Q-Spatial++: 101 human-measured horizontal distances (success = within a factor of 2)"
    hf_split = "QSpatial_plus"


@register_benchmark("qspatial_scannet")
class QSpatialScanNet(_QSpatial):
    description = "Q-Spatial-ScanNet: 170 distances on ScanNet frames (images via the official script)"
    hf_split = "QSpatial_scannet"
