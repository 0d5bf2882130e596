"""OmniSpatial, comprehensive spatial reasoning (``pangyyyyy/OmniSpatial``, split ``test``, ~1,500 MCQs).

Sources (read 2026-12): lmms-eval ``tasks/omnispatial`` (commit 75571cf; "the official
STARE configuration": ``prompt_type: manual_cot``, ``eval_type: re``), its prompts taken
from the OmniSpatial codebase (github.com/qizekun/OmniSpatial), and VLMEvalKit
``vlmeval/dataset/omnispatialbench.py`` (commit e8e78f0) for the dimension layout. Rows:
``id, question, options`` (list), ``gt`` (the letter), ``task_type`` (the 4 dimensions:
Dynamic_Reasoning, Spatial_Interaction, Complex_Logic, Perspective_Taking),
``sub_task_type`` (10 subtask groups: Manipulation, Motion_Analysis, Traffic_Analysis,
Localization, Geospatial_Strategy, Pattern_Recognition, Geometric_Reasoning, Egocentric,
Allocentric, Hypothetical), ``image_path`` (relative to the dataset folder).

Prompt: the manual-CoT system text, the "Answer: X" format instruction, a blank line, the
question and ``A. option`` lines (one user message, as lmms-eval sends it). Metric:
accuracy, pooled (the headline), per dimension and per subtask group. Unconfirmed offline:
the paper's 50 fine-grained subtasks are not a field of the released rows we could read;
we report the 10 ``sub_task_type`` groups. A row with an integer ``answer`` instead of
``gt`` (the original ``data.json``) is read as the option index.
"""

from __future__ import annotations

from .base import BenchSample, as_list, image_ref, register_benchmark
from . import official
from . import official_multiview as offmv
from .common import LETTERS, group_rates, rate, summary
from .mcq import MCQBenchmark

SYSTEM_PROMPT = """
You are a spatial-reasoning assistant.

Task
-----
You will receive
1. **Image** - a single RGB frame depicting a scene.
2. **Question** - a natural-language query about spatial relationships between objects in the image.
3. **Options** - ≥2 answer candidates, each tagged by a capital letter (A, B, C, D…).

Guidelines
----------
Please follow these steps to analyze the image and answer the question:
1. First, carefully observe the image and identify all relevant objects and their spatial relationships.
2. Next, break down the question into key components that need to be addressed.
3. Think through the spatial reasoning step-by-step to arrive at your answer. It may be necessary to transfer perspective to better understand the scene.
4. Finally, select the most appropriate option (A, B, C, or D) based on your analysis.

Always ground your answer in the visual evidence; do not hallucinate unseen objects.
If uncertain, pick the most plausible option—never refuse or reply “insufficient information.”
"""
RE_FORMAT = """
End your answer with a separate line formatted exactly as:

Answer: X
where X ∈ {A, B, C, D}.
"""
DIMENSIONS = ("Dynamic_Reasoning", "Spatial_Interaction", "Complex_Logic", "Perspective_Taking")


def _gt_letter(row) -> str:
    if row.get("gt") not in (None, ""):
        return str(row["gt"]).strip().upper()
    answer = row["answer"]
    if isinstance(answer, int) or (isinstance(answer, str) and answer.strip().isdigit()):
        return LETTERS[int(answer)]
    return str(answer).strip().upper()


@register_benchmark("omnispatial")
class OmniSpatial(MCQBenchmark):
    description = "OmniSpatial: 4 dimensions of spatial reasoning, MCQ (accuracy per dimension and overall)"
    hf_id = "pangyyyyy/OmniSpatial"
    hf_split = "test"
    score_fields = ("dimension", "subtask")

    def rows_to_samples(self, row, index, root):
        image = image_ref(row.get("image"), root) or image_ref(row.get("image_path"), root)
        return [BenchSample(
            id=str(row.get("id", index)), question=str(row["question"]), answer=_gt_letter(row),
            images=[image] if image is not None else [], task=str(row["sub_task_type"]),
            choices=[str(o) for o in as_list(row["options"])],
            meta={"dimension": str(row["task_type"]), "subtask": str(row["sub_task_type"])},
        )]

    def question_text(self, sample):
        options = "".join(f"\n{LETTERS[i]}. {o}" for i, o in enumerate(sample.choices))
        return SYSTEM_PROMPT + "\n" + RE_FORMAT + "\n\n" + sample.question + options

    def official_choice(self, sample, prediction):
        return offmv.omnispatial_letter(prediction)

    def aggregate(self, per_sample):
        ours = _metrics(per_sample, "correct")
        ours["parse_rate"] = rate(per_sample, "parsable")
        off = _metrics(per_sample, "official_correct")  # "answer: b" reads "b": never equal to "B"
        off["by_subtask"] = group_rates(per_sample, "subtask", "official_correct")  # ours: by_task
        return summary(self.name, per_sample, ours["accuracy"], "accuracy", ours,
                       official=official.block("accuracy", off["accuracy"], off,
                                               "lmms-eval tasks/omnispatial (eval_type re; 'A' when no answer line)"))


def _metrics(rows, key):
    by_dim = group_rates(rows, "dimension", key)
    return {"accuracy": rate(rows, key), **{f"accuracy_{d.lower()}": by_dim.get(d, {}).get("accuracy") for d in DIMENSIONS},
            "by_dimension": by_dim}
