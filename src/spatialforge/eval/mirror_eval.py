"""Mirror consistency of a model on any benchmark (``spatialforge eval --mirror``, SVQA-R1 §3.1).

Each sample is mirrored with the rules of :mod:`spatialforge.mirror.rules` (question, the
benchmark's rendered prompt, options and a text ground truth in one call, so one rejection
rejects all of them) and its images are flipped with
:func:`spatialforge.mirror.arrays.flip_horizontal` when the request is built.  The model
answers the mirrored samples through the same runner and cache layout
(``predictions/<model>/<benchmark>-mirrored/<style>.jsonl``); the mirrored half is scored by
the benchmark itself.  Samples the rules reject are left out of the consistency score and
counted with their reasons.

A pair is **consistent** when the two answers agree once the mirrored one is mapped back:

* a parsed choice or label (MCQ letter, ``left``): the same after :func:`mirror_label` on the
  mirrored one (options are rewritten in place, so the same letter is the mirrored option);
* a parsed number (``pred_value``): within the benchmark's numeric tolerance of each other
  (:data:`NUMERIC_TOLERANCE`; distances, sizes and counts do not change under a flip);
* anything else (yes/no, a point in a region): the same verdict under the benchmark's own
  rule, scored against each view's ground truth (the mirrored truth is the original's image,
  so this is the back-mapped answer scored against the original); two wrong answers agree
  only if their texts match after the mirrored one is mapped back by the rules.

Either answer missing or unparsable makes the pair inconsistent.
"""

from __future__ import annotations

import copy
import json
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import html

import numpy as np
from PIL import Image
from rich.table import Table

from ..mirror.arrays import flip_horizontal
from ..mirror.rules import mirror_record
from ..mirror.words import mirror_label
from .benchmarks.base import image_size
from .benchmarks.common import final_answer, mean, rate
from .evaluate import _write_jsonl, generate_predictions, score_all
from .metrics import success_hits, within_hits
from .predictions import PredictionCache
from .report import _table, fmt

MIRROR_PROMPT = "mirror_prompt"  # meta key: the mirrored question_text of a mirrored sample
SUFFIX = "-m"  # a mirrored sample's id is the original id plus this suffix
#: 2D coordinates in each benchmark's text (``mirror.rules`` ``coords2d``); absent: from its coord_scale
COORDS2D = {"robospatial": "unit"}
_SCALE_COORDS2D = {"unit": "unit", "thousand": "thousand", "pixel": "pixel"}
#: numeric answers: ("factor", f) = max(a/b, b/a) < f; ("within", t) = |a/b - 1| <= t
NUMERIC_TOLERANCE: dict[str, tuple[str, float]] = {"spatialrgpt": ("within", 0.25)}
DEFAULT_NUMERIC_TOLERANCE = ("factor", 2.0)  # Q-Spatial's success rule (delta 2)


def _coords2d(bench: Any) -> str | None:
    return COORDS2D.get(bench.name) or _SCALE_COORDS2D.get(str(getattr(bench, "coord_scale", "")))


def _width(bench: Any, sample: Any) -> float | None:
    if _coords2d(bench) != "pixel" or not sample.images:
        return None
    return float(image_size(sample.images[0])[0])


def mirror_sample(bench: Any, sample: Any) -> tuple[Any | None, str]:
    """``(mirrored sample, "")`` or ``(None, reason)``.  The mirrored sample keeps the original's
    image references (flipped when loaded, see :func:`mirrored_benchmark`) and carries its
    rewritten prompt in ``meta[MIRROR_PROMPT]``."""
    answer = sample.answer
    if isinstance(answer, (dict, list, tuple)):
        return None, ("structured ground truth (the rules rewrite text only; our synthetic benchmark "
                      "reports its exact mirror pairs' consistency itself)")
    text_answer = answer if isinstance(answer, str) else ""
    prompt = bench.question_text(sample)
    texts = (prompt, *sample.choices)
    m = mirror_record(sample.question, text_answer, texts, coords2d=_coords2d(bench), width=_width(bench, sample))
    if m.status == "rejected":
        return None, m.reason
    new_prompt, choices = m.choices[0], list(m.choices[1:])
    out = replace(sample, id=sample.id + SUFFIX, question=m.question, choices=choices,
                  answer=m.answer if isinstance(answer, str) else answer,
                  meta={**copy.deepcopy(sample.meta), MIRROR_PROMPT: new_prompt, "mirror_status": m.status,
                        "mirror_rules": list(m.rules)})
    return out, ""


def mirrored_benchmark(bench: Any) -> Any:
    """A copy of ``bench`` whose prompts are the mirrored samples' rewritten ones and whose
    images are flipped as they are loaded (decoded lazily, like the original's)."""
    base = type(bench)

    def question_text(self, sample):
        return sample.meta[MIRROR_PROMPT]

    def load_images(self, sample):
        return [Image.fromarray(flip_horizontal(np.asarray(im))) for im in base.load_images(self, sample)]

    cls = type(f"Mirrored{base.__name__}", (base,), {"question_text": question_text, "load_images": load_images})
    out = object.__new__(cls)
    out.__dict__.update(bench.__dict__)
    return out


def build_mirrored(bench: Any, samples: Sequence[Any]) -> tuple[list[Any], dict[str, str]]:
    """``(mirrored samples, {original id: rejection reason})``."""
    mirrored, rejected = [], {}
    for s in samples:
        m, reason = mirror_sample(bench, s)
        if m is None:
            rejected[s.id] = reason
        else:
            mirrored.append(m)
    return mirrored, rejected


def _back_text(prediction: str) -> str:
    """A mirrored view's answer text mapped back by the rules (as it is where they reject it)."""
    text = final_answer(prediction)
    m = mirror_record("", text, coords2d="unit")
    back = m.answer if m.status != "rejected" else text
    return " ".join(back.lower().split()).rstrip(".")


def _numbers_agree(a: float, b: float, tol: tuple[str, float]) -> bool:
    kind, value = tol
    return bool((success_hits([b], [a], value) if kind == "factor" else within_hits([b], [a], value))[0])


def pair_consistent(orig: dict[str, Any], mirr: dict[str, Any], tolerance: tuple[str, float] = DEFAULT_NUMERIC_TOLERANCE) -> bool:
    """Do the scored answers of a sample and of its mirrored partner agree (module doc)?"""
    if orig.get("missing") or mirr.get("missing") or orig.get("parsable") is False or mirr.get("parsable") is False:
        return False
    a, b = orig.get("parsed"), mirr.get("parsed")
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().lower() == mirror_label(b.strip())
    pa, pb = orig.get("pred_value"), mirr.get("pred_value")
    if isinstance(pa, (int, float)) and isinstance(pb, (int, float)) and not isinstance(pa, bool):
        return _numbers_agree(float(pa), float(pb), tolerance)
    if orig.get("correct") is None or mirr.get("correct") is None:
        return False  # no verdict (a judge was needed): nothing to compare
    if bool(orig["correct"]) != bool(mirr["correct"]):
        return False
    if orig["correct"]:
        return True

    mine = " ".join(final_answer(orig.get("prediction")).lower().split()).rstrip(".")
    return mine == _back_text(mirr.get("prediction") or "")


#: per-sample fields a benchmark groups by besides ``task`` (CV-Bench 2D/3D, 3DSRBench main types)
TYPE_FIELDS = ("main_type", "type")


def _groups(pairs, flags, rejected_rows, key: str) -> dict[str, dict[str, Any]]:
    """``{group: {n_pairs, n_rejected, accuracy, mirrored_accuracy, consistency}}`` by ``key``."""
    idx: dict[str, list[int]] = defaultdict(list)
    for i, (o, _) in enumerate(pairs):
        idx[str(o.get(key) or "")].append(i)
    rej = Counter(str(r.get(key) or "") for r in rejected_rows)
    return {g: {"n_pairs": len(idx.get(g, [])), "n_rejected": rej.get(g, 0),
                "accuracy": rate([pairs[i][0] for i in idx.get(g, [])]),
                "mirrored_accuracy": rate([pairs[i][1] for i in idx.get(g, [])]),
                "consistency": mean(float(flags[i]) for i in idx.get(g, []))}
            for g in sorted(set(idx) | set(rej))}


def consistency(bench: Any, per_sample: list[dict[str, Any]], mirrored_rows: list[dict[str, Any]],
                rejected: dict[str, str], mirrored_aggregate: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``mirror`` block of an aggregate: consistency overall, per task and per type, next to
    accuracy on both views, and the rejected samples counted by reason."""
    tol = NUMERIC_TOLERANCE.get(bench.name, DEFAULT_NUMERIC_TOLERANCE)
    by_id = {r["id"]: r for r in per_sample}
    pairs = [(by_id[m["id"][: -len(SUFFIX)]], m) for m in mirrored_rows if m["id"][: -len(SUFFIX)] in by_id]
    flags = [pair_consistent(o, m, tol) for o, m in pairs]
    rejected_rows = [by_id[i] for i in rejected if i in by_id]
    type_key = next((k for k in TYPE_FIELDS if any(k in r for r in per_sample)), None)
    return {
        "consistency": mean(map(float, flags)), "n_pairs": len(pairs), "n_consistent": sum(flags),
        "n_rejected": len(rejected), "rejected_reasons": dict(sorted(Counter(rejected.values()).items())),
        "accuracy": rate([o for o, _ in pairs]), "mirrored_accuracy": rate([m for _, m in pairs]),
        "mirrored_overall": None if mirrored_aggregate is None else mirrored_aggregate.get("overall"),
        "numeric_tolerance": list(tol), "by_task": _groups(pairs, flags, rejected_rows, "task"),
        "by_type": _groups(pairs, flags, rejected_rows, type_key) if type_key else {},
    }


def evaluate_mirrored(bench: Any, samples: Sequence[Any], per_sample: list[dict[str, Any]], runner: Any, *,
                      out: str | Path, model_name: str, prompt_style: str, batch_size: int, max_new_tokens: int,
                      progress: bool = False, judge: Any = None) -> dict[str, Any]:
    """Generate and score the mirrored benchmark; returns the ``mirror`` block (per-sample
    scores of the mirrored half in ``per_sample/<benchmark>-mirrored.jsonl``)."""
    mbench = mirrored_benchmark(bench)
    mirrored, rejected = build_mirrored(bench, samples)
    out = Path(out)
    cache = PredictionCache.for_run(out / "predictions", model_name, f"{bench.name}-mirrored", prompt_style)
    outputs, failed = generate_predictions(mbench, mirrored, runner, cache, prompt_style=prompt_style,
                                           batch_size=batch_size, max_new_tokens=max_new_tokens, progress=progress)
    return score_mirrored(bench, mbench, mirrored, rejected, per_sample, outputs, failed, out, judge)


def score_mirrored(bench: Any, mbench: Any, mirrored: Sequence[Any], rejected: dict[str, str],
                   per_sample: list[dict[str, Any]], outputs: dict[str, str], failed: dict[str, str] | None = None,
                   out: str | Path | None = None, judge: Any = None) -> dict[str, Any]:
    """Score the mirrored samples' ``outputs`` and compare them with the original ``per_sample``."""
    rows = score_all(mbench, mirrored, outputs, judge=judge)
    status = {s.id: s.meta["mirror_status"] for s in mirrored}
    for r in rows:
        r["mirror_status"] = status.get(r["id"])
        if r["id"] in (failed or {}):
            r["error"] = f"generation failed: {failed[r['id']]}"
    magg = mbench.aggregate(rows) if rows else None
    block = consistency(bench, per_sample, rows, rejected, magg)
    block["n_generation_failed"] = len(failed or {})
    if out is not None:
        _write_jsonl(Path(out) / "per_sample" / f"{bench.name}-mirrored.jsonl", rows)
        (Path(out) / "per_sample" / f"{bench.name}-mirror-rejected.json").write_text(
            json.dumps(rejected, indent=1, sort_keys=True) + "\n")
    return block


MIRROR_COLUMNS = ["task", "pairs", "rejected", "accuracy", "mirrored accuracy", "consistency"]


def mirror_rows(block: dict[str, Any]) -> list[list[str]]:
    """Table rows (``MIRROR_COLUMNS``) of a ``mirror`` block: every task, every type, then ``all``."""
    groups = [*block.get("by_task", {}).items(), *((f"type {t}", v) for t, v in block.get("by_type", {}).items())]
    rows = [[t, str(v["n_pairs"]), str(v["n_rejected"]), fmt("accuracy", v["accuracy"]),
             fmt("accuracy", v["mirrored_accuracy"]), fmt("consistency", v["consistency"])] for t, v in groups]
    rows.append(["all", str(block["n_pairs"]), str(block["n_rejected"]), fmt("accuracy", block["accuracy"]),
                 fmt("accuracy", block["mirrored_accuracy"]), fmt("consistency", block["consistency"])])
    return rows


def _reasons_line(block: dict[str, Any]) -> str:
    reasons = "; ".join(f"{r} ({n})" for r, n in block.get("rejected_reasons", {}).items())
    return f"{block['n_rejected']} samples rejected by the mirror rules (left out): {reasons or 'none'}"


def mirror_markdown(agg: dict[str, Any]) -> list[str]:
    """The mirror-consistency section of a benchmark in ``results.md`` (empty without ``--mirror``)."""
    block = agg.get("mirror")
    if not block:
        return []
    lines = ["", "### mirror consistency", "", "| " + " | ".join(MIRROR_COLUMNS) + " |",
             "|" + "---|" * len(MIRROR_COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in mirror_rows(block)]
    return lines + ["", _reasons_line(block)]


def mirror_html(agg: dict[str, Any]) -> str:
    """The mirror-consistency section of a benchmark in ``report.html`` ("" without ``--mirror``)."""
    block = agg.get("mirror")
    if not block:
        return ""
    return ("<h3>mirror consistency</h3>" + _table(MIRROR_COLUMNS, [[html.escape(c) for c in r] for r in mirror_rows(block)])
            + f"<p>{html.escape(_reasons_line(block))}</p>")


def print_mirror_table(console: Any, name: str, block: dict[str, Any]) -> None:
    """The mirror-consistency table of one benchmark on the console (``eval --mirror``)."""
    table = Table(title=f"{name}: mirror consistency (rates x100)")
    for c in MIRROR_COLUMNS:
        table.add_column(c, justify="left" if c == "task" else "right")
    for row in mirror_rows(block):
        table.add_row(*row)
    console.print(table)
    console.print(_reasons_line(block))
