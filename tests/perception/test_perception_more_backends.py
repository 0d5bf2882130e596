"""Taggers (SigLIP, CLIP, VLM lister), SAM-HQ / SAM 2, the DINOv2 orientation head, the sidecar
gravity slot and MoGe-2: real classes, tiny random weights loaded back through from_pretrained."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from spatialforge.errors import ConfigError, DataError
from spatialforge.extras import MissingExtraError
from spatialforge.files import read_image
from spatialforge.perception.base import ImageItem, backend_class, unproject_depth


@pytest.fixture(scope="module")
def photo(rendered):
    p = sorted((rendered / "images").glob("*.png"))[0]
    return ImageItem(p.stem, read_image(p))


VOCAB = ["chair", "table", "mug", "lamp"]


# --------------------------------------------------------------------------- tagging
def test_select_tags_rule():
    from spatialforge.perception.tagging import select_tags

    p = np.array([0.2, 0.9, 0.05, 0.9])
    assert select_tags(p, VOCAB, 0.1, 10) == ["chair", "table", "lamp"]  # vocabulary order
    assert select_tags(p, VOCAB, 0.1, 2) == ["table", "lamp"]  # the two best (tie: vocabulary order)
    assert select_tags(p, VOCAB, 0.2, 10) == ["chair", "table", "lamp"]  # >= threshold
    assert select_tags(p, VOCAB, 0.95, 10) == []


def test_siglip_tagger_sigmoid_per_label(tiny_models, photo):
    import torch

    t = backend_class("tagging", "siglip")(model=str(tiny_models / "siglip"), vocabulary=VOCAB, threshold=0.0)
    s = t.scores([photo, photo])
    assert s.shape == (2, 4) and np.array_equal(s[0], s[1])
    # independent sigmoid probabilities of the model's own logits (not a softmax: rows need not sum to 1)
    px = t.image_processor(images=[photo.rgb], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        logits = t.net(pixel_values=px, **t.text).logits_per_image.double().numpy()[0]
    np.testing.assert_allclose(s[0], 1 / (1 + np.exp(-logits)), rtol=1e-6)
    assert t([photo]) == [VOCAB]  # threshold 0: every label
    lo = np.sort(s[0])
    cut = float(lo[0] + lo[1]) / 2  # keeps the three best
    t.threshold = cut
    assert t([photo])[0] == [v for v, p in zip(VOCAB, s[0]) if p >= cut] and len(t([photo])[0]) == 3
    with pytest.raises(ConfigError, match="vocabulary must be"):
        backend_class("tagging", "siglip")(model=str(tiny_models / "siglip"), vocabulary=[])
    assert "torchvision" not in sys.modules


def test_clip_tagger_softmax_relative_to_chance(tiny_models, photo):
    t = backend_class("tagging", "clip")(model=str(tiny_models / "clip"), vocabulary=VOCAB)
    s = t.scores([photo])[0]
    assert s.sum() == pytest.approx(len(VOCAB))  # softmax x |V|: 1 = chance
    assert t([photo])[0] == [v for v, p in zip(VOCAB, s) if p >= 1.0]
    assert t.threshold == 1.0


def test_parse_object_list():
    from spatialforge.perception.tagging import parse_object_list

    vocab = ["chair", "plant pot", "shelf", "box", "bookcase"]
    assert parse_object_list("Two chairs, a plant pot and some shelves.", vocab) == ["chair", "plant pot", "shelf"]
    assert parse_object_list("- boxes\n- a Chair\n3. bookcase", vocab) == ["chair", "box", "bookcase"]
    assert parse_object_list("armchair, pot, a table", vocab) == []  # whole items only, no substrings
    assert parse_object_list("", vocab) == []


def test_vlm_lister_tiny_qwen(tmp_path, photo, monkeypatch):
    from spatialforge.perception.tagging import parse_object_list

    monkeypatch.setenv("SPATIALFORGE_CACHE", str(tmp_path))
    t = backend_class("tagging", "vlm")(model="tiny:qwen2_5_vl", vocabulary=VOCAB, max_new_tokens=8)
    assert "Choose from: chair, table, mug, lamp." in t.prompt
    tags = t([photo, photo])
    assert len(t.answers) == 2 and tags == [parse_object_list(a, VOCAB) for a in t.answers]
    assert tags[0] == tags[1]  # greedy: deterministic


def test_tags_feed_detector_and_filter(oracle_env, image_folder, tiny_models, tmp_path):
    """The tagger's tags become each image's detector vocabulary; include/exclude lists reject
    images with the reason in the manifest."""
    from spatialforge.perception.config import parse_config
    from spatialforge.perception.tagging import apply_tags
    from spatialforge.sources.images import perceive_folder

    stages = {k: {"backend": "oracle", "kwargs": {"scenes": str(oracle_env)}} for k in ("geometry", "detection", "segmentation")}
    stages["tagging"] = {"backend": "siglip", "kwargs": {"model": str(tiny_models / "siglip"), "threshold": 0.0,
                                                         "max_tags": 2}}
    raw = {"vocabulary": ["chair", "table", "shelf"], "stages": stages, "filter": {"min_objects": 1},
           "postprocess": {"score_threshold": 0.0, "min_mask_box_agreement": 0.0, "min_mask_pixels": 1}}
    cfg = parse_config(raw)
    assert cfg.stages["tagging"].kwargs["vocabulary"] == ["chair", "table", "shelf"]
    m = perceive_folder(image_folder, cfg, tmp_path / "a")
    tagger = backend_class("tagging", "siglip")(**cfg.stages["tagging"].kwargs)
    from spatialforge.scene import Scene

    for name in m.done:
        s = Scene.load(tmp_path / "a" / f"{name.rsplit('.', 1)[0]}.json")
        tags = tagger([ImageItem(s.id, s.load_image())])[0]
        assert {o.category for o in s.objects} <= set(tags) and len(tags) == 2
    # exclude: every image tagged with all three (threshold 0) is rejected, the reason names the tag
    raw2 = {**raw, "stages": {**stages, "tagging": {**stages["tagging"], "kwargs": {
        **stages["tagging"]["kwargs"], "max_tags": 5}}}, "filter": {"min_objects": 1, "exclude_tags": ["person"]}}
    m2 = perceive_folder(image_folder, parse_config(raw2), tmp_path / "b")
    assert not m2.done and all("tagged person (filter.exclude_tags)" in r for r in m2.skipped.values())
    item = ImageItem("x", np.zeros((4, 4, 3), np.uint8))
    out = apply_tags([item, item], [["mug"], ["chair", "mug"]], ("chair",), ("chair",), ())
    assert isinstance(out[0], DataError) and "none of filter.include_tags (chair)" in str(out[0])
    assert out[1] == ["chair"]
    with pytest.raises(ConfigError, match="need a tagging stage"):
        parse_config({**raw, "stages": {k: v for k, v in stages.items() if k != "tagging"},
                      "filter": {"exclude_tags": ["person"]}})


# --------------------------------------------------------------------------- segmentation
@pytest.mark.parametrize("name", ["sam_hq", "sam2"])
def test_sam_hq_and_sam2_tiny(tiny_models, photo, name):
    s = backend_class("segmentation", name)(model=str(tiny_models / name))
    boxes = np.array([[10, 10, 60, 50], [80, 20, 150, 110]], float)
    m = s([photo], [boxes])[0]
    assert m.shape == (2, *photo.hw) and m.dtype == bool and m.any()
    np.testing.assert_array_equal(s([photo, photo], [boxes, boxes])[1], m)
    assert s([photo], [np.zeros((0, 4))])[0].shape == (0, *photo.hw)
    with pytest.raises(DataError, match="non-finite box"):
        s([photo], [np.array([[0, 0, np.nan, 5]])])
    assert "torchvision" not in sys.modules


def test_sam_hq_hq_token_only_changes_masks(tiny_models, photo):
    boxes = np.array([[10, 10, 60, 50]], float)
    a = backend_class("segmentation", "sam_hq")(model=str(tiny_models / "sam_hq"))([photo], [boxes])[0]
    b = backend_class("segmentation", "sam_hq")(model=str(tiny_models / "sam_hq"), hq_token_only=True)([photo], [boxes])[0]
    assert not np.array_equal(a, b)


def test_sam2_box_scaling_and_upsampling(tiny_models, photo):
    """The torch re-implementation of Sam2ImageProcessor's steps: boxes scaled per axis to the
    model's square, logits resized back to the image."""
    import torch

    s = backend_class("segmentation", "sam2")(model=str(tiny_models / "sam2"))
    H, W = photo.hw
    box = np.array([[16, 12, 96, 72]], float)
    x = torch.nn.functional.interpolate(torch.tensor(photo.rgb).permute(2, 0, 1)[None].float(), size=(64, 64),
                                       mode="bilinear", antialias=True)
    x = (x.permute(0, 2, 3, 1) / 255 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    with torch.no_grad():
        pred = s.net(pixel_values=x.permute(0, 3, 1, 2), input_boxes=torch.tensor([[[16 * 64 / W, 12 * 64 / H,
                                                                                     96 * 64 / W, 72 * 64 / H]]]),
                     multimask_output=False)
    want = torch.nn.functional.interpolate(pred.pred_masks[0, :, :1], size=(H, W), mode="bilinear")[:, 0] > 0
    np.testing.assert_array_equal(s([photo], [box])[0], want.numpy())


# --------------------------------------------------------------------------- orientation
def test_front_from_azimuth_convention():
    from spatialforge.perception.orientation import front_from_azimuth

    c = np.array([0.0, 4.0, 0.5])  # straight ahead of the camera (world y forward, z up)
    np.testing.assert_allclose(front_from_azimuth(c, 0), [0, -1, 0], atol=1e-12)  # toward the camera
    np.testing.assert_allclose(front_from_azimuth(c, 90), [1, 0, 0], atol=1e-12)  # the viewer's right (world x)
    np.testing.assert_allclose(front_from_azimuth(c, 180), [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(front_from_azimuth(c, 270), [-1, 0, 0], atol=1e-12)
    side = np.array([3.0, 3.0, 0.0])  # 45 degrees to the right: "toward the camera" is the line of sight
    np.testing.assert_allclose(front_from_azimuth(side, 0), [-math.sqrt(0.5), -math.sqrt(0.5), 0], atol=1e-12)
    assert front_from_azimuth(np.array([0.0, 0.0, 2.0]), 0) is None


def test_orientation_relation_reads_the_front():
    """The facing labels the orientation task gives agree with the azimuth convention."""
    from spatialforge.perception.orientation import front_from_azimuth
    from spatialforge.scene import Box3D, Camera, Object3D, Scene
    from spatialforge.tasks.relations import facing
    from spatialforge.tasks.view import SceneView

    objs = []
    for k, az in enumerate((0, 90, 180, 270)):
        c = (-1.5 + k, 4.0, -1.0)
        objs.append(Object3D(id=k, category=f"chair{k}", box3d=Box3D(center=c, size=(0.5, 0.9, 0.5), yaw=0.0),
                             front=front_from_azimuth(np.array(c), az)))
    scene = Scene(id="s", image_path="x.png", camera=Camera(fx=200, fy=200, cx=160, cy=120, width=320, height=240),
                  objects=tuple(objs))
    view = SceneView(scene)
    assert [facing(view, i) for i in range(4)] == ["toward", "right", "away", "left"]


def test_dinov2_orientation_head_tiny(tiny_models, photo, tmp_path):
    import torch

    from spatialforge.perception.orientation import crop_box, load_head, save_head

    root = tiny_models / "orientation"
    o = backend_class("orientation", "dinov2_head")(backbone=str(root / "backbone"), head=str(root / "head.safetensors"))
    assert o.bins == 8 and o.features == "cls+mean"
    boxes = np.array([[10, 10, 60, 50], [80, 20, 150, 110], [0, 0, 160, 120]], float)
    az = o([photo], [boxes])[0]
    assert len(az) == 3 and all(a in [b * 45.0 for b in range(8)] for a in az)
    # by hand: crop -> processor -> backbone -> [CLS, mean patch] -> linear, GELU, linear -> argmax bin
    x0, y0, x1, y1 = crop_box(boxes[1], photo.hw, 0.1)
    assert (x0, y0, x1, y1) == (73, 11, 157, 119)
    px = o.processor(images=[photo.rgb[y0:y1, x0:x1]], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        h = o.net(pixel_values=px).last_hidden_state
        f = torch.cat([h[:, 0], h[:, 1:].mean(1)], 1)
        (w0, b0), (w1, b1) = load_head(root / "head.safetensors", 16)[0]
        logits = torch.nn.functional.linear(torch.nn.functional.gelu(torch.nn.functional.linear(f, w0, b0)), w1, b1)
    assert az[1] == 45.0 * int(logits.argmax())
    # confidence: at min_confidence 1.0 nothing is certain enough -> None, never a guess
    unsure = backend_class("orientation", "dinov2_head")(backbone=str(root / "backbone"),
                                                         head=str(root / "head.safetensors"), min_confidence=1.0)
    assert unsure([photo], [boxes])[0] == [None, None, None]
    # the documented head format: a wrong size or bad metadata is a ConfigError naming the file
    bad = save_head(tmp_path / "bad.safetensors", [(torch.zeros(8, 10), torch.zeros(8))], bins=8)
    with pytest.raises(ConfigError, match="bad.safetensors: the head maps 10 -> 8; the backbone gives 16"):
        load_head(bad, 16)
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    with pytest.raises(ConfigError, match="not a readable safetensors file"):
        load_head(tmp_path / "junk.safetensors", 16)
    with pytest.raises(DataError, match="is empty inside"):
        o([photo], [np.array([[170, 10, 200, 50]], float)])


def test_orientation_stage_sets_fronts_and_its_absence_skips(oracle_env, image_folder, tiny_models, tmp_path):
    """With the head configured, perceived objects get fronts from its azimuths; without any
    orientation stage, the orientation task is skipped and the reason is in the manifest."""
    from spatialforge.perception.config import parse_config
    from spatialforge.perception.orientation import front_from_azimuth
    from spatialforge.scene import Scene
    from spatialforge.sources.images import generate_from_images, perceive_folder

    stages = {k: {"backend": "oracle", "kwargs": {"scenes": str(oracle_env)}} for k in ("geometry", "detection", "segmentation")}
    raw = {"vocabulary": ["chair", "table", "shelf", "cabinet", "sofa", "bed", "lamp", "box", "mug", "book"],
           "stages": stages, "filter": {"min_objects": 1},
           "postprocess": {"score_threshold": 0.0, "min_mask_box_agreement": 0.0, "min_mask_pixels": 1}}
    m = generate_from_images(image_folder, parse_config(raw), tmp_path / "none", qa_per_scene=30, seed=0)
    skips = {k: v for k, v in m.skipped.items() if k.endswith("/orientation")}
    assert len(skips) == 3 and set(skips.values()) == {"no referable object with a known front"}
    root = tiny_models / "orientation"
    stages["orientation"] = {"backend": "dinov2_head", "kwargs": {"backbone": str(root / "backbone"),
                                                                  "head": str(root / "head.safetensors")}}
    out = tmp_path / "fronts"
    perceive_folder(image_folder, parse_config(raw), out)
    head = backend_class("orientation", "dinov2_head")(**stages["orientation"]["kwargs"])
    for p in sorted(out.glob("synthetic-*.json")):
        s = Scene.load(p)
        boxes = np.array([o.box2d for o in s.objects])
        az = head([ImageItem(s.id, s.load_image())], [boxes])[0]
        for o, a in zip(s.objects, az):
            np.testing.assert_allclose(o.front, front_from_azimuth(np.array(o.box3d.center), a), atol=1e-9)
        assert s.metadata["orientation"].startswith(f"dinov2_head: {len(s.objects)} of {len(s.objects)} objects")


# --------------------------------------------------------------------------- gravity
def test_sidecar_gravity(oracle_env, image_folder, tmp_path):
    from spatialforge.perception.config import parse_config
    from spatialforge.perception.gravity import unit_up
    from spatialforge.scene import Scene
    from spatialforge.sources.images import perceive_folder

    truth = {s.id: s for s in (Scene.load(p) for p in sorted(oracle_env.glob("synthetic-*.json")))}
    side = tmp_path / "gravity"
    side.mkdir()
    ids = sorted(truth)
    for sid in ids[:2]:  # the true up vector (camera frame) = world z's row of R_world_cam, scaled
        up = np.asarray(truth[sid].camera.R_world_cam)[2]
        key, v = ("up", up * 3) if sid == ids[0] else ("gravity", -up * 0.5)
        (side / f"{sid}.json").write_text(json.dumps({key: v.tolist()}))
    stages = {k: {"backend": "oracle", "kwargs": {"scenes": str(oracle_env)}} for k in ("geometry", "detection", "segmentation")}
    stages["gravity"] = {"backend": "sidecar", "kwargs": {"folder": str(side)}}
    raw = {"vocabulary": ["chair", "table", "shelf", "cabinet", "sofa", "lamp", "box", "mug"], "stages": stages,
           "filter": {"min_objects": 1}, "postprocess": {"score_threshold": 0.0, "min_mask_box_agreement": 0.0}}
    m = perceive_folder(image_folder, parse_config(raw), tmp_path / "out")
    assert len(m.done) == 3
    for sid in ids:
        s = Scene.load(tmp_path / "out" / f"{sid}.json")
        if sid in ids[:2]:  # measured: exactly the true rotation, not the floor fit's estimate
            np.testing.assert_allclose(s.camera.R_world_cam, truth[sid].camera.R_world_cam, atol=1e-9)
            assert s.metadata["geometry"]["gravity_source"] == "camera"
        else:  # no file: the floor fit
            assert s.metadata["geometry"]["gravity_source"] in ("floor", "level-fallback")
    (side / f"{ids[2]}.json").write_text(json.dumps({"up": [0, 0, 0]}))
    m = perceive_folder(image_folder, parse_config(raw), tmp_path / "bad")
    assert "up must be a finite non-zero 3-vector" in m.skipped[next(n for n in m.skipped if n.startswith(ids[2]))]
    assert len(m.done) == 2
    with pytest.raises(DataError, match="exactly one of 'up' or 'gravity'"):
        unit_up({"up": [0, 0, 1], "gravity": [0, 0, -1]}, "x")
    with pytest.raises(ConfigError, match="missing must be"):
        backend_class("gravity", "sidecar")(folder=str(side), missing="guess")


# --------------------------------------------------------------------------- MoGe-2
def test_moge2_tiny(tmp_path):
    """~25 s on the loaded 2-CPU machine: a random ViT-S/14 MoGe-2 (the smallest backbone its
    loader builds) saved to model.pt and loaded through MoGeModel.from_pretrained."""
    pytest.importorskip("moge")
    from spatialforge.perception.moge import build_tiny_moge, pixel_intrinsics

    path = build_tiny_moge(tmp_path / "moge" / "model.pt")
    g = backend_class("geometry", "moge2")(model=str(path.parent), resolution_level=0)
    rgb = np.random.default_rng(0).integers(0, 255, (30, 40, 3), dtype=np.uint8)
    r = g([ImageItem("x", rgb)])[0]
    assert r.points.shape == (30, 40, 3) and r.depth.shape == r.valid.shape == (30, 40) and r.valid.mean() > 0.9
    # pixel K: MoGe's normalised intrinsics x (W, H), principal point at the image centre
    assert (r.K[0, 2], r.K[1, 2]) == (20.0, 15.0) and r.K[0, 0] > 0 and r.K[1, 1] > 0
    np.testing.assert_allclose(pixel_intrinsics(np.array([[0.5, 0, 0.5], [0, 0.7, 0.5], [0, 0, 1]]), 40, 30),
                               [[20, 0, 20], [0, 21, 15], [0, 0, 1]])
    # our convention (x right, y down, z forward, rays through pixel centres) reproduces MoGe's points
    ours = unproject_depth(r.depth, r.K)
    np.testing.assert_allclose(ours[r.valid], r.points[r.valid], rtol=1e-4, atol=1e-5)
    assert (r.depth[r.valid] > 0).all() and (r.points[r.valid][:, 2] == r.depth[r.valid]).all()
    right = r.points[r.valid & (np.arange(40) >= 20)[None, :]][:, 0]
    assert (right > 0).all()  # the image's right half has x > 0
    with pytest.raises(ConfigError, match="moge2: cannot load"):
        backend_class("geometry", "moge2")(model=str(tmp_path / "nothing.pt"))


def test_moge2_missing_extra_names_it(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "moge" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"pip install 'spatialforge\[moge\]'"):
        backend_class("geometry", "moge2")(model="x")


# --------------------------------------------------------------------------- bad input in the new stages
class _RefusesOne:
    """A backend of any new stage kind that raises DataError for one image (else a harmless answer)."""

    def __init__(self, **kwargs):
        pass

    def __call__(self, images, *rest):
        if any(i.id == "synthetic-1-00001" for i in images):
            raise DataError("image 'synthetic-1-00001': the backend refuses it")
        if rest and isinstance(rest[0][0], np.ndarray):  # orientation: one azimuth per box
            return [[None] * len(b) for b in rest[0]]
        if rest:  # gravity: fall back to the floor fit
            return [None for _ in images]
        return [["chair", "table", "shelf", "cabinet", "sofa", "lamp", "box", "mug"] for _ in images]  # tagging


@pytest.mark.parametrize("kind", ["tagging", "gravity", "orientation"])
def test_new_stage_data_error_is_a_recorded_skip(kind, oracle_env, image_folder, tmp_path, monkeypatch):
    from spatialforge.perception.base import BACKENDS
    from spatialforge.perception.config import parse_config
    from spatialforge.sources.images import perceive_folder

    monkeypatch.setitem(BACKENDS[kind], "refuses_one", _RefusesOne)
    stages = {k: {"backend": "oracle", "kwargs": {"scenes": str(oracle_env)}} for k in ("geometry", "detection", "segmentation")}
    stages[kind] = {"backend": "refuses_one"}
    raw = {"vocabulary": ["chair", "table", "shelf", "cabinet", "sofa", "lamp", "box", "mug"], "stages": stages,
           "filter": {"min_objects": 1}, "postprocess": {"score_threshold": 0.0, "min_mask_box_agreement": 0.0}}
    m = perceive_folder(image_folder, parse_config(raw), tmp_path / "out", )
    assert sorted(m.done) == ["synthetic-1-00000.png", "synthetic-1-00002.png"]
    assert m.skipped == {"synthetic-1-00001.jpg": "image 'synthetic-1-00001': the backend refuses it"}


# --------------------------------------------------------------------------- VLM grounder
def test_parse_boxes():
    from spatialforge.perception.vlm_grounder import parse_boxes

    text = '```json\n[{"bbox_2d": [10, 20, 110, 220], "label": "chair"}, {"bbox_2d": [5.5, 6, 7, 8.25]}]\n```'
    np.testing.assert_array_equal(parse_boxes(text), [[10, 20, 110, 220], [5.5, 6, 7, 8.25]])
    assert parse_boxes("[1, 2, 3]; no box here [a, b, c, d]").shape == (0, 4)


def test_vlm_grounder_tiny_qwen(tmp_path, photo, monkeypatch):
    """Runs the tiny Qwen2.5-VL; maps its absolute coordinates (the resized image's pixels) back."""
    monkeypatch.setenv("SPATIALFORGE_CACHE", str(tmp_path))
    g = backend_class("detection", "vlm_grounder")(model="tiny:qwen2_5_vl", max_new_tokens=8)
    d = g([photo], [["chair", "the red mug"]])[0]
    assert len(g.answers) == 2 and d.boxes.shape[1] == 4 and set(d.labels) <= {"chair", "the red mug"}
    h, w = g.model_size(photo.hw)  # 120x160 within the tiny processor's 56^2..112^2 pixels, multiples of 28
    assert (h, w) == (84, 112) and h % 28 == 0 and w % 28 == 0
    np.testing.assert_allclose(g.to_pixels(np.array([[0.0, 0.0, 56.0, 42.0], [10, 10, 10, 20]]), photo.hw),
                               [[0, 0, 80, 60]])  # halfway across, halfway down; the empty box dropped
    g.coordinates = "normalized_1000"
    np.testing.assert_allclose(g.to_pixels(np.array([[0.0, 500.0, 500.0, 1200.0]]), photo.hw), [[0, 60, 80, 120]])
    with pytest.raises(ConfigError, match="coordinates must be"):
        backend_class("detection", "vlm_grounder")(model="tiny:qwen2_5_vl", coordinates="relative")
