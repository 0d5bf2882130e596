"""Answer rules of issue #10: nearness asked only when depth and distance agree, footprint
clearances, object shapes (perimeters, scene JSON), width vs length, and wording."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from taskscenes import camera, obj, random_scene, rich_scene
from spatialforge.scene import Box3D, Camera, Object3D, Scene, SceneError
from spatialforge.tasks import TASKS, generate_qa
from spatialforge.tasks import comparison, relations
from spatialforge.tasks.footprint import clearance, perimeter
from spatialforge.tasks.depth_order import nearness_separated
from spatialforge.tasks.size import horizontal_sides
from spatialforge.tasks.counting import count_matching
from spatialforge.tasks.references import resolve_ordered
from spatialforge.tasks.view import SceneView

CAM = Camera(500.0, 500.0, 320.0, 240.0, 640, 480)  # level: world (x, y, z) = camera (x, z, -y)


def _view(*objects) -> SceneView:
    return SceneView(Scene("s", "s.png", CAM, tuple(objects)))


# ---------------------------------------------------------------- 1. depth vs distance
# A: z 4.0 m but 4.72 m away (off to the side, still in the image); B: z 4.5 m and 4.5 m away (straight ahead).
# By z-depth A is nearer, by distance B is: no question may decide either way.
A_SIDE = (2.5, 4.0, 0.0)
B_AHEAD = (0.0, 4.5, 0.0)


def test_front_behind_needs_depth_and_distance_to_agree():
    v = _view(obj(0, "box", A_SIDE, (0.3, 0.3, 0.3)), obj(1, "ball", B_AHEAD, (0.3, 0.3, 0.3)))
    assert v.z_cam[0] < v.z_cam[1] and v.dist[0] > v.dist[1]
    assert relations.front_behind(v, 0, 1) is None
    assert relations.front_behind(v, 1, 0) is None
    # both agree: asked as before
    w = _view(obj(0, "box", (0.5, 3.0, 0.0), (0.3, 0.3, 0.3)), obj(1, "ball", B_AHEAD, (0.3, 0.3, 0.3)))
    assert relations.front_behind(w, 0, 1) == "front" and relations.front_behind(w, 1, 0) == "behind"


def test_nearest_comparison_and_counting_need_agreement():
    v = _view(obj(0, "box", A_SIDE, (0.3, 0.3, 0.3)), obj(1, "ball", B_AHEAD, (0.3, 0.3, 0.3)),
              obj(2, "lamp", (-0.5, 7.0, 0.0), (0.3, 0.3, 0.3)))
    assert comparison._extreme(v, [0, 1], "nearest") is None
    assert comparison._extreme(v, [0, 1], "farthest") is None
    assert comparison._ordered(v, [0, 1, 2], "nearest") is None
    assert count_matching(v, "in_front_of", 2, None, 0.0) == 2  # both clearly in front of the lamp
    assert count_matching(v, "in_front_of", 1, None, 0.0) is None  # A is in front by z, not by distance


def test_closest_reference_needs_agreement():
    v = _view(obj(0, "chair", A_SIDE, (0.5, 0.9, 0.5)), obj(1, "chair", B_AHEAD, (0.5, 0.9, 0.5)))
    assert sorted(resolve_ordered(v, [0, 1], "near", False, 0)) == [0, 1]  # "the chair closest to the camera": either
    assert "closest" not in (v.ref_text[0] or "") + (v.ref_text[1] or "")


def test_pixel_nearness_needs_agreement():
    # (z, distance) of two pixels: z says the first is nearer, distance the second
    assert not nearness_separated((4.32, 4.33), (3.88, 4.95))
    assert not nearness_separated((3.88, 4.95), (4.32, 4.33))
    assert nearness_separated((3.0, 3.1), (4.0, 4.2))
    assert not nearness_separated((3.0, 3.1), (3.05, 3.2))  # too close in both


# ---------------------------------------------------------------- 2. clearance
def _sampled_clearance(v, a, b, n=1500):
    """Minimum distance between dense samples of both footprints' outlines (brute force)."""
    def outline(i):
        w, _, l = v.size[i]
        c, s = math.cos(v.yaw[i]), math.sin(v.yaw[i])
        t = np.linspace(0, 2 * math.pi, n, endpoint=False)
        if v.shape[i] == "box":
            k = np.linspace(-0.5, 0.5, n // 4)
            e = np.ones_like(k) * 0.5
            loc = np.concatenate([np.stack([k * w, e * l], 1), np.stack([k * w, -e * l], 1),
                                  np.stack([e * w, k * l], 1), np.stack([-e * w, k * l], 1)])
        else:
            loc = np.stack([0.5 * w * np.cos(t), 0.5 * l * np.sin(t)], 1)
        rot = np.array([[c, s], [-s, c]])
        return loc @ rot + [v.x_world[i], v.y_world[i]]

    pa, pb = outline(a), outline(b)
    return float(np.min(np.linalg.norm(pa[:, None] - pb[None], axis=-1)))


def test_clearance_is_footprint_to_footprint():
    # a 2 x 1 m bed and a 0.3 m lamp beside its long side, off centre: the centre line leaves the
    # bed through its long side at a slant, so "centre distance minus half extents" is too short
    bed = obj(0, "bed", (0.0, 5.0, -0.5), (2.0, 1.0, 1.0))
    lamp = obj(1, "lamp", (0.5, 6.5, -0.5), (0.3, 1.5, 0.3))
    v = _view(bed, lamp)
    want = 6.5 - 0.15 - 5.5  # the lamp's near side to the bed's long side
    assert clearance(v, 0, 1) == pytest.approx(want, abs=1e-9)
    assert clearance(v, 1, 0) == pytest.approx(want, abs=1e-9)
    d = math.hypot(0.5, 1.5)  # the old answer: centre distance minus half extents along the centre line
    ux, uy = 0.5 / d, 1.5 / d
    centre_line = d - (1.0 * ux + 0.5 * uy) - (0.15 * ux + 0.15 * uy)
    assert want - centre_line > 0.2  # 0.85 m of room where the centre-line answer said 0.60 m


def test_clearance_with_round_and_rotated_footprints():
    box = obj(0, "box", (0.0, 5.0, 0.0), (2.0, 0.5, 2.0))
    disc = Object3D(1, "vase", Box3D((3.0, 5.0, 0.0), (1.0, 0.5, 1.0)), shape="cylinder")
    diag = Object3D(2, "vase", Box3D((2.0, 7.0, 0.0), (1.0, 0.5, 1.0)), shape="cylinder")
    v = _view(box, disc, diag)
    assert clearance(v, 0, 1) == pytest.approx(1.5, abs=1e-9)  # 3 - 1 - 0.5
    assert clearance(v, 0, 2) == pytest.approx(math.sqrt(2) - 0.5, abs=1e-9)  # from the corner (1, 6)
    assert clearance(v, 1, 2) == pytest.approx(math.hypot(1, 2) - 1.0, abs=1e-9)
    rng = np.random.default_rng(0)
    for k in range(40):  # random rotated boxes and ellipses against brute-force sampling
        objs = []
        for i in range(2):
            shape = ("box", "cylinder", "sphere")[int(rng.integers(3))]
            size = (float(rng.uniform(0.2, 1.5)), 0.5, float(rng.uniform(0.2, 1.5)))
            c = (float(rng.uniform(-2, 2)), float(rng.uniform(4, 8)), 0.0)
            objs.append(Object3D(i, "thing", Box3D(c, size, float(rng.uniform(-1.5, 1.5))), shape=shape))
        v = _view(*objs)
        got, want = clearance(v, 0, 1), _sampled_clearance(v, 0, 1)
        if want > 0.02:  # apart: the sampled outline distance is the clearance
            assert got == pytest.approx(want, abs=3e-3), (k, objs)
        else:
            assert got < 0.02
    other = Object3D(3, "mug", Box3D((0.0, 9.0, 0.0), (0.1, 0.1, 0.1)), shape="other")
    assert clearance(_view(box, other), 0, 1) is None  # unknown footprint: not asked


def test_gap_questions_use_clearance_and_say_so():
    bed = obj(0, "bed", (0.0, 5.0, -0.5), (2.0, 1.0, 1.0))
    lamp = obj(1, "lamp", (0.5, 6.5, -0.5), (0.3, 1.5, 0.3))
    scene = Scene("gap", "g.png", CAM, (bed, lamp))
    recs = generate_qa(scene, seed=1, qa_per_scene=40, tasks=["problem_solving"], formats=["free"]).records
    gaps = [r for r in recs if r.meta["sub"] == "gap"]
    assert gaps
    want = 0.85
    for r in gaps:
        assert r.answer_struct["value"] == pytest.approx(want, abs=1e-9)
        assert re.search(r"closest|nearest|narrowest|edge to edge|shortest", r.question), r.question
        assert "line joining their centers" not in r.question


# ---------------------------------------------------------------- 3. shapes
def test_object_shape_field_round_trips_and_defaults_to_box(tmp_path):
    o = Object3D(0, "vase", Box3D((0.0, 3.0, 0.0), (0.2, 0.3, 0.2)), shape="cylinder")
    s = Scene("sh", "i.png", CAM, (o, obj(1, "box", (1.0, 3.0, 0.0), (0.3, 0.3, 0.3))))
    d = json.loads(s.to_json())
    assert [od["shape"] for od in d["objects"]] == ["cylinder", "box"]
    back = Scene.from_json(s.to_json())
    assert back == s and back.objects[0].shape == "cylinder"
    for od in d["objects"]:  # JSON written before the field existed
        del od["shape"]
    assert [x.shape for x in Scene.from_dict(d).objects] == ["box", "box"]
    assert s.mirrored().objects[0].shape == "cylinder"
    with pytest.raises(SceneError, match="shape"):
        Object3D(2, "vase", Box3D((0.0, 3.0, 0.0), (0.2, 0.3, 0.2)), shape="cone")


def test_perimeter_uses_the_shape():
    assert perimeter("box", 1.0, 0.5) == pytest.approx(3.0)
    assert perimeter("cylinder", 0.4, 0.4) == pytest.approx(math.pi * 0.4)
    assert perimeter("sphere", 0.3, 0.3) == pytest.approx(math.pi * 0.3)
    a, b = 0.5, 0.25  # Ramanujan's first approximation for an ellipse of semi-axes a, b
    assert perimeter("cylinder", 1.0, 0.5) == pytest.approx(math.pi * (3 * (a + b) - math.sqrt((3 * a + b) * (a + 3 * b))))
    assert perimeter("other", 1.0, 0.5) is None


def test_around_answer_for_a_cylinder():
    stool = Object3D(0, "stool", Box3D((0.0, 3.0, -0.5), (0.4, 0.6, 0.4)), shape="cylinder")
    recs = generate_qa(Scene("st", "s.png", CAM, (stool,)), seed=0, qa_per_scene=30, tasks=["problem_solving"],
                       formats=["free"]).records
    around = [r for r in recs if r.meta["sub"] == "around"]
    assert around and all(r.answer_struct["value"] == pytest.approx(math.pi * 0.4) for r in around)
    assert all("pi" in r.reasoning or "π" in r.reasoning for r in around)


def test_synthetic_categories_record_their_shape():
    from spatialforge.sources.synthetic.catalog import CATEGORIES, scene_shape

    round_ = {"stool", "bottle", "trash bin", "vase", "bowl", "lamp", "plant pot"}
    for name in CATEGORIES:
        want = "cylinder" if name in round_ else ("sphere" if name == "ball" else ("other" if name == "mug" else "box"))
        assert scene_shape(name) == want, name


# ---------------------------------------------------------------- 6. width vs length
def test_width_and_length_of_frontless_and_fronted_objects():
    table = obj(0, "table", (0.0, 3.0, -1.0), (0.8, 0.75, 1.6))  # box x side 0.8, y side 1.6
    sofa = obj(1, "sofa", (1.5, 4.0, -1.0), (0.9, 0.8, 2.0), front=(1.0, 0.0, 0.0))  # front along box x
    v = _view(table, sofa)
    sides = dict(zip(horizontal_sides(v, 0)[::2], horizontal_sides(v, 0)[1::2]))
    assert sides == {"width": 0.8, "length": 1.6}  # length = the longer horizontal side
    sides = dict(zip(horizontal_sides(v, 1)[::2], horizontal_sides(v, 1)[1::2]))
    assert sides == {"width": 2.0, "depth": 0.9}  # across the front / front to back
    recs = generate_qa(Scene("sz", "s.png", CAM, (table, sofa)), seed=0, qa_per_scene=60, tasks=["size"],
                       formats=["free"]).records
    for r in recs:
        i = r.object_ids[0]
        sub = r.meta["sub"]
        want = {"height": 0.75 if i == 0 else 0.8, **({"width": 0.8, "length": 1.6} if i == 0 else
                                                      {"width": 2.0, "depth": 0.9})}[sub]
        assert r.answer_struct["value"] == pytest.approx(want), r.question
    assert {r.meta["sub"] for r in recs} >= {"width", "length", "depth", "height"}


def test_above_below_is_worded_as_height():
    recs = []
    for s in [rich_scene()] + [random_scene(i) for i in range(12)]:
        recs += generate_qa(s, seed=2, qa_per_scene=40, tasks=["direction"]).records
    ab = [r for r in recs if r.meta["sub"] == "above_below" or "above_below" in r.meta.get("axes", ())]
    assert len(ab) > 10
    for r in ab:
        text = " ".join([r.question, r.answer, *r.choices]).lower()
        assert not re.search(r"\b(above|below)\b", text) or "height" in text, text
        assert re.search(r"\b(higher|lower)\b", text), text


# ---------------------------------------------------------------- 7. wording
@pytest.fixture(scope="module")
def many():
    out = []
    for s in [rich_scene()] + [random_scene(i) for i in range(30)]:
        out += [(s, r) for r in generate_qa(s, seed=5, qa_per_scene=40, ratios={t: 1.0 for t in TASKS}).records]
    return out


def test_wording(many):
    two = 0
    for scene, r in many:
        text = " ".join([r.question, r.answer, r.reasoning, *r.choices])
        assert not re.search(r"(farthest|farther) to the (camera|viewer)|(closest|closer) from", text), text
        if r.task == "counting" and r.meta["rel"] in ("in_front_of", "behind"):  # not the anchor's own front
            assert "camera" in r.question, r.question
        if r.task == "counting" and r.format == "tf":
            assert not re.match(r"^(Statement: |Is it true that |Decide .*?: |Is the following correct\? )?\d",
                                r.question), r.question
        if r.task == "comparison" and r.meta["sub"] in comparison.KEYS and len(r.object_ids) == 2:
            two += 1  # two objects: "closer", "the larger", never a superlative
            v = SceneView(scene)
            q = r.question.split("\n")[0]
            for i in sorted(range(v.n), key=lambda i: -len(v.ref_text[i] or "")):
                if v.ref_text[i]:
                    q = q.replace(v.ref_text[i], "X")
            assert not re.search(r"\b(closest|nearest|farthest|smallest|largest)\b", q), r.question
        if r.format == "mcq":
            lines = r.question.split("\n")
            assert len(lines) == 6
            for line in lines[:5]:  # the stem and every option end with punctuation before the instruction
                assert line.rstrip().rstrip(")")[-1] in ".?!:", r.question
    assert two > 5


def test_docs_say_objects_outside_the_image_do_not_count():
    from pathlib import Path

    text = " ".join((Path(__file__).parents[2] / "docs" / "tasks.md").read_text().split())
    assert "(such objects still count when checking that a reference is unique)" not in text
    assert "outside the image do not count" in text
