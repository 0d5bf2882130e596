"""Per-sample numeric scoring in plain floats agrees with the vector metrics, boundaries included."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spatialforge.eval import metrics as M
from spatialforge.eval.parse_common import ParseFailure

GTS = [1.0, 2.5, 0.3, 0.0, -1.0, 1e-9, 7.0]
PREDS = [None, ParseFailure("x"), math.nan, math.inf, -math.inf, 0.0, -2.0, 1e-12]


def _preds_for(g: float) -> list:
    # exact and rounding-edge boundaries of every rule: 2x, 0.5x, 1 +/- tol, and a hair either side
    out = list(PREDS)
    for f in (1.0, 2.0, 0.5, 0.75, 1.25, 0.5 * 1.5, 1.5, 0.25):
        for eps in (0.0, 1e-10, -1e-10, 1e-8, -1e-8):
            out.append(g * f * (1 + eps))
            if f:
                out.append(g / f * (1 + eps))
    return out


@pytest.mark.parametrize("rule", list(M.NUMERIC_RULES))
def test_numeric_correct_matches_the_vector_rule(rule):
    n = 0
    for g in GTS:
        preds = _preds_for(g)
        vec = M.NUMERIC_RULES[rule](preds, [g] * len(preds))
        for p, v in zip(preds, vec):
            assert M.numeric_correct(p, g, rule) == bool(v), (rule, p, g)
            n += 1
    assert n > 500


def test_ratio1_matches_ratio():
    for g in GTS:
        for p in _preds_for(g):
            r = M.ratio1(p, g)
            assert r == float(M.ratio([p], [g])[0]) or (math.isnan(r) and np.isnan(M.ratio([p], [g])[0]))


def test_numeric_correct_rejects_a_missing_truth_and_an_unknown_rule():
    with pytest.raises(ValueError, match="ground truths"):
        M.numeric_correct(1.0, None)
    with pytest.raises(KeyError):
        M.numeric_correct(1.0, 1.0, "nearly")


def test_fast_score_constructor_equals_the_dataclass_and_stays_frozen():
    import dataclasses

    from spatialforge.eval.scoring import SampleScore, _new_score

    args = ("numeric", "length", True, 0.5, True, 1.0, 2.0, None, 2.0, 0.5)
    fast, slow = _new_score(*args, tags={"id": 1}), SampleScore(*args, tags={"id": 1})
    assert fast == slow and vars(fast) == vars(slow)
    assert _new_score("box2d", "box", False, 0.0, False) == SampleScore("box2d", "box", False, 0.0, False)
    assert _new_score("x", "y", None, 0.0, False).tags is not _new_score("x", "y", None, 0.0, False).tags
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.score = 1.0
