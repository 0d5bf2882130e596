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
"""

from __future__ import annotations

import json
from typing import Any

from ..eval.parse import extract_answer
from ..eval.scoring import EVAL_TYPES, score_sample
from .format import completion_to_text
from .semantic import SemanticReward

TYPED_EVAL_TYPES = tuple(t for t in EVAL_TYPES if t != "open")


def typed_score(text: str, answer_struct: Any, eval_type: str, *, question: str | None = None,
                choices: list[str] | None = None) -> float | None:
    """Reward of one completion text, or ``None`` when it has no typed score (use Sentence-BERT)."""
    if eval_type not in TYPED_EVAL_TYPES or answer_struct in (None, ""):
        return None
    struct = json.loads(answer_struct) if isinstance(answer_struct, str) else answer_struct
    try:
        return float(score_sample(text, struct, eval_type, question=question, choices=choices or None).score)
    except (TypeError, ValueError, KeyError):  # a malformed ground truth: no typed score for this row
        return None


class TypedReward:
    """Answer reward by ``eval_type`` (see the module docstring); Sentence-BERT for the rest.

    Reads ``answer_struct`` and ``eval_type`` (and ``question`` / ``choices`` when present)
    from the dataset columns TRL passes as keyword arguments.
    """

    def __init__(self, semantic: SemanticReward | None = None):
        self.semantic = semantic or SemanticReward()
        self.__name__ = "typed"

    def __call__(self, completions: list[Any], answer: list[str], eval_type: list[str] | None = None,
                 answer_struct: list[Any] | None = None, question: list[str] | None = None,
                 choices: list[Any] | None = None, **kwargs: Any) -> list[float]:
        texts = [completion_to_text(c) for c in completions]
        out: list[float | None] = [None] * len(texts)
        if eval_type is not None and answer_struct is not None:
            for i, text in enumerate(texts):
                out[i] = typed_score(text, answer_struct[i], eval_type[i],
                                     question=question[i] if question else None,
                                     choices=list(choices[i]) if choices and choices[i] is not None else None)
        rest = [i for i, r in enumerate(out) if r is None]
        if rest:
            preds = [extract_answer(texts[i]) or "" for i in rest]
            for i, s in zip(rest, self.semantic.score(preds, [answer[i] for i in rest])):
                out[i] = s
        return [float(r) for r in out]
