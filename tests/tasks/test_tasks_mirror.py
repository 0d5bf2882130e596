"""Exact mirror pairs and determinism."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from taskscenes import W, rich_scene, sample_scenes
from spatialforge.eval.metrics import MirrorItem, mirror_agreements
from spatialforge.mirror import mirror_hour, mirror_side, swap_left_right
from spatialforge.tasks import TASKS, Skip, generate_qa

SWAP = {"left": "right", "right": "left"}


def _swap_label(v: str) -> str:
    return "+".join(SWAP.get(p, p) for p in v.split("+"))


def _mirror_typed(t: dict) -> dict:
    """A typed answer value as the mirrored view must state it (labels and object references
    left <-> right, clock h -> 12 - h; counts, lengths unchanged)."""
    v = t["value"]
    if t["kind"] == "clock":
        return {**t, "value": mirror_hour(v)}
    if t["kind"] == "label":
        return {**t, "value": swap_left_right(v)}
    if t["kind"] == "order":
        return {**t, "value": [swap_left_right(x) for x in v]}
    return t


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    scenes = sample_scenes(tmp_path_factory.mktemp("mir"), 40, depth_parity=1)
    out = []
    for s in scenes:
        recs = generate_qa(s, seed=11, qa_per_scene=20, ratios={t: 1.0 for t in TASKS}, mirror=True).records
        assert len(recs) % 2 == 0
        out += list(zip(recs[::2], recs[1::2]))
    return out


def test_pairs_share_ids_and_plan_choices(pairs):
    assert len(pairs) > 500
    for o, m in pairs:
        assert m.id == o.id + "-m" and o.pair_id == m.pair_id == o.id
        assert (o.view, m.view, o.flipped, m.flipped) == ("original", "mirrored", False, True)
        assert (o.task, o.format, o.object_ids, mirror_side(o.meta["sub"]), o.meta["template"]) == \
               (m.task, m.format, m.object_ids, m.meta["sub"], m.meta["template"])
        assert o.scene_id == m.scene_id and o.image_path == m.image_path
        if o.format == "mcq":
            assert o.answer == m.answer  # same letter
        if o.format == "tf":
            assert o.answer_struct == m.answer_struct


def test_mirrored_answers(pairs):
    kinds = set()
    for o, m in pairs:
        a, b = o.answer_struct, m.answer_struct
        truth_o = o.meta.get("truth", a)
        truth_m = m.meta.get("truth", b)
        k = truth_o["kind"]
        kinds.add((o.task, k))
        if k in ("length", "count", "boolean"):  # counting "left of" is asked as "right of": same count
            assert truth_o == truth_m and (o.format != "free" or o.answer == m.answer)
        elif k in ("point3d", "vector3d"):
            vo, vm = np.array(truth_o["value"]), np.array(truth_m["value"])
            assert np.allclose(vm, vo * [-1, 1, 1], atol=1e-9)
        elif k == "box3d":
            assert np.allclose(truth_m["value"]["center"], np.multiply(truth_o["value"]["center"], [-1, 1, 1]))
            assert truth_m["value"]["size"] == truth_o["value"]["size"]
            yo, ym = truth_o["value"]["yaw"], truth_m["value"]["yaw"]
            assert ym == -yo or abs(abs(yo) - np.pi / 2) < 1e-12
        elif k == "label" and o.task in ("direction", "orientation", "perspective"):
            assert truth_m["value"] == _swap_label(truth_o["value"])
        elif k == "clock":  # clock directions mirror: h -> 12 - h
            ho, hm = truth_o["value"], truth_m["value"]
            assert o.task == "perspective" and (ho, hm) == (o.meta["hour"], m.meta["hour"])
            assert hm == (12 - ho) % 12 or (ho == 12 and hm == 12)
        elif k == "label" and o.task == "comparison":
            assert truth_o.get("object_id") == truth_m.get("object_id")
        if o.task == "point_query" or o.task == "depth_order":
            assert m.meta["pixels"] == [[W - 1 - c, r] for c, r in o.meta["pixels"]]
            if o.task == "depth_order":
                assert m.meta["depths"] == o.meta["depths"]
    assert ("direction", "label") in kinds and ("point_query", "point3d") in kinds and ("distance", "length") in kinds
    assert ("perspective", "clock") in kinds and ("counting", "count") in kinds


def test_counting_sides_flip_and_counts_agree(pairs):
    """SVQA-R1: "how many ... to the left of X" is asked of the flipped image as "... to the
    right of X", with the same answer (plan.mirrored swaps the side)."""
    n = 0
    for o, m in pairs:
        if o.task != "counting":
            continue
        assert o.answer == m.answer and o.answer_struct == m.answer_struct
        assert o.meta.get("truth", o.answer_struct) == m.meta.get("truth", m.answer_struct)
        if o.meta["rel"] in ("left_of", "right_of"):
            other = {"left_of": "right_of", "right_of": "left_of"}[o.meta["rel"]]
            assert m.meta["rel"] == m.meta["sub"] == other
            a, b = ("left", "right") if o.meta["rel"] == "left_of" else ("right", "left")
            assert f"to the {a} of" in o.question and f"to the {b} of" in m.question
            n += 1
        else:
            assert m.meta["rel"] == o.meta["rel"]
        assert m.question == swap_left_right(o.question)  # references mirror too ("leftmost" -> "rightmost")
    assert n >= 10


def test_highlight_boxes_mirror(pairs):
    """Highlighted objects keep their colour; their boxes flip (x -> W - x) exactly."""
    n = 0
    for o, m in pairs:
        assert ("highlight" in o.meta) == ("highlight" in m.meta), o.id
        if "highlight" in o.meta:
            mirrored = [{**h, "box2d": [W - h["box2d"][2], h["box2d"][1], W - h["box2d"][0], h["box2d"][3]]}
                        for h in o.meta["highlight"]]
            assert m.meta["highlight"] == mirrored, o.id
            assert swap_left_right(o.question).count("highlighted by the") == m.question.count("highlighted by the")
            n += 1
    assert n >= 5


def test_mcq_options_mirror_in_place(pairs):
    """The mirrored question's options are the original's, mirrored, at the same letters."""
    n = 0
    for o, m in pairs:
        # (depth order's options are pixels, mirrored; vectors and points are checked above)
        if o.format == "mcq" and o.task != "depth_order" and o.meta["truth"]["kind"] in \
                ("label", "clock", "count", "length", "order"):
            assert m.meta["options"] == [_mirror_typed(t) for t in o.meta["options"]], o.id
            n += o.meta["truth"]["kind"] in ("label", "clock")
    assert n >= 20


def test_truths_are_mirror_consistent_without_special_cases(pairs):
    """The truths of every pair agree under metrics.mirror_agreements, also with no ground
    truths given (the plain default maps: counts, letters and yes/no equal)."""
    items = []
    for o, m in pairs:
        for r in (o, m):
            items.append(MirrorItem(r.pair_id, r.view, r.answer_struct["kind"], r.answer_struct["value"]))
    agree = mirror_agreements(items)
    assert len(agree) == len(pairs) and all(agree.values())


def test_left_right_questions_swap(pairs):
    n = 0
    for o, m in pairs:
        if o.task == "direction" and o.meta["sub"] == "left_right" and o.format == "free":
            assert {o.answer_struct["value"], m.answer_struct["value"]} == {"left", "right"}
            n += 1
    assert n >= 5


def test_plan_mirror_is_an_involution(tmp_path):
    scene = rich_scene(tmp_path)
    rng = np.random.default_rng(5)
    for name, task in TASKS.items():
        for fmt in ("free", "mcq", "tf"):
            for _ in range(20):
                plan = task.plan(scene, rng, fmt)
                if not isinstance(plan, Skip):
                    break
            else:
                continue
            back = plan.mirrored(W).mirrored(W)
            assert back == plan
            # every field is carried over; only the flip-dependent ones may change
            m = plan.mirrored(W)
            changed = {f.name for f in dataclasses.fields(plan) if getattr(m, f.name) != getattr(plan, f.name)}
            assert changed <= {"sub", "pixels", "params", "view"} and "view" in changed
            assert task.realise(back, scene.mirrored().mirrored()) == task.realise(plan, scene)


def test_deterministic_for_scene_and_seed(tmp_path):
    scene = rich_scene(tmp_path)
    a = generate_qa(scene, seed=42, qa_per_scene=25, mirror=True)
    b = generate_qa(rich_scene(tmp_path), seed=42, qa_per_scene=25, mirror=True)
    assert [r.to_row() for r in a.records] == [r.to_row() for r in b.records]
    assert a.skipped == b.skipped
    c = generate_qa(scene, seed=43, qa_per_scene=25, mirror=True)
    assert [r.question for r in c.records] != [r.question for r in a.records]
    ids = [r.id for r in a.records]
    assert ids[:4] == ["rich-000", "rich-000-m", "rich-001", "rich-001-m"] and len(set(ids)) == len(ids)
