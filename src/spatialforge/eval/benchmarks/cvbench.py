"""CV-Bench, the Cambrian vision-centric benchmark (``nyu-visionx/CV-Bench``, split ``test``, 2,638 MCQs).

Sources (read 2026-11): the dataset card (fields ``idx, type (2D|3D), task, image, question,
choices, answer ("(C)"), prompt (question and lettered choices pre-formatted), filename,
source (ADE20K|COCO|Omni3D), source_dataset, source_filename, target_class, target_size,
bbox``) and its official accuracy::

    CV-Bench = ( (acc_2D_ADE20K + acc_2D_COCO) / 2 + acc_3D_Omni3D ) / 2

The prompt is the dataset's ``prompt`` field followed by the instruction Cambrian-1 uses for
multiple choice (its Table 22): "Answer with the option's letter from the given choices
directly." A source absent from the loaded rows (``--limit``) is left out of its mean and
reported in ``missing_sources``.
"""

from __future__ import annotations

from .base import BenchSample, as_list, image_ref, register_benchmark
from . import official
from .common import MCQ_SUFFIX, mean, rate, summary
from .mcq import MCQBenchmark

SOURCES_2D = ("ADE20K", "COCO")
SOURCE_3D = "Omni3D"


@register_benchmark("cvbench")
class CVBench(MCQBenchmark):
    description = "CV-Bench 2D (relation, count) and 3D (depth, distance); official mean of 2D sources and 3D"
    hf_id = "nyu-visionx/CV-Bench"
    hf_split = "test"
    score_fields = ("type", "source")

    def rows_to_samples(self, row, index, root):
        choices = [str(c) for c in as_list(row["choices"])]
        image = image_ref(row.get("image"), root) or image_ref(row.get("filename"), root)
        return [
            BenchSample(
                id=str(row.get("idx", index)),
                question=str(row["question"]),
                answer=str(row["answer"]).strip().strip("()"),
                images=[image] if image is not None else [],
                task=str(row["task"]),
                level=2,
                choices=choices,
                meta={"prompt": str(row["prompt"]), "type": str(row["type"]), "source": str(row["source"])},
            )
        ]

    def question_text(self, sample):
        return f"{sample.meta['prompt']}\n{MCQ_SUFFIX}"

    def official_choice(self, sample, prediction):
        return official.lmms_letter(prediction)

    def aggregate(self, per_sample):
        metrics = _cvbench_metrics(per_sample, "correct")
        metrics["parse_rate"] = rate(per_sample, "parsable")
        missing = [s for s in (*SOURCES_2D, SOURCE_3D) if metrics[f"accuracy_{s.lower()}"] is None]
        off = _cvbench_metrics(per_sample, "official_correct")
        off["parse_rate"] = rate([{"ok": bool(r.get("official_parsed"))} for r in per_sample], "ok")
        return summary(self.name, per_sample, metrics["cvbench_accuracy"], "cvbench_accuracy", metrics,
                       missing_sources=missing,
                       official=official.block("cvbench_accuracy", off["cvbench_accuracy"], off,
                                               "lmms-eval tasks/cv_bench (first-character letter)"))


def _cvbench_metrics(rows, key):
    """The official formula ((ADE20K + COCO) / 2 + Omni3D) / 2 and its parts, on ``key``."""
    by_source = {s: rate([r for r in rows if r.get("source") == s], key) for s in (*SOURCES_2D, SOURCE_3D)}
    acc_2d = mean(by_source[s] for s in SOURCES_2D)
    acc_3d = by_source[SOURCE_3D]
    return {
        "cvbench_accuracy": mean([acc_2d, acc_3d]),
        "accuracy_2d": acc_2d,
        "accuracy_3d": acc_3d,
        **{f"accuracy_{s.lower()}": v for s, v in by_source.items()},
        "pooled_accuracy": rate(rows, key),
    }
