"""ViewSpatial-Bench, camera- vs person-perspective orientation (``lidingm/ViewSpatial-Bench``, ~5,700 MCQs).

Sources (read 2026-12): lmms-eval ``tasks/viewspatial`` (commit 75571cf, data
``oscarqjh/ViewSpatial_lmmseval``) and the benchmark's ``ViewSpatial-Bench.json`` layout it
ports: rows ``question_type`` (5 types, "Camera perspective - Relative Direction",
"Camera perspective - Object View Orientation", "Person perspective - Relative Direction",
"Person perspective - Object View Orientation", "Person perspective - Scene Simulation
Relative Direction"), ``question``, ``choices`` (one string, "A. left\\nB. right ..."),
``answer`` ("A. left": the letter is the first standalone A-D), ``images`` (the lmms-eval
port) or ``image_path`` (a list of paths, the original JSON: relative to the card's unpacked
``scannetv2_val.zip`` / ``val2017.zip``; pass that folder as the source, since the hub copy
of the JSON alone has no pixels). The ScanNet paths name their scenes, which is what
decontamination reads.

Prompt (the paper's, via lmms-eval): "Question: {question}\\nChoices: {choices}\\nReply only to
the corresponding option.\\nAnswer:". Metric: accuracy, pooled (the headline), per
perspective (camera / person: the part of ``question_type`` before " perspective") and per
type. The official letter is the first standalone A-D of the output's last line.
Unconfirmed offline: whether every row's ``answer`` starts with its letter (when it does
not, we match its text against the choices).
"""

from __future__ import annotations

import re

from .base import BenchSample, as_list, image_ref, register_benchmark
from . import official
from . import official_multiview as offmv
from .common import LETTERS, group_rates, rate, summary
from .mcq import MCQBenchmark

POST_PROMPT = "Reply only to the corresponding option.\nAnswer:"
_CHOICE_LINE = re.compile(r"^\s*([A-D])[.)]\s*(.*)$")


def perspective(question_type: str) -> str:
    """"camera" or "person" (the words before " perspective")."""
    return question_type.split(" perspective", 1)[0].strip().lower()


def split_choices(choices) -> list[str]:
    """The option texts of a "A. x\\nB. y" string (or of a list of them)."""
    lines = as_list(choices) if not isinstance(choices, str) else choices.splitlines()
    out = []
    for line in lines:
        m = _CHOICE_LINE.match(str(line))
        out.append(m.group(2).strip() if m else str(line).strip())
    return [o for o in out if o]


def _answer_letter(answer: str, options: list[str]) -> str:
    m = re.search(r"\b([A-D])\b", answer)
    if m:
        return m.group(1).upper()
    hits = [i for i, o in enumerate(options) if o.lower() == answer.strip().lower()]
    if len(hits) != 1:
        raise ValueError(f"answer {answer!r} names no option of {options}")
    return LETTERS[hits[0]]


@register_benchmark("viewspatial")
class ViewSpatialBench(MCQBenchmark):
    description = "ViewSpatial-Bench: camera vs person perspective MCQ (accuracy per perspective)"
    hf_id = "lidingm/ViewSpatial-Bench"
    hf_config = "ViewSpatial-Bench"
    hf_split = "test"
    score_fields = ("perspective",)

    def rows_to_samples(self, row, index, root):
        raw = row.get("images") if row.get("images") is not None else row.get("image_path")
        images = [image_ref(im, root) for im in as_list(raw) if im is not None]
        options = split_choices(row["choices"])
        # lmms-eval formats the field as it is: a list would show as its Python repr
        choices_text = row["choices"] if isinstance(row["choices"], str) else str([str(c) for c in as_list(row["choices"])])
        qtype = str(row["question_type"])
        return [BenchSample(
            id=str(row.get("id", index)), question=str(row["question"]),
            answer=_answer_letter(str(row["answer"]), options), images=[im for im in images if im is not None],
            task=qtype, choices=options, meta={"perspective": perspective(qtype), "choices_text": choices_text},
        )]

    def question_text(self, sample):
        return f"Question: {sample.question}\nChoices: {sample.meta['choices_text']}\n{POST_PROMPT}"

    def official_choice(self, sample, prediction):
        return offmv.viewspatial_letter(prediction)

    def aggregate(self, per_sample):
        ours = _metrics(per_sample, "correct")
        ours["parse_rate"] = rate(per_sample, "parsable")
        off = _metrics(per_sample, "official_correct")
        off["by_type"] = group_rates(per_sample, "task", "official_correct")  # ours: by_task
        return summary(self.name, per_sample, ours["accuracy"], "accuracy", ours,
                       official=official.block("accuracy", off["accuracy"], off, "lmms-eval tasks/viewspatial"))


def _metrics(rows, key):
    by = group_rates(rows, "perspective", key)
    return {"accuracy": rate(rows, key), "accuracy_camera": by.get("camera", {}).get("accuracy"),
            "accuracy_person": by.get("person", {}).get("accuracy"), "by_perspective": by}
