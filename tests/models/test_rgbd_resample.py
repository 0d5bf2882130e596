"""Nearest-pixel resampling of RGB-D point maps samples at pixel centres (issue #11 item 13):
output pixel j reads input pixel floor((j + 0.5) * n_in / n_out), the rule PIL's NEAREST uses
for the image, so every point stays on the pixel it was measured at."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from spatialforge.models.rgbd_processor import resize_point_map

# (n_in, n_out) per axis, chosen without ties: no output centre maps exactly onto the edge
# between two input pixels, where either neighbour is "nearest" (PIL then takes the left one)
SIZES = [((3, 2), (7, 3)), ((5, 8), (10, 4)), ((13, 5), (9, 4)), ((2, 4), (11, 6)), ((7, 5), (3, 8)),
         ((9, 2), (5, 3))]


def _has_tie(n_in: int, n_out: int) -> bool:
    return any((2 * j + 1) * n_in % (2 * n_out) == 0 for j in range(n_out))


def _index_map(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = np.mgrid[0:h, 0:w]
    pts = np.stack([cols, rows, np.full((h, w), 1.0)], -1).astype(np.float32)  # x = column, y = row
    return pts, np.ones((h, w), bool)


def _pil_nearest(h_in: int, w_in: int, h_out: int, w_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The source (row, col) PIL's NEAREST resize of the image takes for each output pixel."""
    rows, cols = np.mgrid[0:h_in, 0:w_in].astype(np.int32)
    r = np.asarray(Image.fromarray(rows).resize((w_out, h_out), Image.NEAREST))
    c = np.asarray(Image.fromarray(cols).resize((w_out, h_out), Image.NEAREST))
    return r, c


@pytest.mark.parametrize("rows,cols", SIZES)
def test_nearest_point_map_matches_pil_nearest_on_the_image(rows, cols):
    (h_in, h_out), (w_in, w_out) = rows, cols
    assert not _has_tie(h_in, h_out) and not _has_tie(w_in, w_out)
    pts, valid = _index_map(h_in, w_in)
    out, ok = resize_point_map(pts, valid, (h_out, w_out), "nearest")
    r, c = _pil_nearest(h_in, w_in, h_out, w_out)
    assert ok.all()
    np.testing.assert_array_equal(out[..., 1], r)
    np.testing.assert_array_equal(out[..., 0], c)


def test_downscale_by_two_takes_the_second_pixel_of_each_pair():
    # output centre j + 0.5 lands on input 2j + 1, the edge between pixels 2j and 2j + 1 (a tie):
    # floor takes 2j + 1; the top-left corner rule (no + 0.5) would take 2j
    pts, valid = _index_map(4, 6)
    out, _ = resize_point_map(pts, valid, (2, 3), "nearest")
    assert out[..., 0].tolist() == [[1, 3, 5], [1, 3, 5]] and out[..., 1].tolist() == [[1, 1, 1], [3, 3, 3]]


def test_validity_travels_with_the_chosen_pixel():
    pts, valid = _index_map(4, 4)
    valid[1, 1] = False  # the pixel output (0, 0) reads
    pts[1, 1] = 0.0
    out, ok = resize_point_map(pts, valid, (2, 2), "nearest")
    assert ok.tolist() == [[False, True], [True, True]] and out[0, 0].tolist() == [0.0, 0.0, 0.0]
