"""Verified referring expressions (HiSpatial §7.1): a phrase is kept only when the grounder finds
exactly one box whose mask has IoU > 0.7 with the object's mask; questions then use only those."""

from __future__ import annotations

import numpy as np
import pytest

from spatialforge.errors import ConfigError
from spatialforge.perception.base import Detections, ImageItem
from spatialforge.perception.config import parse_config
from spatialforge.perception.verify import ReferenceConfig, ReferenceVerifier, candidate_phrases, mask_iou
from spatialforge.scene import Scene
from spatialforge.sources.images import generate_from_images, perceive_folder
from spatialforge.tasks.references import resolve_text
from spatialforge.tasks.view import SceneView

VOCAB = ["table", "chair", "sofa", "bed", "shelf", "cabinet", "lamp", "plant pot", "box", "ball", "backpack",
         "trash bin", "stool", "mug", "bottle", "book", "monitor", "laptop", "vase", "bowl"]


class TableGrounder:
    """A grounder from known boxes: phrase -> (boxes, scores)."""

    def __init__(self, table):
        self.table = table

    def __call__(self, images, vocabularies):
        boxes, scores = self.table.get(vocabularies[0][0], ([], []))
        return [Detections(np.array(boxes, float).reshape(-1, 4), np.array(scores, float), [vocabularies[0][0]] * len(scores))]


class BoxFill:
    """A segmenter whose mask is the box's pixels (so the IoU is set by the box alone)."""

    def __call__(self, images, boxes):
        out = []
        for item, b in zip(images, boxes):
            m = np.zeros((len(b), *item.hw), bool)
            for k, (x0, y0, x1, y1) in enumerate(np.asarray(b, int)):
                m[k, y0:y1, x0:x1] = True
            out.append(m)
        return out


def test_rule_exactly_one_box_and_iou_above_07():
    item = ImageItem("x", np.zeros((60, 60, 3), np.uint8))
    target = np.zeros((60, 60), bool)
    target[10:20, 10:20] = True  # 100 pixels
    g = TableGrounder({
        "one": ([[10, 10, 20, 20]], [0.9]),
        "two": ([[10, 10, 20, 20], [40, 40, 50, 50]], [0.9, 0.8]),
        "iou 0.6": ([[10, 10, 16, 20]], [0.9]),  # 60 of the 100 pixels
        "iou 0.7": ([[10, 10, 17, 20]], [0.9]),  # exactly 0.7: not greater
        "iou 0.8": ([[10, 10, 18, 20]], [0.9]),
        "weak second": ([[10, 10, 20, 20], [40, 40, 50, 50]], [0.9, 0.05]),  # under the score threshold
        "duplicate": ([[10, 10, 20, 20], [10, 10, 20, 19]], [0.9, 0.8]),  # NMS merges them
    })
    v = ReferenceVerifier(ReferenceConfig(verify=True), g, BoxFill(), score_threshold=0.1, nms_iou=0.5)
    assert v.check(item, "one", target) is None
    assert v.check(item, "two", target) == "'two': the grounder found 2 boxes (need exactly 1)"
    assert v.check(item, "nothing", target) == "'nothing': the grounder found 0 boxes (need exactly 1)"
    assert v.check(item, "iou 0.6", target) == "'iou 0.6': mask IoU 0.60 <= 0.7"
    assert v.check(item, "iou 0.7", target) == "'iou 0.7': mask IoU 0.70 <= 0.7"
    assert v.check(item, "iou 0.8", target) is None
    assert v.check(item, "weak second", target) is None
    assert v.check(item, "duplicate", target) is None
    loose = ReferenceVerifier(ReferenceConfig(verify=True, iou=0.5), g, BoxFill(), 0.1, 0.5)
    assert loose.check(item, "iou 0.6", target) is None
    assert mask_iou(target, np.zeros_like(target)) == 0.0


def _oracle_raw(rendered, **refs):
    stages = {k: {"backend": "oracle", "kwargs": {"scenes": str(rendered)}} for k in ("geometry", "detection", "segmentation")}
    return {"vocabulary": VOCAB, "stages": stages, "filter": {"min_objects": 1},
            "postprocess": {"score_threshold": 0.0, "min_mask_box_agreement": 0.0, "min_mask_pixels": 1,
                            "max_detections": 1000},
            "references": {"verify": True, "grounder": {"backend": "oracle_grounder",
                                                        "kwargs": {"scenes": str(rendered)}}, **refs}}


def test_oracle_grounder_end_to_end(oracle_env, image_folder, tmp_path):
    """Grounded by the ground truth: every verified phrase names exactly its object in the exact
    scene; objects without one are asked about only through the highlighted box; the mirrored
    view uses the mirrored phrase."""
    from spatialforge.mirror import swap_left_right

    out = tmp_path / "ds"
    m = generate_from_images(image_folder, parse_config(_oracle_raw(oracle_env)), out, qa_per_scene=20, seed=0)
    assert m.stats["num_records"] > 0
    n_verified = n_rejected = 0
    for p in sorted((out / "perceived").glob("synthetic-*.json")):
        s = Scene.load(p)
        check = s.metadata["reference_check"]
        assert check["iou"] == 0.7 and check["fallback"] == "highlight"
        assert s.metadata["perception"]["reference_grounder"] == {"backend": "oracle_grounder", "model": str(oracle_env)}
        gt_view = SceneView(Scene.load(oracle_env / p.name))
        for oid, phrase in check["verified"].items():
            assert resolve_text(phrase, gt_view) == [int(oid)]
        n_verified += len(check["verified"])
        n_rejected += len(check["rejected"])
        view, mview = SceneView(s), SceneView(s.mirrored())
        for i in view.subjects:
            phrase = check["verified"].get(str(view.ids[i]))
            assert view.refs[i].text == phrase or (phrase is None and view.refs[i].kind == "highlight")
            if phrase is not None and i in mview.subjects:
                assert mview.refs[i].text == swap_left_right(phrase)
    assert n_verified > 0


class FindsNothing:
    """A grounder that never finds the phrase."""

    def __init__(self, **kwargs):
        pass

    def __call__(self, images, vocabularies):
        return [Detections(np.zeros((0, 4)), np.zeros(0), []) for _ in images]


def test_fallback_skip_records_reason(oracle_env, image_folder, tmp_path, monkeypatch):
    from spatialforge.perception.base import BACKENDS

    monkeypatch.setitem(BACKENDS["detection"], "finds_nothing", FindsNothing)
    raw = _oracle_raw(oracle_env, fallback="skip", max_candidates=1)
    raw["references"]["grounder"] = {"backend": "finds_nothing"}
    perceive_folder(image_folder, parse_config(raw), tmp_path / "out")
    rejected_any = False
    for p in sorted((tmp_path / "out").glob("synthetic-*.json")):
        s = Scene.load(p)
        check = s.metadata["reference_check"]
        view = SceneView(s)
        for i in range(view.n):
            oid = str(view.ids[i])
            if oid in check["rejected"] and oid not in check["verified"]:
                rejected_any = True
                assert i not in view.subjects and all(r.kind != "highlight" for r in view.refs if r is not None)
                reason = dict(view.skipped)[f"{s.id}/object-{oid}"]
                assert "no verified reference ('the " in reason and "the grounder found 0 boxes" in reason
        assert not view.highlights  # skip: never the highlighted box
    assert rejected_any


def test_candidates_simplest_first(oracle_env):
    s = Scene.load(sorted(oracle_env.glob("synthetic-*.json"))[0])
    view = SceneView(s)
    cands = candidate_phrases(view)
    assert cands
    for i, phrases in cands.items():
        for t in phrases:
            assert resolve_text(t, view) == [view.ids[i]]
        if len(view.groups[view.cat[i]]) == 1:
            assert phrases[0] == f"the {view.cat[i]}"  # the bare category first when it is unique


def test_tiny_detector_as_grounder(tiny_models, image_folder, tmp_path, monkeypatch):
    """End to end with the tiny random OWLv2 as grounder (the detection stage) and tiny SAM: every
    object's phrases are checked and each outcome is recorded, the dataset is still written."""
    from spatialforge.perception.config import load_config
    from perception_helpers import CONFIGS

    monkeypatch.setenv("SPATIALFORGE_PERCEPTION_MODELS", str(tiny_models))
    cfg = load_config(CONFIGS / "tiny_cpu.yaml")
    raw = cfg.to_dict()
    raw["references"] = {"verify": True, "max_candidates": 2}
    out = tmp_path / "ds"
    generate_from_images(image_folder, parse_config(raw), out, qa_per_scene=4)
    scenes = [Scene.load(p) for p in sorted((out / "perceived").glob("synthetic-*.json"))]
    assert scenes
    for s in scenes:
        check = s.metadata["reference_check"]
        view = SceneView(s)
        assert set(check["verified"]) | set(check["rejected"]) == {str(view.ids[i]) for i in range(view.n) if view.ok[i]}
        for reasons in check["rejected"].values():
            assert all("the grounder found" in r or "mask IoU" in r or "no phrase" in r for r in reasons)


def test_reference_config_errors(oracle_env):
    for bad, msg in [({"verify": "yes"}, "verify must be true or false"), ({"iou": 1.0}, r"iou must be in \[0, 1\)"),
                     ({"fallback": "guess"}, "fallback must be"), ({"colour": 1}, "unknown key"),
                     ({"grounder": {"backend": "yolo"}}, "unknown detection backend 'yolo'"),
                     ({"max_candidates": 0}, "max_candidates")]:
        raw = _oracle_raw(oracle_env)
        raw["references"] = {"verify": True, **bad}
        with pytest.raises(ConfigError, match=msg):
            parse_config(raw)
    off = _oracle_raw(oracle_env)
    del off["references"]
    assert "references" not in parse_config(off).to_dict()  # older configs keep their digest


def _two_chairs(check):
    from spatialforge.scene import Box3D, Camera, Object3D

    objs = tuple(Object3D(id=k, category="chair", box3d=Box3D(center=(x, 4.0, -1.0), size=(0.5, 0.9, 0.5), yaw=0.0),
                          box2d=(b, 100.0, b + 40.0, 160.0))
                 for k, (x, b) in enumerate(((-1.0, 60.0), (1.0, 220.0))))
    return Scene(id="two", image_path="x.png", camera=Camera(fx=200, fy=200, cx=160, cy=120, width=320, height=240),
                 objects=objs, metadata={"reference_check": check})


def test_hook_uses_verified_phrase_mirrored_and_falls_back():
    s = _two_chairs({"fallback": "highlight", "verified": {"0": "the leftmost chair"}, "rejected": {"1": ["x"]}})
    plain = SceneView(_two_chairs({}))
    assert [r.text for r in plain.refs] == ["the leftmost chair", "the rightmost chair"]
    view = SceneView(s)
    assert view.refs[0].text == "the leftmost chair"
    assert view.refs[1].kind == "highlight"  # its phrase was not verified: the highlighted box
    mview = SceneView(s.mirrored())
    assert mview.refs[0].text == "the rightmost chair" and mview.refs[1].kind == "highlight"
    skip = SceneView(_two_chairs({"fallback": "skip", "verified": {"0": "the leftmost chair"}, "rejected": {"1": ["x"]}}))
    assert skip.subjects == [0] and dict(skip.skipped)["two/object-1"] == "object 1 (chair): no verified reference (x)"
    stale = SceneView(_two_chairs({"fallback": "highlight", "verified": {"0": "the rightmost chair"}}))
    assert stale.refs[0].kind == "highlight"  # a phrase that no longer resolves to the object is not used
