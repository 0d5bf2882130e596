"""Readers of other spatial QA datasets, as single-turn (image, question, answer[, choices]) items.

Formats (``--format``):

- ``llava``: a JSON list (or JSONL) of ``{"id", "image", "conversations": [{"from": "human",
  "value": "<image>\\nQ"}, {"from": "gpt", "value": "A"}, ...]}``; each human/gpt pair is one item;
- ``messages``: VQASynth / SpaceLLaVA rows ``{"messages": [{"role": "user", "content": [{"type":
  "image"}, {"type": "text", "text": Q}]}, {"role": "assistant", "content": [...]}], "images": [...]}``
  (JSONL, Parquet or an HF dataset); each user/assistant pair is one item;
- ``jsonl`` / ``parquet``: plain rows with ``image`` (a path, or ``{"bytes", "path"}``),
  ``question``, ``answer`` and optional ``choices`` and ``id`` (our own shards read back too);
- ``hf``: a ``datasets`` dataset saved with ``save_to_disk`` with an ``Image`` column (plain or
  ``messages`` rows);
- ``osd``: SpatialRGPT's Open Spatial Dataset (``a8cheng/OpenSpatialDataset``), a JSON list of
  ``{"filename", "conversations", "bbox" | "rle" | "segmentation"}``: LLaVA turns whose
  ``<mask>`` tokens name regions in order (the k-th token is ``bbox[k]`` / ``rle[k]``).  Layout
  from SpatialRGPT's code (``llava/data/dataset.py`` ``LazySupervisedSpatialDataset``: the
  image is ``<filename>.jpg`` under the image folder; ``llava/mm_utils.py`` ``process_masks``:
  boxes are pixel ``(x1, y1, x2, y2)``, ``rle`` COCO RLE dicts, ``segmentation`` COCO polygons
  with ``image_info`` ``{height, width}``).  Not confirmed offline against the released JSON
  itself: whether every record carries an ``id`` (else ``row-<k>``) and whether ``filename``
  ever includes its extension (kept when it does).  Each item carries the record's regions;
  the mirrored partner gets them mirrored (:mod:`.regions`) in ``meta["regions"]``.

Image paths are relative to the input file's folder unless ``image_root`` is given
(``--image-root``: OSD images live in an OpenImages folder of their own).  A row that
cannot be read becomes a :class:`BadItem` (its id and reason), never an exception that stops the run.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError
import pyarrow.parquet as pq

from ..errors import ConfigError, DataError
from .regions import region_count

FORMATS = ("auto", "llava", "messages", "parquet", "jsonl", "hf", "osd")
_REGION_KEYS = ("bbox", "rle", "segmentation")


@dataclass
class Item:
    id: str
    image: Any  # a path, PNG/JPEG bytes or a PIL image
    question: str
    answer: str
    choices: tuple[str, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)  # format, source id, turn, image path
    regions: dict[str, Any] = field(default_factory=dict)  # boxes / masks the text refers to (:mod:`.regions`)


@dataclass
class BadItem:
    id: str
    reason: str


def load_rgb(image: Any, root: Path) -> tuple[np.ndarray, str]:
    """An (H, W, 3) uint8 array and the image's path ('' for embedded bytes); raises DataError."""
    path = ""
    try:
        if isinstance(image, dict):
            image = image.get("bytes") or image.get("path")
        if isinstance(image, (bytes, bytearray)):
            im = Image.open(io.BytesIO(image))
        elif isinstance(image, (str, Path)):
            p = Path(image) if Path(image).is_absolute() else root / image
            path = str(image)
            im = Image.open(p)
        elif hasattr(image, "convert"):
            im = image
        else:
            raise DataError(f"no image (got {type(image).__name__})")
        return np.asarray(im.convert("RGB")), path
    except (OSError, UnidentifiedImageError) as e:
        raise DataError(f"image {path or '<bytes>'}: {e}") from None


def detect(path: Path) -> str:
    """The format of ``path`` (``--format auto``); ConfigError when it cannot tell."""
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "state.json").exists():
            return "hf"
        raise ConfigError(f"{path}: a folder but not a saved HF dataset (no dataset_info.json); pass --format")
    first = _first_row(path)
    if "conversations" in first and any(k in first for k in (*_REGION_KEYS, "filename")):
        return "osd"
    if "conversations" in first:
        return "llava"
    if "messages" in first:
        return "messages"
    return "parquet" if path.suffix == ".parquet" else "jsonl"


def _first_row(path: Path) -> dict:
    try:
        return next(iter(_rows(path)), {})
    except DataError as e:
        raise ConfigError(str(e)) from None


def _rows(path: Path) -> Iterator[dict]:
    """Raw rows of a JSON list, JSONL, Parquet file or saved HF dataset."""
    if path.is_dir():
        import datasets

        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            raise ConfigError(f"{path}: a DatasetDict; pass one split's folder")
        ds = ds.cast_column(_image_column(ds), datasets.Image(decode=False)) if _image_column(ds) else ds
        yield from ds
    elif path.suffix == ".parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=256):
            yield from batch.to_pylist()
    elif path.suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise DataError(f"{path}: not JSON ({e})") from None
        if not isinstance(data, list):
            raise DataError(f"{path}: expected a JSON list of records")
        yield from data
    else:
        with path.open(encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if line.strip():
                    try:
                        yield json.loads(line)
                    except ValueError as e:
                        yield {"__bad__": f"{path.name} line {n}: not JSON ({e})", "id": f"line-{n}"}


def _image_column(ds) -> str | None:
    import datasets

    for name, feat in ds.features.items():
        if isinstance(feat, datasets.Image):
            return name
    return None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _strip_image_token(text: str) -> str:
    return text.replace("<image>", "").strip()


def _llava(row: dict, k: int) -> Iterator[Item | BadItem]:
    rid = str(row.get("id", f"row-{k}"))
    turns = row.get("conversations")
    if not isinstance(turns, list) or not row.get("image"):
        yield BadItem(rid, "llava record needs 'image' and a 'conversations' list")
        return
    pairs = [(a, b) for a, b in zip(turns[::2], turns[1::2])]
    if not pairs or any(a.get("from") != "human" or b.get("from") != "gpt" for a, b in pairs):
        yield BadItem(rid, "llava conversations must alternate human / gpt turns")
        return
    for t, (a, b) in enumerate(pairs):
        yield Item(f"{rid}-t{t}", row["image"], _strip_image_token(a["value"]), b["value"],
                   source={"format": "llava", "source_id": rid, "turn": t})


def _osd(row: dict, k: int) -> Iterator[Item | BadItem]:
    rid = str(row.get("id", f"row-{k}"))
    name = row.get("filename") or row.get("image") or (row.get("image_info") or {}).get("file_path")
    if not name:
        yield BadItem(rid, "osd record needs 'filename' (or 'image')")
        return
    image = name if Path(str(name)).suffix else f"{name}.jpg"
    regions = {key: row[key] for key in _REGION_KEYS if row.get(key) is not None}
    turns = row.get("conversations") if isinstance(row.get("conversations"), list) else []
    masks = sum(str(t.get("value", "")).count("<mask>") for t in turns if isinstance(t, dict))
    n = region_count(regions) or 0
    if masks > n:
        yield BadItem(rid, f"{masks} <mask> tokens but {n} regions (bbox / rle / segmentation)")
        return
    for item in _llava({**row, "id": rid, "image": image}, k):
        if isinstance(item, Item):
            item.source["format"] = "osd"
            item.regions = regions
        yield item


def _regions_of(row: dict) -> dict:
    """Regions our own shards carry in ``meta`` (so a mirrored OSD output mirrors back)."""
    meta = row.get("meta")
    if isinstance(meta, str) and '"regions"' in meta:
        try:
            return dict(json.loads(meta).get("regions") or {})
        except (ValueError, AttributeError):
            return {}
    return {}


def _messages(row: dict, k: int) -> Iterator[Item | BadItem]:
    rid = str(row.get("id", f"row-{k}"))
    msgs, images = row.get("messages"), row.get("images") or []
    if not isinstance(msgs, list):
        yield BadItem(rid, "messages record needs a 'messages' list")
        return
    image = images[0] if images else None
    for m in msgs:  # an image given inline ({"type": "image", "image": path})
        for p in m.get("content") if isinstance(m.get("content"), list) else ():
            if isinstance(p, dict) and p.get("type") == "image" and p.get("image") is not None and image is None:
                image = p["image"]
    if image is None:
        yield BadItem(rid, "messages record has no image")
        return
    if len(images) > 1:
        yield BadItem(rid, f"{len(images)} images in one record (only single-image records are mirrored)")
        return
    msgs = [m for m in msgs if m.get("role") != "system"]
    pairs = list(zip(msgs[::2], msgs[1::2]))
    if not pairs or any(a.get("role") != "user" or b.get("role") != "assistant" for a, b in pairs):
        yield BadItem(rid, "messages must alternate user / assistant turns")
        return
    for t, (a, b) in enumerate(pairs):
        yield Item(f"{rid}-t{t}", image, _strip_image_token(_text(a["content"])), _text(b["content"]),
                   source={"format": "messages", "source_id": rid, "turn": t})


def _plain(row: dict, k: int, fmt: str) -> Iterator[Item | BadItem]:
    rid = str(row.get("id") or f"row-{k}")
    missing = [c for c in ("image", "question", "answer") if row.get(c) in (None, "")]
    if missing:
        yield BadItem(rid, f"missing {', '.join(missing)}")
        return
    yield Item(rid, row["image"], str(row["question"]), str(row["answer"]), tuple(row.get("choices") or ()),
               source={"format": fmt, "source_id": rid}, regions=_regions_of(row))


def read_items(path: str | Path, fmt: str = "auto") -> Iterator[Item | BadItem]:
    """The items of ``path`` in ``fmt`` (``auto``: :func:`detect`)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"mirror input {path} not found")
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    kind = detect(path) if fmt == "auto" else fmt
    if kind == "hf" and not path.is_dir():
        raise ConfigError(f"{path}: --format hf needs a folder written by datasets' save_to_disk")
    for k, row in enumerate(_rows(path)):
        if "__bad__" in row:
            yield BadItem(row["id"], row["__bad__"])
        elif kind == "llava":
            yield from _llava(row, k)
        elif kind == "osd":
            yield from _osd(row, k)
        elif kind == "messages" or (kind == "hf" and "messages" in row):
            yield from _messages(row, k)
        else:
            yield from _plain(row, k, kind)
