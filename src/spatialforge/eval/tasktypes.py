"""Task typing of open-ended questions by keywords (SVQA-R1 App. B), and the chain-of-thought
keyword statistics of SVQA-R1 App. G.

The lists are copied verbatim from the paper (Wang & Ling, "SVQA-R1: Reinforcing Spatial
Reasoning in MLLMs via View-Consistent Reward Optimization", Appendix B.1-B.3 and G).

Rule (the paper gives the lists, not the order; ours, documented): a question is
``"bbox"`` if it contains a BBOX keyword; else ``"yesno"`` if the question is polar (starts
with is/are/does/can/...) and its ground-truth answer holds a YES/NO alias (with no question
given: the answer starts with one); else ``"distance"`` if it contains a DISTANCE
keyword; else ``None`` (excluded from type-specific metrics, as in the paper). Yes/no goes
before distance because "Is the chair closer than the lamp?" is answered yes/no and cannot
be scored as a number. Keywords match case-insensitively on word boundaries (a plain
substring test would find "further" in "furthermore").
"""

from __future__ import annotations

import re
from typing import Iterable

# SVQA-R1 Appendix B.1
BBOX_KEYWORDS = ("bounding box", "box coordinates", "coordinates", "bbox", "where is", "x coordinate",
                 "y coordinate", "draw a box", "top left", "bottom right", "region of")
# SVQA-R1 Appendix B.2 (apostrophes as printed; matching accepts ' and ’ alike)
YES_ALIASES = ("yes", "it is", "appears to be", "looks like", "seems like", "definitely", "likely", "indeed")
NO_ALIASES = ("no", "not", "doesn’t", "isn’t", "unlikely", "I don’t think", "probably not")
# SVQA-R1 Appendix B.3
DISTANCE_KEYWORDS = ("how far", "distance between", "distance from", "which is closer", "which is farther",
                     "closer", "further", "nearer", "farthest", "measure the distance", "what is the distance",
                     "spacing between", "gap between")
# SVQA-R1 Appendix G
COT_KEYWORDS = ("likely", "probably", "possibly", "maybe", "might be", "could be", "seems", "appears to", "I think",
                "I guess", "I’m not sure", "because", "since", "therefore", "thus", "so", "hence", "as a result",
                "that means", "which implies", "accordingly", "first", "next", "then", "finally",
                "in the first step", "in the second step", "after that", "subsequently", "clearly", "obviously",
                "evidently", "definitely", "in fact", "it is important to note", "if", "suppose",
                "assuming that", "in case", "let’s say", "consider that")

TASK_TYPES = ("bbox", "yesno", "distance")


def _phrase(p: str) -> str:
    p = re.escape(p.replace("’", "'")).replace(r"\ ", r"\s+").replace("'", "['’]")
    return rf"(?<!\w){p}(?!\w)"


def _any_of(phrases: Iterable[str]) -> re.Pattern:
    return re.compile("|".join(_phrase(p) for p in sorted(phrases, key=len, reverse=True)), re.I)


_BBOX = _any_of(BBOX_KEYWORDS)
_DISTANCE = _any_of(DISTANCE_KEYWORDS)
_YESNO_START = re.compile(r"[\s\"'*]*(?:" + "|".join(_phrase(p) for p in sorted(
    YES_ALIASES + NO_ALIASES, key=len, reverse=True)) + ")", re.I)
_YESNO_ANY = _any_of(YES_ALIASES + NO_ALIASES)
_POLAR = re.compile(r"\s*(?:is|are|was|were|do|does|did|can|could|will|would|should|has|have|had|may|might|must"
                    r"|isn't|aren't|doesn't|don't)\b", re.I)
_COT = [(k, re.compile(_phrase(k), re.I)) for k in COT_KEYWORDS]


def is_bbox_question(question: str) -> bool:
    return _BBOX.search(question or "") is not None


def is_distance_question(question: str) -> bool:
    return _DISTANCE.search(question or "") is not None


def is_yes_no(question: str | None, answer: str | None) -> bool:
    """A polar question (is/are/does/can ...) whose answer holds a YES/NO alias; without a
    question, an answer that starts with one."""
    if not answer:
        return False
    if question is None:
        return _YESNO_START.match(answer) is not None
    return _POLAR.match(question) is not None and _YESNO_ANY.search(answer) is not None


def task_type(question: str, answer: str | None = None) -> str | None:
    """"bbox", "yesno", "distance" or None by the rule in the module docstring."""
    if is_bbox_question(question):
        return "bbox"
    if is_yes_no(question, answer):
        return "yesno"
    if is_distance_question(question):
        return "distance"
    return None


def cot_keyword_counts(text: str) -> dict[str, int]:
    """Occurrences of each App. G keyword in one response (word-bounded, case-insensitive)."""
    return {k: len(rx.findall(text or "")) for k, rx in _COT}


def cot_keyword_stats(texts: Iterable[str]) -> dict[str, object]:
    """App. G statistic: mean keyword occurrences per response (None without responses),
    share of responses with at least one, and the counts of the keywords that occur (most
    used first)."""
    per_response = [cot_keyword_counts(t) for t in texts]
    totals = dict.fromkeys(COT_KEYWORDS, 0)
    for counts in per_response:
        for k, c in counts.items():
            totals[k] += c
    n = len(per_response)
    return {
        "n_responses": n,
        "mean_per_response": (sum(totals.values()) / n) if n else None,
        "share_with_any": (sum(1 for c in per_response if any(c.values())) / n) if n else None,
        "counts": {k: v for k, v in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if v},
    }
