"""Prediction files in the formats the official evaluation tools write, keyed to our sample ids.

``spatialforge score`` reads, besides our JSONL of ``{"id", "prediction"}``:

* SpatialRGPT ``llava/eval/eval_spatial.py`` answers: JSONL of ``{"question_id", "pred", ...}``;
* VLMEvalKit inference files (3DSRBench and other MCQ sets) saved as TSV/CSV: columns
  ``index`` and ``prediction`` (save its ``.xlsx`` as TSV);
* lmms-eval ``--log_samples`` JSONL: ``{"doc_id", "filtered_resps" | "resps"}`` -- ``doc_id``
  is the position in the benchmark's split, matched to the sample at that position;
* RoboSpatial-Eval pre-generated results: a JSON list of ``{"question", "img", "answer"}``,
  matched on (question, image path) as its ``eval_pregenerated_results`` does.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any
from .benchmarks import BenchmarkError

ID_KEYS = ("id", "question_id", "index", "idx")


def position_key(position: int) -> str:
    """The key of an lmms-eval ``doc_id``: the sample at that position of the loaded split."""
    return f"#doc{position}"


def question_image_key(question: str, image: Any) -> str:
    """The key of a RoboSpatial-Eval result: its question and image path."""
    return f"#q{question}\x00{image}"


def record_key(rec: dict[str, Any]) -> tuple[str | None, bool]:
    """``(key, is_question_image)`` of one prediction record; key None when it has no id."""
    for k in ID_KEYS:
        if k in rec and rec[k] is not None:
            return str(rec[k]), False
    if "doc_id" in rec:
        return position_key(int(rec["doc_id"])), False
    if "question" in rec and "img" in rec:
        return question_image_key(str(rec["question"]), rec["img"]), True
    return None, False


def first_text(value: Any) -> Any:
    """lmms-eval keeps responses in (nested) lists: ``[["B"]]`` / ``["B"]`` -> "B"."""
    while isinstance(value, list) and value:
        value = value[0]
    return None if isinstance(value, list) else value


def read_records(path: Path) -> list[tuple[int, Any]]:
    """``(line or row number, record)`` of a JSONL, JSON-list or TSV/CSV prediction file."""
    suffix = path.suffix.lower()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise BenchmarkError(f"predictions file {path}: not UTF-8 text (byte {e.object[e.start]:#04x} at offset {e.start})") from None
    if suffix in (".tsv", ".csv"):
        csv.field_size_limit(sys.maxsize)
        rows = csv.DictReader(text.splitlines(), delimiter="\t" if suffix == ".tsv" else ",")
        return [(n, dict(r)) for n, r in enumerate(rows, 2)]
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise BenchmarkError(f"{path}: not valid JSON ({e.msg})") from None
        if isinstance(data, dict):
            data = data.get("results", data.get("data"))
        if not isinstance(data, list):
            raise BenchmarkError(f"{path}: expected a JSON list of prediction records")
        return list(enumerate(data, 1))
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                out.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                raise BenchmarkError(f"{path}:{n}: not valid JSON ({e.msg})") from None
    return out
