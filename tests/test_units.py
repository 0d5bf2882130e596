"""spatialforge.units: one table for the writer and the parser."""

from spatialforge.eval.parse import parse_length
from spatialforge.tasks.language import UNIT_NAMES, format_length, length_in
from spatialforge.units import CANONICAL, FOOT, INCH, LONG_NAMES, METRES, PER_METRE, UNIT_METRES


def test_table_is_consistent():
    assert abs(FOOT - 12 * INCH) < 1e-15 and all(UNIT_METRES[u] == METRES[u] for u in METRES)
    assert all(CANONICAL[s] == u for u in METRES for s in (u, *([LONG_NAMES[u][1]] if u in LONG_NAMES else [])))
    assert all(abs(PER_METRE[u] * METRES[u] - 1) < 1e-12 for u in PER_METRE)
    assert UNIT_NAMES == {"m": "meters", "cm": "centimeters", "ft": "feet", "in": "inches", "ftin": "feet and inches"}


def test_every_written_length_parses_back():
    for unit in ("m", "cm", "ft", "in", "ftin"):
        for long in (False, True):
            text = format_length(1.2192, unit, long)
            assert abs(parse_length(text) - 1.2192) < 0.6 * INCH + 0.005, (unit, long, text)
    assert length_in(FOOT, "ftin") == length_in(FOOT, "ft") and abs(length_in(FOOT, "ft") - 1) < 1e-12
