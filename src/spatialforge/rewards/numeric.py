"""MRA numeric reward: a denser signal than a success threshold for numbers and counts.

For rows whose ``eval_type`` is ``numeric`` or ``count``, the reward is the mean relative
accuracy (``spatialforge.eval.suite_accuracy.mean_relative_accuracy``) of the parsed answer
against the typed truth: 1 within 5 %, 0.1 less per further 5 % of relative error, 0 from
50 % on or when the answer cannot be read. The evaluation's parsers read the answer (one
implementation: ``score_sample``), so units are converted as in evaluation ("150 cm" for a
truth of 1.5 m scores 1). Other rows get :class:`~spatialforge.rewards.typed.TypedReward`.
"""

from __future__ import annotations

import json
from typing import Any

from ..eval.suite_accuracy import mean_relative_accuracy
from ..eval.scoring import score_sample
from .format import completion_to_text
from .typed import TypedReward

MRA_EVAL_TYPES = ("numeric", "count")


def mra_score(text: str, answer_struct: Any, eval_type: str, question: str | None = None) -> float:
    """MRA of one completion against a numeric/count ``answer_struct`` (0 when unreadable)."""
    struct = json.loads(answer_struct) if isinstance(answer_struct, str) else answer_struct
    s = score_sample(text, struct, eval_type, question=question)
    return mean_relative_accuracy(s.parsed, s.gt_value) if s.parsable else 0.0


class NumericMRAReward:
    """The ``numeric_mra`` answer reward (see the module docstring)."""

    def __init__(self, typed: TypedReward | None = None):
        self.typed = typed or TypedReward()
        self.__name__ = "numeric_mra"

    def __call__(self, completions: list[Any], answer: list[str], eval_type: list[str] | None = None,
                 answer_struct: list[Any] | None = None, question: list[str] | None = None,
                 **kwargs: Any) -> list[float]:
        out = self.typed(completions, answer, eval_type=eval_type, answer_struct=answer_struct,
                         question=question, **kwargs)
        if eval_type is None or answer_struct is None:
            return out
        for i, c in enumerate(completions):
            if eval_type[i] in MRA_EVAL_TYPES and answer_struct[i] not in (None, ""):
                out[i] = mra_score(completion_to_text(c), answer_struct[i], eval_type[i],
                                   question=question[i] if question else None)
        return out
