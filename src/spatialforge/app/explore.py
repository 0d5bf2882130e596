"""Explore view: a dataset folder's records by task / level / format / view, each drawn with its
objects' 2D and projected 3D boxes (``viz.show.draw_record``) beside its mirrored partner, and
the scene's boxes in 3D (``scene3d``).  Rows are read once per folder (``viz.show``'s reader)
and kept while the folder's shards are unchanged."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image

from ..datasets.parquet import read_images, shard_paths, view_scene
from ..errors import DataError
from ..scene import Scene
from ..viz.show import meta_pixels, read_rows, draw_record  # the show page's reader and drawing
from .scene3d import boxes_glb

ALL = "all"
FILTERS = ("task", "level", "format", "view")


def dataset_root(folder: str | Path) -> Path:
    """The dataset folder holding ``data/shard-*.parquet``: ``folder`` itself, or its ``data/``
    (``make demo`` writes the dataset to ``demo_out/data``)."""
    root = Path(str(folder).strip()).expanduser()
    if not str(folder).strip():
        raise DataError("no dataset folder given")
    if not root.is_dir():
        raise DataError(f"{root}: not a folder")
    for cand in (root, root / "data"):
        if shard_paths(cand):
            return cand
    raise DataError(f"{root}: not a dataset folder (no data/shard-*.parquet; write one with `spatialforge generate`)")


@dataclass
class Dataset:
    root: Path
    rows: list[dict[str, Any]]
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    scenes: dict[str, Scene] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {r["id"]: r for r in self.rows}

    def options(self, key: str) -> list[str]:
        return [ALL] + sorted({str(r[key]) for r in self.rows}, key=lambda v: (len(v), v) if key == "level" else v)

    def select(self, **filters: str | None) -> list[str]:
        """Record ids matching every filter (None or ``all``: any), in file order."""
        want = {k: str(v) for k, v in filters.items() if v not in (None, "", ALL)}
        return [r["id"] for r in self.rows if all(str(r[k]) == v for k, v in want.items())]

    def partner(self, row: dict[str, Any]) -> dict[str, Any] | None:
        if not row.get("pair_id"):
            return None
        return next((r for r in self.rows if r["pair_id"] == row["pair_id"] and r["id"] != row["id"]), None)

    def scene(self, row: dict[str, Any]) -> Scene:
        """The record's view of its scene (mirrored for a mirrored record)."""
        p = row["scene_path"]
        if p not in self.scenes:
            try:
                self.scenes[p] = Scene.load(self.root / p)
            except DataError as e:
                raise DataError(f"record {row['id']!r}: its scene does not load: {e}") from None
        return view_scene(self.scenes[p], bool(row["flipped"]))

    def image(self, row: dict[str, Any]):
        """The record's view with its objects' boxes drawn (PIL)."""
        shard, i = row["_loc"]
        im = Image.open(io.BytesIO(read_images(shard, [i])[i]))
        return draw_record(im, self.scene(row), row["object_ids"] or [], meta_pixels(row.get("meta")))


def _stamp(root: Path) -> tuple:
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in shard_paths(root))


@lru_cache(maxsize=4)
def _load(root: Path, stamp: tuple) -> Dataset:
    return Dataset(root, read_rows(root))


def load_dataset(folder: str | Path) -> Dataset:
    root = dataset_root(folder).resolve()
    return _load(root, _stamp(root))


def summary(ds: Dataset) -> str:
    counts = {k: {} for k in FILTERS}
    for r in ds.rows:
        for k in FILTERS:
            counts[k][str(r[k])] = counts[k].get(str(r[k]), 0) + 1
    parts = [f"**{len(ds.rows)} records** in `{ds.root}`"]
    for k in FILTERS:
        parts.append(f"{k}: " + ", ".join(f"{v} {n}" for v, n in sorted(counts[k].items())))
    return "  \n".join(parts)


def record_text(row: dict[str, Any] | None) -> tuple[str, str]:
    """(question with any options not spelled out in it, answer)."""
    if row is None:
        return "", ""
    options = [c for c in row.get("choices") or [] if c not in row["question"]]
    extra = "".join(f"\n{chr(ord('A') + k)}. {c}" for k, c in enumerate(row.get("choices") or [])) if options else ""
    return row["question"] + extra, row["answer"]


def record_info(row: dict[str, Any]) -> str:
    meta = f"task **{row['task']}**, level {row['level']}, format {row['format']}, eval type {row['eval_type']}"
    return f"{meta}; scene `{row['scene_id']}`, pair `{row['pair_id']}`; objects {list(row['object_ids'] or [])}"


def scene_model(ds: Dataset, row: dict[str, Any], folder: Path) -> Path:
    """The GLB of the record's scene view (cached by content under ``folder``)."""
    ids = list(row["object_ids"] or [])
    key = hashlib.sha1(json.dumps([str(ds.root), row["scene_path"], bool(row["flipped"]), ids]).encode()).hexdigest()[:16]
    path = folder / f"scene-{key}.glb"
    if not path.exists():
        boxes_glb(ds.scene(row), ids, path)
    return path
