"""Multiple-choice scoring shared by CV-Bench, EmbSpatial-Bench and 3DSRBench.

One letter extraction for all of them (``spatialforge.eval.parse.parse_choice``), applied to
the final answer (``<answer>`` content when the model reasoned first), so "The answer is (B)"
is B and never the T of "The".
"""

from __future__ import annotations

from typing import Any


def score_choice(prediction: str | None, choices: list[str], answer_letter: str) -> dict[str, Any]:
    from ..parse import ParseFailure, parse_choice

    from .common import final_answer

    parsed = parse_choice(final_answer(prediction), list(choices))
    if isinstance(parsed, ParseFailure):
        return {"parsed": None, "parsable": False, "correct": False, "error": parsed.reason}
    letter = parsed.upper()
    return {"parsed": letter, "parsable": True, "correct": letter == answer_letter.strip().upper()}
