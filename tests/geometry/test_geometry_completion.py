import math

import numpy as np

from spatialforge.geometry.boxes import hull_points
from spatialforge.geometry.completion import _disc_centre


def _front_arc(centre, r, n=200):
    """The camera (origin) facing half of a circle, with its two tangent ends."""
    c = np.asarray(centre, float)
    d = math.hypot(*c)
    half = math.acos(r / d)  # tangent points seen from the origin
    base = math.atan2(-c[1], -c[0])
    angles = base + np.linspace(-half, half, n)
    arc = c + r * np.stack([np.cos(angles), np.sin(angles)], 1)
    return arc, arc[0], arc[-1]


def test_disc_centre_found_for_round_outlines():
    for centre, r in [((0.4, 3.0), 0.05), ((-1.0, 2.0), 0.3), ((2.5, 4.0), 0.15)]:
        arc, a, b = _front_arc(centre, r)
        got = _disc_centre(hull_points(arc), a, b)
        np.testing.assert_allclose(got, centre, atol=1e-6)


def test_disc_centre_rejects_straight_and_cornered_outlines():
    rng = np.random.default_rng(0)
    # a face seen head-on, a few micrometres of float32 noise: a huge circle would fit it
    t = np.linspace(0, 1, 300)
    line = np.stack([-0.5 + t, 3.0 + 1e-6 * rng.standard_normal(300)], 1)
    assert _disc_centre(hull_points(line), line[0], line[-1]) is None
    # two faces of a box (an L towards the camera)
    corner, left, right = np.array([0.0, 2.8]), np.array([-0.4, 3.2]), np.array([0.5, 3.3])
    ell = np.concatenate([corner + t[:, None] * (left - corner), corner + t[:, None] * (right - corner)])
    assert _disc_centre(hull_points(ell), left, right) is None
