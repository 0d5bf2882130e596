"""SpatialRGPT-Bench (``a8cheng/SpatialRGPT-Bench``, split ``val``, 1,406 questions).

Sources (read 2026-11), github.com/AnjieCheng/SpatialRGPT:

* schema: ``llava/eval/eval_spatial.py`` -- rows ``id, image_info{file_path, height, width},
  text_q, conversations[{from, value}] (human turn, gpt answer), bbox[[x1,y1,x2,y2]], rle,
  qa_info{type: qualitative|quantitative, category}``; the question refers to objects as
  ``Region [i]``, box ``i`` of ``bbox``;
* scoring: ``scripts/srgpt/eval/evaluate_spatial_with_gpt4.py`` --
  quantitative distance/size categories succeed iff ``0.75 gt <= pred <= 1.25 gt`` (both in
  metres), with ``abs_rel = |pred - gt| / gt``; ``direction`` succeeds iff the clock
  directions differ by at most one hour; qualitative answers are marked 0/1 by GPT-4 and
  grouped tall/short, left/right, below/above, behind/front, big/small, wide/thin.

Our changes, stated: numbers and units are read with our length parser instead of asking
GPT-4 to convert them; clock directions are read with our clock parser. Qualitative samples need an
LLM judge (``LLMJudge.qualitative`` with the official per-category prompt): without
one they are reported as ``not_judged`` and left out of every qualitative rate -- never
guessed; a failed judgement is ``judge_failed``, counted, and also left out.

Ours vs official (``--rules official``; both are in every report): the official success test
is ``0.75 g <= p <= 1.25 g`` on raw floats (``official.srgpt_within``), ours rounds the ratio
first (``metrics.within_hits``), so 7.5 cm against 10 cm, a boundary the official floats lose
(0.075 < 0.75 * 0.1 = 0.07500000000000001), succeeds for us; 2.4 vs 3 succeeds in both. A
qualitative judgement that failed counts as wrong officially (the script appends 0) and is
left out of ours. GPT-4 read the numbers in the official run; our length parser reads them
in both modes (an unreadable ground truth is left out of both).

Region-aware models read the masks; a plain VLM cannot, so by default each ``Region [i]``
box is drawn and labelled on the image (``draw_regions=False`` turns this off).
"""

from __future__ import annotations

import re
from typing import Any

from PIL import ImageDraw

from . import official
from .base import Benchmark, BenchSample, as_dict, as_list, image_ref, open_image, register_benchmark
from .common import final_answer, mean, rate, summary
from ..metrics import clock_hours_off, numeric_correct
from ..parse import parse_clock_direction, parse_length, ParseFailure

QUANT_CATEGORIES = {
    "distance_data": "direct_distance",
    "horizontal_distance_data": "horizontal_distance",
    "vertical_distance_data": "vertical_distance",
    "width_data": "width",
    "height_data": "height",
    "direction": "direction",
}
QUAL_GROUPS = (  # official order of the substring tests
    ("tall/short", ("short", "tall")),
    ("left/right", ("left", "right")),
    ("below/above", ("below", "above")),
    ("behind/front", ("behind", "front")),
    ("big/small", ("big", "small")),
    ("wide/thin", ("wide", "thin")),
)


def qual_group(category: str) -> str:
    for group, keys in QUAL_GROUPS:
        if any(k in category for k in keys):
            return group
    return "other"


def draw_regions(image, boxes: list[list[float]]):
    """The image with each box outlined and labelled ``Region [i]`` (boxes in pixels, x1y1x2y2)."""
    img = image.copy()
    draw = ImageDraw.Draw(img)
    colours = ["red", "blue", "lime", "orange", "magenta", "cyan"]
    w = max(2, round(min(img.size) / 150))
    for i, b in enumerate(boxes):
        x1, y1, x2, y2 = (float(v) for v in b[:4])
        c = colours[i % len(colours)]
        draw.rectangle([x1, y1, x2, y2], outline=c, width=w)
        draw.text((x1 + w, y1 + w), f"Region [{i}]", fill=c)
    return img


@register_benchmark("spatialrgpt")
class SpatialRGPTBench(Benchmark):
    description = "SpatialRGPT-Bench: region-referred qualitative (judge) and quantitative (within 25 %) questions"
    hf_id = "a8cheng/SpatialRGPT-Bench"
    hf_split = "val"
    needs_judge = True

    def __init__(self, draw_regions: bool = True) -> None:
        self.draw = draw_regions

    def rows_to_samples(self, row, index, root):
        info = as_dict(row.get("image_info"))
        qa = as_dict(row["qa_info"])
        conv = as_list(row["conversations"])
        answer = next((t["value"] for t in conv if t.get("from") in ("gpt", "assistant")), None)
        if answer is None:
            raise ValueError("no gpt turn in conversations")
        question = row.get("text_q") or re.sub(r"<image>\s*|<mask>\s*|<depth>\s*", "", conv[0]["value"]).strip()
        image = image_ref(row.get("image"), root) or image_ref(info.get("file_path"), root)
        category = str(qa["category"])
        qtype = str(qa["type"])
        return [
            BenchSample(
                id=str(row.get("id", index)),
                question=question,
                answer=answer,
                images=[image] if image is not None else [],
                task=category,
                level=1 if category in ("width_data", "height_data") else 2,
                meta={"type": qtype, "category": category, "bbox": as_list(row.get("bbox"))},
            )
        ]

    def question_text(self, sample):
        return sample.question

    def load_images(self, sample: BenchSample) -> list:
        """The sample's images, with the regions drawn unless ``draw_regions=False``."""
        images = [open_image(r) for r in sample.images]
        if self.draw and images and sample.meta.get("bbox"):
            images[0] = draw_regions(images[0], sample.meta["bbox"])
        return images

    def score(self, sample, prediction, judge=None):
        rec = self.base_record(sample, prediction)
        category, qtype = sample.meta["category"], sample.meta["type"]
        rec.update(type=qtype, category=category)
        answer = final_answer(prediction)
        if qtype == "quantitative" and category == "direction":
            gt, pred = parse_clock_direction(sample.answer), parse_clock_direction(answer)
            rec.update(parsable=not isinstance(pred, ParseFailure))
            if isinstance(gt, ParseFailure):
                rec.update(correct=None, error=f"ground truth: {gt.reason}")
            elif isinstance(pred, ParseFailure):
                rec.update(correct=False, error=pred.reason)
            else:
                off = clock_hours_off(gt, pred)
                rec.update(clock_error=off, correct=off <= 1)
            rec["official_correct"] = rec["correct"]  # the official rule: within one hour
        elif qtype == "quantitative":
            gt = parse_length(sample.answer)
            pred = parse_length(answer)
            if isinstance(gt, ParseFailure):
                rec.update(correct=None, parsable=False, error=f"ground truth: {gt.reason}")
                return rec
            gt = float(gt)
            rec["gt_value"] = gt
            if isinstance(pred, ParseFailure):
                rec.update(pred_value=None, parsable=False, correct=False, error=pred.reason, official_correct=False)
            else:
                p = float(pred)
                rec.update(pred_value=p, parsable=True,
                           correct=numeric_correct(p, gt, "within_25pct"),  # 0.75 gt <= p <= 1.25 gt
                           abs_rel=abs(p - gt) / (gt + 1e-4),
                           official_correct=official.srgpt_within(p, gt),
                           official_abs_rel=abs(gt - p) / gt if gt else None)
        else:
            rec["group"] = qual_group(category)
            if judge is None:
                rec.update(correct=None, judged=False, status="not_judged")
            else:
                res = judge.qualitative(question=sample.question, answer=str(sample.answer), response=answer,
                                        category=category)  # the official per-category prompt
                rec.update(judged=res.ok, correct=bool(res.score) if res.ok else None,
                           status="judged" if res.ok else "judge_failed",
                           official_correct=bool(res.score) if res.ok else False)  # official: a failure is 0
                if not res.ok:
                    rec["error"] = f"judge: {res.reason}"
        return rec

    def aggregate(self, per_sample):
        quant = [r for r in per_sample if r.get("type") == "quantitative"]
        qual = [r for r in per_sample if r.get("type") == "qualitative"]
        judged = [r for r in qual if r.get("correct") is not None]
        metrics: dict[str, Any] = {
            "quantitative_success": rate(quant),
            "qualitative_accuracy": rate(judged),
            "n_quantitative": len(quant),
            "n_qualitative": len(qual),
            "n_qualitative_not_judged": sum(r.get("status") == "not_judged" for r in qual),
            "n_qualitative_judge_failed": sum(r.get("status") == "judge_failed" for r in qual),
        }
        for cat, name in QUANT_CATEGORIES.items():
            rows = [r for r in quant if r.get("category") == cat]
            if rows:
                metrics[f"quan_{name}_success"] = rate(rows)
                if name != "direction":
                    metrics[f"quan_{name}_abs_rel"] = mean(r.get("abs_rel") for r in rows)
        for group, _ in QUAL_GROUPS:
            rows = [r for r in judged if r.get("group") == group]
            if rows:
                metrics[f"qual_{group}_accuracy"] = rate(rows)
        per_cat = [metrics[f"quan_{n}_success"] for n in QUANT_CATEGORIES.values() if f"quan_{n}_success" in metrics]
        metrics["quantitative_category_mean"] = mean(per_cat)
        # HiSpatial reports the quantitative average: the headline is the quantitative success.
        return summary(self.name, per_sample, metrics["quantitative_success"], "quantitative_success", metrics,
                       official=self._official(quant, qual))

    @staticmethod
    def _official(quant: list[dict[str, Any]], qual: list[dict[str, Any]]) -> dict[str, Any]:
        """The script's ``Quan Overall Acc`` (pooled), ``Qual Overall Acc`` and per-category rates."""
        metrics: dict[str, Any] = {"quantitative_success": rate(quant, "official_correct"),
                                   "qualitative_accuracy": rate(qual, "official_correct")}
        for cat, name in QUANT_CATEGORIES.items():
            rows = [r for r in quant if r.get("category") == cat]
            if rows:
                metrics[f"quan_{name}_success"] = rate(rows, "official_correct")
                if name != "direction":
                    metrics[f"quan_{name}_abs_rel"] = mean(r.get("official_abs_rel") for r in rows)
        return official.block("quantitative_success", metrics["quantitative_success"], metrics,
                              "SpatialRGPT evaluate_spatial_with_gpt4.py (numbers read by our parser)")
