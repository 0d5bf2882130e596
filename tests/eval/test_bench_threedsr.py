"""3DSRBench: VLMEvalKit TSV, prompt snapshot, circular + flip groups (all variants must be right)."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from spatialforge.eval.benchmarks.threedsr import circular_key, group_key
from tests.eval.benchfix import write_threedsr


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("threedsr")
    return bench, bench.load(write_threedsr(tmp_path))


def test_group_keys():
    assert group_key("VIN6MS3J-flip-1") == group_key("VIN6MS3J-1") == "VIN6MS3J"
    assert circular_key("VIN6MS3J-flip-1") == "VIN6MS3J-flip" and circular_key("VIN6MS3J-1") == "VIN6MS3J"


def test_prompt_snapshot(bench_samples):
    bench, samples = bench_samples
    assert samples[0].choices == ["baseball glove", "red hat"]  # empty C/D cells are not options
    assert bench.build_prompt(samples[0]) == (
        "Question: Consider the real-world 3D locations of the objects. Which object has a higher location?\n"
        "Options:\nA. baseball glove\nB. red hat\nPlease select the correct answer from the options above. \n"
    )


def test_circular_flip_groups_hand_computed(bench_samples):
    bench, samples = bench_samples
    # group VIN6MS3J: all 4 variants right; group K2P7QX1A: its rotated variant wrong
    preds = ["B", "A", "B. red hat", "(A)", "A", "A"]
    rows = [bench.score(s, p) for s, p in zip(samples, preds)]
    assert [r["correct"] for r in rows] == [True, True, True, True, True, False]
    agg = bench.aggregate(rows)
    m = agg["metrics"]
    # the headline is the official one: flip variants are separate circular groups
    assert agg["metric"] == "circular_accuracy"
    assert agg["overall"] == m["circular_accuracy"] == pytest.approx(2 / 3)  # VIN6MS3J, VIN6MS3J-flip right; K2P7QX1A wrong
    assert m["circular_flip_accuracy"] == 0.5  # stricter, flips joined: 1 of 2 groups
    assert m["vanilla_accuracy"] == pytest.approx(5 / 6)
    assert m["by_type"] == {"height": {"n": 2, "accuracy": 1.0}, "orientation": {"n": 1, "accuracy": 0.0}}
    assert m["hispatial_3dsr_l2"] == 1.0 and m["hispatial_3dsr_l3"] == 0.0
    assert agg["by_level"] == {"L2": {"n": 2, "accuracy": 1.0}, "L3": {"n": 1, "accuracy": 0.0}}


def test_one_wrong_flip_sinks_the_group(bench_samples):
    bench, samples = bench_samples
    preds = ["B", "A", "A", "A", "A", "B"]  # VIN6MS3J-flip answered wrong
    agg = bench.aggregate([bench.score(s, p) for s, p in zip(samples, preds)])
    assert agg["overall"] == pytest.approx(2 / 3)  # the VIN6MS3J-flip circular group fails alone
    assert agg["metrics"]["circular_flip_accuracy"] == 0.5  # joined with its flip, VIN6MS3J fails
    # flip pairs: VIN6MS3J + -flip wrong; -1 + -flip-1 right; K2P7QX1A and K2P7QX1A-1 alone, right
    assert agg["metrics"]["flip_accuracy"] == 0.75

