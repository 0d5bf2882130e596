"""3DSRBench (``ccvl/3DSRBench``): 3D spatial reasoning MCQs on MS-COCO images, circular + flip eval.

Sources (read 2026-11): the dataset card of ``ccvl/3DSRBench`` -- results are reproduced from
``3dsrbench_v1_vlmevalkit_circular.tsv`` (VLMEvalKit format: ``index, qid, question, A, B, C,
D, answer, category, image`` (base64), ``image_source, image_url``) with
``compute_3dsrbench_results_circular.py``; its category mapping (height / location /
orientation / multi_object, 12 sub-categories) is copied below. Question ids encode the
variants: ``VIN6MS3J`` (original), ``VIN6MS3J-1`` (choices rotated, CircularEval),
``VIN6MS3J-flip`` / ``VIN6MS3J-flip-1`` (image flipped, FlipEval). The per-question evaluation
and prompt follow VLMEvalKit's MCQ prompt (as ported in lmms-eval ``tasks/3dsrbench``).

Aggregate (VLMEvalKit ``_3DSRBench.evaluate``, read at commit e8e78f05, its ``circ_eval``;
the dataset card's ``compute_3dsrbench_results_circular.py`` groups the same way): a
*circular group* is the question with its choice rotations (``-N``); the flipped question and
its rotations form a *separate* group (``-flip``). A group counts if all its variants are
right, and the headline ``circular_accuracy`` pools all groups. Extra, stricter:
``circular_flip_accuracy`` (original and flip joined in one group: 0.600 where the official
number is 0.625 on the same predictions); also ``flip_accuracy`` (each question with its
flip twin), ``vanilla_accuracy`` (per question), ``type_mean`` and HiSpatial's 3DSR-L2 / L3
subsets (HiSpatial section 6.4). Per-type and per-category rates use the circular groups.

Ours vs official (``official`` block): the official letter is VLMEvalKit's exact matching
(``official.vlmeval_choice``) on the raw output; ours reads the ``<answer>`` span with
``parse_choice``. Groups: ours split the id at the first ``-``, the official code slices
8/13 characters (the same for the release's 8-character ids).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from .base import BenchmarkError, BenchSample, image_ref, read_local_rows, register_benchmark
from . import official
from .common import mean, summary
from .mcq import MCQBenchmark

CATEGORY_MAPPING = {
    "location": ["location_above", "location_closer_to_camera", "location_next_to"],
    "height": ["height_higher"],
    "orientation": ["orientation_in_front_of", "orientation_on_the_left", "orientation_viewpoint"],
    "multi_object": ["multi_object_closer_to", "multi_object_facing", "multi_object_viewpoint_towards_object",
                     "multi_object_parallel", "multi_object_same_direction"],
}
MAIN_TYPE = {sub: main for main, subs in CATEGORY_MAPPING.items() for sub in subs}
HISPATIAL_L2 = {"height_higher", "location_above", "location_closer_to_camera", "location_next_to",
                "multi_object_closer_to", "multi_object_facing", "multi_object_parallel", "multi_object_same_direction"}
HISPATIAL_L3 = {"orientation_in_front_of", "orientation_on_the_left", "multi_object_viewpoint_towards_object"}
CIRCULAR_FILE = "3dsrbench_v1_vlmevalkit_circular.tsv"
POST_PROMPT = "Please select the correct answer from the options above. \n"


def group_key(qid: str) -> str:
    """All variants of one question: the id before the first ``-``."""
    return qid.split("-", 1)[0]


def circular_key(qid: str) -> str:
    """Circular variants of one view: strip a trailing ``-N``, keep ``-flip``."""
    return re.sub(r"-\d+$", "", qid)


def level_of(category: str) -> int | None:
    return 2 if category in HISPATIAL_L2 else 3 if category in HISPATIAL_L3 else None


def flip_key(qid: str) -> str:
    """A question and its flip twin: the id without ``-flip``."""
    return qid.replace("-flip", "")


def group_accuracy(rows: list[dict[str, Any]], key, field: str = "correct") -> tuple[float | None, int]:
    groups: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        groups[key(r["qid"])].append(bool(r.get(field)))
    if not groups:
        return None, 0
    return sum(all(v) for v in groups.values()) / len(groups), len(groups)


@register_benchmark("threedsr")
class ThreeDSRBench(MCQBenchmark):
    description = "3DSRBench: height/location/orientation/multi-object 3D reasoning; circular + flip groups"
    hf_id = "ccvl/3DSRBench"
    score_fields = ("qid",)

    def read_rows(self, source):
        if Path(source).exists() or source != self.hf_id:
            return super().read_rows(source)
        try:  # the evaluation file is a TSV in the dataset repo, not the default parquet config
            from huggingface_hub import hf_hub_download

            path = hf_hub_download(self.hf_id, CIRCULAR_FILE, repo_type="dataset")
        except Exception as e:
            raise BenchmarkError(
                f"could not download {CIRCULAR_FILE} from {self.hf_id}: {e}. Download it elsewhere and pass it as the source."
            ) from None
        return read_local_rows(Path(path)), Path(path).parent

    def rows_to_samples(self, row, index, root):
        options = []
        for letter in "ABCD":
            val = row.get(letter)
            if val is None or (isinstance(val, float) and val != val) or str(val).strip().lower() in ("", "nan", "none"):
                break
            options.append(str(val))
        category = str(row["category"])
        qid = str(row.get("qid") or row.get("index", index))
        image = image_ref(row.get("image"), root) or image_ref(row.get("image_path"), root) or image_ref(row.get("image_url"), root)
        return [
            BenchSample(
                id=f"{row.get('index', index)}",
                question=str(row["question"]),
                answer=str(row["answer"]).strip().upper(),
                images=[image] if image is not None else [],
                task=category,
                level=level_of(category),
                choices=options,
                meta={"qid": qid, "category": category},
            )
        ]

    def question_text(self, sample):
        opts = "".join(f"{letter}. {o}\n" for letter, o in zip("ABCD", sample.choices))
        return f"Question: {sample.question}\nOptions:\n{opts}{POST_PROMPT}"

    def official_choice(self, sample, prediction):
        return official.vlmeval_choice(prediction, sample.choices)

    def score(self, sample, prediction, judge=None):
        rec = super().score(sample, prediction, judge)
        rec["main_type"] = MAIN_TYPE.get(sample.meta["category"], "other")
        return rec

    def aggregate(self, per_sample):
        circular, n_groups = group_accuracy(per_sample, circular_key)
        by_type = {}
        for main in ("height", "location", "orientation", "multi_object"):
            acc, n = group_accuracy([r for r in per_sample if r.get("main_type") == main], circular_key)
            if n:
                by_type[main] = {"n": n, "accuracy": acc}
        by_category = {}
        for cat in sorted({r["task"] for r in per_sample}):
            acc, n = group_accuracy([r for r in per_sample if r["task"] == cat], circular_key)
            by_category[cat] = {"n": n, "accuracy": acc}
        l2, n_l2 = group_accuracy([r for r in per_sample if r["task"] in HISPATIAL_L2], circular_key)
        l3, n_l3 = group_accuracy([r for r in per_sample if r["task"] in HISPATIAL_L3], circular_key)
        metrics = {
            "circular_accuracy": circular,
            "circular_flip_accuracy": group_accuracy(per_sample, group_key)[0],
            "flip_accuracy": group_accuracy(per_sample, flip_key)[0],
            "vanilla_accuracy": mean(float(bool(r.get("correct"))) for r in per_sample),
            "type_mean": mean(v["accuracy"] for v in by_type.values()),
            "hispatial_3dsr_l2": l2,
            "hispatial_3dsr_l3": l3,
            "n_groups": n_groups,
            "by_type": by_type,
        }
        out = summary(self.name, per_sample, circular, "circular_accuracy", metrics,
                      official=self._official(per_sample))
        out["by_task"] = by_category  # group accuracy per category (n counts groups, not questions)
        out["by_level"] = {k: {"n": n_l, "accuracy": v} for k, v, n_l in (("L2", l2, n_l2), ("L3", l3, n_l3)) if n_l}
        return out

    @staticmethod
    def _official(rows: list[dict[str, Any]]) -> dict[str, Any]:
        """VLMEvalKit's four settings on its own letters and its own group keys."""
        acc = lambda key: group_accuracy(rows, key, "official_correct")[0]  # noqa: E731
        metrics = {
            "circ_eval": acc(official.circular_group),
            "flip_circ_eval": acc(official.flip_circular_group),
            "flip_eval": acc(official.flip_group),
            "vanilla": mean(float(bool(r.get("official_correct"))) for r in rows),
            "by_category": {
                cat: {"n": n, "accuracy": a}
                for cat in sorted({r["task"] for r in rows})
                for a, n in [group_accuracy([r for r in rows if r["task"] == cat], official.circular_group,
                                            "official_correct")]
            },
        }
        return official.block("circ_eval", metrics["circ_eval"], metrics,
                              "VLMEvalKit _3DSRBench.evaluate, exact matching (can_infer)")
