"""Length units, in one table: what each unit is in metres and how it is spelled.

Read by the question writer (``tasks/language.py``: the units it writes, short and long) and
by the answer parser (``eval/parse_length.py``: every spelling a model may use).
"""

from __future__ import annotations

FOOT = 0.3048
INCH = 0.0254

#: metres per unit, by canonical symbol
METRES: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "dm": 0.1, "km": 1000.0,
                            "ft": FOOT, "in": INCH, "yd": 0.9144, "mile": 1609.344}

#: every spelling read, by canonical symbol (symbols for feet and inches included: 5' 6")
SPELLINGS: dict[str, tuple[str, ...]] = {
    "m": ("m", "meter", "meters", "metre", "metres"),
    "cm": ("cm", "centimeter", "centimeters", "centimetre", "centimetres"),
    "mm": ("mm", "millimeter", "millimeters", "millimetre", "millimetres"),
    "dm": ("dm", "decimeter", "decimeters", "decimetre", "decimetres"),
    "km": ("km", "kilometer", "kilometers", "kilometre", "kilometres"),
    "ft": ("ft", "foot", "feet", "'", "’", "′"),
    "in": ("in", "inch", "inches", '"', "”", "″", "''"),
    "yd": ("yd", "yds", "yard", "yards"),
    "mile": ("mile", "miles"),
}

#: spelling (lower case) -> metres
UNIT_METRES: dict[str, float] = {s: METRES[u] for u, spelled in SPELLINGS.items() for s in spelled}
#: spelling (lower case) -> canonical symbol
CANONICAL: dict[str, str] = {s: u for u, spelled in SPELLINGS.items() for s in spelled}

#: the units questions are written in: the number per metre, and the long (singular, plural) names
PER_METRE: dict[str, float] = {"m": 1.0, "cm": 100.0, "ft": 1 / FOOT, "in": 1 / INCH}
LONG_NAMES: dict[str, tuple[str, str]] = {"m": ("meter", "meters"), "cm": ("centimeter", "centimeters"),
                                          "ft": ("foot", "feet"), "in": ("inch", "inches")}
