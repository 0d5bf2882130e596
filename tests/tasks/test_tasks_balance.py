"""Formats are balanced (MCQ letters, true/false), phrasings vary, units mix."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from taskscenes import random_scene, rich_scene
from spatialforge.tasks import TASKS, generate_qa


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    root = tmp_path_factory.mktemp("bal")
    (root / "r").mkdir()
    scenes = [rich_scene(root / "r")] + [random_scene(s, root if s % 3 == 0 else None) for s in range(100)]
    ratios = {t: 1.0 for t in TASKS}
    out = []
    for s in scenes:
        out += generate_qa(s, seed=3, qa_per_scene=30, ratios=ratios).records
    return out


def test_mcq_letters_are_balanced(records):
    letters = Counter(r.answer for r in records if r.format == "mcq")
    n = sum(letters.values())
    assert n >= 800 and set(letters) == set("ABCD")
    chi2 = sum((letters[L] - n / 4) ** 2 / (n / 4) for L in "ABCD")
    assert chi2 < 16.27, letters  # df = 3, p = 0.001


def test_true_false_is_balanced(records):
    tf = Counter(r.answer_struct["value"] for r in records if r.format == "tf")
    n = tf[True] + tf[False]
    assert n >= 800
    assert abs(tf[True] - n / 2) < 4 * (n / 4) ** 0.5, tf
    # both answer styles appear
    assert {r.answer for r in records if r.format == "tf"} == {"True", "False", "Yes", "No"}


def test_at_least_five_phrasings_per_task_and_format(records):
    phrasings = defaultdict(set)
    for r in records:
        key = (r.meta["template"], r.meta.get("wrap")) if r.format != "free" else r.meta["template"]
        phrasings[(r.task, r.format)].add((r.meta["sub"], key))
    for t in TASKS:
        for f in ("free", "mcq", "tf"):
            assert len(phrasings[(t, f)]) >= 5, (t, f, phrasings[(t, f)])
    # templates really differ: the rich-scene size questions alone use many distinct wordings
    free_size = {r.question.split(" the ")[0] for r in records if r.task == "size" and r.format == "free"}
    assert len(free_size) >= 5


def test_units_mix(records):
    units = Counter(r.meta["unit"] for r in records
                    if r.format == "free" and r.answer_struct["kind"] == "length")
    n = sum(units.values())
    assert set(units) == {"m", "cm", "ft", "in", "ftin"}
    assert max(units.values()) / n < 0.6
    spellings = {r.meta["unit_long"] for r in records if "unit_long" in r.meta}
    assert spellings == {True, False}
    # the text says the unit the meta names
    words = {"m": (" m", "meter"), "cm": ("cm", "centimeter"), "ft": ("ft", "feet", "foot"),
             "in": ("in", "inch"), "ftin": ("ft", "feet", "foot", "in", "inch")}
    for r in records:
        if r.format == "free" and r.answer_struct["kind"] == "length":
            assert any(w in r.answer for w in words[r.meta["unit"]]), (r.meta["unit"], r.answer)


def test_eval_types_follow_answer_kinds(records):
    expect = {"length": "numeric", "point3d": "point3d", "vector3d": "vector3d", "box3d": "box3d",
              "label": "label", "count": "count", "order": "order", "boolean": "yesno", "choice": "choice",
              "clock": "clock"}
    kinds = set()
    for r in records:
        kinds.add(r.answer_struct["kind"])
        if r.answer_struct["kind"] == "label" and r.format == "free":  # the task's label set, for scoring
            assert r.answer_struct["value"] in r.answer_struct["labels"], r.id
        if r.answer_struct["kind"] == "clock":
            assert r.answer == f"{r.answer_struct['value']} o'clock" and 1 <= r.answer_struct["value"] <= 12
        assert r.eval_type == expect[r.answer_struct["kind"]]
        if r.format == "tf":
            assert r.eval_type == "yesno"
    assert {"clock", "label", "count"} <= kinds
