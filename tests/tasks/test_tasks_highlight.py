"""The fallback reference "the [class] highlighted by the [colour] box" (SPEC §3): which
objects get one, their boxes and colours, the records' ``meta["highlight"]``, the mirror
invariant and the drawing."""

from __future__ import annotations

import math

import numpy as np
import pytest

from taskscenes import H, W, camera, obj, rich_scene, twin_scene
from spatialforge.mirror import swap_left_right
from spatialforge.scene import Scene
from spatialforge.tasks import TASKS, generate_qa, get_view, resolve_reference
from spatialforge.tasks import thresholds as T
from spatialforge.tasks.highlight import (HIGHLIGHT_COLORS, attach_highlights, draw_highlights, hidden_boxes,
                                          line_width, min_side)

F = -1.4
RED, GREEN = HIGHLIGHT_COLORS[0], HIGHLIGHT_COLORS[1]


def _projected_box(scene: Scene, oid: int) -> list[float]:
    """The 3D box's corners projected with a plain pinhole, clipped to the image."""
    o = scene.object(oid)
    cam = scene.camera
    R = np.array(cam.R_world_cam)
    w, h, l = o.box3d.size
    c, s = math.cos(o.box3d.yaw), math.sin(o.box3d.yaw)
    us, vs = [], []
    for sx in (-0.5, 0.5):
        for sy in (-0.5, 0.5):
            for sz in (-0.5, 0.5):
                p = np.array(o.box3d.center) + [sx * w * c - sy * l * s, sx * w * s + sy * l * c, sz * h]
                x, y, z = R.T @ p
                us.append(cam.fx * x / z + cam.cx)
                vs.append(cam.fy * y / z + cam.cy)
    return [max(min(us), 0.0), max(min(vs), 0.0), min(max(us), float(W)), min(max(vs), float(H))]


def test_twins_are_highlighted_and_boxless_twins_skipped():
    scene = twin_scene()
    v = get_view(scene)
    assert v.ref_text[0] == "the chair highlighted by the red box"
    assert v.ref_text[1] == "the chair highlighted by the green box"
    assert v.ref_text[2] == "the lamp" and v.ref_text[3] is None and v.ref_text[4] is None
    assert [(h.object_id, h.color, h.rgb) for h in v.highlights] == [(0, *RED), (1, *GREEN)]
    assert 0 in v.subjects and 1 in v.subjects and 3 not in v.subjects
    # chair 1 has a box2d: used as is; chair 0 has none: its 3D box is projected
    assert v.highlights[1].box2d == scene.object(1).box2d
    assert np.allclose(v.highlights[0].box2d, _projected_box(scene, 0), atol=1e-5)
    reasons = dict(v.skipped)
    for oid in (3, 4):  # identical vases whose box2d are 5 px wide
        r = reasons[f"twin/object-{oid}"]
        assert "no unique reference" in r and "no usable 2D box" in r and f"under {min_side(W):g} px" in r


def test_highlight_texts_resolve_to_their_object():
    for scene in (twin_scene(), twin_scene().mirrored()):
        v = get_view(scene)
        for h in v.highlights:
            assert resolve_reference(h.text, scene) == [h.object_id]
        assert resolve_reference("the chair highlighted by the blue box", scene) == []  # no blue box here
        assert resolve_reference("the vase highlighted by the red box", scene) == []
        assert resolve_reference("the chair", scene) == [0, 1]


def test_mirrored_view_has_the_same_colours_and_flipped_boxes():
    scene = twin_scene()
    a, b = get_view(scene), get_view(scene.mirrored())
    key = [(h.object_id, h.color, h.text) for h in a.highlights]
    assert key == [(h.object_id, h.color, h.text) for h in b.highlights]
    for ha, hb in zip(a.highlights, b.highlights):
        x0, y0, x1, y1 = ha.box2d
        assert hb.box2d == (W - x1, y0, W - x0, y1)  # exact, not approximately
    assert a.highlights[0].box2d != b.highlights[0].box2d  # off-centre: the flip is visible
    assert get_view(scene.mirrored().mirrored()).highlights == a.highlights


def test_projected_box_with_a_corner_behind_the_camera_is_not_usable():
    # two identical big crates whose centres are in view but whose 3D boxes reach behind the camera
    crates = [obj(i, "crate", (0.02 * i, 0.6, 0.0), (1.0, 0.5, 1.4)) for i in range(2)]
    scene = Scene("near", "i.png", camera(0.0), tuple(crates) + (obj(2, "lamp", (1.0, 4.0, 0.0), (0.4, 1.5, 0.4)),))
    v = get_view(scene)
    assert v.ok[0] and v.ok[1] and v.ref_text[:2] == [None, None] and not v.highlights
    r = dict(v.skipped)["near/object-0"]
    assert "no unique reference" in r and "no box2d" in r and "behind the camera" in r


def test_more_twins_than_colours():
    n = len(HIGHLIGHT_COLORS) + 2
    # 1 cm apart in 3D (no reference tells them apart), side by side 2D boxes (none hides another)
    mugs = [obj(i, "mug", (0.01 * i, 2.0, F + 0.8), (0.1, 0.1, 0.1), box2d=(20.0 + 50 * i, 100.0, 60.0 + 50 * i, 140.0))
            for i in range(n)]
    scene = Scene("many", "i.png", camera(10.0), tuple(mugs))
    v = get_view(scene)
    assert [h.color for h in v.highlights] == [c for c, _ in HIGHLIGHT_COLORS]
    assert [h.object_id for h in v.highlights] == list(range(len(HIGHLIGHT_COLORS)))
    reasons = dict(v.skipped)
    assert set(reasons) == {f"many/object-{i}" for i in range(len(HIGHLIGHT_COLORS), n)}
    assert all("colours are taken" in r for r in reasons.values())
    assert len({c for c, _ in HIGHLIGHT_COLORS}) == len({rgb for _, rgb in HIGHLIGHT_COLORS}) == len(HIGHLIGHT_COLORS)


def _mentions(rec) -> bool:
    return any(" highlighted by the " in t for t in (rec.question, rec.answer, rec.reasoning, *rec.choices))


def test_records_carry_every_highlight_of_their_view():
    scene = twin_scene()
    res = generate_qa(scene, seed=3, qa_per_scene=60, ratios={t: 1.0 for t in TASKS}, mirror=True)
    recs = res.records
    with_hl = [r for r in recs if "highlight" in r.meta]
    assert len(with_hl) >= 10 and len(with_hl) < len(recs)
    for r in recs:
        assert ("highlight" in r.meta) == _mentions(r), r.question
    views = {"original": get_view(scene), "mirrored": get_view(scene.mirrored())}
    for r in with_hl:
        hl = r.meta["highlight"]
        v = views[r.view]
        assert hl == [{"object_id": h.object_id, "color": h.color, "rgb": list(h.rgb), "box2d": list(h.box2d)}
                      for h in sorted(v.highlights, key=lambda h: h.object_id)]
        assert all(isinstance(x, float) for h in hl for x in h["box2d"])
        for h in hl:  # every highlight text in the record names an object the record is about
            if any(f"highlighted by the {h['color']} box" in t for t in (r.question, r.answer, *r.choices)):
                assert h["object_id"] in r.object_ids
    # the mirrored partner: same text up to left/right words, same colours and ids, flipped boxes
    for o, m in zip(recs[::2], recs[1::2]):
        assert ("highlight" in o.meta) == ("highlight" in m.meta)
        if "highlight" not in o.meta:
            continue
        assert swap_left_right(o.question).count(" highlighted by the ") == m.question.count(" highlighted by the ")
        for ho, hm in zip(o.meta["highlight"], m.meta["highlight"], strict=True):
            assert (ho["object_id"], ho["color"], ho["rgb"]) == (hm["object_id"], hm["color"], hm["rgb"])
            x0, y0, x1, y1 = ho["box2d"]
            assert hm["box2d"] == [W - x1, y0, W - x0, y1]
        if o.task == "counting":
            assert m.question == swap_left_right(o.question)


def test_views_without_highlights_leave_records_alone():
    scene = rich_scene()
    v = get_view(scene)
    assert v.highlights == []
    recs = generate_qa(scene, seed=0, qa_per_scene=20, mirror=True).records
    assert recs and not any("highlight" in r.meta for r in recs)
    assert attach_highlights(recs[0], v) is recs[0]


def test_attach_highlights_only_when_mentioned():
    scene = twin_scene()
    v = get_view(scene)
    recs = generate_qa(scene, seed=5, qa_per_scene=30).records
    plain = next(r for r in recs if "highlight" not in r.meta)
    assert attach_highlights(plain, v) is plain
    marked = next(r for r in recs if "highlight" in r.meta)
    assert attach_highlights(marked, v).meta == marked.meta


# ---------------------------------------------------------------------- drawing
def test_draw_highlights_paints_the_outline_only():
    rng = np.random.default_rng(0)
    img = rng.integers(0, 200, (120, 400, 3), dtype=np.uint8)  # W = 400: lines are 2 px
    keep = img.copy()
    cyan_rgb = list(dict(HIGHLIGHT_COLORS)["cyan"])
    hl = [{"object_id": 3, "color": "red", "rgb": [255, 0, 0], "box2d": [20.0, 10.0, 60.5, 50.0]},
          {"object_id": 5, "color": "cyan", "rgb": cyan_rgb, "box2d": [100.0, 30.0, 180.0, 90.0]}]
    out = draw_highlights(img, hl)
    assert np.array_equal(img, keep)  # the input is not modified
    assert out.dtype == np.uint8 and out.shape == img.shape
    lw = line_width(400)
    assert lw == 2 and line_width(640) == 3 and line_width(1600) == 8
    red = np.array([255, 0, 0], np.uint8)
    # box [20, 60.5) x [10, 50): pixel columns 20..60, rows 10..49; a 2 px outline inside them
    for rows, cols in [(slice(10, 12), slice(20, 61)), (slice(48, 50), slice(20, 61)),
                       (slice(10, 50), slice(20, 22)), (slice(10, 50), slice(59, 61))]:
        assert np.all(out[rows, cols] == red)
    assert np.array_equal(out[12:48, 22:59], img[12:48, 22:59])  # interior untouched
    cyan = np.array(dict(HIGHLIGHT_COLORS)["cyan"], np.uint8)
    assert np.all(out[30:32, 100:180] == cyan) and np.all(out[88:90, 100:180] == cyan)
    assert np.array_equal(out[32:88, 102:178], img[32:88, 102:178])
    # nothing else changed
    mask = np.zeros(img.shape[:2], bool)
    mask[10:50, 20:61] = True
    mask[30:90, 100:180] = True
    mask[12:48, 22:59] = False
    mask[32:88, 102:178] = False
    assert np.array_equal(out[~mask], img[~mask])
    assert np.array_equal(draw_highlights(img, []), img)


def test_drawing_commutes_with_the_mirror():
    """The mirrored boxes drawn on the flipped image are the flipped drawing of the original."""
    v, mv = get_view(twin_scene()), get_view(twin_scene().mirrored())
    img = np.full((H, W, 3), 90, np.uint8)
    hl = [h.to_meta() for h in v.highlights]
    mhl = [h.to_meta() for h in mv.highlights]
    a = draw_highlights(img, hl)
    b = draw_highlights(img[:, ::-1], mhl)
    assert not np.array_equal(a, img)
    assert np.array_equal(a[:, ::-1], b)


def test_draw_highlights_rejects_other_images():
    with pytest.raises(ValueError):
        draw_highlights(np.zeros((4, 4), np.uint8), [])


# ---------------------------------------------------------------------- visibility of the boxes
def _bottles(boxes) -> Scene:
    """Identical green bottles 1 cm apart (no reference tells them apart) with the given box2d."""
    objs = [obj(i, "bottle", (0.01 * i, 2.5, F + 0.9), (0.07, 0.25, 0.07), color="green", box2d=b)
            for i, b in enumerate(boxes)]
    return Scene("bottles", "i.png", camera(10.0), tuple(objs) + (obj(9, "sofa", (-1.5, 4.0, F + 0.4), (2, 0.8, 0.9)),))


def test_boxes_drawn_over_by_another_are_not_used():
    # bottles 0 and 1: boxes 1 px apart (each outline almost entirely under the other's);
    # bottle 2: its own box elsewhere
    scene = _bottles([(300.0, 200.0, 330.0, 280.0), (301.0, 200.0, 331.0, 281.0), (100.0, 200.0, 130.0, 280.0)])
    for sc in (scene, scene.mirrored()):
        v = get_view(sc)
        assert [(h.object_id, h.color) for h in v.highlights] == [(2, "red")]
        assert v.ref_text[0] is None and v.ref_text[1] is None and 0 not in v.subjects
        reasons = dict(generate_qa(sc, seed=0, qa_per_scene=5).skipped)  # recorded with the reason
        for oid, other in ((0, 1), (1, 0)):
            r = reasons[f"bottles/object-{oid}"]
            assert "no usable 2D box" in r and f"drawn over by the box of object {other}" in r, r


def test_outline_coverage_rule():
    W_, H_ = 640, 480
    lw = line_width(W_)
    a = (100.0, 100.0, 200.0, 200.0)
    # identical boxes hide each other completely
    assert hidden_boxes([a, a], W_, H_) == {0: (1.0, 1), 1: (1.0, 0)}
    # a box well inside another (no shared pixels) and a separate box: both visible
    assert hidden_boxes([a, (130.0, 130.0, 170.0, 170.0), (300.0, 100.0, 400.0, 200.0)], W_, H_) == {}
    # the top half of a: shares its top edge and the upper parts of its sides with a -> hidden;
    # a keeps its bottom edge and lower sides (under half its outline covered) -> visible
    top = (100.0, 100.0, 200.0, 150.0)
    got = hidden_boxes([a, top], W_, H_)
    assert list(got) == [1] and got[1][1] == 0
    ta, tt = (100 * lw * 2 + 2 * (100 - 2 * lw) * lw), (100 * lw * 2 + 2 * (50 - 2 * lw) * lw)
    shared = 100 * lw + 2 * (50 - lw) * lw  # top edge + the sides down to row 150
    assert got[1][0] == pytest.approx(shared / tt) and shared / ta <= T.HIGHLIGHT_MAX_COVERED < shared / tt
    # the limit itself: a box whose outline is exactly half covered stays
    assert T.HIGHLIGHT_MAX_COVERED == 0.5


def test_boxes_too_small_to_see_are_not_used():
    side = min_side(W)
    assert side == max(T.HIGHLIGHT_MIN_SIDE, 3 * line_width(W)) == 9
    small = _bottles([(300.0, 200.0, 300.0 + side - 0.5, 280.0), (100.0, 200.0, 100.0 + side, 280.0)])
    v = get_view(small)
    assert [h.object_id for h in v.highlights] == [1]
    assert f"a side under {side:g} px" in dict(v.skipped)["bottles/object-0"]
