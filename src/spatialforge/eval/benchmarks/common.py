"""Small aggregation helpers shared by the benchmark modules (pure functions on per-sample dicts)."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Callable, Iterable
from ..parse import extract_answer, ParseFailure
from .base import BenchmarkError
from .official import RULES

# The instruction Cambrian-1 (CV-Bench, Table 22) and lmms-eval append to multiple-choice prompts.
MCQ_SUFFIX = "Answer with the option's letter from the given choices directly."
LETTERS = "ABCDEFGHIJ"


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the non-None values; None when there are none (never a made-up 0)."""
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    return sum(vals) / len(vals) if vals else None


def clean(value: Any) -> Any:
    """NaN -> None, recursively (JSON reports say "no value", never a fake number)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean(v) for v in value]
    return value


def rate(rows: Iterable[dict[str, Any]], key: str = "correct") -> float | None:
    """Share of rows whose ``key`` is true, over rows where it is not None."""
    return mean(None if r.get(key) is None else float(bool(r[key])) for r in rows)


def group_rates(rows: list[dict[str, Any]], by: str | Callable[[dict[str, Any]], Any], key: str = "correct") -> dict[str, dict[str, Any]]:
    """``{group: {"n": count, "accuracy": rate}}`` in sorted group order."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        g = by(r) if callable(by) else r.get(by)
        if g is None or g == "":
            continue
        groups[str(g)].append(r)
    return {g: {"n": len(rs), "accuracy": rate(rs, key)} for g, rs in sorted(groups.items())}


def summary(name: str, rows: list[dict[str, Any]], overall: float | None, metric: str, metrics: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The aggregate layout every benchmark returns (report.py reads these keys)."""
    out = {
        "benchmark": name,
        "n": len(rows),
        "n_missing": sum(1 for r in rows if r.get("missing")),
        "metric": metric,
        "overall": overall,
        "metrics": metrics,
        "by_task": group_rates(rows, "task"),
        "by_level": group_rates(rows, lambda r: None if r.get("level") is None else f"L{r['level']}"),
    }
    out.update(extra)
    return out


def final_answer(prediction: str | None) -> str:
    """The answer part of a model output (``<answer>`` span etc.); "" when there is none."""
    text = extract_answer(prediction)
    return "" if isinstance(text, ParseFailure) else text



def with_rules(agg: dict[str, Any], rules: str = "ours") -> dict[str, Any]:
    """Set the headline (``metric``/``overall``) by ``rules`` and keep both numbers visible.

    ``agg["ours"]`` and ``agg["official"]`` (from the benchmark's aggregate; None where the
    benchmark has no official scorer: then the headline stays ours and ``rules_applied``
    says so) hold each rule's headline; ``official_minus_ours`` is their difference."""
    if rules not in RULES:
        raise BenchmarkError(f"rules must be one of {RULES}, got {rules!r}")
    ours = {"metric": agg.get("metric"), "overall": agg.get("overall")}
    off = agg.get("official")
    agg["ours"] = ours
    agg.setdefault("official", None)
    agg["rules"] = rules
    agg["rules_applied"] = rules if (rules == "ours" or off is not None) else "ours (no official scorer)"
    o, g = ours["overall"], (off or {}).get("overall")
    agg["official_minus_ours"] = None if o is None or g is None else g - o
    if rules == "official" and off is not None:
        agg["metric"], agg["overall"] = f"official_{off['metric']}", off["overall"]
    return agg
