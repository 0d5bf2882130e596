"""Multiple-choice scoring shared by CV-Bench, EmbSpatial-Bench and 3DSRBench.

Our rule: one letter extraction for all of them (``spatialforge.eval.parse.parse_choice``),
applied to the final answer (``<answer>`` content when the model reasoned first), so "The
answer is (B)" is B and never the T of "The". Each benchmark also records the letter its
official scorer reads from the raw output (``official_parsed`` / ``official_correct``,
rules in ``official.py``).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

from .base import Benchmark
from ..parse import parse_choice, ParseFailure
from .common import final_answer


def score_choice(prediction: str | None, choices: list[str], answer_letter: str) -> dict[str, Any]:
    parsed = parse_choice(final_answer(prediction), list(choices))
    if isinstance(parsed, ParseFailure):
        return {"parsed": None, "parsable": False, "correct": False, "error": parsed.reason}
    letter = parsed.upper()
    return {"parsed": letter, "parsable": True, "correct": letter == answer_letter.strip().upper()}


class MCQBenchmark(Benchmark):
    """A multiple-choice benchmark: ``sample.answer`` is the letter, ``sample.choices`` the
    options; each per-sample dict is the base record, :func:`score_choice` and the ``meta``
    fields named in ``score_fields`` (what the benchmark's aggregate groups by)."""

    score_fields: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def official_choice(self, sample, prediction: str | None) -> str:
        """The letter the benchmark's official scorer reads from the raw output ("" for none)."""

    def score(self, sample, prediction, judge=None):
        rec = self.base_record(sample, prediction)
        rec.update(score_choice(prediction, sample.choices, sample.answer))
        rec.update({k: sample.meta[k] for k in self.score_fields})
        letter = self.official_choice(sample, prediction or "")
        rec["official_parsed"] = letter
        rec["official_correct"] = letter == sample.answer.strip().upper()
        return rec
