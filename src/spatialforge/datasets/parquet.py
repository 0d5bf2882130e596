"""Parquet shards of QA records with a Hugging Face ``Image`` column.

A dataset folder looks like this::

    out/
      manifest.json            RunManifest: params, versions, counts, done scenes, skipped items
      scenes/<id>.json         the scene records (+ images/, depth/, ... they point to)
      data/shard-00000.parquet QA rows, one scene's records never split across shards
      exports/                 optional TRL / LLaVA exports

Each row is ``QARecord.to_row()`` plus

* ``image``: ``datasets.Image()`` (PNG bytes of the record's view: the mirrored view
  holds the horizontally flipped pixels; a record naming an object by a highlighted box,
  ``meta["highlight"]``, gets its view with those boxes drawn).  Rows of one view share
  one image, stored once per row group (Parquet dictionary encoding);
* ``scene_path``: the scene JSON relative to the dataset root (``show`` reads it);
* ``image_path`` / ``depth_path`` / ``point_map_path``: files relative to the dataset root
  as stored on disk, never flipped; ``flipped`` says the view must flip them;
* ``width, height, fx, fy, cx, cy, R_world_cam`` (9 floats, row-major): the camera *of
  the view* (mirrored view: ``cx -> W - cx``), so ``point_map_from_row`` gives the view's
  metric point map from the depth file.

The file carries the ``huggingface`` metadata, so ``datasets.load_dataset("parquet",
data_files=...)`` decodes ``image`` to PIL.  Writing is byte-deterministic.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..mirror import flip_horizontal, mirror_point_map
from ..pinhole import unproject_pixel
from ..scene import Scene
from ..tasks.record import QARecord, to_json

SHARD_GLOB = "shard-*.parquet"
DATA_DIR = "data"
SCENES_DIR = "scenes"
ROW_GROUP_ROWS = 1000
ROW_GROUP_BYTES = 64 << 20  # image bytes per row group (as decoded by a reader)


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.parquet"


@lru_cache(maxsize=1)
def features():
    """The ``datasets.Features`` of a shard (column order is the file's column order)."""
    from datasets import Features, Image, List, Value

    s, f64, i64 = Value("string"), Value("float64"), Value("int64")
    return Features(
        {
            "id": s,
            "pair_id": s,
            "view": s,
            "flipped": Value("bool"),
            "scene_id": s,
            "scene_path": s,
            "image": Image(),
            "image_path": s,
            "question": s,
            "answer": s,
            "answer_struct": s,
            "task": s,
            "level": i64,
            "format": s,
            "eval_type": s,
            "object_ids": List(i64),
            "choices": List(s),
            "reasoning": s,
            "meta": s,
            "width": i64,
            "height": i64,
            "fx": f64,
            "fy": f64,
            "cx": f64,
            "cy": f64,
            "R_world_cam": List(f64),
            "depth_path": s,
            "point_map_path": s,
        }
    )


@lru_cache(maxsize=1)
def shard_schema():
    """The Arrow schema of a shard (``features()`` with the ``huggingface`` metadata)."""
    return features().arrow_schema


def encode_png(rgb: np.ndarray) -> bytes:
    """Lossless RGB PNG: every row "Up"-filtered, deflated by zlib at level 1.

    Written here because no library fits: Pillow (and libpng/libspng behind imagecodecs) try
    every filter on every row (~9 ms at level 1); one vectorised filter plus zlib level 1
    costs ~4 ms for a 640x480 view (``benchmarks/qa_speed.py`` prints the figure).  zlib, not
    ISA-L: ISA-L was ~10x faster, but an outside review saw its bytes differ between
    identical runs (about 1 run in 5); that did not reproduce here (``benchmarks/same_bytes.py``),
    so the cause is unconfirmed, but ISA-L picks a SIMD code path per CPU and does not promise
    a fixed output, while zlib's output is a function of its input, level and version only.
    """
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"encode_png: need an (H, W, 3) uint8 image, got {rgb.dtype} {rgb.shape}")
    h, w, _ = rgb.shape
    flat = rgb.reshape(h, w * 3)
    raw = np.empty((h, w * 3 + 1), np.uint8)
    raw[:, 0] = 2  # filter type Up: byte - byte above (mod 256)
    raw[0, 1:] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=raw[1:, 1:])
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, no interlace
    return b"".join((_PNG_SIGNATURE, _png_chunk(b"IHDR", ihdr),
                     _png_chunk(b"IDAT", zlib.compress(raw.data, 1)), _png_chunk(b"IEND", b"")))


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(tag)))


def view_scene(scene: Scene, flipped: bool) -> Scene:
    """The scene a record with this ``flipped`` flag talks about (flags are relative to the files)."""
    if bool(scene.flipped) == bool(flipped):
        return scene
    return scene.mirrored()


def _rel(path: str | None, scene_dir: str, root: str) -> str | None:
    """``path`` (relative to the absolute ``scene_dir``, or absolute) relative to the absolute ``root``."""
    if path is None:
        return None
    return os.path.relpath(os.path.join(scene_dir, path), root).replace(os.sep, "/")


def view_columns(scene: Scene, flipped: bool, *, root: Path, scene_path: Path,
                 shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """The columns every row of one scene view shares: its camera and file references.
    ``shared``: another view's columns of the same scene, whose file references are reused."""
    cam = view_scene(scene, flipped).camera
    if shared is None:
        # absolute first: a relative ``root`` and ``scene_path`` are both relative to the cwd, and
        # the stored paths must not depend on how the output folder was spelled
        root, scene_path = os.path.abspath(root), os.path.abspath(scene_path)
        scene_dir = os.path.dirname(scene_path)
        shared = dict(scene_id=scene.id, scene_path=_rel(scene_path, scene_dir, root),
                      image_path=_rel(scene.image_path, scene_dir, root))
        for col, rel in (("depth_path", scene.depth_path), ("point_map_path", scene.point_map_path)):
            p = _rel(rel, scene_dir, root)
            shared[col] = p if p is not None and os.path.isfile(os.path.join(root, p)) else None
    return {**shared, "width": cam.width, "height": cam.height, "fx": cam.fx, "fy": cam.fy, "cx": cam.cx,
            "cy": cam.cy, "R_world_cam": [v for r in cam.R_world_cam for v in r]}


_RECORD_COLUMNS = ("id", "pair_id", "view", "flipped", "question", "answer", "task", "level", "format",
                   "eval_type", "reasoning", "object_ids", "choices")  # tuples are Arrow lists as they are
_VIEW_COLUMNS = ("scene_path", "image_path", "width", "height", "fx", "fy", "cx", "cy", "R_world_cam", "depth_path",
                 "point_map_path")


@dataclass
class SceneRows:
    """One scene's shard rows as Python lists (``scene_rows``).  Arrow arrays are built per row
    group of a shard (``write_scene_rows``), not per scene: a scene's ~28 ``pa.array`` calls and
    its table were ~0.15 ms of a 20-QA scene.  What rows share is held once, with an index per
    row: the views' columns (``view_columns``) and the images."""

    columns: dict[str, list]  # per row: every column of ``write_schema()`` but the view columns and "image"
    views: list[dict[str, Any]]  # the scene's distinct view columns (``view_columns``)
    view_index: list[int]  # per row: its view in ``views``
    images: list[bytes]  # the scene's distinct image bytes
    image_index: list[int]  # per row: its image in ``images``

    @property
    def num_rows(self) -> int:
        return len(self.image_index)

    def image_bytes(self) -> int:
        """Image bytes of all rows as a reader decodes them (each row carries its image)."""
        sizes = [len(b) for b in self.images]
        return sum(map(sizes.__getitem__, self.image_index))

    def pieces(self, max_rows: int) -> list["SceneRows"]:
        """The rows cut into runs of at most ``max_rows``, each keeping all of the scene's views and images."""
        n = self.num_rows
        if n <= max_rows:
            return [self] if n else []
        return [SceneRows({k: v[a:a + max_rows] for k, v in self.columns.items()}, self.views,
                          self.view_index[a:a + max_rows], self.images, self.image_index[a:a + max_rows])
                for a in range(0, n, max_rows)]


def scene_rows(records: Sequence[QARecord], views: Sequence[dict[str, Any]], view_index: Sequence[int],
               images: Sequence[bytes], image_index: Sequence[int]) -> SceneRows:
    """One scene's shard rows (``write_schema()`` columns): record ``j`` is seen in view
    ``views[view_index[j]]`` (its ``view_columns``) with the image bytes ``images[image_index[j]]``."""
    cols: dict[str, list] = {k: list(map(attrgetter(k), records)) for k in _RECORD_COLUMNS}
    cols["answer_struct"] = [to_json(r.answer_struct) for r in records]
    cols["meta"] = [to_json(r.meta) for r in records]
    cols["scene_id"] = [r.scene_id or views[i]["scene_id"] for r, i in zip(records, view_index)]
    return SceneRows(cols, list(views), list(view_index), list(images), list(image_index))


def rows_table(scenes: Sequence[SceneRows]):
    """The rows of ``scenes`` as one Arrow table (``write_schema()``): the view columns taken from
    the scenes' views (no Python value per row), the image column one dictionary over the
    scenes' images."""
    schema = write_schema()
    cols = scenes[0].columns if len(scenes) == 1 else {
        k: list(chain.from_iterable(s.columns[k] for s in scenes)) for k in scenes[0].columns}
    arrays = {k: pa.array(v, schema.field(k).type) for k, v in cols.items()}
    views, view_index = _shared_values(scenes, "views", "view_index")
    take = pa.array(view_index, pa.int32())
    for k in _VIEW_COLUMNS:
        arrays[k] = pa.array([v[k] for v in views], schema.field(k).type).take(take)
    images, image_index = _shared_values(scenes, "images", "image_index")
    png = pa.DictionaryArray.from_arrays(pa.array(image_index, pa.int32()), pa.array(images, pa.binary()))
    arrays["image"] = pa.StructArray.from_arrays([png, pa.nulls(len(image_index), pa.string())],
                                                 fields=list(schema.field("image").type))
    return pa.Table.from_arrays([arrays[f.name] for f in schema], schema=schema)


def _shared_values(scenes: Sequence[SceneRows], values: str, index: str) -> tuple[list, list[int]]:
    """The scenes' shared values (``views`` / ``images``) concatenated, and each row's index into them."""
    out: list = []
    indices: list[int] = []
    for s in scenes:
        offset = len(out)
        rows = getattr(s, index)
        indices.extend([i + offset for i in rows] if offset else rows)
        out.extend(getattr(s, values))
    return out, indices


@lru_cache(maxsize=1)
def write_schema():
    """``shard_schema()`` with the image bytes as an Arrow dictionary: how shards are built.

    The file itself is plain Parquet (a dictionary-encoded binary column, read back as
    ``binary``) with the ``huggingface`` metadata of ``shard_schema()``; see ``write_shard``.
    """
    s = shard_schema()
    image = pa.struct([pa.field("bytes", pa.dictionary(pa.int32(), pa.binary())), pa.field("path", pa.string())])
    return s.set(s.get_field_index("image"), pa.field("image", image))


def write_shard(table, path: str | Path) -> Path:
    """Write a table of shard rows (one chunk per scene, e.g. a concatenation of ``rows_table``s,
    or a shard read back) or a list of row dicts atomically (tmp file + rename); deterministic
    bytes.  ``write_scene_rows`` writes the same bytes from scenes' rows.

    Row groups end at a scene (chunk) boundary once they hold ``ROW_GROUP_ROWS`` rows or
    ``ROW_GROUP_BYTES`` of image bytes as a reader decodes them, since readers decode a row
    group at a time and every row carries its view's image.  Each row group's image dictionary
    is the union of its scenes' dictionaries, passed to Parquet as is: images are neither
    copied per row nor hashed.  The file stores no Arrow schema (it would say "dictionary");
    the ``huggingface`` metadata is added as key-value metadata, so ``datasets`` still decodes
    ``image`` as an ``Image``.
    """
    schema = write_schema()
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pylist(list(table), schema=shard_schema())
    if table.schema.field("image").type != schema.field("image").type:
        img = table.column("image").combine_chunks()
        png = pc.dictionary_encode(img.field("bytes")).cast(schema.field("image").type.field("bytes").type)
        image = pa.StructArray.from_arrays([png, img.field("path")], fields=list(schema.field("image").type))
        table = table.set_column(table.schema.get_field_index("image"), schema.field("image"), image)
    return _write_groups(_row_groups(table) if table.num_rows else [table], path)


def write_scene_rows(scenes: Sequence[SceneRows], path: str | Path) -> Path:
    """Write scenes' rows (``scene_rows``, at least one row) as a shard: the bytes ``write_shard``
    writes for the concatenation of their tables, the same row groups (``_row_groups``)."""
    return _write_groups(_scene_row_groups(scenes), path)


def _write_groups(groups: Iterable[Any], path: str | Path) -> Path:
    """Write tables of ``write_schema()`` as the row groups of a shard, atomically (tmp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open_writer(tmp, write_schema(), store_schema=False) as w:
        for group in groups:
            w.write_table(group)
        w.add_key_value_metadata(shard_schema().metadata)
    os.replace(tmp, path)
    return path


def _scene_row_groups(scenes: Sequence[SceneRows]):
    """``_row_groups`` over scenes' rows: tables of whole scenes (a scene over ``ROW_GROUP_ROWS``
    rows is cut) up to the row-group limits."""
    group: list[SceneRows] = []
    rows = size = 0
    for piece in (p for s in scenes for p in s.pieces(ROW_GROUP_ROWS)):
        n, nbytes = piece.num_rows, piece.image_bytes()
        if group and (rows + n > ROW_GROUP_ROWS or size + nbytes > ROW_GROUP_BYTES):
            yield rows_table(group)
            group, rows, size = [], 0, 0
        group.append(piece)
        rows += n
        size += nbytes
    if group:
        yield rows_table(group)


def _row_groups(table):
    """Tables of whole chunks (scenes; a scene over ``ROW_GROUP_ROWS`` rows is cut) up to the
    row-group limits, each with one image dictionary."""
    pieces = []  # (table slice, expanded image bytes)
    for batch in table.to_batches(max_chunksize=ROW_GROUP_ROWS):
        png = batch.column(batch.schema.get_field_index("image")).field("bytes")
        sizes = pc.binary_length(png.dictionary).to_numpy(zero_copy_only=False)
        pieces.append((batch, int(sizes[np.asarray(png.indices)].sum())))
    group, rows, size = [], 0, 0
    for batch, nbytes in pieces:
        if group and (rows + batch.num_rows > ROW_GROUP_ROWS or size + nbytes > ROW_GROUP_BYTES):
            yield _one_dictionary(group)
            group, rows, size = [], 0, 0
        group.append(batch)
        rows += batch.num_rows
        size += nbytes
    if group:
        yield _one_dictionary(group)


def _one_dictionary(batches):
    """One table of ``batches`` whose image column shares one dictionary (the concatenation)."""
    schema = batches[0].schema
    i = schema.get_field_index("image")
    dicts, indices, paths, offset = [], [], [], 0
    for b in batches:
        img = b.column(i)
        png = img.field("bytes")
        dicts.append(png.dictionary)
        indices.append(pc.add(png.indices, pa.scalar(offset, pa.int32())))
        paths.append(img.field("path"))
        offset += len(png.dictionary)
    png = pa.DictionaryArray.from_arrays(pa.concat_arrays(indices), pa.concat_arrays(dicts))
    image = pa.StructArray.from_arrays([png, pa.concat_arrays(paths)], fields=list(schema.field(i).type))
    cols = [image if k == i else pa.concat_arrays([b.column(k) for b in batches]) for k in range(len(schema))]
    return pa.Table.from_arrays(cols, schema=schema)


def open_writer(path: str | Path, schema, *, store_schema: bool = True):
    """A Parquet writer with the settings every shard and export uses: zstd, except for
    image bytes (PNG/JPEG are compressed already; zstd would cost time for nothing)."""
    leaves = _leaf_paths(schema)
    compression = {".".join(p): "none" if p[-1] == "bytes" else "zstd" for p in leaves}
    # Dictionary-encode what repeats (images, views, tasks, cameras); per-record text is unique,
    # and hashing it into a dictionary that never pays off costs more than the rest of the write.
    dictionary = [".".join(p) for p in leaves if p[0] not in _UNIQUE_COLUMNS]
    # Large dictionary pages let Parquet store each scene view's PNG once per row group
    # (every record of a view repeats the same bytes), so files stay small.
    return pq.ParquetWriter(
        str(path),
        schema,
        compression=compression,
        use_dictionary=dictionary,
        dictionary_pagesize_limit=256 << 20,
        write_statistics=False,
        store_schema=store_schema,
    )


_UNIQUE_COLUMNS = frozenset({"id", "pair_id", "question", "answer_struct", "meta", "choices", "prompt", "completion"})


def _leaf_paths(schema) -> list[tuple[str, ...]]:
    """Parquet column paths of an Arrow schema's leaves (``("image", "bytes")``, ...)."""
    def walk(field, prefix):
        t = field.type
        if pa.types.is_struct(t):
            return [p for k in range(t.num_fields) for p in walk(t.field(k), prefix + (field.name,))]
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return [prefix + (field.name, "list", "element")]  # pyarrow's compliant list naming
        return [prefix + (field.name,)]

    return [p for f in schema for p in walk(f, ())]


def iter_batches(path: str | Path, columns: list[str] | None = None) -> Iterator[list[dict[str, Any]]]:
    """Rows of one shard as lists of dicts, one row group at a time."""
    pf = pq.ParquetFile(path)
    for g in range(pf.num_row_groups):
        yield pf.read_row_group(g, columns=columns).to_pylist()


def shard_paths(root: str | Path) -> list[Path]:
    return sorted((Path(root) / DATA_DIR).glob(SHARD_GLOB))


def iter_rows(root: str | Path, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Rows of every shard in order, read with pyarrow (``image`` stays ``{"bytes", "path"}``)."""
    for p in shard_paths(root):
        for batch in iter_batches(p, columns):
            yield from batch


def read_images(path: str | Path, indices: list[int]) -> dict[int, bytes]:
    """Image bytes of the given rows of one shard, reading only the row groups they fall in."""
    pf = pq.ParquetFile(path)
    starts, n = [], 0
    for g in range(pf.num_row_groups):
        starts.append(n)
        n += pf.metadata.row_group(g).num_rows
    out: dict[int, bytes] = {}
    wanted = sorted(set(indices))
    for g, start in enumerate(starts):
        end = start + pf.metadata.row_group(g).num_rows
        local = [i for i in wanted if start <= i < end]
        if local:
            col = pf.read_row_group(g, columns=["image"]).column("image")
            for i in local:
                out[i] = col[i - start].as_py()["bytes"]
    return out


def load_records(root: str | Path) -> list[QARecord]:
    cols = list(QARecord.__dataclass_fields__)
    return [QARecord.from_row(r) for r in iter_rows(root, columns=cols)]


def load_hf_dataset(root: str | Path, cache_dir: str | Path | None = None):
    """The shards as a ``datasets.Dataset`` (``image`` decodes to PIL)."""
    from datasets import load_dataset

    files = [str(p) for p in shard_paths(root)]
    if not files:
        raise FileNotFoundError(f"{root}: no {DATA_DIR}/{SHARD_GLOB} files")
    kw = {} if cache_dir is None else {"cache_dir": str(cache_dir)}
    return load_dataset("parquet", data_files=files, split="train", **kw)


def point_map_from_row(row: dict[str, Any], root: str | Path) -> np.ndarray | None:
    """(H, W, 3) float32 camera-frame point map of the row's view, or None without depth.

    Uses ``point_map_path`` when present, else unprojects ``depth_path`` with the view's
    intrinsics; both files are flipped horizontally for a mirrored view (``flipped``),
    whose point map has x negated, matching ``cx -> W - cx``.
    """
    root = Path(root)
    flipped = bool(row["flipped"])
    if row.get("point_map_path"):
        pm = np.load(root / row["point_map_path"], allow_pickle=False).astype(np.float32)
        if flipped:
            pm = mirror_point_map(pm)
        return pm
    if not row.get("depth_path"):
        return None
    depth = np.load(root / row["depth_path"], allow_pickle=False).astype(np.float32)
    if flipped:
        depth = flip_horizontal(depth)
    h, w = depth.shape
    cols, rows = np.arange(w, dtype=np.float32)[None, :], np.arange(h, dtype=np.float32)[:, None]
    f32 = {k: np.float32(row[k]) for k in ("fx", "fy", "cx", "cy")}  # float32 throughout, as stored
    return np.stack(unproject_pixel(cols, rows, depth, **f32), axis=-1)


def answer_struct(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(row["answer_struct"])
