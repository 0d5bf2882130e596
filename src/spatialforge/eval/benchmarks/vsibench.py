"""VSI-Bench, visual-spatial intelligence from videos (``nyu-visionx/VSI-Bench``, ~5,000 QAs).

Sources (read 2026-12): the dataset card and ``create_pq.py`` of ``nyu-visionx/VSI-Bench``
(``test.jsonl`` rows ``id, dataset (arkitscenes|scannet|scannetpp), scene_name,
question_type, question, options (["A. chair", ...] for multiple choice, empty otherwise),
ground_truth`` (a letter, or a number as text); the configs ``debiased`` and ``pruned``
split the same rows by Iterative Bias Pruning, a boolean ``pruned`` column in their
parquet files), and lmms-eval ``tasks/vsibench`` (commit 75571cf) for the prompt, the
extraction and the aggregation:

* prompt: "These are frames of a video.", the question, then "Options:" and the options
  with "Answer with the option's letter from the given choices directly." (multiple
  choice) or "Please answer the question using a single word or phrase." (numeric);
* multiple choice (6 types) by exact match of the letter; numeric (4 types) by MRA
  (``spatialforge.eval.suite_accuracy``);
* headline: the mean over question types of each type's mean score, with the three
  ``object_rel_direction_{easy,medium,hard}`` types first averaged into one (8 types).

Video: ``{source}/{dataset}/{scene_name}.mp4`` (the layout of the card's
``arkitscenes.zip``/``scannet.zip``/``scannetpp.zip`` unpacked next to ``test.jsonl``),
``num_frames`` = 32 uniformly sampled frames (lmms-eval's default where it samples frames
itself; the paper evaluated each model with its own frame count -- 8 to 32 -- which we do
not reproduce per model). Unconfirmed offline: whether the hub parquet of the ``debiased``
config always carries ``pruned`` (we filter on it only when present). Numeric units per
type are the paper's (metres, centimetres for object sizes, square metres for rooms).
"""

from __future__ import annotations

from typing import Any

from .base import Benchmark, BenchSample, as_list, image_ref, register_benchmark
from . import official
from . import official_multiview as offmv
from .common import MCQ_SUFFIX, mean, rate, summary
from .mcq import score_choice
from .quantity import score_numeric, type_scores, type_table

MCA_TYPES = ("object_rel_direction_easy", "object_rel_direction_medium", "object_rel_direction_hard",
             "object_rel_distance", "route_planning", "obj_appearance_order")
NA_UNITS = {"object_abs_distance": "m", "object_counting": "count", "object_size_estimation": "cm",
            "room_size_estimation": "m2"}
PRE_PROMPT = "These are frames of a video."
NA_POST_PROMPT = "Please answer the question using a single word or phrase."
REL_DIRECTION = "object_rel_direction"


def score_type(question_type: str) -> str:
    """The type a question is averaged under (the three direction difficulties are one type)."""
    return REL_DIRECTION if question_type.startswith(REL_DIRECTION + "_") else question_type


@register_benchmark("vsibench")
class VSIBench(Benchmark):
    description = "VSI-Bench: spatial QA on ScanNet/ScanNet++/ARKitScenes videos; mean over types of accuracy / MRA"
    hf_id = "nyu-visionx/VSI-Bench"
    hf_config = "full"
    hf_split = "test"
    num_frames = 32
    subset: str | None = None  # "debiased" / "pruned": keep rows by the ``pruned`` column when present

    def rows_to_samples(self, row, index, root):
        if self.subset is not None and row.get("pruned") is not None and bool(row["pruned"]) != (self.subset == "pruned"):
            return []
        qtype = str(row["question_type"])
        if qtype not in MCA_TYPES and qtype not in NA_UNITS:
            raise ValueError(f"unknown question_type {qtype!r}")
        if qtype in NA_UNITS:
            float(row["ground_truth"])  # a numeric truth that is not a number is a schema error of this row
        video = image_ref(f"{row['dataset']}/{row['scene_name']}.mp4", root)
        return [BenchSample(
            id=str(row["id"]), question=str(row["question"]), answer=str(row["ground_truth"]).strip(),
            video=video, task=qtype, choices=[str(o) for o in as_list(row.get("options"))] if qtype in MCA_TYPES else [],
            meta={"dataset": str(row["dataset"]), "scene_name": str(row["scene_name"])},
        )]

    def scene_ids(self, row):
        return [str(row["scene_name"])]  # ScanNet scene0000_00, ARKitScenes video id, ScanNet++ id

    def question_text(self, sample):
        if sample.task in NA_UNITS:
            return f"{PRE_PROMPT}\n{sample.question}\n{NA_POST_PROMPT}"
        return "\n".join([PRE_PROMPT, sample.question, "Options:\n" + "\n".join(sample.choices), MCQ_SUFFIX])

    def score(self, sample, prediction, judge=None):
        rec = self.base_record(sample, prediction)
        rec.update(score_type=score_type(sample.task), dataset=sample.meta["dataset"], scene_name=sample.meta["scene_name"])
        if sample.task in NA_UNITS:
            rec.update(score_numeric(prediction, sample.answer, NA_UNITS[sample.task]))
            number = offmv.vsi_number(prediction)
            rec.update(official_parsed=number, official_score=offmv.lmms_mra(number, offmv.to_float(sample.answer)))
        else:
            rec.update(score_choice(prediction, sample.choices, sample.answer))
            rec["score"] = float(rec["correct"])
            letter = offmv.vsi_letter(prediction)
            rec.update(official_parsed=letter, official_score=float(letter.lower() == sample.answer.lower()))
        return rec

    def aggregate(self, per_sample):
        ours, off = vsi_metrics(per_sample, "score"), vsi_metrics(per_sample, "official_score")
        ours["parse_rate"] = rate(per_sample, "parsable")
        by_task = type_table(per_sample, type_scores(per_sample), _metric_of)  # rows without "correct": scores
        return summary(self.name, per_sample, ours["vsibench_score"], "vsibench_score", ours, by_task=by_task,
                       official=official.block("vsibench_score", off["vsibench_score"], off,
                                               "lmms-eval tasks/vsibench (first word; MRA with <=)"))


def _metric_of(question_type: str) -> str:
    return "mra" if question_type in NA_UNITS else "accuracy"


def vsi_metrics(rows: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """Per-type means (direction difficulties averaged into one type) and their mean."""
    per_qtype = type_scores(rows, key, group=lambda r: r["task"])
    merged: dict[str, float | None] = {}
    for qtype, value in per_qtype.items():
        if score_type(qtype) != qtype:
            continue
        merged[qtype] = value
    directions = [v for q, v in per_qtype.items() if score_type(q) == REL_DIRECTION]
    if directions:
        merged[REL_DIRECTION] = mean(directions)
    merged = dict(sorted(merged.items()))
    metric_of = _metric_of
    return {
        "vsibench_score": mean(merged.values()),
        **{f"{t}_{metric_of(t)}": v for t, v in merged.items()},
        "by_question_type": type_table(rows, merged, metric_of, group=lambda r: r["score_type"]),
    }


@register_benchmark("vsibench_debiased")
class VSIBenchDebiased(VSIBench):
    description = "VSI-Bench-Debiased: the rows Iterative Bias Pruning kept (same scoring as vsibench)"
    hf_config = "debiased"
    subset = "debiased"


@register_benchmark("vsibench_pruned")
class VSIBenchPruned(VSIBench):
    description = "VSI-Bench pruned: the rows Iterative Bias Pruning removed (same scoring as vsibench)"
    hf_config = "pruned"
    subset = "pruned"
