"""LLM rewriting for the flipped image (SVQA-R1 §3.1, Table 1), checked before it is kept.

The prompt is SVQA-R1's Table 1 instruction in our words: rewrite question and answer so they
hold for the horizontally flipped image, as if it were the original, and verify the left/right
mapping before answering.  It goes through the project's one client
(:class:`spatialforge.llm_client.ChatClient`: retries, timeouts, circuit breaker, key from
the environment).  A rewrite is then checked:

1. against the rules (:func:`directional_signature`): when the rules could mirror the record,
   the rewrite must name the same sides, turning senses and clock hours as the rules' rewrite;
   when they could not, its side words must be the original's swapped;
2. optionally (``verify``) by a second call that judges the rewrite.

Status ``llm-verified`` when a check confirmed it (the rules or the verifying call), ``llm``
otherwise; a failed check or call rejects the record with the reason.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

from ..llm_client import ChatClient, EndpointError
from .rules import Mirrored
from .words import TEXT_SIDE_RE, mirror_word

REWRITE_PROMPT = """You help build spatial reasoning data. Below is a question about a photo and its answer.
The photo has now been flipped horizontally (mirrored left to right). Rewrite the question and the answer so
that both are correct for the flipped photo, written as if the flipped photo were the original; never mention
the flip. Change only what the flip changes: left and right, clockwise and counter-clockwise, clock directions
(3 o'clock becomes 9 o'clock) and horizontal positions. Distances, sizes, counts, heights, depth order and
above/below stay as they are. Before you answer, check the left/right relations: an object that was on the
left must now be on the right, and every object keeps its name. If the original answer maps an object to the
wrong side, correct the mapping.{options}
Question: {question}
Answer: {answer}
Reply with one JSON object and nothing else: {{"question": "...", "answer": "..."{choices_key}}}."""

VERIFY_PROMPT = """A question and answer about a photo were rewritten for the same photo flipped horizontally
(mirrored left to right). Is the rewrite correct for the flipped photo: sides and turning senses swapped,
clock directions mirrored, everything else kept, no mention of the flip?
Original question: {question}
Original answer: {answer}
Rewritten question: {new_question}
Rewritten answer: {new_answer}
Reply with one JSON object and nothing else: {{"correct": true or false, "reason": "..."}}."""

_HOUR_RE = re.compile(r"\b(\d{1,2})\s*o['\u2019]\s*clock\b", re.I)
_CANON = {"counter-clockwise": "counterclockwise", "anticlockwise": "counterclockwise",
          "anti-clockwise": "counterclockwise"}


class LLMFailure(Exception):
    """The call failed or its reply is unusable; the message says why."""


@dataclass
class LLMMirror:
    client: ChatClient
    model: str
    verify: bool = False
    temperature: float = 0.0

    def _ask(self, prompt: str) -> dict:
        payload = {"model": self.model, "temperature": self.temperature,
                   "messages": [{"role": "user", "content": prompt}]}
        try:
            text = self.client.complete(payload)
        except EndpointError as e:
            raise LLMFailure(f"llm call failed: {e}") from None
        m = re.search(r"\{.*\}", text, re.S)  # models wrap JSON in prose or code fences
        try:
            out = json.loads(m.group(0)) if m else None
        except ValueError:
            out = None
        if not isinstance(out, dict):
            raise LLMFailure(f"llm reply is not a JSON object: {text[:120]!r}")
        return out

    def rewrite(self, question: str, answer: str, choices: Sequence[str], ruled: Mirrored) -> Mirrored:
        """The LLM's rewrite, checked; ``ruled`` is the rules' result for the same record."""
        opts = "" if not choices else "\nOptions (rewrite each one, keep their order): " + json.dumps(list(choices))
        out = self._ask(REWRITE_PROMPT.format(question=question, answer=answer, options=opts,
                                              choices_key=', "choices": [...]' if choices else ""))
        q, a = out.get("question"), out.get("answer")
        ch = out.get("choices", list(choices)) if choices else []
        if not isinstance(q, str) or not isinstance(a, (str, int, float)) or not isinstance(ch, list) \
                or len(ch) != len(choices):
            raise LLMFailure("llm reply lacks question / answer (or the options changed in number)")
        a, ch = str(a), tuple(str(c) for c in ch)
        if ruled.status in ("exact-rule", "unchanged"):
            if directional_signature(q, a, ch) != directional_signature(ruled.question, ruled.answer, ruled.choices):
                return Mirrored("rejected", q, a, ch, reason="llm rewrite disagrees with the rules' rewrite "
                                                            "(sides, turning senses or clock hours)")
            status = "llm-verified"
        else:
            if side_counts(q, a, ch) != swapped_counts(question, answer, choices):
                return Mirrored("rejected", q, a, ch, reason="llm rewrite does not swap the original's side words")
            status = "llm"
        if self.verify:
            v = self._ask(VERIFY_PROMPT.format(question=question, answer=answer, new_question=q, new_answer=a))
            if v.get("correct") is not True:
                return Mirrored("rejected", q, a, ch, reason=f"verifier: {str(v.get('reason', 'not correct'))[:200]}")
            status = "llm-verified"
        return Mirrored(status, q, a, ch, ("llm",))


def _words(text: str) -> list[str]:
    return [_CANON.get(w.lower(), w.lower()) for w in TEXT_SIDE_RE.findall(text)]


def directional_signature(question: str, answer: str, choices: Sequence[str] = ()) -> tuple:
    """The side words, turning senses and clock hours of a record, in order, per field."""
    return tuple((tuple(_words(t)), tuple(int(h) for h in _HOUR_RE.findall(t))) for t in (question, answer, *choices))


def side_counts(question: str, answer: str, choices: Sequence[str] = ()) -> Counter:
    return Counter(w for t in (question, answer, *choices) for w in _words(t))


def swapped_counts(question: str, answer: str, choices: Sequence[str] = ()) -> Counter:
    """The side-word counts the mirrored record must have: each word of the original swapped."""
    swapped = (mirror_word(w).lower() for w in side_counts(question, answer, choices).elements())
    return Counter(_CANON.get(w, w) for w in swapped)
