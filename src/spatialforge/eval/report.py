"""Evaluation reports: ``results.json``, ``results.md`` and a self-contained ``report.html``.

Input is ``{benchmark: {"aggregate": dict, "per_sample": list[dict]}}`` as produced by
``spatialforge.eval.evaluate``. The HTML page embeds its plots (matplotlib, Agg backend) as
base64 PNGs: for numeric answers a histogram of ``log10(pred / gt)`` and a log-log scatter of
prediction against ground truth. Chain-of-thought statistics count the SVQA-R1 Appendix G
keywords in the raw model outputs.

Display convention: the unit belongs to the metric (``UNITS``): rates, BLEU, sBERT and
abs-rel are fractions shown x100, like the papers; sMAPE is already a percentage; angles are
degrees and clock errors hours, shown as they are with their unit; integers are counts.

Every benchmark shows both headlines, ours and the official scorer's (``--rules`` only says
which one is the headline), and their difference in points.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .tasktypes import cot_keyword_stats  # SVQA-R1 Appendix G keyword statistics (one definition)
from .report_media import fold, media_by_id, score_tables, type_plot

SAMPLES_SHOWN = 20
#: Metric-name fragments whose values are not fractions: shown as they are, with this unit.
UNITS = (("smape", " %"), ("angle_deg", "°"), ("hours_off", " h"), ("clock_error", " h"))
NOTE = "Rates x100; sMAPE in %, angles in degrees, clock errors in hours; integers are counts."


def fmt(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        unit = next((u for k, u in UNITS if k in key), None)
        return f"{value:.2f}{unit}" if unit is not None else f"{100 * value:.2f}"
    return str(value)


def headline_rows(results: dict[str, dict[str, Any]]) -> list[list[str]]:
    """Per benchmark: metric, headline, rules, ours, official, official - ours (points), n."""
    rows = []
    for name, res in results.items():
        a = res["aggregate"]
        ours, off = a.get("ours") or {"metric": a.get("metric"), "overall": a.get("overall")}, a.get("official") or {}
        diff = a.get("official_minus_ours")
        rows.append([name, str(a.get("metric")), fmt(a.get("metric", ""), a.get("overall")),
                     str(a.get("rules_applied", "ours")), fmt(str(ours.get("metric")), ours.get("overall")),
                     fmt(str(off.get("metric")), off.get("overall")) if off else "no official scorer",
                     "–" if diff is None else f"{100 * diff:+.2f}", str(a.get("n"))])
    return rows


HEADLINE_COLUMNS = ["benchmark", "metric", "headline", "rules", "ours", "official", "official − ours", "n"]


def official_metrics(agg: dict[str, Any]) -> dict[str, Any]:
    off = agg.get("official") or {}
    return {k: v for k, v in (off.get("metrics") or {}).items() if v is None or isinstance(v, (int, float, bool))}


def scalar_metrics(agg: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in agg.get("metrics", {}).items() if v is None or isinstance(v, (int, float, bool))}


def group_tables(agg: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every per-group breakdown of an aggregate, by title: ``{group: {"n", "metric", "score"}}``."""
    return score_tables(agg)


def _score(row: dict[str, Any]) -> str:
    return fmt(str(row.get("metric")), row.get("score"))


def markdown_report(results: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = ["# Evaluation results", ""]
    lines += [f"- **{k}**: {v}" for k, v in meta.items() if v not in (None, "")]
    lines += ["", NOTE, "", "| " + " | ".join(HEADLINE_COLUMNS) + " |", "|" + "---|" * len(HEADLINE_COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in headline_rows(results)]
    for name, res in results.items():
        a = res["aggregate"]
        lines += ["", f"## {name}", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {fmt(k, v)} |" for k, v in scalar_metrics(a).items()]
        if official_metrics(a):
            lines += ["", f"### official rules ({a['official'].get('source', '')})", "", "| metric | value |", "|---|---|"]
            lines += [f"| {k} | {fmt(k, v)} |" for k, v in official_metrics(a).items()]
        for title, table in group_tables(a).items():
            lines += ["", f"### {title}", "", "| group | n | metric | score |", "|---|---|---|---|"]
            lines += [f"| {g} | {row.get('n')} | {row.get('metric')} | {_score(row)} |" for g, row in table.items()]
        from .mirror_eval import mirror_markdown  # eval --mirror; deferred: mirror_eval imports this module

        lines += mirror_markdown(a)
        cot = res.get("cot")
        if cot and cot.get("n_responses"):
            lines += ["", f"CoT keywords: {cot['mean_per_response']:.2f} per response, "
                      f"{100 * cot['share_with_any']:.1f} % of responses use at least one."]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- plots


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def numeric_pairs(rows: list[dict[str, Any]]) -> list[tuple[float, float]]:
    """(gt, pred) of rows with two positive numeric values."""
    out = []
    for r in rows:
        g, p = r.get("gt_value"), r.get("pred_value")
        if isinstance(g, (int, float)) and isinstance(p, (int, float)) and not isinstance(g, bool) and g > 0 and p > 0:
            out.append((float(g), float(p)))
    return out


def numeric_plots(rows: list[dict[str, Any]], title: str) -> dict[str, str]:
    """Base64 PNGs: error histogram and predicted-vs-ground-truth log-log scatter (empty if no numbers)."""
    pairs = numeric_pairs(rows)
    if not pairs:
        return {}
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    g = np.array([p[0] for p in pairs])
    p = np.array([p[1] for p in pairs])
    log_ratio = np.log10(p / g)
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.hist(log_ratio, bins=min(30, max(5, len(pairs) // 2)), color="#4a7ab0")
    for x in (-math.log10(2), math.log10(2)):
        ax.axvline(x, color="#c44", ls="--", lw=1)
    ax.set_xlabel("log10(prediction / ground truth)   (dashed: factor 2)")
    ax.set_ylabel("samples")
    ax.set_title(f"{title}: numeric error")
    hist = _png(fig)
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.scatter(g, p, s=12, alpha=0.7, color="#4a7ab0")
    lo, hi = float(min(g.min(), p.min())) / 1.5, float(max(g.max(), p.max())) * 1.5
    ax.plot([lo, hi], [lo, hi], color="#333", lw=1)
    ax.fill_between([lo, hi], [lo / 2, hi / 2], [lo * 2, hi * 2], color="#9c9", alpha=0.25, lw=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("ground truth")
    ax.set_ylabel("prediction")
    ax.set_title(f"{title}: prediction vs truth (green: factor 2)")
    return {"error_histogram": hist, "scatter_loglog": _png(fig)}


# --------------------------------------------------------------------------- html

_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f2f2}.ok{background:#e6f4e6}.bad{background:#fbe9e9}.na{background:#f4f4f4}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;max-width:420px;font-size:12px}img{margin-right:1em}
td{max-width:440px;overflow-wrap:anywhere}summary{cursor:pointer}summary pre{display:inline}
img.thumb{margin:0 4px 4px 0;max-width:96px;max-height:96px}.video{font-size:12px;color:#555}"""


def _table(headers: list[str] | None, rows: list[list[str]], classes: list[str] | None = None) -> str:
    head = "<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>" if headers else ""
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    return f"<table>{head}{''.join(body)}</table>"


def _cut(text: Any, n: int = 400) -> str:
    s = "" if text is None else str(text)
    return html.escape(s if len(s) <= n else s[:n] + " …")


def _verdict(row: dict[str, Any]) -> str:
    if row.get("correct") is None:  # no rule applies, or only a judge could tell
        return html.escape(str(row.get("status", "–")).replace("_", " "))
    return "yes" if row["correct"] else "no"


def html_report(results: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>spatialforge evaluation</title><style>{_CSS}</style></head><body>",
             "<h1>Evaluation report</h1>"]
    parts.append(_table(None, [[html.escape(str(k)), html.escape(str(v))] for k, v in meta.items() if v not in (None, "")]))
    parts.append(f"<p>{html.escape(NOTE)}</p>")
    parts.append(_table(HEADLINE_COLUMNS + ["missing predictions"],
                        [[html.escape(c) for c in row] + [str(r["aggregate"].get("n_missing", 0))]
                         for row, r in zip(headline_rows(results), results.values())]))
    for name, res in results.items():
        agg, rows = res["aggregate"], res.get("per_sample", [])
        parts.append(f"<h2 id='{html.escape(name)}'>{html.escape(name)}</h2>")
        parts.append(_table(["metric", "value"], [[html.escape(k), fmt(k, v)] for k, v in scalar_metrics(agg).items()]))
        if official_metrics(agg):
            parts.append(f"<h3>official rules ({html.escape(str(agg['official'].get('source', '')))})</h3>")
            parts.append(_table(["metric", "value"], [[html.escape(k), fmt(k, v)] for k, v in official_metrics(agg).items()]))
        for title, table in group_tables(agg).items():
            parts.append(f"<h3>{html.escape(title)}</h3>")
            parts.append(_table(["group", "n", "metric", "score"], [[html.escape(g), str(r.get("n")), html.escape(str(r.get("metric"))), _score(r)] for g, r in table.items()]))
        from .mirror_eval import mirror_html  # eval --mirror; deferred: mirror_eval imports this module

        parts.append(mirror_html(agg))
        plots = res.get("plots") or {}
        if plots:
            parts.append("<h3>plots</h3><p>" + "".join(
                f"<img alt='{k}' src='data:image/png;base64,{v}'>" for k, v in plots.items()) + "</p>")
        cot = res.get("cot")
        if cot and cot.get("n_responses"):
            top = ", ".join(f"{html.escape(k)} ({v})" for k, v in list(cot["counts"].items())[:12]) or "none"
            parts.append(f"<h3>chain-of-thought keywords (SVQA-R1 App. G)</h3><p>{cot['mean_per_response']:.2f} per response; "
                         f"{100 * cot['share_with_any']:.1f} % of responses use one. Most used: {top}</p>")
        shown = rows[:SAMPLES_SHOWN]
        if shown:
            media = media_by_id(res.get("samples"), [str(r.get("id")) for r in shown])
            parts.append(f"<h3>sample predictions ({len(shown)} of {len(rows)})</h3>")
            classes = ["na" if r.get("correct") is None else "ok" if r.get("correct") else "bad" for r in shown]
            parts.append(_table(
                ["id", "image(s)", "task", "question", "ground truth", "prediction", "parsed", "correct"],
                [[_cut(r.get("id"), 40), media.get(str(r.get("id")), ""), _cut(r.get("task"), 40), fold(r.get("question")),
                  fold(r.get("gt"), 200), fold(r.get("prediction")),
                  _cut(r.get("parsed", r.get("pred_value")), 80),
                  _verdict(r)] for r in shown],
                classes))
    parts.append("</body></html>")
    return "\n".join(parts)


# --------------------------------------------------------------------------- entry point


def enrich(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Add CoT statistics and plots to each benchmark's result (in place; returned for chaining)."""
    for name, res in results.items():
        rows = res.get("per_sample", [])
        res["cot"] = cot_keyword_stats([r.get("prediction") or "" for r in rows if not r.get("missing")])
        res["plots"] = numeric_plots(rows, name)

        by_type = type_plot(res.get("aggregate") or {}, name)
        if by_type:
            res["plots"] = {"scores_by_type": by_type, **res["plots"]}
    return results


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_reports(results: dict[str, dict[str, Any]], out: str | Path, meta: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``results.json`` (aggregates, CoT stats), ``results.md``, ``report.html`` and each
    plot as ``plots/<benchmark>_<plot>.png`` into ``out``. A result may carry ``samples``
    (the ``BenchSample`` list): the HTML then shows each shown sample's image thumbnails."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(meta or {})
    enrich(results)
    summary = {"meta": meta, "benchmarks": {n: {"aggregate": r["aggregate"], "cot": r["cot"]} for n, r in results.items()}}
    paths = {"json": out / "results.json", "markdown": out / "results.md", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(summary, indent=2, default=_json_default, allow_nan=True) + "\n")
    paths["markdown"].write_text(markdown_report(results, meta))
    paths["html"].write_text(html_report(results, meta), encoding="utf-8")
    for name, res in results.items():
        for plot, b64 in (res.get("plots") or {}).items():
            path = out / "plots" / f"{name}_{plot}.png"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(base64.b64decode(b64))
            paths[f"plot:{name}:{plot}"] = path
    return paths
