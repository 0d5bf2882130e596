"""Exports of a dataset folder: TRL conversational (vision) and LLaVA JSON.

TRL (checked against trl 1.16 ``data_utils.prepare_multimodal_messages`` and the SFT /
GRPO vision collators): a prompt-completion example with an ``images`` list and one
``{"type": "image"}`` placeholder per image in the user turn::

    {"images": [PIL.Image],
     "prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": Q}]}],
     "completion": [{"role": "assistant", "content": [{"type": "text", "text": A}]}]}

The exported Parquet keeps the record columns (``answer``, ``answer_struct``,
``eval_type``, ``pair_id``, ``view`` ...) so reward functions receive them as keyword
arguments.  In Arrow the content parts share one struct type, so the image placeholder
reads back as ``{"type": "image", "text": None}``, which TRL treats as a placeholder.

``think=True`` appends the SVQA-R1 reasoning instruction to the question and wraps the
completion as ``<think>{reasoning}</think> <answer>{answer}</answer>``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

from PIL import Image
import pyarrow as pa

from .parquet import features, iter_batches, open_writer, shard_paths

THINK_SUFFIX = (
    " First output the thinking process in <think> </think> tags and then output the final answer in "
    "<answer> </answer> tags."
)
TRL_DIR = "exports/trl"
LLAVA_DIR = "exports/llava"
_META_COLUMNS = ("id", "pair_id", "view", "flipped", "scene_id", "task", "level", "format", "eval_type",
                 "question", "answer", "answer_struct", "choices", "object_ids")


def prompt_text(question: str, think: bool = False) -> str:
    return question + THINK_SUFFIX if think else question


def completion_text(answer: str, reasoning: str = "", think: bool = False) -> str:
    return f"<think>{reasoning}</think> <answer>{answer}</answer>" if think else answer


def trl_example(question: str, answer: str, image: Any, *, reasoning: str = "", think: bool = False) -> dict[str, Any]:
    """One TRL conversational vision example (``image``: a PIL image, or ``{"bytes", "path"}``)."""
    return {
        "images": [image],
        "prompt": [{"role": "user", "content": [{"type": "image"},
                                                {"type": "text", "text": prompt_text(question, think)}]}],
        "completion": [{"role": "assistant",
                        "content": [{"type": "text", "text": completion_text(answer, reasoning, think)}]}],
    }


def trl_features():
    from datasets import Features, List, Value
    from datasets import Image as HFImage

    base = features()
    part = {"type": Value("string"), "text": Value("string")}
    message = {"role": Value("string"), "content": List(part)}
    cols = {"images": List(HFImage()), "prompt": List(message), "completion": List(message)}
    cols.update({k: base[k] for k in _META_COLUMNS})
    return Features(cols)


def export_trl(root: str | Path, out: str | Path | None = None, *, think: bool = False) -> list[Path]:
    """Write ``root/exports/trl/shard-*.parquet`` (one per data shard); returns the files.

    Load with ``datasets.load_dataset("parquet", data_files=...)``: ``images`` decode to PIL.
    """
    root = Path(root)
    out = Path(out) if out is not None else root / TRL_DIR
    out.mkdir(parents=True, exist_ok=True)
    schema = trl_features().arrow_schema
    written = []
    for shard in shard_paths(root):
        dst = out / shard.name
        tmp = dst.with_name(dst.name + ".tmp")
        with open_writer(tmp, schema) as w:
            for rows in iter_batches(shard, ["image", "reasoning", *_META_COLUMNS]):
                ex_rows = []
                for r in rows:
                    ex = trl_example(r["question"], r["answer"], r["image"], reasoning=r["reasoning"] or "",
                                     think=think)
                    ex.update({k: r[k] for k in _META_COLUMNS})
                    ex_rows.append(ex)
                w.write_table(pa.Table.from_pylist(ex_rows, schema=schema))
        os.replace(tmp, dst)
        written.append(dst)
    return written


def load_trl_dataset(root: str | Path, cache_dir: str | Path | None = None):
    """The TRL export of a dataset folder as a ``datasets.Dataset`` (exports it first if missing)."""
    from datasets import load_dataset

    root = Path(root)
    files = sorted((root / TRL_DIR).glob("shard-*.parquet")) or export_trl(root)
    kw = {} if cache_dir is None else {"cache_dir": str(cache_dir)}
    return load_dataset("parquet", data_files=[str(f) for f in files], split="train", **kw)


def export_llava(root: str | Path, out: str | Path | None = None, *, think: bool = False) -> Path:
    """Write ``root/exports/llava/llava.json`` and one PNG per distinct image under ``images/``.

    Entries: ``{"id", "image", "conversations": [{"from": "human", "value": "<image>\\n" + Q},
    {"from": "gpt", "value": A}]}`` with ``image`` relative to the JSON's folder.  Files are
    keyed by their exact bytes, ``<scene>[_mirrored]_<sha256 prefix>.png``: a scene view's
    plain image and its variants with highlighted boxes are different files.
    """
    root = Path(root)
    out = Path(out) if out is not None else root / LLAVA_DIR
    (out / "images").mkdir(parents=True, exist_ok=True)
    entries = []
    written: set[str] = set()
    memo: dict[bytes, str] = {}  # image bytes -> file, for the current scene's rows (they are contiguous)
    scene = None
    cols = ["id", "scene_id", "flipped", "image", "question", "answer", "reasoning"]
    for r in (r for shard in shard_paths(root) for rows in iter_batches(shard, cols) for r in rows):
        if r["scene_id"] != scene:
            scene = r["scene_id"]
            memo.clear()
        data = r["image"]["bytes"]
        rel = memo.get(data)
        if rel is None:
            png = _png_bytes(data)
            digest = hashlib.sha256(png).hexdigest()[:16]
            rel = memo[data] = f"images/{r['scene_id']}{'_mirrored' if r['flipped'] else ''}_{digest}.png"
            if rel not in written:
                (out / rel).write_bytes(png)
                written.add(rel)
        entries.append({
            "id": r["id"],
            "image": rel,
            "conversations": [
                {"from": "human", "value": "<image>\n" + prompt_text(r["question"], think)},
                {"from": "gpt", "value": completion_text(r["answer"], r["reasoning"] or "", think)},
            ],
        })
    dst = out / "llava.json"
    dst.write_text(json.dumps(entries, indent=1, ensure_ascii=False))
    return dst


def _png_bytes(data: bytes) -> bytes:
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return data

    buf = io.BytesIO()
    with Image.open(io.BytesIO(data)) as im:
        im.convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


__all__ = ["THINK_SUFFIX", "export_llava", "export_trl", "load_trl_dataset", "trl_example",
           "trl_features", "prompt_text", "completion_text"]
