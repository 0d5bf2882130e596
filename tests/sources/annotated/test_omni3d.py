"""Omni3D reader: round trip of synthetic scenes, a hand-written real-form fixture, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from spatialforge.sources.annotated import ingest
from tests.sources.annotated.helpers import assert_same_box, assert_same_camera, ingested_scenes
from tests.sources.annotated.writers import visible, write_omni3d


def test_round_trip(samples, tmp_path):
    js = write_omni3d(samples, tmp_path / "data")
    m = ingest("omni3d", js, tmp_path / "out")
    scenes = ingested_scenes(tmp_path / "out")
    assert len(scenes) == len(samples) == len(m.done) and not m.skipped
    for n, smp in enumerate(samples):
        sc = scenes[f"omni3d-7-{100 + n}"]
        assert_same_camera(sc.camera, smp.scene.camera)  # gravity frame rebuilt from the boxes
        want = visible(smp.scene)
        assert [o.category for o in sc.objects] == [o.category for o in want]
        for got, o in zip(sc.objects, want):
            assert_same_box(got.box3d, o.box3d)
            assert got.box2d == o.box2d and got.provenance == "ground_truth"
        assert sc.metadata["box2d_projected"] == [] and sc.depth_path is None
        assert (sc.load_image() == smp.rgb).all()
        assert sc.metadata["dataset"] == "omni3d" and sc.metadata["frame"] == str(100 + n)


def _hand_fixture(root):
    """One image seen by a level camera (Omni3D's camera frame: x right, y down, z forward)."""
    (root / "imgs").mkdir(parents=True)
    Image.fromarray(np.zeros((480, 640, 3), np.uint8)).save(root / "imgs" / "a.png")
    c, s = math.cos(math.radians(30)), math.sin(math.radians(30))
    ann_rot = {"id": 1, "image_id": 9, "category_name": "table", "valid3D": True,
               "center_cam": [1.0, 0.5, 4.0], "dimensions": [0.6, 0.9, 1.2],  # [W, H, L]
               "R_cam": [[c, 0, s], [0, 1, 0], [-s, 0, c]], "bbox2D_tight": [-1, -1, -1, -1],
               "bbox2D_proj": [400.0, 200.0, 500.0, 300.0]}
    # R = I: corners written out by hand from DATA.md's vertex order (x carries L, y H, z W)
    ann_id = {"id": 2, "image_id": 9, "category_id": 3, "valid3D": True,
              "center_cam": [-0.5, 0.2, 3.0], "dimensions": [0.4, 0.8, 1.0], "R_cam": np.eye(3).tolist(),
              "bbox3D_cam": [[-1.0, -0.2, 2.8], [0.0, -0.2, 2.8], [0.0, 0.6, 2.8], [-1.0, 0.6, 2.8],
                             [-1.0, -0.2, 3.2], [0.0, -0.2, 3.2], [0.0, 0.6, 3.2], [-1.0, 0.6, 3.2]],
              "bbox2D_tight": [100.0, 150.0, 220.0, 330.0]}
    d = {"images": [{"id": 9, "width": 640, "height": 480, "file_path": "imgs/a.png", "dataset_id": 1,
                     "K": [[500, 0, 320], [0, 500, 240], [0, 0, 1]]}],
         "categories": [{"id": 3, "name": "chair"}], "annotations": [ann_rot, ann_id]}
    (root / "a.json").write_text(json.dumps(d))
    return root / "a.json", d


def test_hand_written_fixture(tmp_path):
    js, _ = _hand_fixture(tmp_path / "d")
    ingest("omni3d", js, tmp_path / "out")
    (sc,) = ingested_scenes(tmp_path / "out").values()
    assert (sc.camera.fx, sc.camera.cx, sc.camera.cy) == (500, 320, 240)
    assert np.allclose(sc.camera.R, [[1, 0, 0], [0, 0, 1], [0, -1, 0]])  # level camera
    table, chair = sc.objects
    # camera (x, y, z) -> our world (x, z, -y); W (local z, turned 30 deg towards x) is w
    assert np.allclose(table.box3d.center, (1.0, 4.0, -0.5))
    assert np.allclose(table.box3d.size, (0.6, 0.9, 1.2))
    assert math.isclose(table.box3d.yaw, math.radians(60))
    assert table.box2d == (400, 200, 500, 300) and sc.metadata["box2d_projected"] == [0]
    assert chair.category == "chair" and np.allclose(chair.box3d.center, (-0.5, 3.0, -0.2))
    assert np.allclose(chair.box3d.size, (0.4, 0.8, 1.0)) and math.isclose(chair.box3d.yaw, -math.pi / 2)


def _mutate(tmp_path, fn):
    js, d = _hand_fixture(tmp_path / "d")
    fn(d)
    js.write_text(json.dumps(d))
    m = ingest("omni3d", js, tmp_path / "out")
    scenes = list(ingested_scenes(tmp_path / "out").values())
    return m, scenes


@pytest.mark.parametrize("field,value,reason", [
    ("dimensions", [0.0, 0.8, 1.0], "size must be positive"),
    ("R_cam", [[float("nan"), 0, 0], [0, 1, 0], [0, 0, 1]], "R_cam is not finite"),
    ("category_id", 99, "unknown category"),
    ("dimensions", [1.0, 0.8, 0.4], "bbox3D_cam disagrees"),  # W and L swapped: the corners say otherwise
    ("valid3D", False, "not valid in 3D"),
])
def test_bad_annotation_is_dropped_with_reason(tmp_path, field, value, reason):
    m, (sc,) = _mutate(tmp_path, lambda d: d["annotations"][1].__setitem__(field, value))
    assert [o.category for o in sc.objects] == ["table"]
    assert reason in sc.metadata["dropped_objects"]["2"]
    assert m.stats["dropped_objects"] == 1


def test_box_with_another_vertical_is_dropped(tmp_path):
    def roll(d):  # the chair rolled 90 deg about the optical axis: its H axis is horizontal
        a = d["annotations"][1]
        a["R_cam"] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]
        del a["bbox3D_cam"]
    m, (sc,) = _mutate(tmp_path, roll)
    assert [o.category for o in sc.objects] == ["table"]
    assert "vertical disagrees" in sc.metadata["dropped_objects"]["2"]


def test_frame_without_usable_objects_is_skipped(tmp_path):
    def bad(d):
        for a in d["annotations"]:
            a["dimensions"] = [0, 0, 0]
    m, scenes = _mutate(tmp_path, bad)
    assert not scenes and not m.done
    (reason,) = m.skipped.values()
    assert "no usable objects" in reason and "size must be positive" in reason


def test_missing_image_and_bad_json(tmp_path):
    m, scenes = _mutate(tmp_path, lambda d: d["images"][0].__setitem__("file_path", "imgs/gone.png"))
    assert not scenes and "imgs/gone.png' not found" in next(iter(m.skipped.values()))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    m = ingest("omni3d", bad, tmp_path / "out2")
    assert "not an Omni3D JSON" in m.skipped["omni3d-bad"]
