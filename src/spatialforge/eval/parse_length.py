"""Lengths with units -> metres.

Reads "3.5 m", "350 cm", "1,200 mm", ".5 m", "5'6\\"", "5 ft 6 in", "5 foot 6", "1 m 20 cm",
"3-4 feet" / "3 to 4 feet" / "3 or 4 feet" / "between 3 and 4 feet" (midpoint), "two meters",
"one and a half feet", "a foot and a half", "twenty-five centimetres", decimal commas
("1,5 m"), fractions ("1/2 m", "1 1/2 m", "2-1/2 ft", "1 and 1/2 m", "½ m", "1½ m", "3/4 of a
meter", 5' 3 1/2"), and Q-Spatial's ``\\scalar{3.5} \\distance_unit{feet}`` (read by the official
rule, :func:`qspatial_markup`).

Rules (never guess):

* a number needs a unit; a bare number is a failure unless ``default_unit`` is given
  (``unit_asked(question)`` finds one when the question names it: "... in centimeters?");
* a number followed by a word that is not a known unit ("3 parsecs") is a failure;
* a slash that does not make a fraction (a date "3/4/2020", "1/0", "0.5/1", "1 3/2") never
  yields a number: next to a unit it is a failure, elsewhere it is ignored;
* several different lengths: :func:`spatialforge.eval.parse_common.pick_stated` takes the
  one stated as the answer (asides in parentheses dropped; first after the last "answer /
  therefore / so / ="; else first after the first "is / about / of"); none marked -> failure.
"""

from __future__ import annotations

import re
import unicodedata

from ..units import CANONICAL, INCH, UNIT_METRES
from .parse_common import (
    FRACTIONS,
    ONES,
    SCALES,
    TENS,
    WORDNUM,
    ParseFailure,
    as_text,
    pick_stated,
    words_to_number,
)

# (larger, smaller) unit pairs that are written together: "5 ft 6 in", "1 m 20 cm"
_COMPOUND = {("ft", "in"), ("m", "cm"), ("m", "mm"), ("cm", "mm"), ("km", "m"), ("yd", "ft")}

_UNIT_WORD = (r"(?:kilomet(?:er|re)s?|centimet(?:er|re)s?|millimet(?:er|re)s?|decimet(?:er|re)s?"
              r"|met(?:er|re)s?|feet|foot|inch(?:es)?|yards?|miles?|km|cm|mm|dm|ft|yds?|m"
              r"|in(?=\s*(?:$|[^\w\s]|\d)))(?![\w²³])")  # "in" only where it cannot be the preposition
_UNIT_SYM = r"(?:''|[\"”″'’′])"
_SLASH = "[/⁄∕]"
_VULGAR = "½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒"
# "1/2", never a piece of "3/4/2020" or "1/2.5": no slash or digit may touch it on either side
_FRAC = rf"(?<!{_SLASH})(?<!{_SLASH}\s)\d+\s?{_SLASH}\s?\d+(?![.,]?\d)(?!\s?{_SLASH})"
# mixed numbers first ("1 1/2", "2-1/2", "1 and 1/2", "1½", "1 ½"), then "1/2", then "½"
_NUM_FRAC = rf"\d+(?:\s+and\s+|\s+|-)(?:{_FRAC}|[{_VULGAR}])|{_FRAC}|\d+\s?[{_VULGAR}]|[{_VULGAR}]"
# digits: fractions, thousands commas ("1,200"), a decimal comma before a unit ("1,5 m"), ".5"
_NUM_LEN = rf"(?:{_NUM_FRAC}|\d{{1,3}}(?:,\d{{3}})+(?!\d)(?:\.\d+)?|\d+,\d{{1,2}}(?![\d,])|\d+(?:\.\d+)?|\.\d+)"
_Q_DIGIT = rf"(?<![\w.,])(?:[-−](?=\.?\d))?{_NUM_LEN}(?:\s+and\s+(?:a|one)\s+(?:half|quarter)\b)?"

# one "atom" = a number (digits or words) with an optional unit right after it
_DIGIT_ATOM = rf"(?P<d>{_Q_DIGIT})(?:\s*-?\s*(?P<du>{_UNIT_WORD}|{_UNIT_SYM}))?"
_ATOM = re.compile(rf"{_DIGIT_ATOM}|(?P<w>{WORDNUM})(?:-?(?P<wu>{_UNIT_WORD}))?", re.I)
_ATOM_DIGITS = re.compile(_DIGIT_ATOM, re.I)
_WORD = re.compile(r"[a-z]+")
_NUMBER_WORDS = frozenset([*ONES, *TENS, *SCALES, *FRACTIONS])
_UNIT_WORDS = frozenset(k for k in UNIT_METRES if k.isalpha())
# Q-Spatial's answer markup, read as its official evaluation does (evaluate_success_rate.ipynb):
# the last \scalar{...} (the mean of the numbers in it) and the last \distance_unit{...}.
_QS_SCALAR = re.compile(r"scalar{([^}]*)}")
_QS_UNIT = re.compile(r"distance_unit{([^}]*)}")
_QS_NUMBER = re.compile(r"\d+\.?\d*")
_FAST = re.compile(rf"\s*(?:about|approximately|approx\.?|around|roughly|~|≈)?\s*"
                   rf"(\d+(?:\.\d+)?)\s*({_UNIT_WORD})\.?\s*", re.I)
# One number in the whole text, right before a unit word ("The distance is about 2.35 meters.").
# Taken at once unless a range, "and a half" or a spelled-out number could change it.
_ONE_NUMBER = re.compile(rf"(\D*?)(?<![\w.,\-−])(\d+(?:\.\d+)?)\s*({_UNIT_WORD})(\D*)", re.I)
_RANGE_BEFORE = re.compile(r"(?:-|–|—|\bto|\bor|\band)\s*$", re.I)
_QUOTE_PAIRS = frozenset({('"', '"'), ("'", "'"), ("“", "”"), ("‘", "’"), ("’", "’"), ("”", "”")})
_NEXT_WORD = re.compile(r"\s*([A-Za-z][A-Za-z]*)")
_HALF_AFTER = re.compile(r"\s+and\s+(?:a|one)\s+half\b", re.I)
_RANGE_GAP = re.compile(r"\s*(?:-|–|—|to|or)\s*", re.I)
_AND_SPLIT = re.compile(r"\s+and\s+", re.I)
_AND_GAP = re.compile(r"\s*and\s+", re.I)
_COMPOUND_GAP = re.compile(r"\s*(?:,\s*|and\s+)?", re.I)
_MIXED_GAP = re.compile(r"\s*(?:and\s+|-)?", re.I)
_BETWEEN = re.compile(r"\bbetween\s*$", re.I)
# words that may follow a bare number without being a unit ("3 away", "2 or 3")
_NOT_UNITS = frozenset(("away", "apart", "from", "between", "or", "and", "to", "wide", "long",
                        "tall", "high", "deep", "across", "approximately", "roughly", "in", "of"))
_ASKED = re.compile(rf"\b(?:in|how many|number of|using|\(in)\s+({_UNIT_WORD})", re.I)


def qspatial_markup(text: str) -> tuple[float | None, str | None, str | None]:
    """``(value, unit, error)`` of Q-Spatial's ``\\scalar{} \\distance_unit{}`` markup, by the
    official rule: the last ``\\scalar`` box (the mean of the numbers in it, so "1 - 2" is
    1.5) and the last ``\\distance_unit``. ``(None, None, None)`` when there is no markup."""
    scalars = _QS_SCALAR.findall(text)
    if not scalars:
        return None, None, None
    numbers = _QS_NUMBER.findall(scalars[-1])
    if not numbers:
        return None, None, "no number in \\scalar{}"
    value = sum(float(n) for n in numbers) / len(numbers)
    units = _QS_UNIT.findall(text)
    if not units:
        return value, None, "no \\distance_unit{}"
    return value, units[-1], None


def unit_factor(unit: str) -> float | None:
    """Metres per ``unit`` ("cm" -> 0.01), None for an unknown unit."""
    return UNIT_METRES.get(unit.strip().rstrip(".").lower())


def unit_asked(question: str | None) -> str | None:
    """The unit a question asks for ("How far ... in centimeters?" -> "centimeters")."""
    if not question:
        return None
    m = _ASKED.search(question)
    return m.group(1).lower() if m else None


def _canon(unit: str) -> str:
    return CANONICAL[unit.lower()]


_MIXED = re.compile(rf"(?:(\d+)(?:\s+and\s+|\s+|-))?(\d+)\s?{_SLASH}\s?(\d+)"
                    rf"|(?:(\d+)\s*(?:and\s+|-)?)?([{_VULGAR}])", re.I)
# a digit run that a slash touches but that is not a fraction ("3/4/2020", "1/0", "0.5/1")
_SLASH_BEFORE = re.compile(rf"{_SLASH}\s?$")
_SLASH_AFTER = re.compile(rf"\s?{_SLASH}\s?[\d.]")
_SLASH_RUN = re.compile(r"[\d.,/⁄∕ ]*$")
_FRACTION_CHARS = re.compile(rf"{_SLASH}|[{_VULGAR}]")
# "3/4 of a meter", "½ a foot": the article is the unit's, the fraction is the number
_ARTICLE_UNIT = re.compile(rf"(?:of\s+)?an?[\s-]*{_UNIT_WORD}", re.I)


def _fraction(s: str) -> float | None:
    """Value of "1/2", "1 1/2", "2-1/2", "1 and 1/2", "½", "1½"; None for "1/0" or "1 3/2"
    (a mixed number's fraction must be proper)."""
    m = _MIXED.fullmatch(s)
    if m is None:
        return None
    whole, num, den, whole_v, vulgar = m.groups()
    if vulgar is not None:
        whole, frac = whole_v, unicodedata.numeric(vulgar)
    else:
        if int(den) == 0:
            return None
        frac = int(num) / int(den)
    if whole is None:
        return frac
    return int(whole) + frac if frac < 1 else None


def _digits(s: str) -> float | None:
    """Value of a digit number as ``_Q_DIGIT`` matched it; None where it is not a number."""
    s = s.replace("−", "-")
    if _FRACTION_CHARS.search(s):
        neg = s.startswith("-")
        v = _fraction(s[1:] if neg else s)
        return None if v is None else (-v if neg else v)
    half = re.search(r"\s+and\s+(?:a|one)\s+(half|quarter)", s, re.I)
    extra = 0.0
    if half:
        extra = 0.5 if half.group(1).lower() == "half" else 0.25
        s = s[: half.start()]
    head, _, tail = s.rpartition(",")
    if head and len(tail) < 3 and "," not in head:  # decimal comma ("1,5")
        s = f"{head}.{tail}"
    return float(s.replace(",", "")) + extra


class _Atom:
    __slots__ = ("start", "end", "value", "unit", "digits", "frac")

    def __init__(self, start: int, end: int, value: float, unit: str | None, digits: bool,
                 frac: bool = False):
        self.start, self.end, self.value, self.unit, self.digits = start, end, value, unit, digits
        self.frac = frac  # a pure fraction ("1/2", "½"): no whole part


def _atoms(text: str, needs_words: bool) -> tuple[list[_Atom], str | None]:
    """Numbers with their units, and the reason the text cannot be read when a slash that
    is no fraction touches a number with a unit ("1/0 m").  ``needs_words``: the text holds
    a number word (or "a" and a unit word) -- trying the word alternative at every position
    is most of the parse time, so it runs only where it can match something."""
    out = []
    for m in (_ATOM if needs_words else _ATOM_DIGITS).finditer(text):
        if m.group("d") is not None:
            unit = m.group("du")
            if unit and m.start() > 0 and (text[m.start() - 1], unit[0]) in _QUOTE_PAIRS:
                unit = None  # a quoted number ("3", '3'), not feet/inches
            d = m.group("d")
            value = _digits(d)
            if value is None or (not _FRACTION_CHARS.search(d) and (
                    _SLASH_BEFORE.search(text, 0, m.start()) or _SLASH_AFTER.match(text, m.end("d")))):
                if unit:  # a number with a unit that we cannot read: fail, never guess
                    head = _SLASH_RUN.search(text, 0, m.start()).group().lstrip()
                    shown = (head + text[m.start():m.end()]).strip()
                    return [], f"{shown!r} is not a length (a slash that makes no fraction)"
                continue  # a date, a score "3/4/2020": not a length
            pure = value is not None and bool(_FRACTION_CHARS.search(d)) and abs(value) < 1 \
                and not re.match(r"[-−]?\d+(?:\s|-|and|$)", d)
            out.append(_Atom(m.start(), m.end() if unit else m.end("d"), value, unit, True, pure))
        elif needs_words:
            run, unit = m.group("w"), m.group("wu")
            v = words_to_number(run)
            if v is None:  # "two and three" (between two and three meters): split at "and"
                for j in _AND_SPLIT.finditer(run):
                    left, right = words_to_number(run[: j.start()]), words_to_number(run[j.end():])
                    if left is not None and right is not None:
                        out.append(_Atom(m.start(), m.start() + j.start(), left, None, False))
                        out.append(_Atom(m.start() + j.end(), m.end(), right, unit, False))
                        break
            elif unit or run.strip().lower() not in ("a", "an", "and", "of"):
                out.append(_Atom(m.start(), m.end(), v, unit, False))
    return out, None


def _merge(text: str, atoms: list[_Atom]) -> list[tuple[int, int, float]]:
    """Join atoms into lengths (ranges, feet+inches, m+cm, "... and a half") in metres."""
    mentions: list[tuple[int, int, float]] = []
    i = 0
    while i < len(atoms):
        a = atoms[i]
        b = atoms[i + 1] if i + 1 < len(atoms) else None
        gap = text[a.end:b.start] if b is not None else ""
        if b is not None and b.unit:
            ub = _canon(b.unit)
            ua = _canon(a.unit) if a.unit else None
            is_range = _RANGE_GAP.fullmatch(gap) or (
                _AND_GAP.fullmatch(gap) and _BETWEEN.search(text, 0, a.start))
            if is_range and (ua is None or (a.unit and ((ua, ub) not in _COMPOUND))):
                fa = UNIT_METRES[(a.unit or b.unit).lower()]
                mentions.append((a.start, b.end, (a.value * fa + b.value * UNIT_METRES[b.unit.lower()]) / 2))
                i += 2
                continue
            if ua and (ua, ub) in _COMPOUND and _COMPOUND_GAP.fullmatch(gap):
                v = a.value * UNIT_METRES[a.unit.lower()] + b.value * UNIT_METRES[b.unit.lower()]
                mentions.append((a.start, b.end, v))
                i += 2
                continue
        if a.unit is None:
            if b is not None and b.frac and b.unit and float(a.value).is_integer() and a.value >= 0 \
                    and _MIXED_GAP.fullmatch(text, a.end, b.start):  # "one and 1/2 m", "two ½ m"
                mentions.append((a.start, b.end, (a.value + b.value) * UNIT_METRES[b.unit.lower()]))
                i += 2
                continue
            if a.frac and b is not None and b.unit and not b.digits and not gap.strip() \
                    and _ARTICLE_UNIT.fullmatch(text, b.start, b.end):  # "3/4 of a meter"
                mentions.append((a.start, b.end, a.value * UNIT_METRES[b.unit.lower()]))
                i += 2
                continue
            i += 1
            continue
        v = a.value * UNIT_METRES[a.unit.lower()]
        end = a.end
        if b is not None and b.unit is None and b.digits and _canon(a.unit) == "ft" and not gap.strip() \
                and not b.frac and 0 <= b.value < 12 \
                and not _NEXT_WORD.match(text, b.end):  # 5'6 / "5 foot 6": inches implied
            mentions.append((a.start, b.end, v + b.value * INCH))
            i += 2
            continue
        half = _HALF_AFTER.match(text, end)
        if half:  # "a foot and a half"
            v = (a.value + 0.5) * UNIT_METRES[a.unit.lower()]
            end = half.end()
        mentions.append((a.start, end, v))
        i += 1
    return mentions


def parse_length(text: str, default_unit: str | None = None) -> float | ParseFailure:
    """Metres stated by an answer text; see the module docstring for the rules."""
    t = as_text(text)
    if isinstance(t, ParseFailure):
        return t
    m = _FAST.fullmatch(t)  # the common "3.5 m" / "about 120 cm." form
    if m:
        return float(m.group(1)) * UNIT_METRES[m.group(2).lower()]
    vocab = set(_WORD.findall(t.lower()))
    needs_words = not vocab.isdisjoint(_NUMBER_WORDS) or (
        not vocab.isdisjoint(("a", "an")) and not vocab.isdisjoint(_UNIT_WORDS))
    if not needs_words and not _FRACTION_CHARS.search(t):
        m = _ONE_NUMBER.fullmatch(t)
        if m and not _RANGE_BEFORE.search(m.group(1)) and not _HALF_AFTER.match(m.group(4)):
            return float(m.group(2)) * UNIT_METRES[m.group(3).lower()]
    return _parse_general(t, default_unit, needs_words)


def _parse_general(t: str, default_unit: str | None, needs_words: bool) -> float | ParseFailure:
    if "scalar{" in t:
        value, unit, error = qspatial_markup(t)
        if error is None:  # incomplete markup: the text is read like any other
            f = unit_factor(unit)
            return value * f if f is not None else ParseFailure(f"unknown unit {unit!r}")
    if default_unit is not None and unit_factor(default_unit) is None:
        return ParseFailure(f"unknown default unit {default_unit!r}")
    atoms, unreadable = _atoms(t, needs_words)
    if unreadable:
        return ParseFailure(unreadable)
    mentions = _merge(t, atoms)
    used = [(s, e) for s, e, _ in mentions]
    bare = [a for a in atoms if a.unit is None and not any(s <= a.start < e for s, e in used)]
    unknown = None
    for a in bare:
        if not a.digits:  # spelled-out words count only as the whole answer ("two")
            if default_unit is not None and t.strip(" .!").lower() == t[a.start:a.end].strip().lower():
                mentions.append((a.start, a.end, a.value * UNIT_METRES[default_unit.strip().lower()]))
            continue
        w = _NEXT_WORD.match(t, a.end)
        word = w.group(1).lower() if w else None
        if word is not None and word not in _NOT_UNITS:
            unknown = unknown or (t[a.start:a.end], w.group(1))
        elif default_unit is not None:
            mentions.append((a.start, a.end, a.value * UNIT_METRES[default_unit.strip().lower()]))
    bare = [a for a in bare if a.digits]
    if not mentions:
        if unknown:
            return ParseFailure(f"unknown unit {unknown[1]!r} after {unknown[0].strip()!r}")
        if bare:
            return ParseFailure(f"number {t[bare[0].start:bare[0].end].strip()!r} has no unit")
        return ParseFailure("no length (number with a unit) found")
    mentions.sort()
    return pick_stated(mentions, t, "length", same=lambda x, y: abs(x - y) <= 1e-9 * max(abs(x), abs(y), 1))
