"""Referring expressions: unique (they resolve back), never ambiguous, mirrored by geometry."""

from __future__ import annotations

import re

from taskscenes import camera, obj, random_scene, rich_scene, twin_scene
from spatialforge.scene import Scene
from spatialforge.tasks import generate_qa, get_view, resolve_reference


def _refs(scene):
    v = get_view(scene)
    return {v.ids[i]: v.ref_text[i] for i in range(v.n)}


def test_rich_scene_references():
    refs = _refs(rich_scene())
    assert refs[0] == "the sofa" and refs[1] == "the table" and refs[7] == "the lamp"
    # three red chairs in a row across the image: extremes, then PCA-gated ordinal
    assert (refs[2], refs[3], refs[4]) == ("the leftmost chair", "the middle chair",
                                           "the rightmost chair")
    assert (refs[5], refs[6]) == ("the red mug", "the white mug")
    assert refs[9] is None  # outside the image


def test_references_mirror_by_geometry():
    refs = _refs(rich_scene().mirrored())
    assert (refs[2], refs[3], refs[4]) == ("the rightmost chair", "the middle chair",
                                           "the leftmost chair")
    assert refs[5] == "the red mug"


def test_every_reference_resolves_back_to_its_object():
    checked = 0
    scenes = [random_scene(seed) for seed in range(80)] + [twin_scene()]
    for s in scenes:
        for scene in (s, s.mirrored()):
            for oid, text in _refs(scene).items():
                if text is not None:
                    assert resolve_reference(text, scene) == [oid], (scene.id, oid, text)
                    checked += 1
    assert checked > 300


def test_questions_only_use_unique_references():
    for seed in range(30):
        scene = random_scene(seed)
        refs = _refs(scene)
        for rec in generate_qa(scene, seed=seed, qa_per_scene=10, mirror=False).records:
            for oid in rec.object_ids:
                text = refs[oid]
                assert text is not None and (text in rec.question or text[0].upper() + text[1:] in rec.question)
                assert resolve_reference(text, scene) == [oid]


def _scene(*objects, sid="amb"):
    return Scene(sid, "i.png", camera(10.0), tuple(objects))


def test_ambiguous_objects_are_highlighted():
    f = -1.4
    # two identical red chairs 3 cm apart, one lamp: no words tell the chairs apart, so they
    # are named by the box drawn around them (SPEC §3 fallback), in object-index order
    scene = _scene(obj(0, "chair", (0.0, 3.0, f + 0.45), (0.5, 0.9, 0.5), color="red"),
                   obj(1, "chair", (0.03, 3.02, f + 0.45), (0.5, 0.9, 0.5), color="red"),
                   obj(2, "lamp", (1.0, 4.0, f + 0.75), (0.4, 1.5, 0.4)))
    refs = _refs(scene)
    assert refs == {0: "the chair highlighted by the red box", 1: "the chair highlighted by the green box",
                    2: "the lamp"}
    assert resolve_reference(refs[0], scene) == [0] and resolve_reference(refs[1], scene) == [1]
    res = generate_qa(scene, seed=0, qa_per_scene=30)
    assert not any(k.startswith("amb/object") for k, _ in res.skipped)
    chair_recs = [r for r in res.records if re.search(r"\bchair\b", r.question)]
    assert chair_recs and all(r.meta["highlight"][0]["object_id"] == 0 for r in chair_recs)
    assert all("highlight" not in r.meta for r in res.records if r not in chair_recs)


def test_ambiguous_objects_without_a_usable_box_are_skipped_with_a_reason():
    f = -1.4
    # the same two chairs, but their 2D boxes are 4 px wide: too small to highlight
    scene = _scene(obj(0, "chair", (0.0, 3.0, f + 0.45), (0.5, 0.9, 0.5), color="red",
                       box2d=(300.0, 250.0, 304.0, 380.0)),
                   obj(1, "chair", (0.03, 3.02, f + 0.45), (0.5, 0.9, 0.5), color="red",
                       box2d=(305.0, 250.0, 309.0, 380.0)),
                   obj(2, "lamp", (1.0, 4.0, f + 0.75), (0.4, 1.5, 0.4)))
    refs = _refs(scene)
    assert refs == {0: None, 1: None, 2: "the lamp"}
    res = generate_qa(scene, seed=0, qa_per_scene=30)
    reasons = dict(res.skipped)
    assert "no unique reference" in reasons["amb/object-0"] and "amb/object-1" in reasons
    assert "no usable 2D box" in reasons["amb/object-0"] and "box2d" in reasons["amb/object-0"]
    # never a reference to one chair (counting may still say "chairs")
    assert res.records and not any(re.search(r"\bchair\b", r.question) for r in res.records)
    assert all(set(r.object_ids) <= {2} for r in res.records)
    assert not any("highlight" in r.meta for r in res.records)


def test_attribute_then_geometry_then_given_reference():
    f = -1.4
    scene = _scene(
        obj(0, "mug", (-0.5, 3.0, f + 0.8), (0.1, 0.1, 0.1), color="red"),
        obj(1, "mug", (0.5, 3.0, f + 0.8), (0.1, 0.1, 0.1), color="red"),  # same colour: position decides
        obj(2, "mug", (0.0, 3.0, f + 0.8), (0.1, 0.1, 0.1), color="blue"),
        obj(3, "vase", (1.5, 3.0, f + 0.8), (0.2, 0.3, 0.2)),
        obj(4, "vase", (1.52, 3.01, f + 0.8), (0.2, 0.3, 0.2), references=("the vase on the left shelf",)),
    )
    refs = _refs(scene)
    assert refs[2] == "the blue mug"
    assert refs[0] == "the leftmost mug" and refs[1] == "the rightmost mug"
    # the given reference names 4; nothing in words names 3, so it falls back to a highlight box
    assert refs[4] == "the vase on the left shelf" and refs[3] == "the vase highlighted by the red box"
    assert resolve_reference("the vase on the left shelf", scene) == [4]
    assert resolve_reference("the vase highlighted by the red box", scene) == [3]
    assert [h.object_id for h in get_view(scene).highlights] == [3]
    assert resolve_reference("the mug", scene) == [0, 1, 2]  # a category alone is ambiguous here
    m = _refs(scene.mirrored())
    assert m[4] == "the vase on the right shelf"  # given references are mirrored word by word


def test_no_linear_ordinal_for_scattered_instances():
    f = -1.4
    # four boxes on a square, not a line: no "second box from the left"
    pts = [(-1.0, 3.0), (1.0, 3.0), (-0.9, 5.0), (0.9, 5.0)]
    scene = _scene(*[obj(i, "box", (x, y, f + 0.2), (0.4, 0.4, 0.4)) for i, (x, y) in enumerate(pts)])
    refs = _refs(scene)
    assert not any(r and re.search(r"(second|third) box from", r) for r in refs.values())
    for oid, text in refs.items():
        if text:
            assert resolve_reference(text, scene) == [oid]


def test_hardly_visible_objects_still_count_for_uniqueness():
    f = -1.4
    scene = _scene(obj(0, "chair", (-1.0, 3.0, f + 0.45), (0.5, 0.9, 0.5)),
                   obj(1, "chair", (1.0, 3.0, f + 0.45), (0.5, 0.9, 0.5), occlusion=0.95))
    refs = _refs(scene)
    assert refs[0] == "the leftmost chair"  # not "the chair": another chair is (barely) visible
    assert refs[1] is None
    assert "hardly visible" in dict(get_view(scene).skipped)["amb/object-1"]
