"""Fractions in lengths (issue #11 item 7): read them exactly, or fail -- never a wrong number.

Before the fix a slash split the number: "1/2 meter" read 2 m, "3/4 m" 4 m, "1 1/2 meters" 2 m.
Every expected value is computed by hand; ``None`` marks a text that must be a ParseFailure
(with the word given in the reason, when one is given).
"""

from __future__ import annotations

import pytest

from spatialforge.eval.parse import ParseFailure, parse_length
from spatialforge.eval.scoring import score_sample
from spatialforge.rewards.typed import typed_score

FT, IN = 0.3048, 0.0254

FRACTIONS = [  # (text, metres)
    # simple fractions
    ("1/2 meter", 0.5),
    ("3/4 m", 0.75),
    ("2/3 m", 2 / 3),
    ("1/2m", 0.5),
    ("1 / 2 m", 0.5),
    ("about 1/2 m", 0.5),
    ("The answer is 1/2 meter.", 0.5),
    ("1/2 in", 0.5 * IN),
    ("1/2 inch", 0.5 * IN),
    ('3/4"', 0.75 * IN),
    ("12/5 ft", 2.4 * FT),
    ("10/2 m", 5.0),  # improper but exact
    ("-1/2 m", -0.5),
    ("1⁄2 m", 0.5),  # U+2044 FRACTION SLASH
    # mixed numbers
    ("1 1/2 meters", 1.5),
    ("2 1/2 ft", 2.5 * FT),
    ("2-1/2 feet", 2.5 * FT),
    ("2 1/2-feet", 2.5 * FT),
    ("1 and 1/2 meters", 1.5),
    ("one and 1/2 meters", 1.5),
    ("two 1/2 m", 2.5),
    ("3 1/2'", 3.5 * FT),
    # unicode vulgar fractions
    ("½ m", 0.5),
    ("¾ inch", 0.75 * IN),
    ("⅓ m", 1 / 3),
    ("1½ m", 1.5),
    ("1 ½ meters", 1.5),
    ("3¾ in", 3.75 * IN),
    ("two-½ m", 2.5),
    # feet and inches
    ("5' 3 1/2\"", 5 * FT + 3.5 * IN),
    ("5'3 1/2\"", 5 * FT + 3.5 * IN),
    ("5 ft 3 1/2 in", 5 * FT + 3.5 * IN),
    ("5' 3 1/2", 5 * FT + 3.5 * IN),  # inches implied after feet, as in "5'6"
    ("5'3.5\"", 5 * FT + 3.5 * IN),
    ("5' 3.5", 5 * FT + 3.5 * IN),  # was 5 ft: the inches were dropped
    ("5 ft 3½ in", 5 * FT + 3.5 * IN),
    ("6 ft 1/2 in", 6 * FT + 0.5 * IN),
    # "of a", an article: the fraction is the number, the article belongs to the unit
    ("3/4 of a meter", 0.75),  # was 1 m ("a meter")
    ("1/2 a meter", 0.5),
    ("½ of a foot", 0.5 * FT),
    ("The answer is 1/2 of a meter.", 0.5),
    # ranges of fractions: the midpoint, as for whole numbers
    ("1/2-3/4 m", 0.625),
    ("1/2 to 3/4 m", 0.625),
    ("between 1/2 and 3/4 m", 0.625),
    # fractions that are not the length
    ("On 3/4/2020 the table was 2 m away", 2.0),  # a date
    ("1/2 of the table is 2 m", 2.0),  # a ratio
    ("3/4 of the way, 2 m", 2.0),
    ("It is 1/2 meter (50 cm)", 0.5),
    ("1/2 meter, so 50 cm", 0.5),
    # failures: a slash that makes no fraction, or a fraction with no unit
    ("1/0 m", None),
    ("1/2/3 m", "slash"),
    ("3/4/2020 m", "slash"),  # a date with a unit after it: not 2020 m
    ("0.5/1 m", "slash"),
    ("1.5/2 m", "slash"),
    ("1/2.5 m", "slash"),
    ("1 3/2 m", "slash"),  # a mixed number's fraction must be proper
    ("1,1/2 m", "slash"),
    ("the ratio is 1/2", "no unit"),
    ("1/2 of the table", "no unit"),
    ("2020/3/4", "no length"),
    ("1/2 m, 3 m", "none is marked"),
]


@pytest.mark.parametrize("text,expected", FRACTIONS)
def test_fraction_lengths(text, expected):
    got = parse_length(text)
    if expected is None or isinstance(expected, str):
        assert isinstance(got, ParseFailure), f"{text!r}: expected a failure, got {got!r}"
        assert (expected or "") in got.reason
    else:
        assert not isinstance(got, ParseFailure), f"{text!r}: {got}"
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("text,default_unit,expected", [
    ("1/2", "m", 0.5), ("3 1/2", "cm", 0.035), ("½", "m", 0.5),
    ("3/4/2020", "m", None),  # a date is no length even when the question names a unit
])  # fmt: skip
def test_bare_fractions_take_the_default_unit(text, default_unit, expected):
    got = parse_length(text, default_unit=default_unit)
    if expected is None:
        assert isinstance(got, ParseFailure)
    else:
        assert got == pytest.approx(expected)


def _length(v: float) -> dict:
    return {"kind": "length", "value": v}


def test_typed_reward_reads_fractions_with_the_same_parser():
    # "1/2 meter" against 0.5 m is exactly right (reward 1), not 2 m (reward 0.25).
    assert typed_score("<answer>1/2 meter</answer>", _length(0.5), "numeric") == pytest.approx(1.0)
    assert typed_score("<answer>1 1/2 meters</answer>", _length(1.5), "numeric") == pytest.approx(1.0)
    assert typed_score("<answer>3/4 m</answer>", _length(1.5), "numeric") == pytest.approx(0.5)
    # an unreadable slash is a parse failure: reward 0, never a guessed number
    assert typed_score("<answer>1/0 m</answer>", _length(0.5), "numeric") == 0.0
    s = score_sample("<answer>3/4/2020 m</answer>", _length(2020.0), "numeric")
    assert not s.parsable and not s.correct
