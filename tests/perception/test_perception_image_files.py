"""Image files become 8-bit RGB correctly (16-bit, alpha, CMYK, EXIF) or a DataError."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from spatialforge.errors import DataError
from spatialforge.sources.image_files import check_pixels, list_image_files, load_rgb, white_black_share


def test_16bit_grey_is_scaled_not_clipped(tmp_path):
    arr = np.array([[0, 257, 32896, 65535]], dtype=np.uint16).repeat(2, axis=0)
    Image.fromarray(arr).save(tmp_path / "g16.png")
    assert Image.open(tmp_path / "g16.png").mode.startswith("I")
    rgb = load_rgb(tmp_path / "g16.png")
    assert rgb.dtype == np.uint8 and rgb.shape == (2, 4, 3)
    assert rgb[0, :, 0].tolist() == [0, 1, 128, 255]  # clipping would give [0, 255, 255, 255]


def test_alpha_composited_over_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red
    rgba[0, 1] = (255, 0, 0, 0)  # transparent: white, not red
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black: mid grey
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    rgb = load_rgb(tmp_path / "a.png")
    assert rgb[0, 0].tolist() == [255, 0, 0]
    assert rgb[0, 1].tolist() == [255, 255, 255]
    assert abs(int(rgb[1, 0, 0]) - 127) <= 1


def test_cmyk_and_palette(tmp_path):
    Image.new("CMYK", (4, 4), (0, 255, 255, 0)).save(tmp_path / "c.jpg", quality=100)  # red in CMYK
    r, g, b = load_rgb(tmp_path / "c.jpg")[2, 2].tolist()
    assert r > 200 and g < 60 and b < 60
    Image.new("P", (3, 3), 0).save(tmp_path / "p.png")
    assert load_rgb(tmp_path / "p.png").shape == (3, 3, 3)


def test_exif_orientation_applied(tmp_path):
    im = Image.new("RGB", (4, 2), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    im.save(tmp_path / "r.jpg", exif=exif)
    assert load_rgb(tmp_path / "r.jpg").shape == (4, 2, 3)


def test_unreadable_float_and_missing(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="bad.png: unreadable image"):
        load_rgb(tmp_path / "bad.png")
    Image.fromarray(np.ones((3, 3), np.float32)).save(tmp_path / "f.tiff")
    with pytest.raises(DataError, match="floating-point image"):
        load_rgb(tmp_path / "f.tiff")
    with pytest.raises(DataError, match="not found"):
        load_rgb(tmp_path / "none.png")


def test_filter_blank_and_tiny():
    rgb = np.full((40, 40, 3), 100, np.uint8)
    rgb[:14] = 255  # 35 % white: allowed (the limit is "more than")
    assert white_black_share(rgb) == pytest.approx(0.35)
    check_pixels(rgb, "x", 32, 0.35)
    rgb[14] = 0  # + 2.5 % black
    with pytest.raises(DataError, match="38% of pixels are pure white or black"):
        check_pixels(rgb, "x", 32, 0.35)
    rgb[:, :] = 254  # near-white is not pure white
    check_pixels(rgb, "x", 32, 0.35)
    with pytest.raises(DataError, match="x: image is 40x31, smaller than 32"):
        check_pixels(rgb[:31], "x", 32, 0.35)


def test_list_image_files(tmp_path):
    for n in ("b.JPG", "a.png", "c.txt", "d.json"):
        (tmp_path / n).write_bytes(b"")
    assert [p.name for p in list_image_files(tmp_path)] == ["a.png", "b.JPG"]
