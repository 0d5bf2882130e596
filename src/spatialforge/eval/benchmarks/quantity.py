"""Numeric answers of the video/multi-view suites (VSI-Bench, SPAR-Bench), scored by MRA.

The truth is a bare number in a unit the question type fixes (VSI-Bench: distances in
metres, object sizes in centimetres, room sizes in square metres, counts). Our reading of a
prediction: the final answer (``<answer>`` span) parsed with the project's parsers in that
unit -- a stated unit is converted ("150 cm" for a question in metres is 1.5), a bare
number is taken in the question's unit, and "three" is 3. An answer with no readable
number scores 0. The per-type mean of the per-sample MRA, then the mean over types, is the
headline (``type_scores``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Callable

from ..suite_accuracy import mean_relative_accuracy
from ..parse import ParseFailure, parse_count, parse_length, unit_factor
from .common import final_answer, mean

UNITS = ("count", "m", "cm", "m2")
# "12 square meters", "12 sq ft", "12 m²", "12 m^2": the number and its (linear) unit.
_AREA = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:(?:square|sq\.?)\s*([a-z]+)|([a-z]+)\s*(?:²|\^2|2\b))?", re.I)


def parse_quantity(text: str | None, unit: str) -> float | ParseFailure:
    """The number an answer states, in ``unit`` (one of :data:`UNITS`)."""
    if unit == "count":
        value = parse_count(text)
        return value if isinstance(value, ParseFailure) else float(value)
    if unit == "m2":
        return _parse_area(text)
    if unit not in ("m", "cm"):
        raise ValueError(f"unit must be one of {UNITS}, got {unit!r}")
    metres = parse_length(text or "", default_unit=unit)
    return metres if isinstance(metres, ParseFailure) else metres / unit_factor(unit)


def _parse_area(text: str | None) -> float | ParseFailure:
    """Square metres: the first number, with a squared unit converted ("40 sq ft"); a bare number is m²."""
    m = _AREA.search(text or "")
    if m is None:
        return ParseFailure("no number found")
    value, unit = float(m.group(1)), m.group(2) or m.group(3)
    if unit is None:
        return value
    factor = unit_factor(unit.lower())
    return value * factor * factor if factor is not None else value


def score_numeric(prediction: str | None, gt: Any, unit: str) -> dict[str, Any]:
    """Per-sample fields of a numeric question: ``pred_value``, ``gt_value``, ``score`` (MRA)."""
    parsed = parse_quantity(final_answer(prediction), unit)
    ok = not isinstance(parsed, ParseFailure)
    value = parsed if ok else None
    return {"parsed": value, "parsable": ok, "pred_value": value, "gt_value": float(gt),
            "score": mean_relative_accuracy(value, gt), "correct": None,
            **({} if ok else {"error": parsed.reason})}


def type_scores(rows: list[dict[str, Any]], key: str = "score",
                group: Callable[[dict[str, Any]], str] = lambda r: r["task"]) -> dict[str, float | None]:
    """``{type: mean of key}`` in sorted type order."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        groups[group(r)].append(r.get(key))
    return {t: mean(v) for t, v in sorted(groups.items())}


def type_table(rows: list[dict[str, Any]], scores: dict[str, float | None], metric_of: Callable[[str], str],
               group: Callable[[dict[str, Any]], str] = lambda r: r["task"]) -> dict[str, dict[str, Any]]:
    """The report's per-type table: ``{type: {"n", "metric", "score"}}``."""
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[group(r)] += 1
    return {t: {"n": counts[t], "metric": metric_of(t), "score": s} for t, s in scores.items()}
