"""The record layer: ``new_plan`` / ``make_record`` put every value in the field it names, and the
one-call point formatting writes what the per-value ``_num`` writes."""

from __future__ import annotations

import random

import numpy as np

from spatialforge.tasks.formats import make_record, new_plan
from spatialforge.tasks.language import _POINT_DECIMALS, _num, format_point, format_vector
from spatialforge.tasks.plan import Plan, Stream
from spatialforge.units import PER_METRE


class _Scene:
    id, image_path, flipped = "s", "img.png", True


class _View:
    scene = _Scene()


def test_new_plan_fills_plans_fields_by_name():
    rs, ref = Stream.of(np.random.default_rng(3)), Stream.of(np.random.default_rng(3))
    plan = new_plan(rs, "distance", "mcq", "euclidean", (np.int64(4), 7), n_stems=5, n_claims=3, unit="cm",
                    pixels=((1, 2),), params={"axes": ["a"]}, key="s-001", hint=True)
    r = ref.random
    template, wrap, unit_long, letter, truth = int(r() * 5), int(r() * 5), r() < 0.3, int(r() * 4), r() < 0.5
    draws = (r(), r(), r(), r())
    params = {"axes": ["a"], "hint": True} if r() < 0.4 else {"axes": ["a"]}
    assert plan == Plan(task="distance", fmt="mcq", sub="euclidean", objects=(4, 7), template=template, wrap=wrap,
                        unit="cm", unit_long=unit_long, pixels=((1, 2),), letter=letter, truth=truth, draws=draws,
                        params=params, key="s-001", view="original")
    assert rs.random() == ref.random()  # the same number of draws consumed


def test_make_record_fills_records_fields_by_name():
    plan = Plan(task="size", fmt="mcq", sub="width", objects=(3,), key="s-002", view="mirrored")
    rec = make_record(plan, _View(), 1, "q?", "B", {"kind": "choice", "value": "B"}, "choice", choices=["a", "b"],
                      reasoning="why", meta={"k": 1})
    assert (rec.id, rec.scene_id, rec.question, rec.answer, rec.answer_struct) == (
        "s-002-m", "s", "q?", "B", {"kind": "choice", "value": "B"})
    assert (rec.task, rec.level, rec.format, rec.eval_type, rec.object_ids, rec.choices, rec.reasoning) == (
        "size", 1, "mcq", "choice", (3,), ("a", "b"), "why")
    assert (rec.pair_id, rec.view, rec.image_path, rec.flipped, rec.meta) == (
        "s-002", "mirrored", "img.png", True, {"k": 1})


def test_point_and_vector_text_match_per_value_formatting():
    rng = random.Random(5)
    edges = [0.0, -0.0, -0.005, -0.004999, -0.5, -0.49999, -0.05, -0.0499, 0.005, -1e-9, -0.1524, -0.0127]
    values = edges + [rng.uniform(-s, s) for s in (1e-3, 0.01, 0.5, 3.0, 40.0) for _ in range(400)]
    for k in range(len(values) - 2):
        p = values[k:k + 3]
        assert format_vector(p) == "(" + ", ".join(_num(v, 2, strip=False) for v in p) + ")"
        for unit, nd in _POINT_DECIMALS.items():
            parts = ", ".join(_num(v * PER_METRE[unit], nd, strip=False) for v in p)
            assert format_point(p, unit) == f"({parts}) {unit}"


def test_to_json_matches_the_non_str_keys_writer():
    import orjson

    from spatialforge.tasks.record import to_json

    full = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    values = [{"sub": "w", "options": [{"kind": "length", "value": 1.25}], "é": "ü", "a": None, "t": True},
              {"b": [np.float32(2.5), np.int64(3)], "a": {"z": 1, "y": [1, 2]}},
              {2: "x", 10: "y", "k": {1: 1.5}}, [{"k": 1}, 3, "s"]]
    for v in values:
        assert to_json(v) == orjson.dumps(v, option=full).decode()


def test_unit_for_follows_the_weights_of_each_band_and_unit_set():
    from spatialforge.tasks.language import _UNIT_WEIGHTS, POINT_UNITS, UNITS, unit_for

    def reference(u, meters, units):
        band = "small" if meters < 0.3 else ("medium" if meters <= 3.0 else "large")
        rows = [(n, w) for n, w in _UNIT_WEIGHTS[band] if n in units]
        acc, total = 0.0, sum(w for _, w in rows)
        for name, w in rows:
            acc += w / total
            if u < acc:
                return name
        return rows[-1][0]

    rng = random.Random(7)
    for units in (UNITS, POINT_UNITS, ("m", "cm"), ["in", "ft", "m"], UNITS):  # kept tables read again
        for _ in range(3000):
            u, meters = rng.random(), rng.choice((0.05, 0.2999, 0.3, 1.0, 3.0, 3.0001, 8.0))
            assert unit_for(u, meters, units) == reference(u, meters, units)
