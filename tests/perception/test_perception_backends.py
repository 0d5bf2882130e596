"""Backends: oracles return the exact ground truth (noisy ones: seeded, controlled errors);
the transformers backends load tiny random-weight models through from_pretrained."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from spatialforge.errors import ConfigError, DataError
from spatialforge.files import read_image
from spatialforge.perception.base import ImageItem, backend_class, intrinsics_from_fov, mask_to_box
from spatialforge.perception.pipeline import nms
from spatialforge.scene import Scene


def _items(rendered, n=2):
    scenes = [Scene.load(p) for p in sorted(rendered.glob("synthetic-*.json"))[:n]]
    return scenes, [ImageItem(s.id, s.load_image()) for s in scenes]


def test_oracle_geometry_is_exact(rendered):
    scenes, items = _items(rendered)
    res = backend_class("geometry", "oracle")(scenes=rendered)(items)
    for s, r in zip(scenes, res):
        gt = s.load_depth()
        np.testing.assert_array_equal(r.depth, gt)
        np.testing.assert_array_equal(r.K, s.camera.K)
        rows, cols = np.nonzero(r.valid)
        uv = np.stack([cols + 0.5, rows + 0.5], 1)
        np.testing.assert_allclose(r.points[rows, cols], s.camera.unproject(uv, gt[rows, cols]), atol=1e-5)


def test_noisy_geometry_scale_and_seed(rendered):
    scenes, items = _items(rendered, 1)
    gt = scenes[0].load_depth()
    scaled = backend_class("geometry", "noisy_oracle")(scenes=rendered, depth_scale=1.1, depth_noise=0.0)(items)[0]
    np.testing.assert_allclose(scaled.depth, gt * 1.1, rtol=1e-6)
    make = lambda seed: backend_class("geometry", "noisy_oracle")(scenes=rendered, depth_scale=1.0,  # noqa: E731
                                                                   depth_noise=0.02, seed=seed)(items)[0].depth
    a, b, c = make(0), make(0), make(1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rel = a / gt - 1
    assert 0.015 < rel.std() < 0.025


def test_oracle_detection_and_segmentation(rendered):
    scenes, items = _items(rendered)
    vocab = ["chair", "table", "shelf", "cabinet", "mug", "sofa", "bed", "lamp", "box", "book"]
    dets = backend_class("detection", "oracle")(scenes=rendered)(items, [vocab] * 2)
    masks = backend_class("segmentation", "oracle")(scenes=rendered)(items, [d.boxes for d in dets])
    for s, d, m in zip(scenes, dets, masks):
        visible = [o for o in s.objects if o.mask is not None and o.mask.area and o.category in vocab]
        assert [e["id"] for e in d.extras] == [o.id for o in visible]
        np.testing.assert_array_equal(d.boxes, np.array([o.box2d for o in visible]).reshape(-1, 4))
        for o, mk in zip(visible, m):
            np.testing.assert_array_equal(mk, o.mask.decode())
    # restricted vocabulary: only those categories
    only = backend_class("detection", "oracle")(scenes=rendered)(items[:1], [["mug"]])[0]
    assert set(only.labels) <= {"mug"}


def test_noisy_boxes_and_masks(rendered):
    scenes, items = _items(rendered, 1)
    exact = backend_class("detection", "oracle")(scenes=rendered)(items, [[]])[0]
    noisy = backend_class("detection", "noisy_oracle")(scenes=rendered, box_jitter=0.1)(items, [[]])[0]
    assert noisy.boxes.shape == exact.boxes.shape and not np.allclose(noisy.boxes, exact.boxes)
    H, W = items[0].hw
    assert (noisy.boxes >= 0).all() and (noisy.boxes[:, [0, 2]] <= W).all() and (noisy.boxes[:, [1, 3]] <= H).all()
    m0 = backend_class("segmentation", "oracle")(scenes=rendered)(items, [exact.boxes])[0]
    m1 = backend_class("segmentation", "noisy_oracle")(scenes=rendered, erode=1)(items, [exact.boxes])[0]
    assert (m1 <= m0).all() and m1.sum() < m0.sum()


def test_oracle_errors(rendered, tmp_path):
    with pytest.raises(ConfigError, match="scenes folder .* not found"):
        backend_class("geometry", "oracle")(scenes=tmp_path / "none")
    g = backend_class("geometry", "oracle")(scenes=rendered)
    with pytest.raises(DataError, match="image 'other': no ground truth"):
        g([ImageItem("other", np.zeros((120, 160, 3), np.uint8))])
    scenes, _ = _items(rendered, 1)
    with pytest.raises(DataError, match="is 10x10, its scene is 120x160"):
        g([ImageItem(scenes[0].id, np.zeros((10, 10, 3), np.uint8))])


def test_helpers():
    K = intrinsics_from_fov(200, 100, 90.0)
    assert K[0, 0] == pytest.approx(100.0) and (K[0, 2], K[1, 2]) == (100.0, 50.0)
    m = np.zeros((5, 6), bool)
    m[1:3, 2:5] = True
    assert mask_to_box(m).tolist() == [2, 1, 5, 3]
    assert mask_to_box(np.zeros((2, 2), bool)) is None
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], float)
    assert nms(boxes, np.array([0.5, 0.9, 0.1]), 0.5) == [1, 2]  # box 0 overlaps the better box 1
    assert nms(boxes, np.array([0.5, 0.9, 0.1]), 0.9) == [1, 0, 2]


# --------------------------------------------------------------------------- transformers, tiny models
@pytest.fixture(scope="module")
def photo(rendered):
    p = sorted((rendered / "images").glob("*.png"))[0]
    return ImageItem(p.stem, read_image(p))


def test_depth_anything_metric_tiny(tiny_models, photo):
    g = backend_class("geometry", "depth_anything_v2")(model=str(tiny_models / "depth_anything"), hfov_deg=90)
    assert g.net.config.depth_estimation_type == "metric" and g.library_version.startswith("transformers ")
    r = g([photo, photo])
    assert len(r) == 2
    H, W = photo.hw
    assert r[0].depth.shape == (H, W) and r[0].points.shape == (H, W, 3)
    np.testing.assert_array_equal(r[0].depth, r[1].depth)
    assert r[0].K[0, 0] == pytest.approx(W / 2)  # 90 degrees horizontal field of view
    d = r[0].depth[r[0].valid]
    assert d.size > 0.5 * H * W and (d > 0).all() and (d < 20).all() and d.std() > 0
    np.testing.assert_allclose(r[0].points[..., 2][r[0].valid], d)
    assert "torchvision" not in sys.modules
    with pytest.raises(ConfigError, match="hfov_deg"):
        backend_class("geometry", "depth_anything_v2")(model=str(tiny_models / "depth_anything"), hfov_deg=0)


def test_owlv2_tiny(tiny_models, photo):
    d = backend_class("detection", "owlv2")(model=str(tiny_models / "owlv2"), threshold=0.0)
    dets = d([photo], [["chair", "plant pot"]])[0]
    H, W = photo.hw
    assert len(dets) > 0 and set(dets.labels) <= {"chair", "plant pot"}
    assert (dets.boxes[:, [0, 2]] <= W).all() and (dets.boxes[:, [1, 3]] <= H).all() and (dets.boxes >= 0).all()
    assert (dets.boxes[:, 2] > dets.boxes[:, 0]).all()
    assert d([photo], [[]])[0].boxes.shape == (0, 4)
    with pytest.raises(ConfigError, match="prompt must contain"):
        backend_class("detection", "owlv2")(model=str(tiny_models / "owlv2"), prompt="no slot")


def test_sam_tiny(tiny_models, photo):
    s = backend_class("segmentation", "sam")(model=str(tiny_models / "sam"))
    boxes = np.array([[10, 10, 60, 50], [80, 20, 150, 110]], float)
    m = s([photo], [boxes])[0]
    assert m.shape == (2, *photo.hw) and m.dtype == bool
    assert s([photo], [np.zeros((0, 4))])[0].shape == (0, *photo.hw)


def test_hf_bad_model_path(tmp_path):
    with pytest.raises(ConfigError, match="sam: cannot load"):
        backend_class("segmentation", "sam")(model=str(tmp_path / "nothing"))


def test_grounding_dino_tiny(tiny_models, photo):
    d = backend_class("detection", "grounding_dino")(model=str(tiny_models / "grounding_dino"), threshold=0.0)
    vocab = ["chair", "plant pot", "mug"]
    ids, spans = d._prompt(vocab)
    assert [d.tokenizer.decode(ids[a:b]) for a, b in spans] == vocab  # each category's own tokens
    dets = d([photo], [vocab])[0]
    H, W = photo.hw
    assert len(dets) == d.net.config.num_queries and set(dets.labels) <= set(vocab)
    assert (dets.boxes >= 0).all() and (dets.boxes[:, [0, 2]] <= W).all() and (dets.boxes[:, [1, 3]] <= H).all()
    assert ((dets.scores >= 0) & (dets.scores <= 1)).all()
    strict = backend_class("detection", "grounding_dino")(model=str(tiny_models / "grounding_dino"), threshold=0.9999)
    assert len(strict([photo], [vocab])[0]) < len(dets)
    with pytest.raises(ConfigError, match="text tokens"):
        d([photo], [["word" * 20] * 20])


def test_depth_pro_tiny(tiny_models, photo):
    import torch

    g = backend_class("geometry", "depth_pro")(model=str(tiny_models / "depth_pro"))
    r = g([photo])[0]
    H, W = photo.hw
    assert r.depth.shape == (H, W) and r.valid.all() and (r.depth > 0).all()
    # On a 64x64 image (the model's output size) no resizing happens: check the formula exactly.
    rgb = photo.rgb[:64, :64].copy()
    r64 = g([type(photo)("sq", rgb)])[0]
    x = torch.from_numpy((rgb.astype(np.float32) * (1 / 255) - 0.5) / 0.5).permute(2, 0, 1)[None]
    with torch.no_grad():
        pred = g.net(pixel_values=x)
    fov = float(pred.field_of_view[0])
    assert r64.K[0, 0] == pytest.approx(32 / np.tan(np.radians(fov) / 2))  # focal from the predicted FOV
    want = 1.0 / np.clip(pred.predicted_depth[0].numpy() * 64 / r64.K[0, 0], 1e-4, 1e4)
    np.testing.assert_allclose(r64.depth, want, rtol=1e-5)


def test_photo_vote_majority_rule():
    from spatialforge.perception.hf import photo_vote

    inc = {"a photo", "a room"}
    assert photo_vote(["a photo", "a room", "a chart"], inc) is None  # 2 of 3
    assert "1 of its top 2" in photo_vote(["a photo", "a chart"], inc)  # half is not more than half
    assert photo_vote(["a photo"], inc) is None
    assert "0 of its top 1" in photo_vote(["text"], inc)


def test_clip_photo_filter_tiny(tiny_models, photo):
    from spatialforge.perception.hf import photo_vote

    kw = dict(model=str(tiny_models / "clip"), include=["a photo", "a room"], exclude=["a chart", "a screenshot", "text"])
    f = backend_class("photo_filter", "clip")(top_k=3, **kw)
    items = [photo, ImageItem("black", np.zeros((50, 70, 3), np.uint8))]
    tops = f.top_tags(items)
    assert all(len(t) == 3 and set(t) <= set(f.tags) for t in tops)
    assert f(items) == [photo_vote(t, f.include) for t in tops]
    assert f.top_tags(items[:1]) == tops[:1]  # batch-independent
    for bad in (dict(top_k=6), dict(top_k=0)):
        with pytest.raises(ConfigError, match="top_k"):
            backend_class("photo_filter", "clip")(**{**kw, **bad})
    with pytest.raises(ConfigError, match="distinct tags"):
        backend_class("photo_filter", "clip")(**{**kw, "exclude": ["a photo"]})


def test_sensor_geometry(rendered, tmp_path):
    from PIL import Image

    scenes, items = _items(rendered, 2)
    exact = backend_class("geometry", "oracle")(scenes=rendered)(items)
    c = scenes[0].camera
    npy = backend_class("geometry", "sensor")(depth_dir=str(rendered / "depth"),
                                             intrinsics={"fx": c.fx, "fy": c.fy, "cx": c.cx, "cy": c.cy})(items[:1])[0]
    np.testing.assert_array_equal(npy.depth, exact[0].depth)
    np.testing.assert_array_equal(npy.K, exact[0].K)
    np.testing.assert_array_equal(npy.points, exact[0].points)
    # 16-bit millimetre PNGs and per-image K files
    (tmp_path / "d").mkdir()
    (tmp_path / "k").mkdir()
    for s in scenes:
        mm = np.round(s.load_depth() * 1000).astype(np.uint16)
        Image.fromarray(mm).save(tmp_path / "d" / f"{s.id}.png")
        (tmp_path / "k" / f"{s.id}.json").write_text(json.dumps({"K": s.camera.K.tolist()}))
    res = backend_class("geometry", "sensor")(depth_dir=str(tmp_path / "d"), depth_scale=0.001,
                                             intrinsics_dir=str(tmp_path / "k"))(items)
    for r, e in zip(res, exact):
        np.testing.assert_allclose(r.depth, e.depth, atol=0.0005 + 1e-6)
        np.testing.assert_array_equal(r.K, e.K)
    with pytest.raises(DataError, match="no depth file"):
        backend_class("geometry", "sensor")(depth_dir=str(tmp_path / "k"), intrinsics_dir=str(tmp_path / "k"))(items[:1])
    with pytest.raises(ConfigError, match="exactly one of intrinsics or intrinsics_dir"):
        backend_class("geometry", "sensor")(depth_dir=str(tmp_path / "d"))
    with pytest.raises(ConfigError, match="positive focal"):
        backend_class("geometry", "sensor")(depth_dir=str(tmp_path / "d"), intrinsics={"fx": 0, "fy": 1, "cx": 0, "cy": 0})
