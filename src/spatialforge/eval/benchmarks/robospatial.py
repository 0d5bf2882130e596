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

Ours vs official (``official.robospatial_official`` reproduces ``evaluate_answer`` on the raw
output, with its ``ast.literal_eval`` fallback for bracketed point lists): ours applies the
same rules to the final answer (``<answer>`` content for reasoning prompts), reads points on
the coordinate grid in force (``spatialforge.eval.coords``: values in [0, 1] are fractions;
larger values are pixels under ``auto``, 0-1000 for Qwen2-VL, resized pixels for Qwen2.5-VL,
converted with the image size), counts a missing prediction as wrong (the official
pre-generated evaluation leaves unmatched questions out of every rate), and adds
``yesno_lenient`` (our alias parser) as a secondary number.
"""

from __future__ import annotations

import ast
from typing import Any

from . import official
from .base import Benchmark, BenchSample, image_ref, image_size, register_benchmark
from .common import final_answer, mean, rate, summary
from ..coords import to_pixels
from ..parse import parse_yes_no, ParseFailure

CATEGORIES = ("configuration", "compatibility", "context")


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
    """The first ``(x, y)`` or ``[x, y]`` pair in the text (official regexes, tuple first),
    else the official ``ast.literal_eval`` reading of the first ``[...]`` (``[(.45, .62)]``)."""
    return official.robospatial_point(text)


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
                meta={"category": category, "img": row.get("img")},  # img: RoboSpatial-Eval matches results on it
            )
        ]

    def question_text(self, sample):
        return sample.question

    def score(self, sample, prediction, judge=None):
        rec = self.base_record(sample, prediction)
        rec["category"] = sample.meta["category"]
        off = official.robospatial_official(sample.answer, prediction)
        rec.update(official_correct=off["correct"], official_parsable=off["parsable"])
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
        if point is not None:
            point = self._fraction(sample, point)
        rec["parsable"] = point is not None
        rec["parsed"] = list(point) if point else None
        rec["correct"] = point is not None and point_in_polygon(point[0], point[1], poly)
        if point is None:
            rec["error"] = "no point"
        return rec

    def _fraction(self, sample: BenchSample, point: tuple[float, float]) -> tuple[float, float]:
        """The point as fractions of the image, read on the coordinate grid in force."""
        scale = self.coord_scale
        if scale == "unit" or (all(0 <= v <= 1 for v in point) and (scale == "auto" or not self.coord_strict)):
            return point
        if not sample.images:
            return point
        w, h = image_size(sample.images[0])
        px = to_pixels(point, scale, (w, h), strict=self.coord_strict)
        return (px[0] / w, px[1] / h)

    def aggregate(self, per_sample):
        by_cat = {c: rate([r for r in per_sample if r.get("category") == c]) for c in CATEGORIES}
        matched = [r for r in per_sample if not r.get("missing")]  # official: unmatched ids are left out
        off_cat = {c: rate([r for r in matched if r.get("category") == c], "official_correct") for c in CATEGORIES}
        off = {"total": mean(off_cat.values()), "vqa_average": mean([off_cat["configuration"], off_cat["compatibility"]]),
               **{f"accuracy_{c}": v for c, v in off_cat.items()},
               "accuracy": rate(matched, "official_correct"),  # evaluation.py's own pooled accuracy
               "illformed_responses": sum(1 for r in matched if r.get("official_parsable") is False),
               "unmatched_entries": len(per_sample) - len(matched)}
        metrics: dict[str, Any] = {
            "total": mean(by_cat.values()),
            "vqa_average": mean([by_cat["configuration"], by_cat["compatibility"]]),
            **{f"accuracy_{c}": v for c, v in by_cat.items()},
            "pooled_accuracy": rate(per_sample),
            "yesno_lenient": rate([r for r in per_sample if r.get("kind") == "yesno"], "correct_lenient"),
            "illformed_responses": sum(1 for r in per_sample if r.get("parsable") is False),
        }
        return summary(self.name, per_sample, metrics["total"], "total", metrics,
                       official=official.block("total", off["total"], off,
                                               "RoboSpatial-Eval evaluation.py + README leaderboard (mean of categories)"))
