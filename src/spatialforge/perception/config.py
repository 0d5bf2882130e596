"""Perception configs (configs/perception/*.yaml): which backend runs each stage, and the
image filter and detection post-processing thresholds.

    vocabulary: [chair, table, ...]        # categories the detector is asked for
    model_root: ${SPATIALFORGE_PERCEPTION_MODELS}   # optional; relative model/backbone/head paths resolve here
    stages:
      geometry:     {backend: depth_anything_v2, kwargs: {model: depth_anything, hfov_deg: 60}}
      detection:    {backend: owlv2, kwargs: {model: owlv2}}
      segmentation: {backend: sam, kwargs: {model: sam}}
      tagging:      {backend: ..., kwargs: {...}}           # optional
    filter: {...}        # see FilterConfig
    postprocess: {...}   # see PostConfig
    references: {verify: true, iou: 0.7, fallback: highlight}   # optional; see verify.py
    batch_size: 4

``${VAR}`` in strings is replaced from the environment (an unset variable is a ConfigError).
Everything is checked on load: unknown keys, unknown backends, bad numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from .base import KINDS, backend_class
from .verify import ReferenceConfig, parse_references

REQUIRED_STAGES = ("geometry", "detection", "segmentation")
_MODEL_KEYS = ("model", "backbone", "head")  # backend kwargs naming model files (resolved against model_root)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class FilterConfig:
    """Image filter (HiSpatial §3.1): reject before/after perception, with the reason."""

    min_side: int = 32  # pixels: smaller images are skipped
    max_white_black: float = 0.35  # share of pure white (255,255,255) or black (0,0,0) pixels
    max_invalid_depth: float = 0.5  # share of pixels without valid depth
    min_objects: int = 2  # objects with a 3D box
    include_tags: tuple[str, ...] = ()  # with a tagging stage: keep only images tagged with one of these
    exclude_tags: tuple[str, ...] = ()  # with a tagging stage: reject images tagged with any of these


@dataclass(frozen=True)
class PostConfig:
    """Detection post-processing."""

    score_threshold: float = 0.1
    nms_iou: float = 0.5  # class-agnostic NMS across categories
    max_detections: int = 50
    min_mask_box_agreement: float = 0.5  # IoU of the mask's bounding box with the detected box
    min_mask_pixels: int = 30


@dataclass(frozen=True)
class StageConfig:
    backend: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PerceptionConfig:
    stages: dict[str, StageConfig]
    vocabulary: tuple[str, ...] = ()
    filter: FilterConfig = field(default_factory=FilterConfig)
    postprocess: PostConfig = field(default_factory=PostConfig)
    batch_size: int = 4
    path: str | None = None
    references: ReferenceConfig = field(default_factory=ReferenceConfig)  # verified references (verify.py)

    def to_dict(self) -> dict[str, Any]:
        d = {"stages": {k: asdict(v) for k, v in self.stages.items()}, "vocabulary": list(self.vocabulary),
             "filter": asdict(self.filter), "postprocess": asdict(self.postprocess), "batch_size": self.batch_size}
        if self.references.verify:  # absent when off, so older configs keep their digest
            d["references"] = asdict(self.references)
        return d

    def digest(self) -> str:
        """Stable hash of everything that changes the output (not the file's path)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, default=str).encode()).hexdigest()[:16]


def _expand(value: Any, where: str, key: str = "") -> Any:
    """``${VAR}`` -> the environment's value, in every string; ``key`` names the field."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            if m.group(1) not in os.environ:
                raise ConfigError(f"{where}: {key}: environment variable {m.group(1)} is not set")
            return os.environ[m.group(1)]
        return _VAR.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, where, f"{key}.{k}" if key else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, where, key) for v in value]
    return value


def _dataclass_from(cls: type, d: Any, where: str) -> Any:
    if d is None:
        return cls()
    if not isinstance(d, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(d).__name__}")
    names = {f.name: f for f in fields(cls)}
    unknown = sorted(set(d) - set(names))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(names)}")
    d = dict(d)
    for k, v in list(d.items()):
        want = type(getattr(cls(), k))
        if want is tuple:
            if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) and x.strip() for x in v):
                raise ConfigError(f"{where}.{k}: expected a list of names, got {v!r}")
            d[k] = tuple(x.strip() for x in v)
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (want is int and not isinstance(v, int)):
            raise ConfigError(f"{where}.{k}: expected {want.__name__}, got {v!r}")
        if v < 0:
            raise ConfigError(f"{where}.{k}: must be >= 0, got {v}")
    return cls(**d)


def parse_config(raw: Any, where: str = "perception config", base_dir: Path | None = None) -> PerceptionConfig:
    """Validate a loaded YAML mapping; ``base_dir`` is unused except for messages."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    raw = _expand(raw, where)
    allowed = {"stages", "vocabulary", "filter", "postprocess", "batch_size", "model_root", "references"}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; valid: {', '.join(sorted(allowed))}")
    stages_raw = raw.get("stages")
    if not isinstance(stages_raw, dict):
        raise ConfigError(f"{where}: 'stages' must map stage names ({', '.join(KINDS)}) to backends")
    model_root = raw.get("model_root")
    stages: dict[str, StageConfig] = {}
    for kind, spec in stages_raw.items():
        w = f"{where}: stages.{kind}"
        if kind not in KINDS:
            raise ConfigError(f"{w}: unknown stage; stages: {', '.join(KINDS)}")
        if isinstance(spec, str):
            spec = {"backend": spec}
        if not isinstance(spec, dict) or not isinstance(spec.get("backend"), str):
            raise ConfigError(f"{w}: needs 'backend: NAME'")
        extra = sorted(set(spec) - {"backend", "kwargs"})
        if extra:
            raise ConfigError(f"{w}: unknown key(s) {', '.join(extra)}; valid: backend, kwargs")
        kwargs = spec.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise ConfigError(f"{w}.kwargs: expected a mapping")
        try:
            backend_class(kind, spec["backend"])
        except ConfigError as e:
            raise ConfigError(f"{w}: {e}") from None
        if model_root:  # relative model files resolve against model_root
            kwargs = {k: str(Path(model_root) / v) if k in _MODEL_KEYS and isinstance(v, str) and not os.path.isabs(v)
                      else v for k, v in kwargs.items()}
        stages[kind] = StageConfig(spec["backend"], dict(kwargs))
    missing = [k for k in REQUIRED_STAGES if k not in stages]
    if missing:
        raise ConfigError(f"{where}: missing stage(s) {', '.join(missing)}")
    vocab = raw.get("vocabulary") or []
    if not isinstance(vocab, list) or not all(isinstance(v, str) and v.strip() for v in vocab):
        raise ConfigError(f"{where}: vocabulary must be a list of category names")
    if not vocab and "vocabulary" not in stages.get("tagging", StageConfig("")).kwargs:
        raise ConfigError(f"{where}: give a vocabulary (the detector's categories, and the tagger's choices)")
    batch_size = raw.get("batch_size", 4)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"{where}: batch_size must be an integer >= 1, got {batch_size!r}")
    filt = _dataclass_from(FilterConfig, raw.get("filter"), f"{where}: filter")
    post = _dataclass_from(PostConfig, raw.get("postprocess"), f"{where}: postprocess")
    if (filt.include_tags or filt.exclude_tags) and "tagging" not in stages:
        raise ConfigError(f"{where}: filter.include_tags / exclude_tags need a tagging stage")
    if "tagging" in stages and "vocabulary" not in stages["tagging"].kwargs:  # the tagger chooses among these
        tag_vocab = list(dict.fromkeys([v.strip() for v in vocab] + list(filt.include_tags) + list(filt.exclude_tags)))
        stages["tagging"] = StageConfig(stages["tagging"].backend, {**stages["tagging"].kwargs, "vocabulary": tag_vocab})
    if filt.max_white_black > 1 or filt.max_invalid_depth > 1 or post.nms_iou > 1 or post.min_mask_box_agreement > 1:
        raise ConfigError(f"{where}: shares and IoUs must be in [0, 1]")
    refs = parse_references(raw.get("references"), where)
    if refs.grounder is not None and model_root and isinstance(refs.grounder["kwargs"].get("model"), str) \
            and not os.path.isabs(refs.grounder["kwargs"]["model"]):
        refs.grounder["kwargs"]["model"] = str(Path(model_root) / refs.grounder["kwargs"]["model"])
    return PerceptionConfig(stages, tuple(v.strip() for v in vocab), filt, post, batch_size, references=refs)


def load_config(path: str | Path) -> PerceptionConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: perception config not found") from None
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    cfg = parse_config(raw, str(path))
    return replace(cfg, path=str(path))
