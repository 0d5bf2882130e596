"""Compare view: two ``spatialforge eval`` output folders (``results.json`` + ``per_sample/*.jsonl``,
see ``eval/evaluate.py``) side by side: each benchmark's headline and per-task / per-level
breakdowns (``eval.report.group_tables``), and the samples the two runs answered differently."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..eval.report import group_tables

METRIC_COLUMNS = ["benchmark", "group", "name", "n", "A", "B", "B - A"]
SAMPLE_COLUMNS = ["benchmark", "id", "task", "question", "answer", "A prediction", "A correct",
                  "B prediction", "B correct"]


@dataclass
class EvalRun:
    folder: Path
    meta: dict[str, Any]
    aggregates: dict[str, dict[str, Any]]  # benchmark -> aggregate

    def samples(self, bench: str) -> dict[str, dict[str, Any]]:
        path = self.folder / "per_sample" / f"{bench}.jsonl"
        if not path.is_file():
            return {}
        out = {}
        with path.open(encoding="utf-8") as f:
            for k, line in enumerate(f, 1):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    raise DataError(f"{path} line {k}: not JSON") from None
                out[str(row.get("id"))] = row
        return out


def load_run(folder: str | Path) -> EvalRun:
    text = str(folder).strip()
    if not text:
        raise DataError("no eval folder given")
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    path = folder / "results.json"
    if not path.is_file():
        raise DataError(f"{folder}: no results.json (not a `spatialforge eval` output folder)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        aggregates = {name: b["aggregate"] for name, b in data["benchmarks"].items()}
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
        raise DataError(f"{path}: not an eval results file (expected benchmarks -> aggregate)") from None
    return EvalRun(folder, data.get("meta") or {}, aggregates)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _diff(a: Any, b: Any) -> float | None:
    a, b = _num(a), _num(b)
    return None if a is None or b is None else round(b - a, 6)


def metric_rows(a: EvalRun, b: EvalRun) -> list[list[Any]]:
    """Per benchmark in either run: the headline, then every breakdown's score (accuracy, MRA or
    chance-adjusted accuracy: ``eval.report.group_tables``), A beside B."""
    rows = []
    for bench in sorted(set(a.aggregates) | set(b.aggregates)):
        ga, gb = a.aggregates.get(bench, {}), b.aggregates.get(bench, {})
        metric = ga.get("metric") or gb.get("metric")
        rows.append([bench, "overall", metric, ga.get("n", gb.get("n")), ga.get("overall"), gb.get("overall"),
                     _diff(ga.get("overall"), gb.get("overall"))])
        ta, tb = group_tables(ga), group_tables(gb)
        for title in list(ta) + [t for t in tb if t not in ta]:
            xa, xb = ta.get(title, {}), tb.get(title, {})
            for group in list(xa) + [g for g in xb if g not in xa]:
                va, vb = xa.get(group, {}).get("score"), xb.get(group, {}).get("score")
                n = xa.get(group, {}).get("n", xb.get(group, {}).get("n"))
                rows.append([bench, title, group, n, va, vb, _diff(va, vb)])
    return rows


def differing_samples(a: EvalRun, b: EvalRun, limit: int = 500) -> tuple[list[list[Any]], int]:
    """Samples of a benchmark both runs scored whose correctness or prediction differs
    (correctness changes first), at most ``limit``; and how many differ in all."""
    flips, changed = [], []
    for bench in sorted(set(a.aggregates) & set(b.aggregates)):
        sa, sb = a.samples(bench), b.samples(bench)
        for sid in sa.keys() & sb.keys():
            ra, rb = sa[sid], sb[sid]
            if bool(ra.get("correct")) == bool(rb.get("correct")) and ra.get("prediction") == rb.get("prediction"):
                continue
            row = [bench, sid, ra.get("task", ""), ra.get("question", ""), ra.get("gt", ""), ra.get("prediction"),
                   ra.get("correct"), rb.get("prediction"), rb.get("correct")]
            (flips if bool(ra.get("correct")) != bool(rb.get("correct")) else changed).append(row)
    rows = sorted(flips, key=lambda r: (r[0], r[1])) + sorted(changed, key=lambda r: (r[0], r[1]))
    return rows[:limit], len(rows)


def compare(folder_a: str | Path, folder_b: str | Path) -> tuple[list[list[Any]], list[list[Any]], str]:
    a, b = load_run(folder_a), load_run(folder_b)
    metrics = metric_rows(a, b)
    samples, n = differing_samples(a, b)
    who = lambda r: r.meta.get("model") or r.folder.name  # noqa: E731
    status = (f"A: {who(a)} ({a.folder}); B: {who(b)} ({b.folder}); {n} samples differ"
              + (f" (first {len(samples)} shown)" if n > len(samples) else ""))
    return metrics, samples, status
