"""transformers backends: Depth Anything V2 (metric), Depth Pro, OWLv2, Grounding DINO, SAM.

Each loads a local folder or hub id with ``from_pretrained`` and uses the PIL image
processors (``*ImageProcessorPil``), which do not need torchvision.  ``transformers`` and
``torch`` are imported when a backend is built, so the oracle path runs without them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from ..extras import require
from .base import Detections, GeometryResult, ImageItem, intrinsics_from_fov, register, unproject_depth


def _torch():
    require("perception", "the transformers perception backends")
    import torch
    import transformers

    return torch, transformers


def pil_processor(name: str) -> Any:
    """transformers' PIL image processor class: ``<name>Pil`` (transformers 5, whose default
    classes need torchvision), else ``<name>`` itself (4.x, where that one is the PIL one)."""
    import transformers

    return getattr(transformers, f"{name}Pil", None) or getattr(transformers, name)


def _load(cls: Any, model: str, what: str) -> Any:
    try:
        return cls.from_pretrained(model)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{what}: cannot load {model!r} ({type(e).__name__}: {str(e).splitlines()[0]})") from None


class _HFBackend:
    def __init__(self, model: str, device: str = "cpu") -> None:
        self.torch, tf = _torch()
        self.model_path = str(model)
        self.device = device
        self.library_version = f"transformers {tf.__version__}"

    def _ready(self, net: Any) -> Any:
        return net.to(self.device).eval()


@register("geometry", "depth_anything_v2")
class DepthAnythingV2Metric(_HFBackend):
    """Metric depth from ``DepthAnythingForDepthEstimation`` (``depth_estimation_type="metric"``);
    the model predicts no intrinsics, so K comes from ``hfov_deg`` (an assumption, recorded in
    the scene's provenance).  Depth at or above ``max_depth`` (the model's ceiling) is invalid."""

    def __init__(self, model: str, hfov_deg: float = 60.0, device: str = "cpu") -> None:
        super().__init__(model, device)
        from transformers import DepthAnythingForDepthEstimation

        if not 1.0 <= float(hfov_deg) < 179.0:
            raise ConfigError(f"depth_anything_v2: hfov_deg must be in [1, 179), got {hfov_deg}")
        self.hfov_deg = float(hfov_deg)
        self.processor = _load(pil_processor("DPTImageProcessor"), model, "depth_anything_v2")
        self.net = self._ready(_load(DepthAnythingForDepthEstimation, model, "depth_anything_v2"))
        if getattr(self.net.config, "depth_estimation_type", "relative") != "metric":
            raise ConfigError(f"depth_anything_v2: {model!r} is a relative-depth model (need depth_estimation_type='metric')")
        self.max_depth = float(self.net.config.max_depth)

    def __call__(self, images: list[ImageItem]) -> list[GeometryResult]:
        out = []
        for item in images:  # the processor keeps each image's aspect ratio: sizes differ, so one at a time
            inputs = self.processor(images=item.rgb, return_tensors="pt").to(self.device)
            with self.torch.inference_mode():
                pred = self.net(**inputs)
            depth = self.processor.post_process_depth_estimation(pred, target_sizes=[item.hw])[0]["predicted_depth"]
            depth = depth.float().cpu().numpy().astype(np.float32)
            valid = np.isfinite(depth) & (depth > 0) & (depth < self.max_depth * 0.999)
            K = intrinsics_from_fov(item.hw[1], item.hw[0], self.hfov_deg)
            out.append(GeometryResult(unproject_depth(np.where(valid, depth, 0.0), K), depth, valid, K))
        return out


@register("detection", "owlv2")
class OWLv2Detector(_HFBackend):
    """Open-vocabulary boxes from ``Owlv2ForObjectDetection``; queries are
    ``prompt.format(category)``.  OWLv2 pads images to a square, so boxes are scaled with
    the padded side and clipped to the image."""

    def __init__(self, model: str, prompt: str = "a photo of a {}", threshold: float = 0.1, device: str = "cpu") -> None:
        super().__init__(model, device)
        from transformers import AutoTokenizer, Owlv2ForObjectDetection

        if "{}" not in prompt:
            raise ConfigError(f"owlv2: prompt must contain '{{}}' for the category, got {prompt!r}")
        self.prompt, self.threshold = prompt, float(threshold)
        self.image_processor = _load(pil_processor("Owlv2ImageProcessor"), model, "owlv2")
        self.tokenizer = _load(AutoTokenizer, model, "owlv2")
        self.net = self._ready(_load(Owlv2ForObjectDetection, model, "owlv2"))

    def __call__(self, images: list[ImageItem], vocabularies: list[list[str]]) -> list[Detections]:
        out = []
        for item, vocab in zip(images, vocabularies, strict=True):
            if not vocab:
                out.append(Detections(np.zeros((0, 4)), np.zeros(0), []))
                continue
            text = self.tokenizer([self.prompt.format(c) for c in vocab], padding="max_length",
                                  max_length=self.net.config.text_config.max_position_embeddings,
                                  truncation=True, return_tensors="pt")
            pixels = self.image_processor(images=item.rgb, return_tensors="pt")
            with self.torch.inference_mode():
                pred = self.net(input_ids=text["input_ids"].to(self.device),
                                attention_mask=text["attention_mask"].to(self.device),
                                pixel_values=pixels["pixel_values"].to(self.device))
            H, W = item.hw
            side = max(H, W)
            res = self.image_processor.post_process_object_detection(pred, threshold=self.threshold,
                                                                     target_sizes=[(side, side)])[0]
            boxes = res["boxes"].float().cpu().numpy().astype(np.float64).reshape(-1, 4)
            boxes = np.clip(boxes, 0, [W, H, W, H])
            labels = [vocab[int(i)] for i in res["labels"].cpu().numpy()]
            out.append(Detections(boxes, res["scores"].float().cpu().numpy(), labels))
        return out


@register("segmentation", "sam")
class SAMFromBoxes(_HFBackend):
    """One mask per box from ``SamModel`` (single-mask output), at the image's size.
    Subclasses name another model class with the same processor (``segment.SamHQFromBoxes``)."""

    model_class = "SamModel"

    def __init__(self, model: str, device: str = "cpu") -> None:
        super().__init__(model, device)
        import transformers
        from transformers import SamProcessor

        name = self.backend_name
        self.processor = SamProcessor(image_processor=_load(pil_processor("SamImageProcessor"), model, name))
        self.net = self._ready(_load(getattr(transformers, self.model_class), model, name))
        self.forward_kwargs: dict[str, Any] = {}

    def __call__(self, images: list[ImageItem], boxes: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for item, b in zip(images, boxes, strict=True):
            b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
            if b.shape[0] == 0:
                out.append(np.zeros((0, *item.hw), dtype=bool))
                continue
            if not np.all(np.isfinite(b)):
                raise DataError(f"image {item.id!r}: non-finite box given to SAM")
            inputs = self.processor(images=item.rgb, input_boxes=[b.tolist()], return_tensors="pt")
            with self.torch.inference_mode():
                pred = self.net(pixel_values=inputs["pixel_values"].to(self.device),
                                input_boxes=inputs["input_boxes"].to(self.device), multimask_output=False,
                                **self.forward_kwargs)
            masks = self.processor.post_process_masks(pred.pred_masks.cpu(), inputs["original_sizes"],
                                                      inputs["reshaped_input_sizes"])[0]
            out.append(masks[:, 0].numpy().astype(bool))
        return out


@register("detection", "grounding_dino")
class GroundingDinoDetector(_HFBackend):
    """Open-vocabulary boxes from ``GroundingDinoForObjectDetection``.  The prompt is
    ``"cat one. cat two. ..."``, built token by token so each category's token span is known;
    a query's score for a category is its highest token probability in that span, and its
    label the best category (no decoding of phrases back to names)."""

    def __init__(self, model: str, threshold: float = 0.3, device: str = "cpu") -> None:
        super().__init__(model, device)
        from transformers import AutoTokenizer, GroundingDinoForObjectDetection

        self.threshold = float(threshold)
        self.image_processor = _load(pil_processor("GroundingDinoImageProcessor"), model, "grounding_dino")
        self.tokenizer = _load(AutoTokenizer, model, "grounding_dino")
        self.net = self._ready(_load(GroundingDinoForObjectDetection, model, "grounding_dino"))

    def _prompt(self, vocab: list[str]) -> tuple[list[int], list[tuple[int, int]]]:
        tok = self.tokenizer
        dot = tok(".", add_special_tokens=False)["input_ids"]
        ids, spans = [tok.cls_token_id], []
        for c in vocab:
            piece = tok(c, add_special_tokens=False)["input_ids"]
            spans.append((len(ids), len(ids) + len(piece)))
            ids += piece + dot
        ids.append(tok.sep_token_id)
        if len(ids) > self.net.config.max_text_len:
            raise ConfigError(f"grounding_dino: the vocabulary needs {len(ids)} text tokens, the model takes "
                              f"{self.net.config.max_text_len}; use fewer categories")
        return ids, spans

    def __call__(self, images: list[ImageItem], vocabularies: list[list[str]]) -> list[Detections]:
        torch = self.torch
        out = []
        for item, vocab in zip(images, vocabularies, strict=True):
            if not vocab:
                out.append(Detections(np.zeros((0, 4)), np.zeros(0), []))
                continue
            ids, spans = self._prompt(list(vocab))
            pixels = self.image_processor(images=item.rgb, return_tensors="pt")
            input_ids = torch.tensor([ids], device=self.device)
            with torch.inference_mode():
                pred = self.net(pixel_values=pixels["pixel_values"].to(self.device),
                                pixel_mask=pixels["pixel_mask"].to(self.device), input_ids=input_ids,
                                attention_mask=torch.ones_like(input_ids), token_type_ids=torch.zeros_like(input_ids))
            prob = pred.logits[0].sigmoid().float().cpu().numpy()  # (queries, text tokens)
            per_cat = np.stack([prob[:, a:b].max(axis=1) for a, b in spans], axis=1)
            label, score = per_cat.argmax(axis=1), per_cat.max(axis=1)
            keep = np.flatnonzero(score >= self.threshold)
            H, W = item.hw
            cx, cy, w, h = pred.pred_boxes[0].float().cpu().numpy().astype(np.float64)[keep].T
            boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) * [W, H, W, H]
            out.append(Detections(np.clip(boxes, 0, [W, H, W, H]), score[keep], [vocab[i] for i in label[keep]]))
        return out


@register("geometry", "depth_pro")
class DepthPro(_HFBackend):
    """Metric depth and the field of view from ``DepthProForDepthEstimation``.

    transformers 5's ``DepthProImageProcessor`` needs torchvision, so its two steps are done
    here with torch, as it does them: rescale and normalise first, then a bilinear resize
    (no antialias) to the configured size; after the model, depth * W / f, resize back to the
    image and invert (the model predicts canonical inverse depth).  The focal length comes
    from the predicted horizontal field of view, or from ``hfov_deg`` when the checkpoint has
    no FOV head."""

    def __init__(self, model: str, hfov_deg: float = 60.0, device: str = "cpu") -> None:
        super().__init__(model, device)
        from transformers import DepthProForDepthEstimation
        from transformers.utils import cached_file

        try:
            pp = json.loads(Path(cached_file(model, "preprocessor_config.json")).read_text())
        except (OSError, ValueError) as e:
            raise ConfigError(f"depth_pro: cannot read the preprocessor config of {model!r} ({e})") from None
        self.size = (int(pp.get("size", {}).get("height", 1536)), int(pp.get("size", {}).get("width", 1536)))
        self.mean = np.asarray(pp.get("image_mean", [0.5, 0.5, 0.5]), dtype=np.float32)
        self.std = np.asarray(pp.get("image_std", [0.5, 0.5, 0.5]), dtype=np.float32)
        self.scale = float(pp.get("rescale_factor", 1 / 255))
        self.hfov_deg = float(hfov_deg)
        self.net = self._ready(_load(DepthProForDepthEstimation, model, "depth_pro"))

    def __call__(self, images: list[ImageItem]) -> list[GeometryResult]:
        torch = self.torch
        F = torch.nn.functional
        out = []
        for item in images:
            H, W = item.hw
            x = (item.rgb.astype(np.float32) * self.scale - self.mean) / self.std
            x = torch.from_numpy(x).permute(2, 0, 1)[None].to(self.device)
            x = F.interpolate(x, size=self.size, mode="bilinear", antialias=False)
            with torch.inference_mode():
                pred = self.net(pixel_values=x)
            fov = float(pred.field_of_view[0]) if pred.field_of_view is not None else self.hfov_deg
            if not 1.0 <= fov < 179.0:
                raise DataError(f"image {item.id!r}: depth_pro predicted a field of view of {fov:.1f} degrees")
            K = intrinsics_from_fov(W, H, fov)
            inv = pred.predicted_depth[0].float() * (W / K[0, 0])
            inv = F.interpolate(inv[None, None], size=(H, W), mode="bilinear")[0, 0]
            depth = (1.0 / inv.clamp(min=1e-4, max=1e4)).cpu().numpy().astype(np.float32)
            valid = np.isfinite(depth) & (depth > 0) & (depth < 1e4 * 0.999)
            out.append(GeometryResult(unproject_depth(np.where(valid, depth, 0.0), K), depth, valid, K))
        return out


def photo_vote(top: list[str], include: set[str]) -> str | None:
    """HiSpatial §7.1's CLIP rule: keep an image when more than half of its top-k tags are in
    the include set (natural-photo descriptions); else the reason."""
    n = sum(t in include for t in top)
    if 2 * n > len(top):
        return None
    return f"not a natural photo: {n} of its top {len(top)} CLIP tags are photo tags ({', '.join(top)})"


@register("photo_filter", "clip")
class CLIPPhotoFilter(_HFBackend):
    """CLIP semantic filter (HiSpatial §7.1, after SpatialVLM): the image's ``top_k`` most
    similar tags among ``include`` (natural photographs) and ``exclude`` (charts, GUIs, ...)
    must be more than half ``include``."""

    def __init__(self, model: str, include: list[str], exclude: list[str], top_k: int = 5, device: str = "cpu") -> None:
        super().__init__(model, device)
        from transformers import AutoTokenizer, CLIPModel

        tags = list(include) + list(exclude)
        if not include or not exclude or not all(isinstance(t, str) and t for t in tags) or len(set(tags)) != len(tags):
            raise ConfigError("clip photo filter: include and exclude must be non-empty lists of distinct tags")
        if not 1 <= int(top_k) <= len(tags):
            raise ConfigError(f"clip photo filter: top_k must be in [1, {len(tags)}], got {top_k}")
        self.tags, self.include, self.top_k = tags, set(include), int(top_k)
        self.image_processor = _load(pil_processor("CLIPImageProcessor"), model, "clip")
        tokenizer = _load(AutoTokenizer, model, "clip")
        self.net = self._ready(_load(CLIPModel, model, "clip"))
        text = tokenizer(tags, padding=True, truncation=True, return_tensors="pt").to(self.device)
        with self.torch.inference_mode():
            emb = self.net.get_text_features(**text)
        emb = getattr(emb, "pooler_output", emb)  # transformers 5 returns an output object
        self.text = self.torch.nn.functional.normalize(emb.float(), dim=-1)

    def top_tags(self, images: list[ImageItem]) -> list[list[str]]:
        pixels = self.image_processor(images=[i.rgb for i in images], return_tensors="pt")["pixel_values"]
        with self.torch.inference_mode():
            emb = self.net.get_image_features(pixel_values=pixels.to(self.device))
        emb = self.torch.nn.functional.normalize(getattr(emb, "pooler_output", emb).float(), dim=-1)
        sims = (emb @ self.text.T).cpu().numpy()
        return [[self.tags[j] for j in np.argsort(-row, kind="stable")[: self.top_k]] for row in sims]

    def __call__(self, images: list[ImageItem]) -> list[str | None]:
        return [photo_vote(top, self.include) for top in self.top_tags(images)]


def vlm_runner(model: str, device: str, what: str) -> tuple[Any, str]:
    """The transformers runner (``eval/runners.py``) of a VLM backend (tagger, grounder) and its
    library version; a checkpoint that will not load is a ``ConfigError`` naming ``what``."""
    require("perception", what)
    import transformers

    from ..eval.runners import make_runner
    from ..models.tiny import resolve_model_path

    try:
        runner = make_runner("transformers", resolve_model_path(str(model)), device=device,
                             local_files_only=True if str(model).startswith("tiny:") else None)
    except (OSError, ValueError) as e:
        raise ConfigError(f"{what}: cannot load {model!r} ({type(e).__name__}: {str(e).splitlines()[0]})") from None
    return runner, f"transformers {transformers.__version__}"

