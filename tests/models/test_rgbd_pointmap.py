"""Point-map encoder and point-map processing (no model needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from spatialforge.models.pointmap import (
    PointBranchSettings,
    PointMapEncoder,
    encode_point_maps,
    relative_depth_levels,
    wavelengths,
)
from spatialforge.models.rgbd_processor import as_point_map, merge_units, point_map_from_depth, resize_point_map
from spatialforge.scene import Camera


def random_point_maps(n=2, h=28, w=28, seed=0, invalid_share=0.3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    xyz = torch.randn(n, 3, h, w, generator=g) * 2
    xyz[:, 2] = xyz[:, 2].abs() + 0.5
    valid = (torch.rand(n, 1, h, w, generator=g) > invalid_share).float()
    return torch.cat([xyz, valid], 1)


def test_encoding_has_193_channels_and_the_documented_frequencies():
    s = PointBranchSettings()
    assert s.in_channels == 193
    lam = wavelengths(s)
    assert lam.shape == (32,) and lam[0].item() == pytest.approx(0.01) and lam[-1].item() == pytest.approx(100.0)
    assert torch.allclose(lam[1:] / lam[:-1], torch.full((31,), 1e4 ** (1 / 31)), rtol=1e-5)  # log-spaced
    pm = torch.tensor([1.25, -0.5, 3.0, 1.0]).view(1, 4, 1, 1)
    enc = encode_point_maps(pm, s)[0, :, 0, 0]
    assert enc.shape == (193,)
    k = 7  # x block: sines then cosines; y block starts at 64
    assert enc[k].item() == pytest.approx(math.sin(2 * math.pi * 1.25 / lam[k].item()), abs=1e-5)
    assert enc[32 + k].item() == pytest.approx(math.cos(2 * math.pi * 1.25 / lam[k].item()), abs=1e-5)
    assert enc[64 + k].item() == pytest.approx(math.sin(2 * math.pi * -0.5 / lam[k].item()), abs=1e-5)
    assert enc[192].item() == 1.0


def test_invalid_pixels_encode_to_zero_whatever_their_xyz():
    s = PointBranchSettings()
    pm = random_point_maps()
    invalid = pm[:, 3] == 0
    other = pm.clone()
    other[:, :3][invalid.unsqueeze(1).expand(-1, 3, -1, -1)] = float("nan")  # NaN where invalid: must not leak
    other[:, 0][invalid] = 1e6
    enc, enc2 = encode_point_maps(pm, s), encode_point_maps(other, s)
    assert torch.equal(enc, enc2)
    assert torch.all(enc.permute(0, 2, 3, 1)[invalid] == 0)
    # A pixel flagged valid but with z <= 0 or a NaN is invalid too.
    bad = pm.clone()
    bad[0, 3, 0, 0], bad[0, 2, 0, 0] = 1.0, -1.0
    assert torch.all(encode_point_maps(bad, s)[0, :, 0, 0] == 0)

    torch.manual_seed(0)
    enc_module = PointMapEncoder(s, patch=14, hidden_size=8)
    assert torch.equal(enc_module(pm), enc_module(other))


def test_patchify_gives_one_feature_per_patch_with_kaiming_init():
    torch.manual_seed(0)
    module = PointMapEncoder(PointBranchSettings(), patch=14, hidden_size=16)
    out = module(random_point_maps(n=3, h=28, w=42))
    assert out.shape == (3, 16, 2, 3)
    fan_in = 193 * 14 * 14
    assert module.patchify.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
    assert torch.all(module.patchify.bias == 0)
    with pytest.raises(ValueError, match="multiple of the patch size"):
        module(random_point_maps(h=30))


def test_relative_depth_is_per_image_min_max_and_scale_free():
    s = PointBranchSettings(encoding="relative_depth")
    pm = random_point_maps(n=4)
    z, valid = pm[:, 2], pm[:, 3] > 0
    levels = relative_depth_levels(z, valid, 256, None)
    for i in range(4):
        v = levels[i][valid[i]]
        assert v.min().item() == 0 and v.max().item() == 255 and torch.equal(v, v.round())
    # Rows 0-1 and 2-3 as two images: the levels are normalised over each image.
    grouped = relative_depth_levels(z, valid, 256, torch.tensor([0, 0, 1, 1]))
    assert grouped[:2][valid[:2]].max().item() == 255 and grouped[:2][valid[:2]].min().item() == 0
    # Relative depth cannot see metric scale; xyz can.
    scaled = pm.clone()
    scaled[:, :3] *= 3
    assert torch.equal(encode_point_maps(pm, s), encode_point_maps(scaled, s))
    assert not torch.equal(encode_point_maps(pm, PointBranchSettings()), encode_point_maps(scaled, PointBranchSettings()))
    assert s.wavelength_range == (2.0, 512.0)


def test_settings_validate_and_resolve():
    with pytest.raises(ValueError, match="encoding"):
        PointBranchSettings(encoding="depth")
    with pytest.raises(ValueError, match="unknown point_branch"):
        PointBranchSettings.from_dict({"frequencies": 3})
    r = PointBranchSettings().resolved(vision_hidden_size=1152)
    assert (r.hidden_size, r.min_wavelength, r.max_wavelength) == (1152, 0.01, 100.0)


# --------------------------------------------------------------------------- processing
def test_point_map_from_depth_uses_camera_unproject_at_pixel_centres():
    cam = Camera(fx=50.0, fy=55.0, cx=20.0, cy=14.0, width=40, height=30)
    depth = np.full((30, 40), 2.0)
    depth[3, 5], depth[4, 6] = 0.0, np.nan
    points, valid = point_map_from_depth(depth, cam)
    assert points.shape == (30, 40, 3) and valid.sum() == 30 * 40 - 2
    expected = cam.unproject(np.array([[7.5, 9.5]]), np.array([2.0]))[0]
    assert np.allclose(points[9, 7], expected)
    assert np.all(points[3, 5] == 0) and not valid[4, 6]
    same, _ = point_map_from_depth(depth, fx=50.0, fy=55.0, cx=20.0, cy=14.0)
    assert np.array_equal(points, same)


def test_as_point_map_reads_every_documented_form():
    pts = np.ones((4, 5, 3), np.float32)
    pts[0, 0, 2] = np.nan
    p, v = as_point_map(pts)
    assert not v[0, 0] and v.sum() == 19 and p[0, 0, 2] == 0
    flag = np.ones((4, 5), bool)
    flag[1, 1] = False
    assert as_point_map((pts, flag))[1].sum() == 18
    assert as_point_map(np.concatenate([pts, flag[..., None]], -1))[1].sum() == 18
    assert as_point_map({"points": pts, "valid": flag})[1].sum() == 18
    d = as_point_map({"depth": np.ones((4, 5)), "fx": 5.0, "fy": 5.0, "cx": 2.5, "cy": 2.0})
    assert d[1].all()
    with pytest.raises(ValueError):
        as_point_map(np.ones((4, 5)))


def test_nearest_resize_never_takes_an_invalid_point():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(37, 53, 3)).astype(np.float32)
    valid = rng.random((37, 53)) > 0.4
    out, ok = resize_point_map(np.where(valid[..., None], pts, 0), valid, (28, 42), "nearest")
    assert out.shape == (28, 42, 3) and ok.shape == (28, 42)
    src = {tuple(p) for p in pts[valid].round(5)}
    assert all(tuple(p) in src for p in out[ok].round(5))  # every valid output is a valid input point
    assert np.all(out[~ok] == 0)


def test_area_resize_averages_only_valid_points():
    pts = np.zeros((4, 4, 3), np.float32)
    pts[..., 2] = np.arange(16, dtype=np.float32).reshape(4, 4) + 1
    valid = np.ones((4, 4), bool)
    valid[0, 0] = False  # block (0, 0) has 3 valid of 4
    valid[2:, 2:] = False  # block (1, 1) has none
    valid[0, 2] = valid[0, 3] = valid[1, 2] = False  # block (0, 1): 1 valid of 4
    out, ok = resize_point_map(pts, valid, (2, 2), "area", min_valid_fraction=0.5)
    assert ok.tolist() == [[True, False], [True, False]]
    assert out[0, 0, 2] == pytest.approx((2 + 5 + 6) / 3)  # the invalid z=1 is not averaged in
    assert out[1, 0, 2] == pytest.approx((9 + 10 + 13 + 14) / 4)
    out_lo, ok_lo = resize_point_map(pts, valid, (2, 2), "area", min_valid_fraction=0.2)
    assert ok_lo[0, 1] and out_lo[0, 1, 2] == pytest.approx(8.0)


def test_merge_units_follow_raster_token_order():
    h, w, unit = 56, 84, 28
    rows, cols = np.mgrid[0:h, 0:w]
    pm = torch.from_numpy(np.stack([cols, rows, np.ones_like(rows), np.ones_like(rows)]).astype(np.float32))
    units = merge_units(pm, unit)
    assert units.shape == (6, 4, 28, 28)
    for k in range(6):
        r, c = divmod(k, w // unit)
        assert units[k, 0, 0, 0].item() == c * unit and units[k, 1, 0, 0].item() == r * unit
