"""Our controlled benchmark: datasets written by ``spatialforge generate`` (exact answers).

Source: a dataset folder (``data/shard-*.parquet``, see ``spatialforge.datasets.parquet``), a
folder of such shards or one shard. Each row is a ``QARecord`` plus the view's PNG bytes in
``image`` (mirrored views hold the flipped pixels already). Answers are scored from the typed
``answer_struct`` with the metric family named by ``eval_type``
(``spatialforge.eval.scoring.score_sample``) -- our own text is never re-parsed.

Reported overall, per task, per level, per eval type and format (``scoring.aggregate``); where
rows carry ``pair_id`` and both views (``metrics.mirror_summary``):

* ``mirror_consistency``: the share of pairs whose mirrored answer equals the original answer
  mirrored (left <-> right, x -> -x, lengths unchanged), right or wrong
  (``metrics.mirror_consistency``, the one definition);
* ``mirror_both_correct``: the share of pairs answered correctly in both views.

Agreement of correctness alone (both right or both wrong) is not reported: a model that is
wrong on every view scores 100 % on it, and answer agreement already measures consistency.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any
from pathlib import Path

from .base import Benchmark, BenchSample, image_ref, read_local_rows, register_benchmark
from .common import LETTERS, clean, summary
from ...datasets.parquet import shard_paths
from ..scoring import aggregate, SampleScore, score_sample

TAGS = ("id", "task", "level", "format", "pair_id", "view", "image_width")


@register_benchmark("synthetic")
class SyntheticBench(Benchmark):
    description = "Our synthetic benchmark (spatialforge generate): exact answers, per task and level, mirror consistency"
    hf_id = None

    def read_rows(self, source):
        path = Path(source)
        shards = shard_paths(path) if path.is_dir() else []
        if shards:  # a dataset folder: only its data shards (exports/ may hold other parquet files)
            return (row for p in shards for row in read_local_rows(p)), path
        return super().read_rows(source)

    def rows_to_samples(self, row, index, root):
        struct = row["answer_struct"]
        struct = json.loads(struct) if isinstance(struct, str) else dict(struct)
        meta = row.get("meta") or {}
        meta = json.loads(meta) if isinstance(meta, str) else dict(meta)
        image = image_ref(row.get("image"), root) or image_ref(row.get("image_path"), root)
        return [
            BenchSample(
                id=str(row["id"]),
                question=str(row["question"]),
                answer=struct,
                images=[image] if image is not None else [],
                task=str(row["task"]),
                level=int(row["level"]) if row.get("level") is not None else None,
                choices=[str(c) for c in (row.get("choices") or [])],
                meta={
                    "eval_type": str(row["eval_type"]),
                    "format": str(row.get("format", "")),
                    "pair_id": str(row.get("pair_id") or ""),
                    "view": str(row.get("view") or "original"),
                    "answer_text": str(row.get("answer", "")),
                    "width": row.get("width"),
                    "height": row.get("height"),
                    "record_meta": meta,
                },
            )
        ]

    def question_text(self, sample):
        q = sample.question
        # MCQ options live in ``choices``; show them unless the question text already lists them.
        if sample.meta["format"] == "mcq" and sample.choices and not all(f"{LETTERS[i]}." in q or f"({LETTERS[i]})" in q for i in range(len(sample.choices))):
            q += "\n" + "\n".join(f"{LETTERS[i]}. {c}" for i, c in enumerate(sample.choices))
        return q

    def score(self, sample, prediction, judge=None):
        rec = self.base_record(sample, prediction)
        rec["gt"] = sample.meta["answer_text"]
        rec.update(eval_type=sample.meta["eval_type"], format=sample.meta["format"],
                   pair_id=sample.meta["pair_id"], view=sample.meta["view"], image_width=sample.meta["width"])
        w, h = sample.meta.get("width"), sample.meta.get("height")
        image_size = (float(w), float(h)) if w and h else None
        res = score_sample(prediction, sample.answer, sample.meta["eval_type"], question=sample.question,
                           choices=sample.choices or None, reference_text=sample.meta["answer_text"],
                           sbert=sample.meta["eval_type"] == "open", image_size=image_size,
                           coord_scale=self.coord_scale, coord_strict=self.coord_strict)
        for f in fields(res):
            if f.name != "tags":
                rec[f.name] = getattr(res, f.name)
        if res.eval_type == "numeric" and res.parsable:
            rec["pred_value"] = res.parsed
        return rec

    def aggregate(self, per_sample):
        names = [f.name for f in fields(SampleScore) if f.name != "tags"]
        scores = [
            SampleScore(**{k: r.get(k) for k in names}, tags={k: r.get(k) for k in TAGS})
            for r in per_sample
        ]
        agg = clean(aggregate(scores, by=("eval_type", "task", "level", "format")))
        overall = agg["overall"]
        metrics: dict[str, Any] = {k: v for k, v in overall.items() if not isinstance(v, dict)}
        for family in ("numeric", "box2d", "box3d", "vector3d", "open"):
            for k, v in (overall.get(family) or {}).items():
                metrics[f"{family}_{k}"] = v
        metrics.setdefault("mirror_pairs", 0)
        metrics.setdefault("mirror_consistency", None)
        metrics.setdefault("mirror_both_correct", None)
        metrics["by_eval_type"] = agg["eval_type"]
        metrics["by_format"] = agg["format"]
        out = summary(self.name, per_sample, overall.get("accuracy"), "accuracy", metrics)
        out["by_task"] = agg["task"]
        out["by_level"] = {f"L{k}": v for k, v in agg["level"].items() if k != "None"}
        return out
