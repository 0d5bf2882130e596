"""MRA and chance-adjusted accuracy by hand (spatialforge.eval.suite_accuracy)."""

from __future__ import annotations

import math

import pytest

from spatialforge.eval.suite_accuracy import (
    MRA_THRESHOLDS,
    MRA_TOLERANCES,
    chance_adjusted_accuracy,
    mean_relative_accuracy,
    relative_error,
)


def test_thresholds_are_the_ten_papers_values():
    assert MRA_THRESHOLDS == (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
    assert MRA_TOLERANCES == tuple(round(1 - t, 2) for t in MRA_THRESHOLDS)


@pytest.mark.parametrize("pred, gt, expected", [
    (2.0, 2.0, 1.0),       # exact: every threshold
    (2.09, 2.0, 1.0),      # 4.5 % off < 5 %
    (2.1, 2.0, 0.9),       # 5 % off is not < 5 %: misses θ = .95 only
    (2.5, 2.0, 0.5),       # 25 %: hits θ = .50 .55 .60 .65 .70 (tolerances .50 ... .30)
    (1.5, 2.0, 0.5),       # symmetric in the error
    (3.0, 2.0, 0.0),       # 50 % off: not < 0.5
    (-2.0, -4.0, 0.0),     # |y| in the denominator: 50 %
    (-3.9, -4.0, 1.0),
    (1.8, 2.0, 0.8),       # 10 % off (0.09999999999999998 in floats) is not < 10 %
    (12, 10, 0.6),         # 20 %: tolerances .50 .45 .40 .35 .30 .25 (.20 excluded) -> 6
])
def test_mra_by_hand(pred, gt, expected):
    assert mean_relative_accuracy(pred, gt) == pytest.approx(expected)


def test_mra_edge_cases():
    assert mean_relative_accuracy(0.0, 0.0) == 1.0     # a zero truth: only an exact 0 scores
    assert mean_relative_accuracy(0.01, 0.0) == 0.0
    assert relative_error(1, 0) == math.inf
    for unreadable in (None, float("nan"), float("inf"), "many", True):
        assert mean_relative_accuracy(unreadable, 2.0) == 0.0  # an unparsable prediction is wrong
    assert mean_relative_accuracy(2.0, None) == 0.0
    assert mean_relative_accuracy("2.0", 2) == 1.0  # numeric strings are numbers


def test_chance_adjusted_accuracy_by_hand():
    # 3 right of 4; chance 1/4 + 1/2 + 1/4 + 1/4 = 1.25 -> (3 - 1.25) / (4 - 1.25)
    assert chance_adjusted_accuracy([1, 1, 1, 0], [4, 2, 4, 4]) == pytest.approx(1.75 / 2.75)
    assert chance_adjusted_accuracy([True] * 3, [2, 3, 4]) == 1.0
    assert chance_adjusted_accuracy([False, False], [2, 2]) == pytest.approx(-1.0)  # below chance
    assert chance_adjusted_accuracy([True, False], [2, 2]) == 0.0                   # exactly chance
    assert chance_adjusted_accuracy([], []) is None
    assert chance_adjusted_accuracy([True], [1]) is None  # one option: no chance to adjust for
    with pytest.raises(ValueError):
        chance_adjusted_accuracy([True], [0])
    with pytest.raises(ValueError):
        chance_adjusted_accuracy([True, False], [2])
