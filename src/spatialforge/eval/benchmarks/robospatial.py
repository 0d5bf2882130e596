"""RoboSpatial-Home (``chanhee-luke/RoboSpatial-Home``): configuration, compatibility, context.

Sources (read 2026-11), github.com/chanhee-luke/RoboSpatial-Eval:

* schema: ``download_benchmark.py`` -- splits ``context``, ``compatibility``, ``configuration``;
  rows ``category, question, answer, img, depth_image, mask``; the question already carries
  the answer-format instruction (yes/no, or normalised points ``[(x1, y1), ...]``);
* scoring: ``evaluation.py`` -- a yes/no ground truth is matched by
  ``prediction.strip().lower().startswith("yes"|"no")``; otherwise the ground truth is a
  polygon (normalised coordinates) and the *first* point of the prediction must fall inside
  it (ray casting); an unparsable point is wrong and counted as ill-formed;
* aggregate: the README leaderboard -- VQA average = mean(configuration, compatibility),
  total = mean of the three categories. HiSpatial (section 6.4) reports the configuration
  subset alone.

We apply the official rules to the final answer (``<answer>`` content for reasoning prompts)
and add ``yesno_lenient`` (our alias parser) as a secondary number.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from .base import Benchmark, BenchSample, image_ref, register_benchmark
from .common import final_answer, mean, rate, summary

CATEGORIES = ("configuration", "compatibility", "context")
_TUPLE = re.compile(r"\(\s*(\d+\.?\d*)\s*,\s*(\d+\.?\d*)\s*\)")
_LIST = re.compile(r"\[\s*(\d+\.?\d*)\s*,\s*(\d+\.?\d*)\s*\]")


def point_in_polygon(x: float, y: float, poly: list[tuple[float, float]]) -> bool:
    """Ray casting, as in the official evaluation (points on the boundary may go either way)."""
    inside = False
    j = len(poly) - 1
    for i in range(len(poly)):
        xi, yi = poly[i]
        xj, yj = poly[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def first_point(text: str) -> tuple[float, float] | None:
    """The first ``(x, y)`` or ``[x, y]`` pair in the text (official regexes, tuple first)."""
    for pattern in (_TUPLE, _LIST):
        m = pattern.search(text)
        if m:
            return float(m.group(1)), float(m.group(2))
    return None


@register_benchmark("robospatial")
class RoboSpatialHome(Benchmark):
    description = "RoboSpatial-Home: spatial configuration/compatibility (yes/no) and context (point in region)"
    hf_id = "chanhee-luke/RoboSpatial-Home"
    hf_split = None  # all three splits

    def rows_to_samples(self, row, index, root):
        category = str(row.get("category") or row.get("_split") or "")
        answer = str(row["answer"]).strip()
        image = image_ref(row.get("img"), root) or image_ref(row.get("image"), root)
        return [
            BenchSample(
                id=f"{category}-{index:05d}",
                question=str(row["question"]),
                answer=answer,
                images=[image] if image is not None else [],
                task=category,
                level=2,
                meta={"category": category},
            )
        ]

    def question_text(self, sample):
        return sample.question

    def score(self, sample, prediction, judge=None):
        from ..parse import ParseFailure, parse_yes_no

        rec = self.base_record(sample, prediction)
        rec["category"] = sample.meta["category"]
        answer = final_answer(prediction)
        gt = sample.answer.lower()
        if gt in ("yes", "no"):
            rec["kind"] = "yesno"
            rec["parsable"] = bool(answer)
            rec["correct"] = answer.lower().startswith(gt)
            lenient = parse_yes_no(answer)
            rec["correct_lenient"] = not isinstance(lenient, ParseFailure) and lenient == (gt == "yes")
            return rec
        rec["kind"] = "point"
        try:
            poly = [tuple(map(float, p)) for p in ast.literal_eval(sample.answer)]
        except (ValueError, SyntaxError, TypeError):
            rec.update(correct=None, parsable=False, error="ground-truth polygon unreadable")
            return rec
        if len(poly) < 3:
            rec.update(correct=False, parsable=False, error="ground-truth polygon has < 3 points")
            return rec
        point = first_point(answer)
        rec["parsable"] = point is not None
        rec["parsed"] = list(point) if point else None
        rec["correct"] = point is not None and point_in_polygon(point[0], point[1], poly)
        if point is None:
            rec["error"] = "no point"
        return rec

    def aggregate(self, per_sample):
        by_cat = {c: rate([r for r in per_sample if r.get("category") == c]) for c in CATEGORIES}
        metrics: dict[str, Any] = {
            "total": mean(by_cat.values()),
            "vqa_average": mean([by_cat["configuration"], by_cat["compatibility"]]),
            **{f"accuracy_{c}": v for c, v in by_cat.items()},
            "pooled_accuracy": rate(per_sample),
            "yesno_lenient": rate([r for r in per_sample if r.get("kind") == "yesno"], "correct_lenient"),
            "illformed_responses": sum(1 for r in per_sample if r.get("parsable") is False),
        }
        return summary(self.name, per_sample, metrics["total"], "total", metrics)
