"""HiSpatial's CA-1M labelling: Hungarian matching of detector boxes to GT 2D boxes, IoU >= 0.4."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spatialforge.errors import ConfigError
from spatialforge.scene import Box3D, Camera, Object3D, Scene
from spatialforge.sources.annotated import ingest
from spatialforge.sources.annotated.labelling import iou_matrix, label_scene, load_detections
from tests.sources.annotated.writers import write_ca1m


def _scene(boxes, cats=None):
    cats = cats or ["object"] * len(boxes)
    objs = [Object3D(i, c, Box3D((0, 3, 0), (1, 1, 1)), box2d=b) for i, (b, c) in enumerate(zip(boxes, cats))]
    return Scene("s", "i.png", Camera(100, 100, 50, 50, 100, 100), tuple(objs))


def test_iou_by_hand():
    # 10x10 boxes overlapping in a 5x10 strip: 50 / (100 + 100 - 50)
    assert np.isclose(iou_matrix([[0, 0, 10, 10]], [[5, 0, 15, 10]])[0, 0], 50 / 150)
    assert iou_matrix([[0, 0, 10, 10]], [[20, 20, 30, 30]])[0, 0] == 0


def test_hungarian_beats_greedy():
    # IoUs by hand: object 0 / "a" 9.2/10.8 = .852 (the best pair), object 1 / "a" 8.8/11.2 = .786,
    # object 0 / "b" 7/13 = .538, object 1 / "b" 5/15 = .333.  Greedy takes (0, a) and leaves
    # object 1 with "b" below 0.4; the assignment maximising total IoU is (0, b), (1, a).
    sc = _scene([(0, 0, 10, 10), (2, 0, 12, 10)])
    dets = [{"box": [0.8, 0, 10.8, 10], "label": "a"}, {"box": [-3, 0, 7, 10], "label": "b"}]
    iou = iou_matrix([o.box2d for o in sc.objects], [d["box"] for d in dets])
    assert np.allclose(iou, [[9.2 / 10.8, 7 / 13], [8.8 / 11.2, 5 / 15]])
    out = label_scene(sc, dets)
    assert [o.category for o in out.objects] == ["b", "a"]
    assert out.metadata["labelling"]["1"]["label"] == "a"


def test_threshold_and_known_categories():
    # [0, 10] vs [0, 4]: IoU 40/100 = 0.4 (kept); [50, 60] vs [50, 53.9]: 0.39 (not)
    sc = _scene([(0, 0, 10, 10), (50, 0, 60, 10), (80, 0, 90, 10)], ["object", "object", "sofa"])
    dets = [{"box": [0, 0, 4, 10], "label": "chair"}, {"box": [50, 0, 53.9, 10], "label": "lamp"},
            {"box": [80, 0, 90, 10], "label": "bed"}]
    out = label_scene(sc, dets)
    assert [o.category for o in out.objects] == ["chair", "object", "sofa"]  # 0.4 in, 0.39 out, GT kept


def test_bad_detections_file(tmp_path):
    p = tmp_path / "d.json"
    p.write_text(json.dumps({"s": [{"box": [5, 0, 1, 10], "label": "x"}]}))
    with pytest.raises(ConfigError, match=r"d.json: 's'\[0\] needs a box"):
        load_detections(p)
    p.write_text("[")
    with pytest.raises(ConfigError, match="unreadable"):
        load_detections(p)


def test_ingest_with_detections(samples, tmp_path):
    tar = write_ca1m(samples[:1], tmp_path / "d")
    sid = "ca1m-42897501-1000000000"
    # the writer names odd objects "object"; a detector box equal to the GT box names them back
    objs = [o for o in samples[0].scene.objects if o.box2d is not None]
    dets = {sid: [{"box": list(o.box2d), "label": o.category, "score": 0.9} for o in objs if o.id % 2]}
    (tmp_path / "det.json").write_text(json.dumps(dets))
    ingest("ca1m", tar, tmp_path / "out", detections=tmp_path / "det.json")
    sc = Scene.load(tmp_path / "out" / f"{sid}.json")
    assert [o.category for o in sc.objects] == [o.category for o in objs]
