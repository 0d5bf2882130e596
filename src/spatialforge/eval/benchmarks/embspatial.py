"""EmbSpatial-Bench (``FlagEval/EmbSpatial-Bench``, split ``test``, 3,640 MCQs on embodied scenes).

Sources (read 2026-11): the upstream repo github.com/mengfeidu/EmbSpatial-Bench holds only a
README; the schema and the scoring come from the maintained ports -- lmms-eval's
``tasks/embspatial/utils.py`` and FlagEvalMM ``tasks/embspatial_bench/process.py``: rows
``question_id, question, answer (index into answer_options), answer_options, relation
(left|right|above|under|close|far), data_source (ai2thor|mp3d|scannet), image`` (base64
string in the annotation JSON, an ``Image`` in the parquet port); accuracy overall, per
relation and per data source.

The prompt follows lmms-eval (question, then ``A) option`` lines) with the common MCQ
instruction appended; our own choice: the upstream paper used likelihood and generation
protocols we do not reproduce.
"""

from __future__ import annotations

from .base import BenchSample, as_list, image_ref, register_benchmark
from . import official
from .common import LETTERS, MCQ_SUFFIX, group_rates, rate, summary
from .mcq import MCQBenchmark

RELATION_GROUP = {"left": "direction", "right": "direction", "above": "direction", "under": "direction",
                  "close": "distance", "far": "distance"}


@register_benchmark("embspatial")
class EmbSpatialBench(MCQBenchmark):
    description = "EmbSpatial-Bench: egocentric spatial relations in MP3D/ScanNet/AI2-THOR scenes (accuracy)"
    hf_id = "FlagEval/EmbSpatial-Bench"
    hf_split = "test"
    score_fields = ("relation", "data_source")

    def rows_to_samples(self, row, index, root):
        options = [str(o) for o in as_list(row["answer_options"])]
        answer = row["answer"]
        if isinstance(answer, str) and answer.strip().isdigit():
            answer = int(answer)
        letter = LETTERS[int(answer)] if isinstance(answer, int) else str(answer).strip().upper()
        image = image_ref(row.get("image"), root) or image_ref(row.get("image_path"), root)
        relation = str(row.get("relation", ""))
        return [
            BenchSample(
                id=str(row.get("question_id", index)),
                question=str(row["question"]),
                answer=letter,
                images=[image] if image is not None else [],
                task=relation,
                level=2,
                choices=options,
                meta={"relation": relation, "data_source": str(row.get("data_source", ""))},
            )
        ]

    def question_text(self, sample):
        options = "\n".join(f"{LETTERS[i]}) {o}" for i, o in enumerate(sample.choices))
        return f"{sample.question}\n{options}\n{MCQ_SUFFIX}"

    def official_choice(self, sample, prediction):
        return official.lmms_letter(prediction)

    def aggregate(self, per_sample):
        metrics = {
            "accuracy": rate(per_sample),
            "parse_rate": rate(per_sample, "parsable"),
            "by_relation_group": group_rates(per_sample, lambda r: RELATION_GROUP.get(r.get("relation"))),
            "by_data_source": group_rates(per_sample, "data_source"),
        }
        off = {"accuracy": rate(per_sample, "official_correct"),
               "by_relation": group_rates(per_sample, "relation", "official_correct")}
        return summary(self.name, per_sample, metrics["accuracy"], "accuracy", metrics,
                       official=official.block("accuracy", off["accuracy"], off,
                                               "lmms-eval tasks/embspatial (first-character letter)"))
