"""``spatialforge mirror``: a dataset's originals plus their mirrored partners, in our Parquet schema.

Each item of the input (:mod:`.formats`) becomes an ``original`` row and, unless it is
rejected, a ``mirrored`` row with the flipped image (:func:`~spatialforge.mirror.arrays.flip_horizontal`)
and the rewritten question / answer / options; both share ``pair_id``.  ``meta`` (JSON) holds
``{"mirror": {"status", "produced_by", "rules", "reason", "source"}}`` and, for region-grounded
records (``--format osd``), ``"regions"``: the boxes / masks of that view (mirrored in place on
the mirrored row, :mod:`.regions`).  Rejected items keep their
original row (status ``rejected``) and are listed with the reason in ``manifest.json``
(``skipped``), like unreadable items; ``stats`` counts the statuses and LLM failures.
``answer_struct`` is ``{"kind": "choice", "value": letter}`` for an MCQ answered by a letter,
else ``{"kind": "open", "value": answer}`` (scored by the judge / sBERT, eval type ``open``).

Modes: ``rules`` (:mod:`.rules` only), ``llm`` (every item through :mod:`.llm`, checked against
the rules), ``rules+llm`` (the rules first; items they reject for a reason the LLM may resolve go
to the LLM).  Text in the image and records about mirrors stay rejected in every mode: no
rewrite makes flipped glyphs readable.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from ..datasets.parquet import encode_png, shard_name, write_shard
from ..errors import ConfigError, DataError
from ..manifest import RunManifest
from ..tasks.record import to_json
from .arrays import flip_horizontal
from .formats import BadItem, Item, load_rgb, read_items
from .regions import mirror_regions
from .rules import BOX_FORMATS, REJECTIONS, Mirrored, mirror_record
from .llm import LLMFailure

MODES = ("rules", "llm", "rules+llm")
#: rejection reasons no rewrite can fix (the flipped image itself is wrong for the question)
HARD_REJECTIONS = frozenset(REJECTIONS[i][1] for i in (0, 4))
SHARD_ROWS = 1000


def _row(item: Item, view: str, png: bytes, size: tuple[int, int], path: str, q: str, a: str,
         choices: tuple[str, ...], mirror_meta: dict[str, Any], regions: dict[str, Any] | None = None) -> dict[str, Any]:
    w, h = size
    letter = a.strip().rstrip(".").upper()
    is_choice = bool(choices) and len(letter) == 1 and 0 <= ord(letter) - 65 < len(choices)
    struct = {"kind": "choice", "value": letter} if is_choice else {"kind": "open", "value": a}
    return {
        "id": item.id if view == "original" else f"{item.id}-m", "pair_id": item.id, "view": view,
        "flipped": view == "mirrored", "scene_id": str(item.source.get("source_id", item.id)), "scene_path": None,
        "image": {"bytes": png, "path": None}, "image_path": path, "question": q, "answer": a,
        "answer_struct": to_json(struct), "task": "", "level": None, "format": "mcq" if choices else "free",
        "eval_type": "choice" if is_choice else "open", "object_ids": [], "choices": list(choices), "reasoning": "",
        "meta": json.dumps({"mirror": mirror_meta, **({"regions": regions} if regions else {})}, sort_keys=True), "width": w, "height": h,
        "fx": None, "fy": None, "cx": None, "cy": None, "R_world_cam": None, "depth_path": None,
        "point_map_path": None,
    }


def mirror_one(item: Item, mode: str, *, llm=None, coords2d: str | None = None, points3d: str = "stated",
               width: float | None = None, stats: Counter | None = None, box_format: str = "xyxy") -> Mirrored:
    """The mirrored record of one item under ``mode`` (LLM failures reject it and count in ``stats``)."""
    ruled = mirror_record(item.question, item.answer, item.choices, coords2d=coords2d, width=width,
                          points3d=points3d, box_format=box_format)
    use_llm = mode == "llm" or (mode == "rules+llm" and ruled.status == "rejected")
    if not use_llm or ruled.reason in HARD_REJECTIONS:
        return ruled
    try:
        return llm.rewrite(item.question, item.answer, item.choices, ruled)
    except LLMFailure as e:
        if stats is not None:
            stats["llm_failures"] += 1
        return Mirrored("rejected", reason=str(e))


def run_mirror(input: str | Path, out: str | Path, *, fmt: str = "auto", mode: str = "rules", llm=None,
               coords2d: str | None = None, points3d: str = "stated", box_format: str = "xyxy",
               image_root: str | Path | None = None) -> RunManifest:
    """Mirror the dataset at ``input`` into ``out/data/shard-*.parquet``; returns the manifest.
    Relative image paths are resolved against ``image_root`` (default: the input's folder)."""
    if mode not in MODES:
        raise ConfigError(f"--mode must be one of {', '.join(MODES)}, got {mode!r}")
    if mode != "rules" and llm is None:
        raise ConfigError(f"--mode {mode} needs an LLM (--llm-model, and --llm-base-url or $SPATIALFORGE_BASE_URL)")
    out = Path(out)
    root = Path(image_root) if image_root is not None else Path(input) if Path(input).is_dir() else Path(input).parent
    if not root.is_dir():
        raise ConfigError(f"--image-root {root}: not a folder")
    if box_format not in BOX_FORMATS:
        raise ConfigError(f"--box-format must be one of {', '.join(BOX_FORMATS)}, got {box_format!r}")
    params = {"input": str(input), "format": fmt, "mode": mode, "coords2d": coords2d, "points3d": points3d,
              "box_format": box_format, "image_root": str(root),
              "llm_model": getattr(llm, "model", None), "verify": getattr(llm, "verify", False)}
    manifest = RunManifest.open(out / "manifest.json", "mirror", params, resume=False)
    stats: Counter = Counter()
    rows: list[dict[str, Any]] = []
    shards = 0
    for item in read_items(input, fmt):
        if isinstance(item, BadItem):
            manifest.skip(item.id, f"unreadable: {item.reason}", flush=False)
            stats["unreadable"] += 1
            continue
        try:
            rgb, path = load_rgb(item.image, root)
        except DataError as e:
            manifest.skip(item.id, f"unreadable: {e}", flush=False)
            stats["unreadable"] += 1
            continue
        size = (rgb.shape[1], rgb.shape[0])
        m = mirror_one(item, mode, llm=llm, coords2d=coords2d, points3d=points3d, width=size[0], stats=stats,
                       box_format=box_format)
        regions = None
        if item.regions and m.status != "rejected":
            try:
                regions = mirror_regions(item.regions, size[0], size[1])
            except DataError as e:
                m = Mirrored("rejected", reason=f"regions: {e}")
        stats[m.status] += 1
        meta = {"status": m.status, "rules": list(m.rules), "reason": m.reason, "source": item.source}
        rows.append(_row(item, "original", encode_png(rgb), size, path, item.question, item.answer, item.choices,
                         {**meta, "produced_by": "source"}, item.regions))
        if m.status == "rejected":
            manifest.skip(item.id, m.reason, flush=False)
        else:
            produced = "llm" if m.status.startswith("llm") else "rules"
            rows.append(_row(item, "mirrored", encode_png(flip_horizontal(rgb)), size, path, m.question, m.answer,
                             m.choices, {**meta, "produced_by": produced}, regions))
            manifest.mark_done(item.id, flush=False)
        if len(rows) >= SHARD_ROWS:
            write_shard(rows, out / "data" / shard_name(shards))
            shards, rows = shards + 1, []
    if rows or not shards:
        write_shard(rows, out / "data" / shard_name(shards))
    client = getattr(llm, "client", None)
    if client is not None and client.breaker is not None:
        stats["llm_breaker_rejected"] = client.breaker.rejected
    manifest.stats = dict(sorted(stats.items()))
    manifest.close()
    return manifest
