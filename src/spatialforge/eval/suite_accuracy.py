"""Accuracies the video / multi-view suites define: MRA and chance-adjusted accuracy.

One home for both (benchmarks and rewards import them from here; ``metrics.py`` is full).

* **Mean relative accuracy** (VSI-Bench, Yang et al. 2024, eq. 1; SPAR-Bench; the
  numeric reward ``numeric_mra``)::

      MRA(ŷ, y) = 1/10 · Σ_{θ ∈ {0.50, 0.55, …, 0.95}} 1[ |ŷ − y| / |y| < 1 − θ ]

  A prediction within 5 % of the truth scores 1, one off by 50 % or more scores 0, and
  each 5 % step in between is worth 0.1. Our edge cases: a prediction that could not be
  read (``None``, NaN, ±inf) scores 0; a truth of 0 has no relative error, so only an
  exact 0 scores 1 (the official SPAR scorer uses the absolute error there instead:
  ``benchmarks/official_multiview.py``). Boundaries are decided as written: the tolerances
  1 − θ are exact hundredths k/100 (``1 - 0.95`` in floating point is 0.05000000000000004)
  and the relative error is rounded to ``metrics.RATIO_DIGITS`` decimals (|1.8 − 2| / 2 is
  0.09999999999999998 in floating point), so 10 % off is not "< 10 %".

* **Chance-adjusted accuracy** (SITE, Wang et al. 2025)::

      CAA = (correct − Σ_i 1/k_i) / (n − Σ_i 1/k_i)

  with k_i the number of options of question i: 0 at chance level, 1 when every answer is
  right, negative below chance. An unparsable answer counts as wrong.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from .metrics import RATIO_DIGITS

#: 1 − θ for θ = 0.50, 0.55, …, 0.95 (exact hundredths: see the module docstring).
MRA_TOLERANCES: tuple[float, ...] = tuple(k / 100 for k in range(50, 0, -5))
MRA_THRESHOLDS: tuple[float, ...] = tuple(k / 100 for k in range(50, 100, 5))


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def relative_error(pred: Any, gt: Any) -> float | None:
    """|ŷ − y| / |y| (rounded: see the module docstring); ``inf`` for a wrong guess of a zero
    truth, ``None`` if either is unreadable."""
    p, g = _number(pred), _number(gt)
    if p is None or g is None:
        return None
    if g == 0:
        return 0.0 if p == 0 else math.inf
    return round(abs(p - g) / abs(g), RATIO_DIGITS)


def mean_relative_accuracy(pred: Any, gt: Any) -> float:
    """MRA of one prediction, in [0, 1] (0 for an unreadable prediction or truth)."""
    err = relative_error(pred, gt)
    if err is None:
        return 0.0
    return sum(err < tol for tol in MRA_TOLERANCES) / len(MRA_TOLERANCES)


def chance_adjusted_accuracy(correct: Iterable[Any], n_options: Iterable[int]) -> float | None:
    """(correct − Σ 1/k) / (n − Σ 1/k) over paired per-question outcomes and option counts.

    ``None`` when there are no questions or every question has a single option (the
    denominator is 0); a count below 1 is an error in the data."""
    right, chance, n = 0.0, 0.0, 0
    for ok, k in zip(correct, n_options, strict=True):
        if int(k) < 1:
            raise ValueError(f"a question needs at least one option, got {k}")
        right += bool(ok)
        chance += 1.0 / int(k)
        n += 1
    if n == 0 or n - chance <= 0:
        return None
    return (right - chance) / (n - chance)
