"""OmniSpatial: prompt snapshot, accuracy per dimension, the official 'Answer: X' rule and its default A."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from spatialforge.eval.benchmarks.omnispatial import RE_FORMAT, SYSTEM_PROMPT
from tests.eval.benchfix_multiview import write_omnispatial


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("omnispatial")
    return bench, bench.load(write_omnispatial(tmp_path))


def test_prompt_snapshot(bench_samples):
    bench, samples = bench_samples
    text = bench.build_prompt(samples[0])
    assert text == SYSTEM_PROMPT + "\n" + RE_FORMAT + "\n\nQuestion 0 about egocentric?\nA. left\nB. right\nC. front\nD. back"
    assert text.startswith("\nYou are a spatial-reasoning assistant.\n")
    assert "Answer: X\nwhere X ∈ {A, B, C, D}.\n\n\nQuestion 0" in text
    assert samples[0].images and samples[0].meta == {"dimension": "Perspective_Taking", "subtask": "Egocentric"}


def test_aggregate_hand_computed(bench_samples):
    bench, samples = bench_samples
    preds = ["The man faces me, so left is my right.\nAnswer: B", "I cannot tell", "answer: c", "Answer: A"]
    rows = [bench.score(s, p) for s, p in zip(samples, preds)]
    assert [r["correct"] for r in rows] == [True, False, True, False]
    # official: no answer line reads "A" (correct here), "answer: c" reads "c" (never "C")
    assert [r["official_parsed"] for r in rows] == ["B", "A", "c", "A"]
    assert [r["official_correct"] for r in rows] == [True, True, False, False]
    agg = bench.aggregate(rows)
    m, off = agg["metrics"], agg["official"]["metrics"]
    assert agg["overall"] == 0.5 and agg["official"]["overall"] == 0.5
    assert m["accuracy_perspective_taking"] == 0.5 and m["accuracy_dynamic_reasoning"] == 1.0
    assert m["accuracy_complex_logic"] == 0.0 and m["accuracy_spatial_interaction"] is None
    assert off["accuracy_perspective_taking"] == 1.0 and off["accuracy_dynamic_reasoning"] == 0.0
    assert agg["by_task"]["Allocentric"]["accuracy"] == 0.0


def test_integer_answer_index_of_the_original_json(tmp_path):
    import json

    root = write_omnispatial(tmp_path)
    rows = [json.loads(line) for line in (root / "test.jsonl").read_text().splitlines()]
    for r in rows:
        r["answer"] = "ABCD".index(r.pop("gt"))
    (root / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [s.answer for s in get_benchmark("omnispatial").load(root)] == ["B", "A", "C", "D"]
