"""Answer parsers: one implementation for evaluation and rewards.

Every parser takes model text and returns a typed value or a :class:`ParseFailure` with
the reason; none raises on model output and none guesses. The parsers live in
``parse_text`` (answer span, yes/no, choice, count, label, order), ``parse_length``
(numbers with units -> metres) and ``parse_geometry`` (boxes, points, vectors, clock
directions); this module is the one place to import them from.  Mirroring an answer
(``mirror_hour``, ``mirror_label`` ...) lives in :mod:`spatialforge.mirror`.
"""

from ..units import UNIT_METRES
from .parse_common import ParseFailure, is_failure, pick_stated, words_to_number
from .parse_geometry import (
    parse_box2d,
    parse_box3d,
    parse_clock_direction,
    parse_point2d,
    parse_point3d,
    parse_vector3d,
)
from .parse_length import parse_length, unit_asked, unit_factor
from .parse_text import (
    LABEL_SYNONYMS,
    extract_answer,
    has_think_answer_format,
    parse_choice,
    parse_count,
    parse_label,
    parse_order,
    parse_yes_no,
)

__all__ = [
    "LABEL_SYNONYMS", "UNIT_METRES", "ParseFailure", "extract_answer", "has_think_answer_format",
    "is_failure", "parse_box2d", "parse_box3d", "parse_choice",
    "parse_clock_direction", "parse_count", "parse_label", "parse_length", "parse_order",
    "parse_point2d", "parse_point3d", "parse_vector3d", "parse_yes_no", "pick_stated",
    "unit_asked", "unit_factor", "words_to_number",
]
