"""Success boundaries of the typed scorer, pinned at the boundary itself (issue #11 item 13).

Each case sits exactly on, or just past, a threshold, so moving the threshold a little or
turning ``<=`` into ``<`` fails a test (the cases elsewhere sit far from the boundary)."""

from __future__ import annotations

import math

import pytest

from spatialforge.eval.metrics import angle_deg
from spatialforge.eval.scoring import score_sample


def _point(text: str, gt) -> tuple[bool, float]:
    s = score_sample(text, {"kind": "point3d", "value": list(gt)}, "point3d")
    assert s.parsable, s
    return bool(s.correct), s.rel_error


@pytest.mark.parametrize("text,gt,correct,rel", [
    ("(0, 0, 5)", (0, 0, 4), True, 0.25),  # ||p - g|| = 1 = 25 % of ||g|| = 4: exactly on the boundary, inclusive
    ("(0, 0, 3)", (0, 0, 4), True, 0.25),  # the same from below
    ("(3, 1.25, 4)", (3, 0, 4), True, 0.25),  # off-axis: 1.25 / 5
    ("(0, 0, 5.02)", (0, 0, 4), False, 0.255),  # just past 25 % (inside 26 %)
    ("(0, 0, 2.98)", (0, 0, 4), False, 0.255),
    ("(0, 0, 4.98)", (0, 0, 4), True, 0.245),  # just inside
])  # fmt: skip
def test_point3d_success_is_within_25_percent_inclusive(text, gt, correct, rel):
    got_correct, got_rel = _point(text, gt)
    assert got_rel == pytest.approx(rel, abs=1e-12)
    assert got_correct is correct


def _vector(p, threshold=None) -> bool:
    text = "(" + ", ".join(repr(float(v)) for v in p) + ")"
    kw = {} if threshold is None else {"angle_threshold_deg": threshold}
    s = score_sample(text, {"kind": "vector3d", "value": [1.0, 0.0, 0.0]}, "vector3d", **kw)
    assert s.parsable, s
    return bool(s.correct)


def _at(deg: float) -> tuple[float, float, float]:
    return (math.cos(math.radians(deg)), math.sin(math.radians(deg)), 0.0)


def test_vector3d_default_threshold_is_30_degrees():
    assert _vector(_at(29.5)) and not _vector(_at(30.5))


def test_vector3d_boundary_is_inclusive():
    # the threshold set to the very angle the scorer computes: on the boundary counts as success
    p = (1.0, 1.0, 0.0)
    exact = angle_deg(p, (1.0, 0.0, 0.0))
    assert exact == pytest.approx(45.0)
    assert _vector(p, threshold=exact)
    assert not _vector(p, threshold=math.nextafter(exact, 0.0))  # the next float below: outside
