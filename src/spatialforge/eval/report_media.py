"""Pictures of the evaluation report: per-type score plots, sample thumbnails, long-text cells.

Kept apart from ``report.py`` (tables and files) so both stay small. Plots are matplotlib
(Agg) PNGs, returned base64-encoded for embedding; ``report.write_reports`` also saves them
as files under ``plots/``.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from PIL import Image

from .benchmarks.base import BenchmarkError, open_image

THUMB_PX = 96  # longest side of a sample thumbnail
CUT_CHARS = 300  # text longer than this is folded into a <details> element


def score_tables(agg: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every per-group table of an aggregate: ``{title: {group: {"n", "score", "metric"}}}``.

    Two row shapes exist: ``{"n", "accuracy"}`` (``common.group_rates``) and
    ``{"n", "metric", "score"}`` (per-type tables of MRA / chance-adjusted accuracy)."""
    def norm(table):
        return {g: {"n": r.get("n"), "metric": r.get("metric", "accuracy"),
                    "score": r.get("score", r.get("accuracy"))} for g, r in table.items()}

    def is_table(v):
        return isinstance(v, dict) and v and all(isinstance(x, dict) and ("accuracy" in x or "score" in x)
                                                 for x in v.values())

    tables = {t: norm(v) for t, v in (("per task", agg.get("by_task")), ("per level", agg.get("by_level"))) if is_table(v)}
    for k, v in agg.get("metrics", {}).items():
        if is_table(v):
            tables[k.replace("by_", "per ").replace("_", " ")] = norm(v)
    return tables


def _plot_table(agg: dict[str, Any]) -> tuple[str, dict[str, dict[str, Any]]] | None:
    """The table a benchmark's plot shows: its first per-type score table, else per task."""
    tables = score_tables(agg)
    for title, table in tables.items():
        if title != "per task" and title != "per level" and any(r["metric"] != "accuracy" for r in table.values()):
            return title, table
    for title in ("per task", *tables):
        if title in tables and len(tables[title]) > 1:
            return title, tables[title]
    return None


def type_plot(agg: dict[str, Any], title: str) -> str | None:
    """Base64 PNG: a horizontal bar per group with its score (x100), or None without groups."""
    picked = _plot_table(agg)
    if picked is None:
        return None
    which, table = picked
    rows = [(g, r) for g, r in table.items() if isinstance(r.get("score"), (int, float))]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .report import _png  # deferred: report imports report_media

    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(rows) + 1.2))
    values = [100 * float(r["score"]) for _, r in rows]
    ax.barh(range(len(rows)), values, color=["#4a7ab0" if v >= 0 else "#c44" for v in values])
    ax.set_yticks(range(len(rows)), [f"{g} ({r['metric']}, n={r['n']})" for g, r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_xlabel("score x100")
    ax.set_title(f"{title}: {which}")
    return _png(fig)


def fold(text: Any, n: int = CUT_CHARS) -> str:
    """Escaped text; past ``n`` characters, the start with the full text one click away."""
    s = "" if text is None else str(text)
    if len(s) <= n:
        return f"<pre>{html.escape(s)}</pre>"
    return (f"<details><summary><pre>{html.escape(s[:n])} …</pre></summary>"
            f"<pre>{html.escape(s)}</pre></details>")


def _thumb(ref: Any) -> str:
    im = open_image(ref)
    im.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=80)
    return f"<img class='thumb' alt='image' src='data:image/jpeg;base64,{base64.b64encode(buf.getvalue()).decode()}'>"


def media_cell(sample: Any) -> str:
    """Thumbnails of a sample's images (a video: its name and frame count, when the sample sets one)."""
    parts = []
    video = getattr(sample, "video", None)
    if video is not None:
        frames = getattr(sample, "num_frames", None)
        name = str(video).rsplit("/", 1)[-1] if isinstance(video, (str, Path)) else f"{len(video)} frame files"
        parts.append(f"<span class='video'>video {html.escape(name)}{f' ({frames} frames)' if frames else ''}</span>")
    for ref in getattr(sample, "images", None) or []:
        try:
            parts.append(_thumb(ref))
        except BenchmarkError as e:  # a missing image file must not stop the report
            parts.append(f"<span class='video'>{html.escape(str(e))}</span>")
    return "".join(parts)


def media_by_id(samples: list[Any] | None, ids: list[str]) -> dict[str, str]:
    """``{id: media_cell}`` for the shown samples (only those are decoded)."""
    if not samples:
        return {}
    wanted = set(ids)
    return {s.id: media_cell(s) for s in samples if s.id in wanted}
