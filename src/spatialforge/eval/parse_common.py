"""Shared pieces of the answer parsers: the failure type, numbers (digits and words) and
the rule that picks one value when an answer states several.

Parsers never raise on model output and never guess: they return a typed value or a
:class:`ParseFailure` whose ``reason`` says what was wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A model output that could not be read as the requested type."""

    reason: str

    def __bool__(self) -> bool:  # so ``if not parsed:`` never mistakes a failure for a value
        return False


def is_failure(value: Any) -> bool:
    return isinstance(value, ParseFailure)


def as_text(text: Any) -> str | ParseFailure:
    """The stripped text of a model output, or a failure for None / empty / non-text."""
    if text is None:
        return ParseFailure("no output (None)")
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return ParseFailure(f"output is {type(text).__name__}, not text")
    text = text.strip()
    if not text:
        return ParseFailure("empty output")
    return text


# ---------------------------------------------------------------- numbers in digits
# Plain numbers as they appear inside coordinate lists: no thousands separators there,
# because "(1,200, 3)" must stay three numbers.
NUM_PLAIN = r"[-+−]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
RE_NUM_PLAIN = re.compile(NUM_PLAIN)


def to_float(s: str) -> float:
    return float(s.replace("−", "-"))


# ---------------------------------------------------------------- numbers in words
ONES = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
SCALES = {"hundred": 100, "thousand": 1000}
FRACTIONS = {"half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4}

_INT_WORDS = sorted([*ONES, *TENS, *SCALES], key=len, reverse=True)
# A run of number words ("one hundred and twenty", "twenty-five", "one and a half",
# "half a", "two point five"); the run is validated by words_to_number, not by the regex.
WORDNUM = (r"\b(?:(?:" + "|".join([*_INT_WORDS, "halves", "half", "thirds", "third", "quarters",
                                    "quarter", "point", "and", "an", "a", "of"])
           + r")(?:[\s-]+|(?![\w'’])))+")
# Whole numbers only (counts): no articles, no fractions.
WORDINT = r"\b(?:(?:" + "|".join([*_INT_WORDS, "and"]) + r")(?:[\s-]+|(?![\w'’])))+"
RE_WORDINT = re.compile(WORDINT, re.I)
_SPLIT = re.compile(r"[\s-]+")


def _words_to_int(tokens: Sequence[str]) -> int | None:
    """English cardinal words -> int ("one hundred and twenty five" -> 125); None if invalid."""
    if not tokens:
        return None
    total, current, last = 0, 0, None  # last: kind of the previous word, to reject "two three"
    for i, w in enumerate(tokens):
        if w == "and":
            if last != "scale" or i == len(tokens) - 1:
                return None
            continue
        if w in ("a", "an"):
            if i + 1 < len(tokens) and tokens[i + 1] in SCALES and last is None:
                current, last = 1, "ones"
                continue
            return None
        if w in ONES:
            if last in ("ones", "teen") or (last == "tens" and ONES[w] >= 10):
                return None
            current += ONES[w]
            last = "teen" if ONES[w] >= 10 else "ones"
        elif w in TENS:
            if last in ("ones", "teen", "tens"):
                return None
            current += TENS[w]
            last = "tens"
        elif w == "hundred":
            if current >= 100 or last == "scale":
                return None
            current = (current or 1) * 100
            last = "scale"
        elif w == "thousand":
            total += (current or 1) * 1000
            current, last = 0, "scale"
        else:
            return None
    return total + current


def words_to_number(phrase: str) -> float | None:
    """A spelled-out number -> float; None if the words do not form one number.

    Handles cardinals ("twenty-five"), "a"/"an" as one ("a meter"), fractions ("half a",
    "a quarter", "three quarters of a", "two thirds"), mixed numbers ("one and a half")
    and "point" decimals ("two point five").
    """
    tokens = [t for t in _SPLIT.split(phrase.lower().strip()) if t]
    while tokens and tokens[0] in ("and", "of"):  # run picked up a joining word
        tokens = tokens[1:]
    while tokens and tokens[-1] == "and":
        tokens = tokens[:-1]
    if tokens and tokens[-1] == "of":
        return None
    if not tokens:
        return None
    if tokens in (["a"], ["an"]):
        return 1.0
    # "half a", "half an": the article belongs to the unit that follows
    if len(tokens) == 2 and tokens[0] in ("half", "quarter") and tokens[1] in ("a", "an"):
        return 1.0 / FRACTIONS[tokens[0]]
    if len(tokens) >= 3 and tokens[-2] == "of" and tokens[-1] in ("a", "an"):
        tokens = tokens[:-2]  # "three quarters of a"
    if "point" in tokens:
        k = tokens.index("point")
        whole = _words_to_int(tokens[:k]) if k else 0
        digits = tokens[k + 1:]
        if whole is None or not digits or any(d not in ONES or ONES[d] > 9 for d in digits):
            return None
        return float(f"{whole}." + "".join(str(ONES[d]) for d in digits))
    # mixed number: "<int> and a half" / "<int> and three quarters"
    frac = 0.0
    if tokens[-1] in FRACTIONS:
        # numerator: the word before the fraction word ("a"/"an"/"one" = 1, "three" = 3)
        if len(tokens) >= 2 and (tokens[-2] in ("a", "an") or tokens[-2] in ONES):
            num = 1 if tokens[-2] in ("a", "an") else ONES[tokens[-2]]
            head = tokens[:-2]
        else:
            num, head = 1, tokens[:-1]
        if num == 0:
            return None
        if tokens[-1] in ("half", "third", "quarter") and num != 1:
            return None  # "three quarter" is not a number
        frac = num / FRACTIONS[tokens[-1]]
        if head and head[-1] == "and":
            head = head[:-1]
            if not head:
                return None
        if not head:
            return frac
        whole = _words_to_int(head)
        return None if whole is None else whole + frac
    whole = _words_to_int(tokens)
    return None if whole is None else float(whole)


# ---------------------------------------------------------------- which of several values
# When an answer states several different values, the one "stated as the answer" is taken:
#   1. values inside parentheses are asides (unit conversions, notes) and are dropped when
#      any value lies outside them;
#   2. the first value after the LAST strong cue (answer / therefore / thus / hence / so /
#      overall / final / in total / = / ≈) -- conclusions come last in reasoning text;
#   3. else the first value after the FIRST weak cue (is / are / was / measures / about /
#      approximately / around / roughly / estimated / of) -- answers state the value first
#      and justify it after;
#   4. else no value is marked as the answer: failure (never guess).
_STRONG_CUE = re.compile(r"\b(?:answers?|therefore|thus|hence|so|overall|final(?:ly)?|in total|"
                         r"total|conclusion)\b|[=≈]", re.I)
_WEAK_CUE = re.compile(r"\b(?:is|are|was|were|be|measures?|measuring|about|approximately|"
                       r"around|roughly|estimated?|of)\b", re.I)


def _paren_depths(text: str, positions: Sequence[int]) -> list[int]:
    out = []
    for p in positions:
        head = text[:p]
        out.append(head.count("(") - head.count(")") + head.count("[") - head.count("]"))
    return out


def pick_stated(mentions: Sequence[tuple[int, int, Any]], text: str, what: str,
                same=lambda a, b: a == b) -> Any:
    """One value from ``(start, end, value)`` mentions by the rule above, else a failure."""
    if not mentions:
        return ParseFailure(f"no {what} found")
    first = mentions[0][2]
    if all(same(m[2], first) for m in mentions[1:]):
        return first
    depths = _paren_depths(text, [m[0] for m in mentions])
    outside = [m for m, d in zip(mentions, depths) if d <= 0]
    if outside and len(outside) < len(mentions):
        mentions = outside
        first = mentions[0][2]
        if all(same(m[2], first) for m in mentions[1:]):
            return first
    strong = [c.end() for c in _STRONG_CUE.finditer(text)]
    for cue_end in reversed(strong):
        after = [m for m in mentions if m[0] >= cue_end]
        if after:
            return after[0][2]
    weak = _WEAK_CUE.search(text)
    if weak is not None:
        after = [m for m in mentions if m[0] >= weak.end()]
        if after:
            return after[0][2]
    shown = ", ".join(text[m[0]:m[1]] for m in mentions[:4])
    return ParseFailure(f"several different values for the {what} ({shown}) and none is marked as the answer")
