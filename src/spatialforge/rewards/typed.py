"""Typed answer reward (beyond SVQA-R1): the evaluation's own per-sample score.

For every completion, :func:`spatialforge.eval.scoring.score_sample` extracts the answer,
parses it with the parser of the row's ``eval_type`` and compares it with the typed
``answer_struct``; its continuous ``score`` in [0, 1] is the reward (one implementation for
evaluation and training):

* numeric: min(p/g, g/p) (lengths in metres, a bare number takes the unit the question
  asks for); count: exact;
* choice (letter), yesno, label (synonyms allowed), order, clock: 1 if right else 0;
* box2d / box3d: IoU; point3d: max(0, 1 - relative error); vector3d: max(0, cos angle);
* an answer the parser cannot read: 0.

Rows with ``eval_type="open"``, an ``eval_type`` evaluation does not know, or no
``answer_struct`` get the Sentence-BERT semantic reward against ``answer`` instead
(batched and cached, see :class:`~spatialforge.rewards.semantic.SemanticReward`).

A typed row whose ``answer_struct`` cannot be scored (bad JSON, wrong fields for its
``eval_type``) also falls back to Sentence-BERT, but not silently: :class:`TypedReward`
counts it (``malformed_truth``), logs a warning naming the row once, and reports the share
of such completions per batch as the metric ``typed/malformed_truth_frac`` (through TRL's
``log_metric``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..eval.parse import extract_answer
from ..eval.scoring import EVAL_TYPES, score_sample
from .format import completion_to_text
from .semantic import SemanticReward

logger = logging.getLogger(__name__)
TYPED_EVAL_TYPES = tuple(t for t in EVAL_TYPES if t != "open")


class MalformedTruth(ValueError):
    """A typed row's ``answer_struct`` cannot be scored (the reward falls back to Sentence-BERT)."""


def typed_score(text: str, answer_struct: Any, eval_type: str, *, question: str | None = None,
                choices: list[str] | None = None) -> float | None:
    """Reward of one completion text, or ``None`` when the row is not typed (use Sentence-BERT).

    Raises :class:`MalformedTruth` when the row is typed but its ``answer_struct`` is broken.
    """
    if eval_type not in TYPED_EVAL_TYPES or answer_struct in (None, ""):
        return None
    try:
        struct = json.loads(answer_struct) if isinstance(answer_struct, str) else answer_struct
        return float(score_sample(text, struct, eval_type, question=question, choices=choices or None).score)
    except (TypeError, ValueError, KeyError) as e:
        raise MalformedTruth(f"{eval_type} answer_struct {str(answer_struct)[:80]!r}: {type(e).__name__}: {e}") from e


class TypedReward:
    """Answer reward by ``eval_type`` (see the module docstring); Sentence-BERT for the rest.

    Reads ``answer_struct`` and ``eval_type`` (and ``question`` / ``choices`` when present)
    from the dataset columns TRL passes as keyword arguments.
    """

    def __init__(self, semantic: SemanticReward | None = None):
        self.semantic = semantic or SemanticReward()
        self.__name__ = "typed"
        self.malformed_truth = 0  # completions scored by Sentence-BERT because their typed truth was broken
        self._warned: set[str] = set()

    def __call__(self, completions: list[Any], answer: list[str], eval_type: list[str] | None = None,
                 answer_struct: list[Any] | None = None, question: list[str] | None = None,
                 choices: list[Any] | None = None, log_metric: Any = None, **kwargs: Any) -> list[float]:
        texts = [completion_to_text(c) for c in completions]
        out: list[float | None] = [None] * len(texts)
        malformed = 0
        if eval_type is not None and answer_struct is not None:
            for i, text in enumerate(texts):
                try:
                    out[i] = typed_score(text, answer_struct[i], eval_type[i],
                                         question=question[i] if question else None,
                                         choices=list(choices[i]) if choices and choices[i] is not None else None)
                except MalformedTruth as e:
                    malformed += 1
                    row = str((kwargs.get("id") or [None] * len(texts))[i] or f"answer {answer[i]!r}")
                    if row not in self._warned:
                        self._warned.add(row)
                        logger.warning("typed reward: row %s has a malformed ground truth (%s); "
                                       "scored with Sentence-BERT instead", row, e)
        self.malformed_truth += malformed
        if log_metric is not None:
            log_metric("typed/malformed_truth_frac", malformed / max(1, len(texts)))
        rest = [i for i, r in enumerate(out) if r is None]
        if rest:
            preds = [extract_answer(texts[i]) or "" for i in rest]
            for i, s in zip(rest, self.semantic.score(preds, [answer[i] for i in rest])):
                out[i] = s
        return [float(r) for r in out]
