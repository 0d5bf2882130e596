"""Units and phrasing shared by every task.

Lengths are stored in metres; the text may say m, cm, ft, in or ft+in.  Rounding follows
what a person would write: metres to the centimetre (``1.23 m``), centimetres and inches to
whole units (one decimal below 10), feet to one decimal (``4.0 feet``), feet+inches to the
inch (``4 ft 0 in``).  Each unit has a short and a long spelling.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Sequence

from ..units import FOOT, INCH, LONG_NAMES, PER_METRE

UNITS: tuple[str, ...] = ("m", "cm", "ft", "in", "ftin")
POINT_UNITS: tuple[str, ...] = ("m", "cm", "ft", "in")

UNIT_NAMES = {**{u: plural for u, (_, plural) in LONG_NAMES.items()}, "ftin": "feet and inches"}

# Cumulative unit weights by magnitude (small / medium / large values).
_UNIT_WEIGHTS = {
    "small": (("cm", 0.45), ("in", 0.25), ("m", 0.20), ("ft", 0.05), ("ftin", 0.05)),
    "medium": (("m", 0.35), ("cm", 0.25), ("ft", 0.15), ("in", 0.10), ("ftin", 0.15)),
    "large": (("m", 0.50), ("ft", 0.25), ("ftin", 0.10), ("cm", 0.10), ("in", 0.05)),
}
LONG_SPELLING_P = 0.3


#: units -> (small, medium, large) bands' ((unit, cumulative weight), ...): built once per unit set
_UNIT_TABLES: dict[tuple[str, ...], tuple[tuple[tuple[str, float], ...], ...]] = {}


def _unit_tables(units: tuple[str, ...]) -> tuple[tuple[tuple[str, float], ...], ...]:
    tables = []
    for band in ("small", "medium", "large"):
        rows = [(name, w) for name, w in _UNIT_WEIGHTS[band] if name in units]
        total, acc, cum = sum(w for _, w in rows), 0.0, []
        for name, w in rows:
            acc += w / total
            cum.append((name, acc))
        tables.append(tuple(cum))
    return tuple(tables)


def unit_for(u: float, meters: float, units: Sequence[str] = UNITS) -> str:
    """The unit for a value of ``meters``, from one uniform draw ``u`` in [0, 1)."""
    key = units if type(units) is tuple else tuple(units)
    tables = _UNIT_TABLES.get(key)
    if tables is None:
        tables = _UNIT_TABLES[key] = _unit_tables(key)
    table = tables[0 if meters < 0.3 else (1 if meters <= 3.0 else 2)]  # small / medium / large values
    for name, c in table:
        if u < c:
            return name
    return table[-1][0]


def _num(x: float, nd: int, strip: bool = True) -> str:
    s = "%.*f" % (nd, x)
    if strip and "." in s:
        s = s.rstrip("0").rstrip(".")
    if s[0] == "-" and float(s) == 0.0:
        s = s[1:]
    return s


def _word(unit: str, s: str, long: bool) -> str:
    if not long:
        return unit
    one, many = LONG_NAMES[unit]
    return one if s in ("1", "1.0") else many


def _length_number(m: float, unit: str) -> str:
    """The number of ``format_length(m, unit)`` for a single unit (m, cm, ft, in)."""
    if unit == "m":
        return _num(m, 3 if abs(m) < 0.1 else (2 if abs(m) < 10 else 1))
    if unit == "cm":
        v = m * 100
        return _num(v, 1 if abs(v) < 10 else 0)
    if unit == "ft":
        return _num(m / FOOT, 1, strip=False)
    if unit == "in":
        v = m / INCH
        return _num(v, 1 if abs(v) < 10 else 0)
    raise ValueError(f"unknown unit {unit!r}; valid: {', '.join(UNITS)}")


@lru_cache(maxsize=1024)  # a multiple-choice question renders each value 2-3 times (distractor checks, options)
def format_length(meters: float, unit: str = "m", long: bool = False) -> str:
    """``format_length(1.234, "m") == "1.23 m"``; ``format_length(1.2192, "ftin") == "4 ft 0 in"``."""
    m = float(meters)
    if unit == "ftin":
        total = int(round(m / INCH))
        if total < 12:
            return format_length(m, "in", long)
        feet, inches = divmod(total, 12)
        if long:
            return f"{feet} {'foot' if feet == 1 else 'feet'} {inches} {'inch' if inches == 1 else 'inches'}"
        return f"{feet} ft {inches} in"
    s = _length_number(m, unit)
    return f"{s} {_word(unit, s, long)}"


def length_in(meters: float, unit: str) -> float:
    """The number a length would be written with in ``unit`` (ft+in as feet)."""
    return meters * PER_METRE["ft" if unit == "ftin" else unit]


_POINT_DECIMALS = {"m": 2, "cm": 0, "ft": 1, "in": 0}
_FIXED3 = {nd: ", ".join([f"%.{nd}f"] * 3) for nd in (0, 1, 2)}


def _fixed3(x: float, y: float, z: float, nd: int) -> str:
    """``"x, y, z"`` with ``nd`` decimals each, a negative zero written without its sign (as
    ``_num(v, nd, strip=False)`` per value): one formatting call, so ``format_point`` takes
    0.7 us instead of 2.0 (a multiple-choice question renders 5-8 points)."""
    s = _FIXED3[nd] % (x, y, z)
    if "-0" in s:
        zero = "%.*f" % (nd, 0.0)
        s = ", ".join([zero if part == "-" + zero else part for part in s.split(", ")])
    return s


def format_point(p: Sequence[float], unit: str = "m", long: bool = False) -> str:
    """A camera-frame point: ``(0.12, -0.30, 2.45) m``; fixed decimals per unit."""
    if unit == "ftin":
        unit = "in"
    scale = PER_METRE[unit]
    x, y, z = p
    word = LONG_NAMES[unit][1] if long else unit
    return f"({_fixed3(x * scale, y * scale, z * scale, _POINT_DECIMALS[unit])}) {word}"


def format_vector(v: Sequence[float]) -> str:
    x, y, z = v
    return f"({_fixed3(x, y, z, 2)})"


def format_degrees(rad: float) -> str:
    return f"{_num(math.degrees(rad), 0)}°"


def format_box(center: Sequence[float], size: Sequence[float], yaw: float, unit: str = "m", long: bool = False) -> str:
    """Camera-frame centre, size (w x h x l) and yaw about the vertical."""
    if unit == "ftin":
        unit = "in"
    dims = " x ".join([_length_number(float(s), unit) for s in size])
    word = LONG_NAMES[unit][1] if long else unit
    return f"center {format_point(center, unit, long)}, size {dims} {word} (w x h x l), yaw {format_degrees(yaw)}"


_IRREGULAR = {"person": "people", "shelf": "shelves", "knife": "knives", "leaf": "leaves", "mouse": "mice",
              "child": "children", "man": "men", "woman": "women", "foot": "feet", "tooth": "teeth",
              "wolf": "wolves", "scarf": "scarves", "half": "halves", "cactus": "cacti"}


def plural(noun: str) -> str:
    """English plural of a (possibly multi-word) category: ``plural("coffee table") == "coffee tables"``."""
    head, _, last = noun.rpartition(" ")
    low = last.lower()
    if low in _IRREGULAR:
        p = _IRREGULAR[low]
    elif low.endswith(("s", "x", "z", "ch", "sh")):
        p = last + "es"
    elif low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        p = last[:-1] + "ies"
    else:
        p = last + "s"
    return f"{head} {p}" if head else p


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def join_and(items: Sequence[str], conj: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} {conj} {items[1]}"
    return ", ".join(items[:-1]) + f", {conj} {items[-1]}"


ORDINALS = ("first", "second", "third", "fourth", "fifth")
