"""Ask view: one uploaded image -> the configured perception backends -> the project's geometry and
question engine (``sources.images.generate_from_images``, mirrored pairs on) -> optionally a
model's answers, scored by the synthetic benchmark's rules (``eval.evaluate``) on the image and
its mirror, with each pair's mirror-consistency verdict (``eval.metrics.mirror_agreements``).

Every request works in its own temporary folder, removed when the answer is back."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image
import yaml

from ..errors import ConfigError, DataError
from ..perception.config import PerceptionConfig, load_config, parse_config
from ..datasets import generate_dataset
from ..datasets.parquet import iter_rows
from ..eval.evaluate import evaluate
from ..eval.metrics import mirror_agreements, MirrorItem
from ..eval.scoring import MIRROR_KINDS
from ..extras import require
from ..files import read_depth
from ..perception.tiny import build_tiny_perception
from ..scene import Scene
from ..sources.images import perceive_folder
from ..viz.show import draw_record

REPO_CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "perception"
DEFAULT_PERCEPTION = REPO_CONFIGS / "tiny_cpu.yaml"
MODELS_ENV = "SPATIALFORGE_PERCEPTION_MODELS"
TABLE_COLUMNS = ["id", "view", "task", "format", "question", "generated answer"]
MODEL_COLUMNS = ["model answer", "correct", "mirror consistent"]
# depth colour ramp (viridis at 5 stops): a few anchors and np.interp, not a plotting library
_RAMP = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], float)


def perception_config(path: str | Path | None = None) -> PerceptionConfig:
    """The config named by ``--perception``; without one, the tiny CPU config, whose random-weight
    models are built once under ``$SPATIALFORGE_CACHE`` unless ``$SPATIALFORGE_PERCEPTION_MODELS``
    points at them."""
    if path is not None:
        return load_config(path)
    if os.environ.get(MODELS_ENV):
        return load_config(DEFAULT_PERCEPTION)

    cache = Path(os.environ.get("SPATIALFORGE_CACHE", Path.home() / ".cache" / "spatialforge"))
    raw = yaml.safe_load(DEFAULT_PERCEPTION.read_text())
    raw["model_root"] = str(build_tiny_perception(cache / "perception_tiny"))
    cfg = parse_config(raw, str(DEFAULT_PERCEPTION))
    return PerceptionConfig(cfg.stages, cfg.vocabulary, cfg.filter, cfg.postprocess, cfg.batch_size,
                            str(DEFAULT_PERCEPTION))


def depth_colour(depth: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8: near dark blue, far yellow, no depth (0 or not finite) black."""
    valid = np.isfinite(depth) & (depth > 0)
    out = np.zeros(depth.shape + (3,), np.uint8)
    if valid.any():
        lo, hi = np.percentile(depth[valid], [2, 98])
        t = np.clip((depth[valid] - lo) / max(hi - lo, 1e-6), 0, 1) * (len(_RAMP) - 1)
        stops = np.arange(len(_RAMP))
        out[valid] = np.stack([np.interp(t, stops, _RAMP[:, c]) for c in range(3)], -1).round().astype(np.uint8)
    return out


@dataclass
class Answer:
    boxes: Any  # PIL image with every object's boxes drawn
    depth: np.ndarray  # colour image of the metric depth
    columns: list[str]
    rows: list[list[Any]]
    verdict: str
    records: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ModelSpec:
    """A model to ask: a local checkpoint / ``tiny:...`` name (transformers runner), or a served
    model name with ``base_url`` (OpenAI-compatible; the key comes from the environment only)."""

    model: str
    base_url: str | None = None

    def runner(self) -> tuple[str, str, dict[str, Any]]:
        if self.base_url:
            return "openai", self.model, {"base_url": self.base_url}

        require("eval", "asking a local model")
        from ..models.tiny import resolve_model_path

        path = resolve_model_path(self.model)
        if not Path(path).is_dir():
            raise ConfigError(f"model {self.model!r}: no such checkpoint folder (give a local checkpoint, "
                              "tiny:qwen2_5_vl, or a base URL for a served model)")
        return "transformers", path, {}


def ask(image: str | Path, config: PerceptionConfig, *, questions: int = 8, seed: int = 0,
        model: ModelSpec | None = None, progress: Callable[[float, str], None] = lambda f, d: None) -> Answer:
    """Perceive ``image``, generate ``questions`` questions (each with its mirrored partner) and
    optionally ask ``model``; see the module doc."""
    image = Path(image)
    if not image.is_file():
        raise DataError(f"{image.name}: no such image file")
    runner = model.runner() if model is not None else None  # a bad model fails before the perception
    with tempfile.TemporaryDirectory(prefix="spatialforge-ask-") as tmp:
        work = Path(tmp)
        (work / "images").mkdir()
        name = "image" + image.suffix.lower()
        shutil.copy(image, work / "images" / name)
        progress(0.1, "perception and question generation")
        try:
            records, scene, depth = _generate(work, name, config, questions, seed)
        except DataError as e:  # name the user's file, not our temporary copy
            raise DataError(str(e).replace(str(work / "images" / name), image.name)) from None
        progress(0.6, "drawing")

        boxes = draw_record(Image.open(work / "perceived" / scene.image_path), scene,
                            [o.id for o in scene.objects])
        rows = [[r["id"], r["view"], r["task"], r["format"], r["question"], r["answer"]] for r in records]
        columns = TABLE_COLUMNS
        verdict = f"{len(records)} questions ({len(records) // 2} mirrored pairs) on {len(scene.objects)} objects"
        if runner is not None:
            progress(0.7, f"asking {model.model}")
            scored = _score(work, *runner)
            for row in rows:
                s = scored["rows"].get(row[0], {})
                row += [s.get("prediction"), s.get("correct"), scored["pairs"].get(s.get("pair_id"))]
            columns = TABLE_COLUMNS + MODEL_COLUMNS
            verdict = _verdict(scored, len(records))
        progress(1.0, "done")
        return Answer(boxes, depth_colour(depth), list(columns), rows, verdict, records)


def _generate(work: Path, name: str, config: PerceptionConfig, questions: int, seed: int):
    """``generate --source images`` on the one image (``sources.images.generate_from_images``'s
    two steps, so a rejected image is reported with the perception's reason)."""
    pm = perceive_folder(work / "images", config, work / "perceived")
    if pm.skipped:
        raise DataError(f"uploaded image: {next(iter(pm.skipped.values()))}")
    scene = Scene.load(work / "perceived" / (Path(name).stem + ".json"))
    m = generate_dataset(work / "ds", source="folder", scenes_dir=work / "perceived", mirror=True,
                         qa_per_scene=questions, seed=seed)
    records = list(iter_rows(work / "ds", columns=["id", "pair_id", "view", "task", "format", "question",
                                                   "answer", "choices"]))
    if not records:
        why = "; ".join(f"{k}: {v}" for k, v in list(m.skipped.items())[:2])
        raise DataError(f"uploaded image: no questions could be generated ({why or 'no usable objects'})")
    depth = read_depth(work / "perceived" / scene.depth_path) if scene.depth_path else np.zeros((1, 1))
    return records, scene, depth


def _score(work: Path, kind: str, model: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    res = evaluate(model, "synthetic", runner=kind, sources={"synthetic": str(work / "ds")}, out=work / "eval",
                   batch_size=4, max_new_tokens=64, runner_kwargs=kwargs)
    lines = (work / "eval" / "per_sample" / "synthetic.jsonl").read_text().splitlines()
    per_sample = [json.loads(line) for line in lines]
    items = [MirrorItem(r["pair_id"], r["view"], r["kind"], r["parsed"] if r.get("parsable") else None,
                        r.get("gt_value"), r.get("image_width"), r.get("correct"))
             for r in per_sample if r.get("pair_id") and r.get("kind") in MIRROR_KINDS]
    agg = res["benchmarks"]["synthetic"]
    errors = [r["error"] for r in per_sample if str(r.get("error", "")).startswith("generation failed")]
    return {"rows": {r["id"]: r for r in per_sample}, "pairs": mirror_agreements(items), "aggregate": agg,
            "failed": agg.get("n_generation_failed", 0), "first_error": errors[0] if errors else None}


def _verdict(scored: dict[str, Any], n: int) -> str:
    rows = scored["rows"].values()
    right = {v: sum(bool(r.get("correct")) for r in rows if r.get("view") == v) for v in ("original", "mirrored")}
    total = {v: sum(r.get("view") == v for r in rows) for v in ("original", "mirrored")}
    pairs = scored["pairs"]
    lines = [f"correct on the image: {right['original']}/{total['original']}; on its mirror: "
             f"{right['mirrored']}/{total['mirrored']}",
             f"mirror-consistent pairs: {sum(pairs.values())}/{len(pairs)}"]
    if scored["failed"]:
        lines.append(f"{scored['failed']} of {n} requests failed: {scored['first_error']}")
    return "  \n".join(lines)
