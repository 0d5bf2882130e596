"""MMSI-Bench, multi-image spatial intelligence (``RunsenXu/MMSI-Bench``, split ``test``, 1,000 MCQs).

Sources (read 2026-12): lmms-eval ``tasks/mmsi_bench`` (commit 75571cf) and VLMEvalKit
``vlmeval/dataset/mmsibench.py`` (commit e8e78f0). Rows: ``id, images`` (a list of
images, 2 or more), ``question_type`` (11 categories: "Positional Relationship
(Cam.–Obj.)" ..., "Attribute (Meas.)", "Motion (Cam.)", "MSR"; some rows write the dash as
"-", which lmms-eval maps to "–"), ``question`` (the options are inside it: "Options: A:
..., B: ..., C: ..., D: ..."), ``answer`` (a letter), ``thought``.

Prompt: the stripped question followed by "\\nAnswer with the option's letter from the
given choices directly. Enclose the option's letter within ``." (lmms-eval's default
post-prompt). Metric: accuracy, pooled over all questions (the paper's number), and per
category. The official letter: ``official_multiview.mmsi_letter``. Unconfirmed offline:
whether every hub row embeds its options in ``question`` (we read them from there for our
option-text matching; without them letters alone are read).
"""

from __future__ import annotations

import re

from .base import BenchSample, as_list, image_ref, register_benchmark
from . import official
from . import official_multiview as offmv
from .common import group_rates, rate, summary
from .mcq import MCQBenchmark

POST_PROMPT = "\nAnswer with the option's letter from the given choices directly. Enclose the option's letter within ``."
_OPTION = re.compile(r"\b([A-F]):\s*(.*?)(?=,\s*[A-F]:|\s*$)", re.S)


def normalise_category(name: str) -> str:
    """lmms-eval's aliases: "Positional Relationship (Obj.-Obj.)" is "(Obj.–Obj.)"."""
    return name.replace(".-", ".–") if name.startswith("Positional Relationship") else name


def options_in(question: str) -> list[str]:
    """The option texts after "Options:" in the question (letters A, B, ... in order), else 4 blanks."""
    _, sep, tail = question.rpartition("Options:")
    found = _OPTION.findall(tail) if sep else []
    letters = [letter for letter, _ in found]
    if not found or letters != [chr(65 + i) for i in range(len(found))]:
        return [""] * 4
    return [text.strip() for _, text in found]


@register_benchmark("mmsi_bench")
class MMSIBench(MCQBenchmark):
    description = "MMSI-Bench: multi-image spatial reasoning MCQ (accuracy, per category)"
    hf_id = "RunsenXu/MMSI-Bench"
    hf_split = "test"
    score_fields = ("category",)

    def rows_to_samples(self, row, index, root):
        images = [image_ref(im, root) for im in as_list(row["images"])]
        question = str(row["question"])
        return [BenchSample(
            id=str(row.get("id", index)), question=question, answer=str(row["answer"]).strip().upper(),
            images=[im for im in images if im is not None], task=normalise_category(str(row["question_type"])),
            choices=options_in(question), meta={"category": normalise_category(str(row["question_type"]))},
        )]

    def question_text(self, sample):
        return sample.question.strip() + POST_PROMPT

    def official_choice(self, sample, prediction):
        return offmv.mmsi_letter(prediction)

    def aggregate(self, per_sample):
        ours = {"accuracy": rate(per_sample), "parse_rate": rate(per_sample, "parsable")}  # per category: by_task
        off = {"accuracy": rate(per_sample, "official_correct"),
               "by_category": group_rates(per_sample, "category", "official_correct")}
        return summary(self.name, per_sample, ours["accuracy"], "accuracy", ours,
                       official=official.block("accuracy", off["accuracy"], off, "lmms-eval tasks/mmsi_bench"))
