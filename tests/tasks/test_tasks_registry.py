"""Registry, every task x format on a rich scene, record validity, hand-computed answers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from taskscenes import rich_scene, tiny_scene
from spatialforge.tasks import (DEFAULT_RATIOS, EVAL_TYPES, LEVELS, TASKS, Plan, QARecord, Skip, generate_qa,
                                get_task, register_task)
from spatialforge.tasks.language import format_length, plural
from spatialforge.tasks.registry import Task

TABLE7 = {"point_query": 10.51, "depth_order": 2.69, "orientation": 3.51, "size": 11.56, "localization": 8.31,
          "direction": 26.09, "distance": 13.49, "comparison": 11.53, "perspective": 4.22, "counting": 7.52,
          "problem_solving": 0.57}


def test_registry_matches_table7():
    assert set(TASKS) == set(TABLE7)
    for name, pct in TABLE7.items():
        assert DEFAULT_RATIOS[name] == pytest.approx(pct / 100)
    assert sum(DEFAULT_RATIOS.values()) == pytest.approx(1.0)
    assert LEVELS == {0: ("point_query", "depth_order"), 1: ("orientation", "size", "localization"),
                      2: ("direction", "distance", "comparison"),
                      3: ("perspective", "counting", "problem_solving")}
    for name, task in TASKS.items():
        assert task.name == name and name in LEVELS[task.level]


def test_errors_list_valid_names():
    with pytest.raises(KeyError, match="valid tasks: point_query"):
        get_task("nope")
    with pytest.raises(ValueError, match="valid tasks:.*problem_solving"):
        generate_qa(tiny_scene(), seed=0, tasks=["size", "nope"])
    with pytest.raises(ValueError, match="valid tasks"):
        generate_qa(tiny_scene(), seed=0, ratios={"bogus": 1.0})
    with pytest.raises(ValueError, match="valid formats"):
        generate_qa(tiny_scene(), seed=0, formats=("essay",))
    with pytest.raises(ValueError, match="seed"):
        generate_qa(tiny_scene(), seed=-1)
    with pytest.raises(ValueError, match="already registered"):
        register_task("size", level=1, ratio=0.1)(type("Dup", (Task,), {}))


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    return rich_scene(tmp_path_factory.mktemp("rich"))


@pytest.mark.parametrize("fmt", ["free", "mcq", "tf"])
@pytest.mark.parametrize("name", sorted(TABLE7))
def test_every_task_and_format_makes_valid_records(rich, name, fmt):
    task = TASKS[name]
    rng = np.random.default_rng(0)
    made = 0
    for _ in range(60):
        plan = task.plan(rich, rng, fmt)
        if isinstance(plan, Skip):
            assert not plan.permanent, plan.reason
            continue
        rec = task.realise(plan, rich)
        assert isinstance(rec, QARecord)
        assert (rec.task, rec.level, rec.format) == (name, task.level, fmt)
        assert rec.eval_type in EVAL_TYPES and rec.question and rec.answer
        assert rec.scene_id == "rich" and rec.image_path == "image.png" and rec.view == "original"
        if fmt == "mcq":
            assert rec.answer_struct == {"kind": "choice", "value": rec.answer} and len(rec.choices) == 4
            assert len(set(rec.choices)) == 4 and all(c in rec.question for c in rec.choices)
            assert len(rec.meta["options"]) == 4
        elif fmt == "tf":
            assert rec.answer_struct["kind"] == "boolean"
            assert rec.answer in ("True", "False", "Yes", "No")
        for oid in rec.object_ids:
            assert oid in {o.id for o in rich.objects}
        row = rec.to_row()
        json.dumps(row)  # every field is JSON-serialisable
        assert QARecord.from_row(row) == rec
        made += 1
        if made >= 5:
            break
    assert made >= 1, f"{name}/{fmt} produced nothing on the rich scene"


# ---------------------------------------------------------------------- hand-computed answers
def _realise(task, sub, objs, fmt="free", unit="m", **kw):
    scene = tiny_scene()
    return TASKS[task].realise(Plan(task, fmt, sub, objs, unit=unit, key="tiny-000", **kw), scene)


def test_tiny_scene_distances_by_hand():
    r = _realise("distance", "euclidean", (0, 1))
    assert r.answer == "3 m" and r.answer_struct == {"kind": "length", "value": 3.0}
    assert r.eval_type == "numeric" and r.meta["unit"] == "m"
    assert _realise("distance", "horizontal", (0, 1), unit="cm").answer == "300 cm"
    assert _realise("distance", "euclidean", (0, 1), unit="ft").answer == "9.8 ft"
    assert _realise("distance", "euclidean", (0, 1), unit="in").answer == "118 in"
    assert _realise("distance", "euclidean", (0, 1), unit="ftin").answer == "9 ft 10 in"
    assert _realise("distance", "euclidean", (0, 1), unit="m", unit_long=True).answer == "3 meters"
    r = _realise("distance", "to_camera", (0,))
    assert r.answer_struct["value"] == pytest.approx(math.hypot(1.5, 5.0)) and r.answer == "5.22 m"


def test_tiny_scene_other_answers_by_hand():
    assert _realise("direction", "left_right", (0, 1)).answer_struct == {"kind": "label", "value": "left",
                                                                          "labels": ["left", "right"]}
    assert _realise("direction", "left_right", (1, 0)).answer == "to the right"
    v = _realise("direction", "vector", (0, 1))
    assert v.answer == "(1.00, 0.00, 0.00)" and v.answer_struct["value"] == pytest.approx([1, 0, 0])
    assert _realise("size", "width", (0,), unit="cm").answer == "40 cm"
    c = _realise("localization", "center", (1,))
    assert c.answer_struct["value"] == pytest.approx([1.5, 0.0, 5.0]) and c.answer == "(1.50, 0.00, 5.00) m"
    comp = _realise("comparison", "largest", (1, 0))
    assert comp.answer == "the box" and comp.meta["answer_object_id"] == 0
    assert comp.answer_struct == {"kind": "label", "value": "the box", "object_id": 0,
                                  "labels": ["the ball", "the box"]}  # the candidates, in question order
    tf = _realise("distance", "euclidean", (0, 1), fmt="tf", truth=False, draws=(0.0, 0.0, 0.0, 0.0))
    assert tf.answer_struct == {"kind": "boolean", "value": False} and "1.2 m" in tf.question  # 3 m x 0.4
    mcq = _realise("distance", "euclidean", (0, 1), fmt="mcq", letter=2, draws=(0.0, 0.0, 0.0, 0.0))
    assert mcq.answer == "C" and mcq.choices[2] == "3 m"


def test_tiny_scene_never_asks_degenerate_relations():
    task = TASKS["distance"]
    rng = np.random.default_rng(1)
    subs = set()
    for _ in range(300):
        p = task.plan(tiny_scene(), rng, "free")
        if not isinstance(p, Skip):
            subs.add(p.sub)
    # same height and same depth: vertical and depth-wise distances are 0 and never asked
    assert subs == {"euclidean", "horizontal", "to_camera"}
    d = TASKS["direction"]
    for _ in range(200):
        p = d.plan(tiny_scene(), rng, "free")
        assert isinstance(p, Skip) or p.sub in ("left_right", "vector")


def test_language_units_and_plurals():
    assert format_length(1.234, "m") == "1.23 m"
    assert format_length(1.234, "cm") == "123 cm"
    assert format_length(4 * 0.3048, "ft", long=True) == "4.0 feet"
    assert format_length(48 * 0.0254, "in", long=True) == "48 inches"
    assert format_length(48 * 0.0254, "ftin") == "4 ft 0 in"
    assert format_length(0.05, "cm") == "5 cm" and format_length(0.047, "cm") == "4.7 cm"
    assert format_length(0.2, "ftin") == "7.9 in"  # under a foot: inches
    assert format_length(1.0, "m", long=True) == "1 meter"
    assert [plural(w) for w in ("chair", "box", "shelf", "plant pot", "bus", "person", "toy")] == [
        "chairs", "boxes", "shelves", "plant pots", "buses", "people", "toys"]
