"""Our QA datasets -> TRL conversational vision examples, task resampling, general-VQA mixing.

Input rows carry at least ``image``, ``question`` and ``answer`` (the Parquet written by
``spatialforge generate`` adds ``id, pair_id, view, task, eval_type, answer_struct`` ...).
TRL (1.16) reads a conversational ``prompt`` (and ``completion`` for SFT) plus an ``image``
column (or ``images``: several per row, kept for models that take them), and inserts the
image placeholders itself (``prepare_multimodal_messages``); every other column reaches GRPO
reward functions as a keyword argument.

Prompt wording comes from :mod:`spatialforge.prompts` (the same text evaluation uses),
completion wording from :func:`spatialforge.datasets.export.completion_text`.
"""

from __future__ import annotations

import glob
import math
import random
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import datasets as hf_datasets
import pyarrow.compute as pc
from datasets import concatenate_datasets

from ..datasets.export import completion_text
from ..datasets.parquet import load_hf_dataset, shard_paths
from ..errors import ConfigError, DataError
from ..models.rgbd import base_model_type
from ..models.rgbd_processor import POINT_MAP_COLUMNS, absolute_file_paths
from ..prompts import format_prompt
from ..tasks import DEFAULT_RATIOS  # importing the package registers the tasks

REWARD_COLUMNS = ("id", "pair_id", "view", "task", "format", "eval_type", "question", "answer", "answer_struct",
                  "choices")
REQUIRED_COLUMNS = ("image", "question", "answer")
SINGLE_IMAGE = "training takes one image per row here"  # the default reason multi-image rows are refused
# Think block for SFT rows without a reasoning trace: a restatement, never an invented fact.
FALLBACK_THINK = "The question asks: {question}"


def load_qa_dataset(path: str | Path, max_samples: int | None = None, *, single_image: str | None = SINGLE_IMAGE):
    """A QA ``datasets.Dataset`` from a ``spatialforge generate`` folder, a ``save_to_disk``
    folder, or Parquet / JSON(L) files (a path or a glob).

    An ``images`` (list) column with one image per row becomes the ``image`` column.  Rows with
    several images stay an ``images`` column when ``single_image`` is None (the model takes
    several images per row: TRL's SFT collator puts one image placeholder per image); else
    ``single_image`` is the reason the model cannot, and the first such row is a ``ConfigError``."""
    p = Path(path).expanduser()
    if p.is_dir() and shard_paths(p):
        ds = load_hf_dataset(p)
    elif p.is_dir() and (p / "dataset_info.json").is_file():
        ds = hf_datasets.load_from_disk(str(p))
    else:
        files = sorted(glob.glob(str(p))) if any(c in str(p) for c in "*?[") else ([str(p)] if p.is_file() else [])
        if p.is_dir():
            files = sorted(str(f) for f in p.rglob("*") if f.suffix in (".parquet", ".jsonl", ".json"))
        if not files:
            raise FileNotFoundError(
                f"{path}: not a dataset folder (data/shard-*.parquet or save_to_disk) and no Parquet/JSON files match"
            )
        kind = "parquet" if files[0].endswith(".parquet") else "json"
        ds = hf_datasets.load_dataset(kind, data_files=files, split="train")
    missing = [c for c in REQUIRED_COLUMNS if c not in ds.column_names]
    if "image" in missing and "images" in ds.column_names:
        missing.remove("image")
        if _check_image_counts(ds, path, single_image):  # one image each: the 'image' column, as always
            ds = ds.map(lambda imgs: {"image": imgs[0]}, input_columns=["images"], remove_columns=["images"])
    if missing:
        raise ValueError(f"{path}: dataset lacks column(s) {missing}; QA rows need {list(REQUIRED_COLUMNS)}")
    if max_samples is not None and len(ds) > max_samples:
        ds = ds.select(range(max_samples))
    if "depth_path" in ds.column_names or "point_map_path" in ds.column_names:  # RGB-D models read these files
        ds = absolute_file_paths(ds, p)
    return ds


def _check_image_counts(ds, path, single_image: str | None) -> bool:
    """True when every row of the ``images`` column holds exactly one image.  A row without an
    image is a ``DataError``; a row with several is a ``ConfigError`` when ``single_image`` (the
    reason the model takes one image per row) is set: never silently drop the extra images."""
    counts = pc.list_value_length(ds.data.column("images")).to_pylist()
    empty = [i for i, n in enumerate(counts) if not n]
    if empty:
        raise DataError(f"{path}: row {empty[0]} has no image in its 'images' column ({len(empty)} such rows)")
    multi = [(i, n) for i, n in enumerate(counts) if n > 1]
    if multi and single_image:
        i, n = multi[0]
        raise ConfigError(f"{path}: row {i} has {n} images in its 'images' column ({len(multi)} such rows); "
                          f"{single_image}: split multi-image rows or give an 'image' column")
    return not multi


def single_image_reason(model: Any) -> str | None:
    """Why ``model`` trains on one image per row (None: it takes several, e.g. Qwen2.5-VL)."""
    if getattr(model.config, "point_branch", None) is not None:
        return "RGB-D models read one depth / point map per row, so they train on one image per row"
    if base_model_type(model.config) == "paligemma":
        return "PaliGemma 2 is pretrained with one image per prefix, so it trains on one image per row"
    return None


def _units(ds) -> list[list[int]]:
    """Row groups that must stay together: mirror pairs (same ``pair_id``), else single rows."""
    if "pair_id" not in ds.column_names:
        return [[i] for i in range(len(ds))]
    by_pair: dict[str, list[int]] = {}
    units: list[list[int]] = []
    for i, pid in enumerate(ds["pair_id"]):
        if pid:
            if pid not in by_pair:
                by_pair[pid] = []
                units.append(by_pair[pid])
            by_pair[pid].append(i)
        else:
            units.append([i])
    return units


def resample_by_task(ds, ratios: dict[str, float], num_samples: int | None = None, seed: int = 0):
    """Resample so tasks appear in the shares ``ratios`` (normalised over the tasks present).

    The unit of sampling is a mirror pair (or a row without ``pair_id``), so pairs stay
    whole.  A task is oversampled with replacement only when it has fewer units than its
    share asks for; repeated pairs get distinct ``pair_id`` (``<id>~1``, ``<id>~2``, ...).
    Tasks absent from ``ratios`` are dropped; ratios for tasks absent from the data are
    ignored with a warning.  ``num_samples`` counts rows (default: ``len(ds)``).
    """
    if "task" not in ds.column_names:
        raise ValueError("task_ratios needs a 'task' column in the dataset")
    units = _units(ds)
    tasks = ds["task"]
    by_task: dict[str, list[int]] = defaultdict(list)
    for u, rows in enumerate(units):
        by_task[tasks[rows[0]]].append(u)
    absent = sorted(set(ratios) - set(by_task))
    if absent:
        warnings.warn(f"task_ratios names tasks not in the data (ignored): {absent}", stacklevel=2)
    weights = {t: float(w) for t, w in ratios.items() if t in by_task and float(w) > 0}
    if not weights:
        raise ValueError(f"no task of task_ratios {sorted(ratios)} is in the data (tasks: {sorted(by_task)})")
    rows_per_unit = len(ds) / max(1, len(units))
    total_units = max(1, round((num_samples or len(ds)) / rows_per_unit))
    total_w = sum(weights.values())
    rng = random.Random(seed)
    chosen: list[tuple[int, int]] = []  # (unit, copy number)
    for t in sorted(weights):
        pool = by_task[t]
        n = max(1, round(total_units * weights[t] / total_w))
        picks = rng.sample(pool, len(pool)) * (n // len(pool)) + rng.sample(pool, n % len(pool))
        seen: dict[int, int] = defaultdict(int)
        for u in picks:
            chosen.append((u, seen[u]))
            seen[u] += 1
    rng.shuffle(chosen)
    indices = [i for u, _ in chosen for i in units[u]]
    copies = [c for u, c in chosen for _ in units[u]]
    out = ds.select(indices)
    if "pair_id" in out.column_names and any(copies):
        out = out.map(
            lambda pid, idx: {"pair_id": f"{pid}~{copies[idx]}" if pid and copies[idx] else pid},
            input_columns=["pair_id"], with_indices=True,
        )
    return out


def _keep(ds, columns: tuple[str, ...] | list[str]):
    return ds.remove_columns([c for c in ds.column_names if c not in columns])


def to_grpo_dataset(ds, prompt: str = "think"):
    """GRPO rows: ``prompt`` (one user turn), ``image``, the columns rewards read and the depth
    columns (point maps for RGB-D models)."""

    def convert(question: str) -> dict[str, Any]:
        return {"prompt": [{"role": "user", "content": format_prompt(prompt, question)}]}

    ds = ds.map(convert, input_columns=["question"])
    return _keep(ds, ("prompt", "image", "images", *REWARD_COLUMNS, *POINT_MAP_COLUMNS))  # depth columns: for RGB-D models


def to_sft_dataset(ds, prompt: str = "think"):
    """SFT rows: ``prompt`` (user turn), ``completion`` (assistant turn) and ``image``.

    With ``prompt="think"`` the completion is ``<think>{reasoning}</think> <answer>{answer}</answer>``;
    rows without a ``reasoning`` trace get :data:`FALLBACK_THINK` (the question restated), since
    the format reward requires a non-empty think block.  Otherwise the completion is the answer.
    """
    think = prompt == "think"
    has_reasoning = "reasoning" in ds.column_names

    def convert(question: str, answer: str, reasoning: str | None = None) -> dict[str, Any]:
        trace = (reasoning or "").strip() or FALLBACK_THINK.format(question=question)
        return {
            "prompt": [{"role": "user", "content": format_prompt(prompt, question)}],
            "completion": [{"role": "assistant", "content": completion_text(answer, trace, think)}],
        }

    cols = ["question", "answer", "reasoning"] if has_reasoning else ["question", "answer"]
    ds = ds.map(convert, input_columns=cols)
    return _keep(ds, ("prompt", "completion", "image", "images", *POINT_MAP_COLUMNS))


def mix_general(spatial, general, ratio: float = 1 / 7, seed: int = 0):
    """Spatial SFT rows plus ``round(len(spatial) * ratio)`` general rows, shuffled.

    Both inputs come from :func:`to_sft_dataset`.  General rows are drawn without
    replacement when there are enough, else cycled.  When the spatial rows carry depth columns
    (RGB-D training), a ``no_depth`` column marks the general rows: the RGB-D collator gives
    them an all-invalid point map (or the estimator's, when one is given).
    """
    n = round(len(spatial) * ratio)
    if n == 0 or len(general) == 0:
        return spatial
    rng = random.Random(seed)
    reps = math.ceil(n / len(general))
    idx = [i for _ in range(reps) for i in rng.sample(range(len(general)), len(general))][:n]
    general = general.select(idx)
    if "images" in spatial.column_names or "images" in general.column_names:  # multi-image rows on either side
        spatial, general = _image_lists(spatial), _image_lists(general)
    if any(c in spatial.column_names for c in POINT_MAP_COLUMNS):  # RGB-D rows: general rows have no depth
        spatial = spatial.add_column("no_depth", [False] * len(spatial))
        general = general.add_column("no_depth", [True] * len(general))
    for name in spatial.column_names:  # e.g. the depth columns of RGB-D rows, which general VQA rows lack
        if name not in general.column_names:
            general = general.add_column(name, [None] * len(general))
    general = general.select_columns(spatial.column_names).cast(spatial.features)
    return concatenate_datasets([spatial, general]).shuffle(seed=seed)


def _image_lists(ds):
    """``ds`` with its ``image`` column as one-image ``images`` lists (so both mixed sets share it)."""
    if "image" not in ds.column_names:
        return ds
    from datasets import Image, List

    images = ds.map(lambda im: {"images": [im]}, input_columns=["image"], remove_columns=["image"])
    return images.cast_column("images", List(Image()))


def task_ratios(spec: dict[str, float] | str) -> dict[str, float]:
    """A ``{task: weight}`` mapping, or ``"hispatial"``: the task registry's Table 7 ratios."""
    if not isinstance(spec, str):
        return dict(spec)
    if spec != "hispatial":
        raise ValueError(f"task_ratios must be 'hispatial' or a mapping, got {spec!r}")
    if not DEFAULT_RATIOS:
        raise ValueError("no task is registered in spatialforge.tasks; give task_ratios as a mapping")
    return dict(DEFAULT_RATIOS)


def prepare_datasets(data, kind: str, *, single_image: str | None = SINGLE_IMAGE):
    """``(train, eval)`` TRL datasets for a :class:`~spatialforge.train.config.DataConfig`.

    ``kind`` is ``"sft"`` or ``"grpo"``.  Task resampling applies to the training set only;
    general-VQA mixing to SFT only (GRPO rewards need our answer columns).  ``single_image``:
    why the model takes one image per row (None: multi-image rows are kept; see
    :func:`single_image_reason`).
    """
    if kind not in ("sft", "grpo"):
        raise ValueError(f"kind must be 'sft' or 'grpo', got {kind!r}")
    train = load_qa_dataset(data.train, data.max_samples, single_image=single_image)
    if data.task_ratios is not None:
        train = resample_by_task(train, task_ratios(data.task_ratios), data.num_samples, data.seed)
    evald = load_qa_dataset(data.eval, data.max_samples, single_image=single_image) if data.eval else None
    convert = to_sft_dataset if kind == "sft" else to_grpo_dataset
    train = convert(train, data.prompt)
    evald = convert(evald, data.prompt) if evald is not None else None
    if data.general:
        if kind != "sft":
            raise ValueError("data.general (general-VQA mixing) is for SFT recipes; remove it from the GRPO recipe")
        general = to_sft_dataset(load_qa_dataset(data.general, single_image=single_image), data.prompt)
        train = mix_general(train, general, data.general_ratio, data.seed)
    return train, evald
