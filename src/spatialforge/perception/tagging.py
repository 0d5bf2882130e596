"""Tagging backends: which categories of a vocabulary are in an image.

The tags replace the config's vocabulary for that image's detector and feed the image filter's
``include_tags`` / ``exclude_tags`` (``apply_tags``).  Every tagger chooses from
``vocabulary`` (by default the config's ``vocabulary`` plus its include/exclude tags, filled in
by ``config.parse_config``) and returns tags in vocabulary order, so the output does not depend
on scores' ties or on batch composition.

Thresholding rules (the two zero-shot model families score differently):

* ``siglip``: SigLIP is trained with a sigmoid loss, so ``sigmoid(logits_per_image)`` is an
  independent probability per label.  A label is a tag when its probability is
  ``>= threshold`` (default 0.05; released SigLIP checkpoints give present objects of a
  cluttered scene roughly 0.05-0.5).
* ``clip``: CLIP's logits are only meaningful relative to each other: the probabilities are a
  softmax over the vocabulary and compete.  A label is a tag when its probability is
  ``>= threshold`` x the uniform share 1/|vocabulary| (default 1.0: better than chance).
* Both keep at most ``max_tags`` labels (the highest scoring, then put back in vocabulary order).

``vlm``: the project's transformers runner (``eval.runners``, e.g. Qwen2.5-VL) is asked to list
the objects; the answer is parsed to vocabulary names (``parse_object_list``).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from .base import ImageItem, register
from .hf import _HFBackend, _load, pil_processor, vlm_runner


def _check_vocabulary(vocabulary: Any, what: str) -> list[str]:
    if not isinstance(vocabulary, (list, tuple)) or not vocabulary or \
            not all(isinstance(v, str) and v.strip() for v in vocabulary):
        raise ConfigError(f"{what}: vocabulary must be a non-empty list of category names")
    out = list(dict.fromkeys(v.strip() for v in vocabulary))
    return out


def select_tags(probs: np.ndarray, vocabulary: list[str], threshold: float, max_tags: int) -> list[str]:
    """Labels with ``probs >= threshold``, at most ``max_tags`` (highest first; ties: vocabulary
    order), returned in vocabulary order."""
    passing = np.flatnonzero(probs >= threshold)
    best = passing[np.argsort(-probs[passing], kind="stable")][:max_tags]
    return [vocabulary[i] for i in sorted(best)]


class _ZeroShotTagger(_HFBackend, ABC):
    """A two-tower model scoring ``prompt.format(label)`` against the image."""

    model_class = ""
    processor_class = ""
    default_threshold = 0.0

    def __init__(self, model: str, vocabulary: list[str], prompt: str = "a photo of a {}",
                 threshold: float | None = None, max_tags: int = 10, device: str = "cpu") -> None:
        super().__init__(model, device)
        import transformers
        from transformers import AutoTokenizer

        name = self.backend_name
        self.vocabulary = _check_vocabulary(vocabulary, f"{name} tagger")
        if "{}" not in prompt:
            raise ConfigError(f"{name} tagger: prompt must contain '{{}}' for the category, got {prompt!r}")
        self.threshold = float(self.default_threshold if threshold is None else threshold)
        if isinstance(max_tags, bool) or not isinstance(max_tags, int) or max_tags < 1:
            raise ConfigError(f"{name} tagger: max_tags must be an integer >= 1, got {max_tags!r}")
        self.max_tags = max_tags
        self.image_processor = _load(pil_processor(self.processor_class), model, name)
        tokenizer = _load(AutoTokenizer, model, name)
        self.net = self._ready(_load(getattr(transformers, self.model_class), model, name))
        self.text = self._tokenize(tokenizer, [prompt.format(v) for v in self.vocabulary])

    def _tokenize(self, tokenizer: Any, texts: list[str]) -> dict[str, Any]:
        t = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
        return {k: v.to(self.device) for k, v in t.items() if k in ("input_ids", "attention_mask")}

    @abstractmethod
    def _probs(self, logits: np.ndarray) -> np.ndarray:
        """Per-label probabilities from the (images, labels) logits: the rule of each model family."""

    def scores(self, images: list[ImageItem]) -> np.ndarray:
        """(images, vocabulary) probabilities, as the thresholding rule reads them."""
        if not images:
            return np.zeros((0, len(self.vocabulary)))
        pixels = self.image_processor(images=[i.rgb for i in images], return_tensors="pt")["pixel_values"]
        with self.torch.inference_mode():
            out = self.net(pixel_values=pixels.to(self.device), **self.text)
        return self._probs(out.logits_per_image.double().cpu().numpy())

    def __call__(self, images: list[ImageItem]) -> list[list[str]]:
        return [select_tags(p, self.vocabulary, self.threshold, self.max_tags) for p in self.scores(images)]


@register("tagging", "siglip")
class SigLIPTagger(_ZeroShotTagger):
    """``SiglipModel`` (or ``Siglip2Model`` via ``model_class``): per-label sigmoid."""

    model_class = "SiglipModel"
    processor_class = "SiglipImageProcessor"
    default_threshold = 0.05

    def _tokenize(self, tokenizer: Any, texts: list[str]) -> dict[str, Any]:
        # SigLIP was trained on texts padded to max_length and pools the last token: pad the same way.
        n = int(self.net.config.text_config.max_position_embeddings)
        t = tokenizer(texts, padding="max_length", max_length=n, truncation=True, return_tensors="pt")
        return {"input_ids": t["input_ids"].to(self.device)}

    def _probs(self, logits: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-logits))


@register("tagging", "clip")
class CLIPTagger(_ZeroShotTagger):
    """``CLIPModel``: softmax over the vocabulary; ``threshold`` is relative to 1/|vocabulary|."""

    model_class = "CLIPModel"
    processor_class = "CLIPImageProcessor"
    default_threshold = 1.0

    def _probs(self, logits: np.ndarray) -> np.ndarray:
        z = np.exp(logits - logits.max(axis=1, keepdims=True))
        # scale so that the uniform share is 1: the threshold reads "times better than chance"
        return z / z.sum(axis=1, keepdims=True) * len(self.vocabulary)


# --------------------------------------------------------------------------- VLM lister
_ARTICLE = re.compile(r"^(?:the|a|an|some|two|three|several|many|\d+)\s+")


def _plural_forms(name: str) -> set[str]:
    last = name.split(" ")[-1]
    stem = name[: len(name) - len(last)]
    forms = {last + "s", last + "es"}
    if last.endswith("y"):
        forms.add(last[:-1] + "ies")
    if last.endswith(("f", "fe")):
        forms.add(last.rstrip("e").rstrip("f") + "ves")
    return {name} | {stem + f for f in forms}


def parse_object_list(text: str, vocabulary: list[str]) -> list[str]:
    """Vocabulary names mentioned as items of a listed answer ("a chair, two mugs and a lamp"):
    items split at commas, semicolons, new lines, bullets and "and"; articles and counts
    dropped; an item matches a name (or its plural) exactly, case-insensitively.  Returns
    vocabulary order, each name once."""
    items = re.split(r"[,;\n]|\band\b|^\s*[-*\d.]+\s", text.lower(), flags=re.MULTILINE)
    found = set()
    forms = {v: _plural_forms(v.lower()) for v in vocabulary}
    for item in items:
        item = _ARTICLE.sub("", re.sub(r"[^a-z0-9 ]+", " ", item).strip()).strip()
        item = re.sub(r"\s+", " ", item)
        for v, f in forms.items():
            if item in f:
                found.add(v)
    return [v for v in vocabulary if v in found]


@register("tagging", "vlm")
class VLMLister:
    """A VLM (the transformers runner: a local path or hub id of e.g. Qwen2.5-VL) answers
    ``prompt`` (the vocabulary is appended when ``{vocabulary}`` is in it); the answer is parsed
    with ``parse_object_list``.  Greedy decoding, so the tags are deterministic."""

    def __init__(self, model: str, vocabulary: list[str], prompt: str = "List the objects in this image, "
                 "separated by commas. Choose from: {vocabulary}.", max_new_tokens: int = 64,
                 device: str = "cpu") -> None:
        self.vocabulary = _check_vocabulary(vocabulary, "vlm tagger")
        self.prompt = prompt.replace("{vocabulary}", ", ".join(self.vocabulary))
        self.max_new_tokens = int(max_new_tokens)
        self.model_path = str(model)
        self.runner, self.library_version = vlm_runner(model, device, "vlm tagger")
        self.answers: list[str] = []  # the last batch's raw answers (for inspection)

    def __call__(self, images: list[ImageItem]) -> list[list[str]]:
        from PIL import Image

        from ..eval.runners import GenRequest

        reqs = [GenRequest(i.id, self.prompt, [Image.fromarray(i.rgb)]) for i in images]
        self.answers = self.runner.generate(reqs, max_new_tokens=self.max_new_tokens) if reqs else []
        return [parse_object_list(a, self.vocabulary) for a in self.answers]


# --------------------------------------------------------------------------- pipeline glue
def apply_tags(items: list[ImageItem], tags: list[list[str]], vocabulary: tuple[str, ...],
               include: tuple[str, ...], exclude: tuple[str, ...]) -> list[list[str] | DataError]:
    """Per image: the detector's vocabulary (its tags that are in ``vocabulary``), or the
    ``DataError`` that rejects it: a tag in ``exclude``, or none of ``include`` when that list
    is given."""
    out: list[list[str] | DataError] = []
    for item, t in zip(items, tags, strict=True):
        bad = [x for x in t if x in exclude]
        if bad:
            out.append(DataError(f"image {item.id!r}: tagged {', '.join(bad)} (filter.exclude_tags)"))
        elif include and not any(x in include for x in t):
            out.append(DataError(f"image {item.id!r}: none of filter.include_tags ({', '.join(include)}) among its "
                                 f"tags ({', '.join(t) or 'none'})"))
        else:
            out.append([x for x in t if x in vocabulary] if vocabulary else list(t))
    return out
