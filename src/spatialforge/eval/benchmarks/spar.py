"""SPAR-Bench, single- and multi-view 3D spatial perception (``jasonzhango/SPAR-Bench``, split ``test``).

Sources (read 2026-12): lmms-eval ``tasks/sparbench`` (commit 75571cf; "taken from"
github.com/LogosRoboticsGroup/SPAR) and VLMEvalKit ``vlmeval/dataset/sparbench.py``
(commit e8e78f0). Rows: ``id``, ``image`` (a list: one view, or several for the ``*_mv``
tasks), ``question`` (options inside it for multiple choice), ``answer`` (a letter, a
number in metres, or for ``view_change_infer`` a motion string
"move_right:0.4,rotate_left:30"), ``task`` (20 tasks: 11 multiple-choice, 8 numeric depth /
distance, 1 view-change).

Prompt: "\\n{question}\\n" then, for numeric tasks, "Please answer the question using a single
word or phrase."; for multiple choice an optional note on 0-1000 box coordinates
(``position_matching``, ``camera_motion_infer``) and "\\nAnswer with the option's letter from
the given choices directly."; view change: the question and two empty lines.

Metric: per task, accuracy (multiple choice), MRA (numeric) or the mean MRA over five
signed motion axes (view change); the headline is the mean over tasks, with the paper's
difficulty groups (low: depth/distance numbers; middle: view change, position matching,
camera motion; high: the rest) as the means of their tasks. Ours reads the final answer with
the project's parsers and MRA (``spatialforge.eval.suite_accuracy``); the official rules are in
``official_multiview``. Unconfirmed offline: the exact option layout inside ``question``
(we read "A. x" / "A: x" / "(A) x" lines for option-text matching, else letters only).
"""

from __future__ import annotations

import re

from .base import Benchmark, BenchSample, as_list, image_ref, register_benchmark
from . import official
from . import official_multiview as offmv
from .common import final_answer, mean, rate, summary
from .mcq import score_choice
from .quantity import score_numeric, type_scores, type_table
from ..suite_accuracy import mean_relative_accuracy

MCQ_TASKS = ("obj_spatial_relation_oo", "obj_spatial_relation_oc_mv", "obj_spatial_relation_oo_mv",
             "spatial_imagination_oc", "spatial_imagination_oo", "spatial_imagination_oc_mv",
             "spatial_imagination_oo_mv", "position_matching", "camera_motion_infer",
             "distance_infer_center_oo", "distance_infer_center_oo_mv")
NUMERIC_TASKS = ("depth_prediction_oc", "depth_prediction_oo", "distance_prediction_oc", "distance_prediction_oo",
                 "depth_prediction_oc_mv", "depth_prediction_oo_mv", "distance_prediction_oo_mv",
                 "distance_prediction_oc_mv")
VIEW_CHANGE = "view_change_infer"
MIDDLE = ("view_change_infer", "position_matching", "camera_motion_infer")
BOX_NOTE = ("The values represent the bounding box coordinates normalized to a 0-1000 scale, "
            "with the top-left corner as the origin of the image.")
NA_POST_PROMPT = "Please answer the question using a single word or phrase."
MCQ_POST_PROMPT = "Answer with the option's letter from the given choices directly."
_OPTION_LINE = re.compile(r"^\s*\(?([A-F])[.):]\s*(.+)$", re.M)


def difficulty(task: str) -> str:
    return "low" if task in NUMERIC_TASKS else "middle" if task in MIDDLE else "high"


def options_in(question: str) -> list[str]:
    found = _OPTION_LINE.findall(question)
    if found and [letter for letter, _ in found] == [chr(65 + i) for i in range(len(found))]:
        return [text.strip() for _, text in found]
    return [""] * 4


def motion_mra(prediction: str | None, gt: str) -> dict:
    """Ours for view change: mean over the five signed axes of MRA(prediction, truth); 0 if unreadable."""
    truth = offmv.motions(gt)
    try:
        pred = offmv.motions(final_answer(prediction))
    except ValueError:
        return {"parsed": None, "parsable": False, "score": 0.0, "correct": None}
    scores = [mean_relative_accuracy(pred.get(a, 0.0) - pred.get(b, 0.0), truth.get(a, 0.0) - truth.get(b, 0.0))
              for a, b in offmv.SPAR_AXES]
    return {"parsed": final_answer(prediction), "parsable": True, "score": sum(scores) / len(scores), "correct": None}


@register_benchmark("sparbench")
class SPARBench(Benchmark):
    description = "SPAR-Bench: single/multi-view depth, distance, relation, imagination (mean over tasks of accuracy / MRA)"
    hf_id = "jasonzhango/SPAR-Bench"
    hf_split = "test"

    def rows_to_samples(self, row, index, root):
        task = str(row["task"])
        if task not in MCQ_TASKS and task not in NUMERIC_TASKS and task != VIEW_CHANGE:
            raise ValueError(f"unknown task {task!r}")
        images = [image_ref(im, root) for im in as_list(row.get("image") if row.get("image") is not None else row.get("image_path"))]
        question, answer = str(row["question"]), str(row["answer"]).strip()
        if task in NUMERIC_TASKS:
            float(answer)  # a truth that is not a number is a schema error of this row
        elif task == VIEW_CHANGE:
            offmv.motions(answer)
        return [BenchSample(id=str(row.get("id", index)), question=question, answer=answer,
                            images=[im for im in images if im is not None], task=task,
                            choices=options_in(question) if task in MCQ_TASKS else [],
                            meta={"difficulty": difficulty(task), "multi_view": task.endswith("_mv")})]

    def question_text(self, sample):
        if sample.task in NUMERIC_TASKS:
            return f"\n{sample.question}\n{NA_POST_PROMPT}"
        if sample.task in MCQ_TASKS:
            note = BOX_NOTE if sample.task in ("position_matching", "camera_motion_infer") else ""
            return f"\n{sample.question}\n{note}\n{MCQ_POST_PROMPT}"
        return f"\n{sample.question}\n\n"

    def score(self, sample, prediction, judge=None):
        rec = self.base_record(sample, prediction)
        rec["difficulty"] = sample.meta["difficulty"]
        if sample.task in NUMERIC_TASKS:
            rec.update(score_numeric(prediction, sample.answer, "m"))
            number = offmv.spar_number(prediction, sample.meta["multi_view"])
            rec.update(official_parsed=number, official_score=offmv.lmms_mra(number, offmv.to_float(sample.answer), zero_abs=True))
        elif sample.task in MCQ_TASKS:
            rec.update(score_choice(prediction, sample.choices, sample.answer))
            rec["score"] = float(rec["correct"])
            rec["official_score"] = float(offmv.spar_letter_correct(prediction, sample.answer))
        else:
            rec.update(motion_mra(prediction, sample.answer))
            rec["official_score"] = offmv.spar_vci(prediction, sample.answer)
        return rec

    def aggregate(self, per_sample):
        ours, off = spar_metrics(per_sample, "score"), spar_metrics(per_sample, "official_score")
        ours["parse_rate"] = rate(per_sample, "parsable")
        by_task = ours.pop("by_task_score")  # rows have scores, not "correct": the per-task table is this one
        return summary(self.name, per_sample, ours["sparbench_score"], "sparbench_score", ours, by_task=by_task,
                       official=official.block("sparbench_score", off["sparbench_score"], off, "lmms-eval tasks/sparbench"))


def spar_metrics(rows, key):
    per_task = type_scores(rows, key)
    out = {"sparbench_score": mean(per_task.values())}
    for level in ("low", "middle", "high"):
        out[level] = mean(v for t, v in per_task.items() if difficulty(t) == level)
    out["by_task_score"] = type_table(rows, per_task, _metric_of)
    return out


def _metric_of(task: str) -> str:
    return "mra" if task in NUMERIC_TASKS else "vci_mra" if task == VIEW_CHANGE else "accuracy"


@register_benchmark("sparbench_tiny")
class SPARBenchTiny(SPARBench):
    description = "SPAR-Bench-Tiny: the small SPAR-Bench subset (same scoring)"
    hf_id = "jasonzhango/SPAR-Bench-Tiny"
