"""spatialforge.mirror.regions: region boxes, COCO RLE masks (both count forms) and polygons."""

import numpy as np
import pytest

from spatialforge.errors import DataError
from spatialforge.mask_rle import MaskRLE
from spatialforge.mirror.regions import (coco_counts_from_string, coco_counts_to_string, mirror_regions,
                                         region_count)


@pytest.mark.parametrize("counts, text", [
    ([5, 3], "53"),  # small runs: one character each (value + 48)
    ([100], "T3"),  # 100 = 4 + 3 * 32: low group 4 with the continuation bit (4 | 32) + 48 = 'T', then '3'
    ([0, 4], "04"),
    ([2, 3, 1], "231"),  # differences start at the 4th run (i > 2), so the third is stored as it is
])
def test_coco_string_codec_hand_values(counts, text):
    assert coco_counts_to_string(counts) == text and coco_counts_from_string(text) == counts


def test_coco_string_codec_round_trips_with_differences():
    rng = np.random.default_rng(0)
    for _ in range(300):
        counts = rng.integers(0, 3000, rng.integers(1, 12)).tolist()
        assert coco_counts_from_string(coco_counts_to_string(counts)) == counts
    # the 4th run onward are differences (may be negative): [1, 1, 1, 0] stores 0 - 1 = -1 as 'O' (0x1F + 48)
    assert coco_counts_to_string([1, 1, 1, 0]) == "111O"


def _mask():
    m = np.zeros((4, 6), bool)
    m[1:3, 0:2] = True  # a block touching the left edge
    return m


@pytest.mark.parametrize("compressed", [False, True])
def test_rle_masks_flip_with_the_image(compressed):
    rle = MaskRLE.encode(_mask())
    counts = coco_counts_to_string(rle.counts) if compressed else list(rle.counts)
    out = mirror_regions({"rle": [{"size": [4, 6], "counts": counts}]}, 6, 4)
    got = out["rle"][0]["counts"]
    assert isinstance(got, str) == compressed
    runs = coco_counts_from_string(got) if compressed else got
    assert (MaskRLE(4, 6, tuple(runs)).decode() == _mask()[:, ::-1]).all()
    back = mirror_regions(out, 6, 4)
    assert back["rle"][0]["counts"] == counts


def test_boxes_polygons_and_order_are_kept():
    regions = {"bbox": [[0, 1, 2, 3], [4, 0, 6, 4]], "segmentation": [[[0, 0, 2, 0, 2, 2]]]}
    out = mirror_regions(regions, 6, 4)
    assert out["bbox"] == [[4, 1, 6, 3], [0, 0, 2, 4]]  # region 0 is still region 0, now on the right
    assert out["segmentation"] == [[[6, 0, 4, 0, 4, 2]]]
    assert mirror_regions({"bbox": [[0, 1, 2, 3]], "box_format": "xywh"}, 6, 4)["bbox"] == [[4, 1, 2, 3]]
    assert region_count(regions) == 2 and region_count({}) is None


def test_bad_regions_raise_data_errors():
    with pytest.raises(DataError, match="size 4x5 on an image of 4x6"):
        mirror_regions({"rle": [{"size": [4, 5], "counts": [20]}]}, 6, 4)
    with pytest.raises(DataError, match="sum to 20"):
        mirror_regions({"rle": [{"size": [4, 6], "counts": [20]}]}, 6, 4)
    with pytest.raises(DataError, match="not 4 numbers"):
        mirror_regions({"bbox": [[1, 2, 3]]}, 6, 4)
