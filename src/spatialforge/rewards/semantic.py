"""Semantic reward r^s (SVQA-R1 section 3.2): Sentence-BERT cosine of the predicted answer
(the text inside ``<answer>`` tags) and the reference answer.

Batched: a call embeds the distinct predictions of the batch in one pass; reference
embeddings are cached (each reference recurs G times per batch and again every epoch).
"""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Any, Sequence

import torch

from ..eval.metrics import default_sbert_model, load_sbert
from ..eval.parse import extract_answer
from .format import completion_to_text


def default_device() -> str:
    """This process's GPU under ``accelerate launch`` (``LOCAL_RANK``), else the CPU."""
    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}"
    return "cpu"


class SentenceEncoder:
    """A lazily loaded SentenceTransformer returning L2-normalised embeddings, with a cache.

    ``model``: a model id/path (default: ``eval.metrics.default_sbert_model()``, the offline
    all-MiniLM-L6-v2) or a loaded ``SentenceTransformer``.  Models load through
    ``eval.metrics.load_sbert``, so rewards and evaluation share one instance per process.
    ``cache_size`` bounds the number of cached texts (least recently used are evicted).
    """

    def __init__(self, model: Any = None, device: str | None = None, batch_size: int = 64, cache_size: int = 65536):
        loaded = model is not None and not isinstance(model, (str, os.PathLike))
        self._model = model if loaded else None
        self.name = None if loaded else str(model or default_sbert_model())
        self.device = device
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()

    @property
    def model(self):
        if self._model is None:
            self._model = load_sbert(self.name, self.device or default_device())
        return self._model

    def encode(self, texts: Sequence[str], cache: bool = False) -> torch.Tensor:
        """(len(texts), dim) float32 CPU embeddings; ``cache=True`` keeps them for later calls."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh: dict[str, torch.Tensor] = {}
        if todo:
            emb = self.model.encode(
                todo, batch_size=self.batch_size, convert_to_tensor=True, normalize_embeddings=True,
                show_progress_bar=False,
            )
            fresh = dict(zip(todo, emb.float().cpu()))
        out = [self._cache[t] if t in self._cache else fresh[t] for t in texts]
        for t in texts:
            if t in self._cache:
                self._cache.move_to_end(t)
        if cache:
            for t, e in fresh.items():
                self._cache[t] = e
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return torch.stack(out) if out else torch.zeros(0, 0)

    def cosine(self, predictions: Sequence[str], references: Sequence[str]) -> list[float]:
        """Cosine similarity of each prediction with its reference (references are cached)."""
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions for {len(references)} references")
        if not predictions:
            return []
        ref = self.encode(references, cache=True)
        pred = self.encode(predictions)
        return (pred * ref).sum(dim=1).clamp(-1.0, 1.0).tolist()


class SemanticReward:
    """r^s: cosine of Sentence-BERT embeddings of the extracted answer and the ``answer`` column.

    The predicted answer is :func:`spatialforge.eval.parse.extract_answer` of the completion;
    an empty prediction scores 0.0.  Pass ``encoder`` to share one model between rewards.
    """

    def __init__(self, model: Any = None, device: str | None = None, batch_size: int = 64,
                 encoder: SentenceEncoder | None = None):
        self.encoder = encoder or SentenceEncoder(model, device=device, batch_size=batch_size)
        self.__name__ = "semantic"

    def score(self, predictions: Sequence[str], references: Sequence[str]) -> list[float]:
        """Rewards for already extracted answers (0.0 where the prediction is empty)."""
        keep = [i for i, p in enumerate(predictions) if p and p.strip()]
        out = [0.0] * len(predictions)
        sims = self.encoder.cosine([predictions[i].strip() for i in keep], [str(references[i]).strip() for i in keep])
        for i, s in zip(keep, sims):
            out[i] = s
        return out

    def __call__(self, completions: list[Any], answer: list[str], **kwargs: Any) -> list[float]:
        preds = [extract_answer(completion_to_text(c)) or "" for c in completions]
        return self.score(preds, answer)
