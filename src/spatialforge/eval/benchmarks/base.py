"""The benchmark protocol, the registry and the loaders every benchmark shares.

A benchmark is one class (lmms-eval's lesson: one unit per benchmark) with four steps that
never reach into each other:

* ``load(source, limit)``: rows in the benchmark's *official* schema, from a Hugging Face
  dataset id (``datasets.load_dataset``) or a local copy (a parquet/json/jsonl/tsv file or
  a folder of them), turned into :class:`BenchSample` records;
* ``build_prompt(sample, style)``: the exact prompt text (pinned by snapshot tests);
* ``score(sample, prediction)``: one per-sample dict, JSON-serialisable, carrying every
  field the aggregation needs (so scores saved to disk re-aggregate without the data);
* ``aggregate(per_sample)``: the benchmark's official aggregate plus our breakdowns.

Rates are fractions in [0, 1]; sMAPE is in percent, as the papers define it.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import re
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable
import ast

from PIL import Image, UnidentifiedImageError
import pyarrow.parquet as pq

from ...errors import ConfigError
from ...prompts import format_prompt
from ..frames import DEFAULT_NUM_FRAMES, sample_frames
from ..coords import resolve_coord_scale

PROMPT_STYLES = ("plain", "think", "spatial")
DATA_SUFFIXES = (".parquet", ".jsonl", ".json", ".tsv", ".csv")
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM")  # png, jpeg, gif, webp, bmp
_SCANNET_ID = re.compile(r"(?<![A-Za-z0-9])scene\d{4}_\d{2}(?![0-9])")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")


def is_video(ref: Any) -> bool:
    """True for a reference to a video file (a path with a video suffix): it belongs in ``BenchSample.video``."""
    return isinstance(ref, (str, Path)) and Path(str(ref)).suffix.lower() in VIDEO_SUFFIXES


class BenchmarkError(ConfigError):
    """Bad benchmark name, option, unreadable source or malformed rows; the message says which.
    A usage error (``ConfigError``): nothing is scored until the input is fixed."""


@dataclass
class BenchSample:
    """One question of a benchmark, in a form every benchmark shares.

    ``images`` holds references, decoded only when a request is built: a path (relative paths
    are resolved against the source folder at load time), PNG/JPEG bytes, or a PIL image.
    ``answer`` is the ground truth in whatever form the benchmark scores against.
    ``meta`` carries the official fields the benchmark needs to score and group.

    Multi-image samples list every image in ``images`` (in prompt order).  Video samples set
    ``video``: a video file path, a folder of frame images, or a list of frame references
    (resolve relative paths with :func:`file_ref`); ``num_frames`` is how many frames to
    sample uniformly (None: the benchmark's ``num_frames``).  A sample may have both; the
    images come first in the prompt, then the video.
    """

    id: str
    question: str
    answer: Any
    images: list[Any] = field(default_factory=list)
    task: str = ""
    level: int | None = None
    choices: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    video: Any = None
    num_frames: int | None = None


# --------------------------------------------------------------------------- registry

_REGISTRY: dict[str, type["Benchmark"]] = {}


def register_benchmark(name: str) -> Callable[[type["Benchmark"]], type["Benchmark"]]:
    """Class decorator: ``@register_benchmark("cvbench")``."""

    def deco(cls: type[Benchmark]) -> type[Benchmark]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise BenchmarkError(f"benchmark {name!r} is registered twice ({_REGISTRY[name].__name__}, {cls.__name__})")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def list_benchmarks() -> list[str]:
    return sorted(_REGISTRY)


def get_benchmark(name: str, **kwargs: Any) -> "Benchmark":
    """A fresh benchmark instance; unknown names raise an error that lists the valid ones."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise BenchmarkError(f"unknown benchmark {name!r}; valid names: {', '.join(list_benchmarks())}") from None
    return cls(**kwargs)


# --------------------------------------------------------------------------- base class


class Benchmark(ABC):
    """Subclasses set the class attributes and implement ``rows_to_samples``, ``question_text``,
    ``score`` and ``aggregate``; ``load`` and ``build_prompt`` are shared."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    hf_id: ClassVar[str | None] = None  # default source; None means a local source is required
    hf_config: ClassVar[str | None] = None
    hf_split: ClassVar[str | None] = None  # None: every split, concatenated (split name in row["_split"])
    needs_judge: ClassVar[bool] = False  # some samples are scored only by an LLM judge
    coord_scale: str = "auto"  # grid of 2D boxes/points in answers (``spatialforge.eval.coords``)
    coord_strict: bool = True  # False for a model-profile scale: values in [0, 1] stay fractions
    coord_origin: str = "benchmark"
    num_frames: ClassVar[int] = DEFAULT_NUM_FRAMES  # frames sampled per video (frames.py: where 32 comes from)

    def set_coord_scale(self, override: str | None = None, model_name: str | None = None) -> str:
        """Pick the coordinate grid: ``override``, else the model profile, else this benchmark's."""
        scale, origin = resolve_coord_scale(override, model_name, type(self).coord_scale)
        self.coord_scale, self.coord_strict, self.coord_origin = scale, origin != "profile", origin
        return scale

    # ---- loading
    def load(self, source: str | Path | None = None, limit: int | None = None) -> list[BenchSample]:
        if limit is not None and limit < 0:
            raise BenchmarkError(f"{self.name}: limit must be >= 0, got {limit}")
        src = source if source is not None else self.hf_id
        if src is None:
            raise BenchmarkError(f"{self.name}: needs a local source (a folder or file); pass --source {self.name}=PATH")
        rows, root = self.read_rows(src)
        samples: list[BenchSample] = []
        seen: dict[str, int] = {}
        for i, row in enumerate(rows):
            try:
                new = self.rows_to_samples(row, i, root)
            except (KeyError, TypeError, ValueError) as e:
                raise BenchmarkError(f"{self.name}: row {i} of {src} does not match the official schema: {e!r}") from None
            for s in new:  # ids key the prediction cache: a repeated id gets a stable "#k" suffix
                k = seen.get(s.id, 0)
                seen[s.id] = k + 1
                if k:
                    s.id = f"{s.id}#{k}"
            samples.extend(new)
            if limit is not None and len(samples) >= limit:
                return samples[:limit]
        return samples

    def read_rows(self, source: str | Path) -> tuple[Iterable[dict[str, Any]], Path | None]:
        """Rows of a local file/folder, else of the Hugging Face dataset ``source``."""
        path = Path(source)
        if path.exists():
            return read_local_rows(path), (path if path.is_dir() else path.parent)
        if isinstance(source, str) and source.count("/") == 1 and not source.startswith((".", "/")):
            return read_hf_rows(source, self.hf_config, self.hf_split), None
        raise BenchmarkError(f"{self.name}: source {source!r} is neither an existing path nor a Hugging Face dataset id")

    @abstractmethod
    def rows_to_samples(self, row: dict[str, Any], index: int, root: Path | None) -> list[BenchSample]:
        """Samples of one official row (``root``: the folder relative paths are resolved against)."""

    def scene_ids(self, row: dict[str, Any]) -> list[str]:
        """Capture ids of one official row, for decontamination (``spatialforge.decontam``).
        Default: ScanNet scene ids (``scene0000_00``) in the row's text fields (ids, paths);
        benchmarks with a scene field override this."""
        found: list[str] = []
        for value in row.values():
            for v in value if isinstance(value, (list, tuple)) else (value,):
                if isinstance(v, str) and len(v) <= 2000:  # not base64 image cells
                    found += _SCANNET_ID.findall(v)
        return found

    # ---- prompting
    def system_prompt(self, sample: BenchSample) -> str | None:
        """An official system prompt, where the benchmark has one."""
        return None

    @abstractmethod
    def question_text(self, sample: BenchSample) -> str:
        """The official user prompt (question plus the benchmark's answer instructions)."""

    def build_prompt(self, sample: BenchSample, style: str = "plain") -> str:
        """``plain``: the official prompt; ``think``/``spatial``: it wrapped in the SVQA-R1 prompts."""
        if style not in PROMPT_STYLES:
            raise BenchmarkError(f"prompt style must be one of {PROMPT_STYLES}, got {style!r}")
        text = self.question_text(sample)
        if style == "plain":
            return text
        return format_prompt(style, text)

    def load_images(self, sample: BenchSample) -> list:
        """PIL images for the request (decoded only now, so loading a benchmark stays cheap)."""
        return [open_image(r) for r in sample.images]

    def frame_count(self, sample: BenchSample, override: int | None = None) -> int:
        """Frames to sample from ``sample.video``: ``override`` (a run option), else the sample's, else ours."""
        n = override or sample.num_frames or self.num_frames
        if n < 1:
            raise BenchmarkError(f"{self.name}: sample {sample.id}: num_frames must be >= 1, got {n}")
        return n

    def load_video(self, sample: BenchSample, num_frames: int | None = None) -> list:
        """The sampled PIL frames of ``sample.video`` (empty when the sample has none)."""
        if sample.video is None:
            return []

        return sample_frames(sample.video, self.frame_count(sample, num_frames))[0]

    # ---- scoring
    @abstractmethod
    def score(self, sample: BenchSample, prediction: str | None, judge: Any = None) -> dict[str, Any]:
        """One JSON-serialisable dict; ``prediction`` None means the model gave no output."""

    @abstractmethod
    def aggregate(self, per_sample: list[dict[str, Any]]) -> dict[str, Any]:
        """The official aggregate plus breakdowns (layout: ``common.summary``)."""

    def base_record(self, sample: BenchSample, prediction: str | None) -> dict[str, Any]:
        """Fields every per-sample dict starts with."""
        return {
            "id": sample.id,
            "task": sample.task,
            "level": sample.level,
            "question": sample.question,
            "gt": sample.answer if isinstance(sample.answer, (str, int, float, bool, type(None))) else json.dumps(sample.answer),
            "prediction": prediction if prediction is not None else "",
            "missing": prediction is None,
        }


# --------------------------------------------------------------------------- row readers


def read_local_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of one data file, or of every data file under a folder (sorted, recursive)."""
    if path.is_dir():
        files = [p for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in DATA_SUFFIXES]
        # A folder holding parquet shards is read from those alone (side files are not data).
        parquet = [p for p in files if p.suffix.lower() == ".parquet"]
        files = parquet or files
        if not files:
            raise BenchmarkError(f"{path}: no {'/'.join(DATA_SUFFIXES)} files found")
        rows: list[dict[str, Any]] = []
        for f in files:
            rows.extend(read_local_rows(f))
        return rows
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(path).to_pylist()
        if suffix == ".jsonl":
            out = []
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if line.strip():
                    try:
                        out.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise BenchmarkError(f"{path}:{n}: not valid JSON ({e.msg})") from None
            return out
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):  # {"data": [...]} or {split: [...]}: take the list values
                lists = [v for v in data.values() if isinstance(v, list)]
                data = [r for lst in lists for r in lst]
            if not isinstance(data, list):
                raise BenchmarkError(f"{path}: expected a JSON list of rows")
            return data
        if suffix in (".tsv", ".csv"):
            csv.field_size_limit(sys.maxsize)  # base64 image cells are megabytes long
            with path.open(newline="", encoding="utf-8") as fh:
                return list(csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ","))
    except (OSError, json.JSONDecodeError) as e:
        raise BenchmarkError(f"{path}: unreadable ({e})") from None
    raise BenchmarkError(f"{path}: unsupported file type {suffix!r}; use one of {DATA_SUFFIXES}")


def read_hf_rows(dataset_id: str, config: str | None, split: str | None) -> Iterable[dict[str, Any]]:
    """Rows of a Hugging Face dataset; images stay undecoded (``{"bytes", "path"}``) until used."""
    try:
        from datasets import DatasetDict, load_dataset
    except ImportError as e:  # pragma: no cover - datasets is a dependency
        raise BenchmarkError(f"loading {dataset_id} needs the `datasets` package ({e})") from None
    try:
        ds = load_dataset(dataset_id, config, split=split)
    except Exception as e:  # network, auth, missing split: one message that says what to do
        raise BenchmarkError(
            f"could not load Hugging Face dataset {dataset_id!r} (config={config}, split={split}): {e}. "
            "Without hub access, download it elsewhere and pass the local folder as the source."
        ) from None
    parts = ds.items() if isinstance(ds, DatasetDict) else [(split, ds)]

    def rows() -> Iterable[dict[str, Any]]:
        for name, part in parts:
            for col, feat in part.features.items():
                raw = _undecoded(feat)
                if raw is not None:
                    part = part.cast_column(col, raw)
            for row in part:
                row["_split"] = name
                yield row

    return rows()


def _undecoded(feature: Any) -> Any:
    """The same feature with images left as bytes (``Image`` or a list of them), else None."""
    from datasets import Image, List

    if isinstance(feature, Image) and feature.decode:
        return Image(decode=False)
    if isinstance(feature, List) and isinstance(feature.feature, Image) and feature.feature.decode:
        return List(Image(decode=False))
    return None


# --------------------------------------------------------------------------- images


def image_ref(value: Any, root: Path | None) -> Any:
    """Normalise an image cell to a path, bytes or PIL image (``None`` if the cell is empty)."""
    if value is None:
        return None
    if isinstance(value, dict):  # HF Image(decode=False): {"bytes": ..., "path": ...}
        if value.get("bytes"):
            return value["bytes"]
        return image_ref(value.get("path"), root)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        if not value:
            return None
        if value.startswith(("http://", "https://")):
            return value
        if len(value) >= 64 and len(value) % 4 == 0:  # base64 cell (VLMEvalKit TSVs, EmbSpatial JSON)
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                data = b""
            if data.startswith(_IMAGE_MAGIC):
                return data
        p = Path(value)
        return str(p if p.is_absolute() or root is None else root / p)
    return value  # PIL image or anything else PIL can take


def file_ref(value: Any, root: Path | None) -> Any:
    """A video cell as a path string (relative paths resolved against ``root``) or list of frame refs."""
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)):
        return [image_ref(v, root) for v in value]
    p = Path(str(value))
    return str(p if p.is_absolute() or root is None else root / p)


def open_image(ref: Any):
    """A PIL RGB image from an :func:`image_ref` value; errors name the reference."""
    if ref is None:
        raise BenchmarkError("sample has no image")
    if isinstance(ref, Image.Image):
        return ref.convert("RGB")
    if isinstance(ref, str) and ref.startswith(("http://", "https://")):
        raise BenchmarkError(f"image {ref} is a URL; download the images and pass a local source")
    try:
        if isinstance(ref, bytes):
            with Image.open(io.BytesIO(ref)) as im:
                return im.convert("RGB")
        with Image.open(ref) as im:
            return im.convert("RGB")
    except FileNotFoundError:
        raise BenchmarkError(f"image file {ref} not found") from None
    except (UnidentifiedImageError, OSError) as e:
        what = f"{len(ref)} bytes" if isinstance(ref, bytes) else str(ref)
        raise BenchmarkError(f"image {what} is unreadable ({e})") from None


def image_size(ref: Any) -> tuple[int, int]:
    """(width, height) of an :func:`image_ref` value, from the header (no pixel decoding)."""
    if isinstance(ref, Image.Image):
        return ref.size
    try:
        with Image.open(io.BytesIO(ref) if isinstance(ref, bytes) else ref) as im:
            return im.size
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise BenchmarkError(f"image {ref if isinstance(ref, str) else type(ref).__name__} is unreadable ({e})") from None


def as_list(value: Any) -> list[Any]:
    """Cells stored as Python/JSON-literal strings in CSV/TSV exports become lists."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        try:
            return list(json.loads(text))
        except (json.JSONDecodeError, TypeError):
            return list(ast.literal_eval(text))
    return list(value)


def as_dict(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            return dict(json.loads(value))
        except (json.JSONDecodeError, TypeError, ValueError):
            return dict(ast.literal_eval(value))
    return dict(value)
