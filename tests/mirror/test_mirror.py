"""spatialforge.mirror: each map is an involution and follows the pixel convention."""

import numpy as np
import pytest

from spatialforge.mirror import (flip_horizontal, mirror_box2d, mirror_box3d_answer, mirror_col, mirror_hour,
                                 mirror_label, mirror_point2d, mirror_point3d, mirror_point_map, mirror_rotation,
                                 mirror_side, mirror_x, swap_left_right)


def test_swap_left_right_is_an_involution():
    s = "the Leftmost chair left of the rightmost table, Right?"
    assert swap_left_right(s) == "the Rightmost chair right of the leftmost table, Left?"
    assert swap_left_right(swap_left_right(s)) == s
    assert swap_left_right("bright lefty") == "bright lefty"


@pytest.mark.parametrize("value, mirrored", [("left", "right"), ("right_of", "left_of"), ("leftmost", "rightmost"),
                                             ("front+left", "front+right"), ("width", "width"), ("above", "above")])
def test_mirror_side_plan_values(value, mirrored):
    assert mirror_side(value) == mirrored and mirror_side(mirrored) == value


@pytest.mark.parametrize("label, mirrored", [("Left", "right"), ("the  leftmost chair", "the rightmost chair"),
                                             ("anti-clockwise", "clockwise"), ("rightwards", "leftwards"),
                                             ("counterclockwise", "clockwise"), ("left_of", "left_of")])
def test_mirror_label_normalises_and_swaps(label, mirrored):
    assert mirror_label(label) == mirrored


@pytest.mark.parametrize("hour, mirrored", [(3, 9), (9, 3), (12, 12), (6, 6), (1, 11), (5, 7)])
def test_mirror_hour(hour, mirrored):
    assert mirror_hour(hour) == mirrored and mirror_hour(mirrored) == hour


def test_pixel_convention_one_map_for_coordinates_and_indices():
    W = 7
    for col in range(W):  # a pixel's centre col + 0.5 maps to the centre of mirror_col(col)
        assert mirror_x(col + 0.5, W) == mirror_col(col, W) + 0.5
        assert flip_horizontal(np.arange(W)[None])[0, mirror_col(col, W)] == col
    assert mirror_box2d((1.0, 2.0, 3.5, 4.0), W) == (3.5, 2.0, 6.0, 4.0)
    assert mirror_point2d(mirror_point2d((1.25, 3.0), W), W) == (1.25, 3.0)


def test_camera_frame_mirrors_negate_x():
    assert mirror_point3d((1.0, -2.0, 3.0)) == (-1.0, -2.0, 3.0)
    b = {"center": (1.0, 0.5, 2.0), "size": (1.0, 1.0, 1.0), "yaw": 0.3}
    assert mirror_box3d_answer(b) == {"center": (-1.0, 0.5, 2.0), "size": (1.0, 1.0, 1.0), "yaw": -0.3}
    pm = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    m = mirror_point_map(pm)
    assert np.array_equal(m[:, 0], pm[:, 2] * np.float32([-1, 1, 1])) and np.array_equal(mirror_point_map(m), pm)


def test_mirror_rotation_is_the_flip_conjugate():
    R = np.array([[0.0, -0.6, 0.8], [1.0, 0.0, 0.0], [0.0, 0.8, 0.6]])
    F = np.diag([-1.0, 1.0, 1.0])
    assert np.array_equal(np.array(mirror_rotation(R.tolist())), F @ R @ F)
    assert mirror_rotation(mirror_rotation(R.tolist())) == tuple(map(tuple, R.tolist()))


def test_flip_horizontal_channels_match_numpy():
    a = np.random.default_rng(0).integers(0, 255, (4, 5, 3), dtype=np.uint8)
    f = flip_horizontal(a)
    assert f.flags.c_contiguous and (f == a[:, ::-1]).all()
