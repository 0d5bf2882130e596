"""``show``: a self-contained HTML page of sample QA records from a dataset folder.

Each card shows a record's image with the 2D boxes and projected 3D boxes of the
objects it asks about, the question, answer, task / level / format, and its mirrored
partner beside it when the dataset has one.  Images are embedded as base64 PNG.
"""

from __future__ import annotations

import base64
import html
import io
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image, ImageDraw, ImageFont

from ..errors import ConfigError, DataError
from ..pinhole import pixel_centre
from ..scene import Scene
from ..datasets.parquet import read_images, shard_paths, view_scene

PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 190)]
NEAR = 0.05  # metres: 3D box edges are clipped to z >= NEAR before projection
_ROW_COLUMNS = ["id", "pair_id", "view", "flipped", "scene_id", "scene_path", "question", "answer",
                "task", "level", "format", "eval_type", "object_ids", "choices", "meta"]


# --------------------------------------------------------------------------- drawing
def box3d_edges_2d(scene: Scene, obj_box, near: float = NEAR) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """The 12 edges of a world-frame ``Box3D`` as pixel segments, clipped to z >= ``near``."""
    corners_cam = scene.camera.world_to_cam(obj_box.corners())  # (8, 3)
    segs = []
    for i in range(8):
        for bit in (1, 2, 4):
            j = i ^ bit
            if j < i:
                continue
            a, b = corners_cam[i], corners_cam[j]
            if a[2] < near and b[2] < near:
                continue
            if a[2] < near or b[2] < near:
                t = (near - a[2]) / (b[2] - a[2])
                p = a + t * (b - a)
                a, b = (p, b) if a[2] < near else (a, p)
            uv = scene.camera.project(np.stack([a, b]))
            if np.all(np.isfinite(uv)):
                segs.append((tuple(uv[0]), tuple(uv[1])))
    return segs


def draw_record(image, scene: Scene, object_ids: Sequence[int], pixels: Sequence[Sequence[int]] = ()):
    """Copy of the PIL ``image`` with the objects' 2D boxes (solid) and 3D boxes (thin) drawn,
    and the queried ``pixels`` ([col, row] of the view, level-0 tasks) marked A, B, ...

    ``scene`` must be the record's view (``view_scene``), so boxes match the pixels.
    """
    im = image.convert("RGB").copy()
    d = ImageDraw.Draw(im)
    lw = max(1, round(im.width / 320))
    fs = max(10, round(im.width / 40))  # label size in pixels, readable after downscaling
    try:
        font = ImageFont.load_default(size=fs)
    except TypeError:  # Pillow < 10.1: fixed-size bitmap font
        font = ImageFont.load_default()
    for k, oid in enumerate(object_ids):
        try:
            obj = scene.object(int(oid))
        except KeyError:
            continue
        color = PALETTE[k % len(PALETTE)]
        for p, q in box3d_edges_2d(scene, obj.box3d):
            d.line([p, q], fill=color, width=lw)
        if obj.box2d is not None:
            x0, y0, x1, y1 = obj.box2d
            d.rectangle([x0, y0, x1, y1], outline=color, width=lw + 1)
            label = f"{obj.category} #{obj.id}"
            tw = d.textlength(label, font=font)
            ty = max(0, y0 - fs - 2)
            d.rectangle([x0, ty, x0 + tw + 4, ty + fs + 2], fill=color)
            d.text((x0 + 2, ty), label, font=font, fill=(0, 0, 0) if sum(color) > 400 else (255, 255, 255))
    r = max(3, fs // 3)
    for k, px in enumerate(pixels):
        u, v = pixel_centre(float(px[0])), pixel_centre(float(px[1]))
        d.ellipse([u - r, v - r, u + r, v + r], outline=(255, 255, 255), fill=(255, 0, 160), width=max(1, lw))
        d.text((u + r + 2, v - fs / 2), chr(ord("A") + k % 26), font=font, fill=(255, 0, 160),
               stroke_width=max(1, lw), stroke_fill=(255, 255, 255))
    return im


def meta_pixels(meta: str | None) -> list:
    try:
        px = json.loads(meta or "{}").get("pixels") or []
        return [p for p in px if isinstance(p, (list, tuple)) and len(p) == 2]
    except (json.JSONDecodeError, AttributeError):
        return []


def _png_b64(im, max_width: int) -> str:
    if im.width > max_width:
        im = im.resize((max_width, round(im.height * max_width / im.width)))
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=3)
    return base64.b64encode(buf.getvalue()).decode("ascii")


# --------------------------------------------------------------------------- sampling
def pick_records(rows: list[dict[str, Any]], num: int, seed: int = 0) -> list[tuple[dict, dict | None]]:
    """Up to ``num`` (record, mirrored partner or None) pairs, round-robin over tasks."""
    by_pair: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_pair[r["pair_id"] or r["id"]].append(r)
    by_task: dict[str, list[tuple[dict, dict | None]]] = defaultdict(list)
    for members in by_pair.values():
        main = next((m for m in members if m["view"] == "original"), members[0])
        partner = next((m for m in members if m is not main and m["view"] != main["view"]), None)
        by_task[main["task"]].append((main, partner))
    rng = random.Random(seed)
    queues = []
    for task in sorted(by_task):
        items = sorted(by_task[task], key=lambda p: p[0]["id"])
        rng.shuffle(items)
        queues.append(items)
    picked: list[tuple[dict, dict | None]] = []
    while len(picked) < num and any(queues):
        for q in queues:
            if q and len(picked) < num:
                picked.append(q.pop())
    return picked


# --------------------------------------------------------------------------- page
_CSS = """
body{font-family:system-ui,sans-serif;margin:16px;background:#f4f4f6;color:#222}
h1{font-size:20px;margin:0 0 8px} .summary{font-size:13px;margin-bottom:12px}
.summary span{display:inline-block;background:#fff;border-radius:4px;padding:2px 6px;margin:2px}
.card{background:#fff;border-radius:8px;padding:10px;margin:0 0 14px;box-shadow:0 1px 3px #0002}
.meta{font-size:12px;color:#555;margin-bottom:6px} .tag{background:#e3e8f4;border-radius:3px;padding:1px 5px;margin-right:4px}
.views{display:flex;gap:12px;flex-wrap:wrap} .view{flex:1 1 420px;max-width:520px}
.view img{width:100%;border-radius:4px} .q{margin:6px 0 2px;font-size:14px;white-space:pre-line}
.a{font-size:14px;color:#0a6b2d}
.vlabel{font-size:11px;text-transform:uppercase;color:#777} ol{margin:2px 0 2px 18px;font-size:13px}
"""


def _view_html(row: dict, img_b64: str) -> str:
    e = html.escape
    options = row.get("choices") or []
    # MCQ questions spell their options out (one per line, kept by ``white-space:pre-line``):
    # list them separately only when the question does not
    listed = [c for c in options if c not in row["question"]]
    choices = "".join(f"<li>{e(c)}</li>" for c in options) if listed else ""
    choices = f'<ol type="A">{choices}</ol>' if choices else ""
    return (f'<div class="view"><div class="vlabel">{e(row["view"])}</div>'
            f'<img alt="{e(row["id"])}" src="data:image/png;base64,{img_b64}">'
            f'<div class="q"><b>Q:</b> {e(row["question"])}</div>{choices}'
            f'<div class="a"><b>A:</b> {e(row["answer"])}</div></div>')


def _summary_html(root: Path, n_rows: int) -> str:
    e = html.escape
    parts = [f"<span>{n_rows} records</span>"]
    mpath = root / "manifest.json"
    if mpath.is_file():
        try:
            m = json.loads(mpath.read_text())
            counts = m.get("stats", {}).get("counts", {})
            parts.append(f"<span>scenes {m.get('stats', {}).get('num_scenes', '?')}, "
                         f"skipped items {m.get('num_skipped', 0)}</span>")
            for key in ("level", "format", "view", "task"):
                for k, v in counts.get(key, {}).items():
                    parts.append(f"<span>{e(key)} {e(str(k))}: {v}</span>")
        except (json.JSONDecodeError, OSError):
            pass
    return '<div class="summary">' + "".join(parts) + "</div>"


def read_rows(root: Path) -> list[dict]:
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (expected a dataset folder written by `spatialforge generate`)")
    rows = []
    for shard in shard_paths(root):
        try:
            table = pq.read_table(shard, columns=_ROW_COLUMNS)
        except (pa.ArrowException, OSError) as e:  # truncated, not Parquet, or another schema
            raise DataError(f"{shard}: unreadable shard ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from None
        for i, r in enumerate(table.to_pylist()):
            r["_loc"] = (shard, i)
            rows.append(r)
    if not rows:
        raise DataError(f"{root}: no records (data/shard-*.parquet) to show")
    return rows


def build_show_page(root: str | Path, num: int = 24, out: str | Path | None = None, *, seed: int = 0,
                    max_width: int = 512) -> Path:
    """Write the HTML page (default ``root/show.html``) and return its path."""
    root = Path(root)
    out = Path(out) if out is not None else root / "show.html"
    if out.is_dir():
        raise ConfigError(f"--out {out} is a folder; give the HTML file to write, e.g. {out / 'show.html'}")
    rows = read_rows(root)
    picked = pick_records(rows, num, seed)
    wanted: dict[Path, list[int]] = defaultdict(list)
    for pair in picked:
        for r in pair:
            if r is not None:
                wanted[r["_loc"][0]].append(r["_loc"][1])
    images = {(shard, i): b for shard, idx in wanted.items() for i, b in read_images(shard, idx).items()}
    scenes: dict[str, Scene] = {}

    def scene_for(row: dict) -> Scene:
        # the boxes are the point of the page: a scene that does not load is an error, not a blank
        p = row["scene_path"]
        if p not in scenes:
            try:
                scenes[p] = Scene.load(root / p)
            except DataError as e:
                shard, i = row["_loc"]
                raise DataError(f"{shard} row {i} (record {row['id']!r}): cannot draw its boxes: {e}") from None
        return scenes[p]

    def render(row: dict) -> str:
        im = Image.open(io.BytesIO(images[row["_loc"]]))
        im = draw_record(im, view_scene(scene_for(row), bool(row["flipped"])), row["object_ids"] or [],
                         meta_pixels(row.get("meta")))
        return _view_html(row, _png_b64(im, max_width))

    e = html.escape
    cards = []
    for main, partner in picked:
        tags = "".join(f'<span class="tag">{e(str(t))}</span>' for t in
                       (main["task"], f"L{main['level']}", main["format"], main["eval_type"]))
        views = render(main) + (render(partner) if partner is not None else "")
        cards.append(f'<div class="card"><div class="meta">{tags} scene <code>{e(main["scene_id"])}</code> '
                     f'pair <code>{e(main["pair_id"])}</code></div><div class="views">{views}</div></div>')
    page = (f'<!doctype html><html><head><meta charset="utf-8"><title>spatialforge: {e(root.name)}</title>'
            f"<style>{_CSS}</style></head><body><h1>spatialforge dataset: {e(str(root.name))}</h1>"
            f"{_summary_html(root, len(rows))}{''.join(cards)}</body></html>")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(page, encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"--out {out}: cannot write the page ({e.strerror or e})") from None
    return out
