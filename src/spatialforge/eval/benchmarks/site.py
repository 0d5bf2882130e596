"""SITE, spatial intelligence thorough evaluation (``franky-veteran/SITE-Bench``; image and video MCQs).

Sources (read 2026-12): lmms-eval ``tasks/sitebench`` (commit 75571cf), itself "taken
directly from" github.com/wenqi-wang20/SITE-Bench ``eval_scripts/sitebench``. Rows:
``id``, ``visual`` (a list of paths relative to the dataset folder: images, or one video),
``question``, ``options`` (list), ``answer`` (the letter), ``category`` (6: "counting &
existence", "spatial relationship reasoning", "object localization & positioning", "3d
information understanding", "movement prediction & navigation", "multi-view & cross-image
reasoning"), ``dataset`` (the source benchmark). Configs ``image_test`` and ``video_test``.

Prompts: images -- "Question: {q}\\nOptions:\\nA: ...\\n" and "Give me the answer letter
directly. The best answer is:" (the ``<image>`` placeholders of interleaved questions are
dropped: our runners put the images first); video -- "Select the best answer to the
following multiple-choice question based on the video. Respond with only the letter of the
correct option.\\nQuestion: ...\\nOptions:\\n...\\nGive me the answer letter directly. The best
answer is:", 32 frames sampled uniformly. Unconfirmed offline: in the image path lmms-eval
reads the post-prompt from a nested ``default`` key its kwargs no longer have, so the
published image numbers may have been produced without the last line; we keep it.

Metric: **chance-adjusted accuracy** (``spatialforge.eval.suite_accuracy``) pooled over all
questions (the headline), with plain accuracy, both per category and per source dataset.
"""

from __future__ import annotations

from .base import BenchSample, as_list, image_ref, is_video, register_benchmark
from . import official
from . import official_multiview as offmv
from ..suite_accuracy import chance_adjusted_accuracy
from .common import LETTERS, group_rates, rate, summary
from .mcq import MCQBenchmark

POST_PROMPT = "Give me the answer letter directly. The best answer is:"
VIDEO_PRE_PROMPT = ("Select the best answer to the following multiple-choice question based on the video. "
                    "Respond with only the letter of the correct option.")


@register_benchmark("site")
class SITEBench(MCQBenchmark):
    description = "SITE image MCQ (chance-adjusted accuracy, per category)"
    hf_id = "franky-veteran/SITE-Bench"
    hf_config = "image_test"
    hf_split = "test"
    num_frames = 32
    score_fields = ("category", "dataset", "n_options")

    def rows_to_samples(self, row, index, root):
        visual = [image_ref(v, root) for v in as_list(row["visual"])]
        options = [str(o) for o in as_list(row["options"])]
        video = len(visual) == 1 and is_video(visual[0])
        meta = {"category": str(row["category"]), "dataset": str(row.get("dataset", "")), "n_options": len(options),
                "video": video}
        return [BenchSample(id=str(row.get("id", index)), question=str(row["question"]).strip(),
                            answer=str(row["answer"]).strip().upper(),
                            images=[] if video else [v for v in visual if v is not None], video=visual[0] if video else None,
                            task=str(row["category"]), choices=options, meta=meta)]

    def question_text(self, sample):
        options = "\n".join(f"{LETTERS[i]}: {o}" for i, o in enumerate(sample.choices))
        if sample.meta["video"]:
            return f"{VIDEO_PRE_PROMPT}\nQuestion: {sample.question}\nOptions:\n{options}\n{POST_PROMPT}"
        question = sample.question.replace("<image>", "").strip()
        return f"Question: {question}\nOptions:\n{options.replace('<image>', '')}\n{POST_PROMPT}"

    def official_choice(self, sample, prediction):
        return offmv.site_letter(prediction, len(sample.choices))

    def aggregate(self, per_sample):
        ours, off = _metrics(per_sample, "correct"), _metrics(per_sample, "official_correct")
        ours["parse_rate"] = rate(per_sample, "parsable")
        off["by_category"] = group_rates(per_sample, "category", "official_correct")  # ours: by_task
        return summary(self.name, per_sample, ours["chance_adjusted_accuracy"], "chance_adjusted_accuracy", ours,
                       official=official.block("chance_adjusted_accuracy", off["chance_adjusted_accuracy"], off,
                                               "lmms-eval tasks/sitebench (MMMU letter parse; no random guess)"))


def _caa(rows, key):
    return chance_adjusted_accuracy([bool(r.get(key)) for r in rows], [r["n_options"] for r in rows])


def _grouped_caa(rows, field, key):
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(str(r.get(field)), []).append(r)
    return {g: {"n": len(rs), "metric": "chance_adjusted_accuracy", "score": _caa(rs, key)} for g, rs in sorted(groups.items())}


def _metrics(rows, key):
    return {"chance_adjusted_accuracy": _caa(rows, key), "accuracy": rate(rows, key),
            "caa_by_category": _grouped_caa(rows, "category", key), "caa_by_dataset": _grouped_caa(rows, "dataset", key)}


@register_benchmark("site_video")
class SITEVideo(SITEBench):
    description = "SITE video MCQ, 32 frames (chance-adjusted accuracy, per category)"
    hf_config = "video_test"
