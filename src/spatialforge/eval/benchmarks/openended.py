"""VQASynth-style open-ended spatial VQA (SVQA-R1 section 4.2-4.3, Table 4, Appendix B).

Datasets: ``remyxai/vqasynth_spacellava`` (split ``test``) and ``remyxai/OpenSpaces``. Schema
(dataset cards, read 2026-11): ``images`` (list of images) and ``messages`` -- a multi-turn
chat, each message ``{role, content: [{type: "image"|"text", text, index}]}``. As in SVQA-R1,
every user turn with the assistant turn that answers it becomes one single-turn sample
(``<row>-<turn>``) on the row's first image. A local source may also be flat rows with
``question``, ``answer`` and ``image``/``image_path``, or ``images`` (a list: multi-image)
and/or ``video`` (a video file or frame folder) with an optional ``num_frames``.

Metrics (SVQA-R1 Table 4): BLEU-1, BLEU-2 (sentence level, averaged), Sentence-BERT cosine,
and the LLM judge when one is configured (``llm_accuracy`` over judged samples; without a
judge it is ``None`` and ``n_judged`` is 0). Task-specific metrics use the Appendix B typing
(``spatialforge.eval.tasktypes``): boxes -> mIoU and Acc@0.75; yes/no -> accuracy (judged
with the paper's 0/1 prompt when a judge is set, else by the alias lists); distance -> the
prediction is right when it lies within 50-200 % of the ground truth.
"""

from __future__ import annotations

from typing import Any

from .base import Benchmark, BenchSample, as_list, file_ref, image_ref, image_size, register_benchmark
from .common import final_answer, mean, rate, summary
from ..coords import parse_2d
from ..metrics import bleu, box_iou, numeric_correct, sbert_cosine
from ..parse import parse_box2d, parse_length, parse_yes_no, ParseFailure
from ..tasktypes import task_type


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return " ".join(str(c.get("text") or "") for c in as_list(content) if c.get("type", "text") == "text").strip()


def single_turns(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(question, answer) for each user turn followed by an assistant turn."""
    pairs = []
    for a, b in zip(messages, messages[1:]):
        if a.get("role") == "user" and b.get("role") == "assistant":
            q, ans = _text(a.get("content")), _text(b.get("content"))
            if q and ans:
                pairs.append((q, ans))
    return pairs


class _OpenEnded(Benchmark):
    needs_judge = True

    def rows_to_samples(self, row, index, root):
        video, num_frames = None, None
        if "messages" in row:  # SVQA-R1: each turn on the row's first image
            images = [image_ref(im, root) for im in as_list(row.get("images"))][:1]
            pairs = single_turns(as_list(row["messages"]))
        else:  # flat local rows may list several images and/or a video (multi-image / video input)
            cells = as_list(row["images"]) if row.get("images") is not None else [row.get("image") or row.get("image_path")]
            images = [image_ref(im, root) for im in cells]
            video = file_ref(row.get("video"), root)
            num_frames = int(row["num_frames"]) if row.get("num_frames") else None
            pairs = [(str(row["question"]), str(row["answer"]))]
        images = [im for im in images if im is not None]
        return [
            BenchSample(id=f"{index}-{t}", question=q, answer=a, images=list(images), task=task_type(q, a) or "other",
                        video=video, num_frames=num_frames)
            for t, (q, a) in enumerate(pairs)
        ]

    def question_text(self, sample):
        return sample.question

    def score(self, sample, prediction, judge=None):
        rec = self.base_record(sample, prediction)
        pred = final_answer(prediction)
        gt = str(sample.answer)
        rec["bleu1"] = bleu(pred, gt, n=1)
        rec["bleu2"] = bleu(pred, gt, n=2)
        rec["sbert"] = sbert_cosine(pred, gt)
        rec["llm"] = None
        if judge is not None:
            res = judge.qualitative(question=sample.question, answer=gt, response=pred)
            rec["llm"] = bool(res.score) if res.ok else None
        kind = sample.task
        if kind == "bbox":  # the truth is in pixels; the answer on the grid in force (coords.py)

            size = image_size(sample.images[0]) if sample.images and self.coord_scale not in ("auto", "pixel") else None
            pb = parse_2d(parse_box2d, pred, self.coord_scale, size, strict=self.coord_strict)
            gb = parse_box2d(gt)
            if isinstance(gb, ParseFailure):
                rec.update(iou=None, error="ground truth has no box")
            else:
                rec["iou"] = 0.0 if isinstance(pb, ParseFailure) else float(box_iou(pb, gb))
                rec["correct"] = rec["iou"] >= 0.75
        elif kind == "yesno":
            if judge is not None:
                res = judge.yes_no(pred=pred, gt=gt)  # SVQA-R1 Appendix B.2 prompt
                rec["correct"] = bool(res.score) if res.ok else None
                rec["yesno_method"] = "judge"
            else:
                p, g = parse_yes_no(pred), parse_yes_no(gt)
                rec["correct"] = None if isinstance(g, ParseFailure) else (not isinstance(p, ParseFailure) and p == g)
                rec["yesno_method"] = "aliases"
        elif kind == "distance":
            p, g = parse_length(pred), parse_length(gt)
            if isinstance(g, ParseFailure):
                rec.update(correct=None, error="ground truth has no length")
            else:
                rec["gt_value"] = float(g)
                rec["pred_value"] = None if isinstance(p, ParseFailure) else float(p)
                rec["parsable"] = rec["pred_value"] is not None
                rec["correct"] = rec["parsable"] and numeric_correct(rec["pred_value"], rec["gt_value"], "distance")
        return rec

    def aggregate(self, per_sample):
        boxes = [r for r in per_sample if r.get("task") == "bbox" and r.get("iou") is not None]
        judged = [r for r in per_sample if r.get("llm") is not None]
        metrics = {
            "llm_accuracy": rate(judged, "llm"),
            "n_judged": len(judged),
            "bleu1": mean(r.get("bleu1") for r in per_sample),
            "bleu2": mean(r.get("bleu2") for r in per_sample),
            "sbert": mean(r.get("sbert") for r in per_sample),
            "bbox_miou": mean(r["iou"] for r in boxes),
            "bbox_acc_075": rate(boxes),
            "yesno_accuracy": rate([r for r in per_sample if r.get("task") == "yesno"]),
            "distance_accuracy": rate([r for r in per_sample if r.get("task") == "distance"]),
            "type_counts": {t: sum(r.get("task") == t for r in per_sample) for t in sorted({r.get("task") for r in per_sample})},
        }
        # sBERT is the one score every sample has with or without a judge: it is the headline.
        return summary(self.name, per_sample, metrics["sbert"], "sbert", metrics)


@register_benchmark("vqasynth_spacellava")
class VQASynthSpaceLLaVA(_OpenEnded):
    description = "VQASynth SpaceLLaVA test set, multi-turn chats split into single-turn open-ended QA"
    hf_id = "remyxai/vqasynth_spacellava"
    hf_split = "test"


@register_benchmark("openspaces")
class OpenSpaces(_OpenEnded):
    description = "OpenSpaces (VQASynth on the Cauldron's localized narratives): out-of-distribution open-ended QA"
    hf_id = "remyxai/OpenSpaces"
    hf_split = "test"
