"""CV-Bench: prompt snapshot, robust letters, official aggregate mean(mean(ADE20K, COCO), Omni3D)."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from tests.eval.benchfix import write_cvbench


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("cvbench")
    return bench, bench.load(write_cvbench(tmp_path))


def test_loads_official_schema(bench_samples):
    _, samples = bench_samples
    assert [s.answer for s in samples] == ["C", "A", "B", "A", "B"]
    assert [s.meta["source"] for s in samples] == ["ADE20K", "ADE20K", "COCO", "Omni3D", "Omni3D"]
    assert samples[0].choices == ["3", "2", "1", "0"]


def test_prompt_snapshot(bench_samples):
    bench, samples = bench_samples
    assert bench.build_prompt(samples[0]) == (
        "Question 0 about count? Select from the following choices.\n(A) 3\n(B) 2\n(C) 1\n(D) 0\n"
        "Answer with the option's letter from the given choices directly."
    )


def test_official_aggregate_hand_computed(bench_samples):
    bench, samples = bench_samples
    preds = ["C", "The answer is (B)", "(B) 2", "A", "A"]  # ADE 1/2, COCO 1/1, Omni3D 1/2
    rows = [bench.score(s, p) for s, p in zip(samples, preds)]
    assert rows[1]["parsed"] == "B"  # "The answer is (B)" is B, not T
    agg = bench.aggregate(rows)
    m = agg["metrics"]
    assert m["accuracy_ade20k"] == 0.5 and m["accuracy_coco"] == 1.0 and m["accuracy_omni3d"] == 0.5
    assert m["accuracy_2d"] == 0.75 and m["accuracy_3d"] == 0.5
    assert agg["overall"] == m["cvbench_accuracy"] == 0.625  # ((0.5 + 1.0) / 2 + 0.5) / 2
    assert m["pooled_accuracy"] == 0.6  # 3 / 5: not the official number
    assert agg["missing_sources"] == []


def test_unparsable_and_empty_answers(bench_samples):
    bench, samples = bench_samples
    for pred in ("", None, "I think it is A or B"):
        r = bench.score(samples[0], pred)
        assert r["correct"] is False and r["parsable"] is False


def test_missing_source_is_reported(bench_samples):
    bench, samples = bench_samples
    rows = [bench.score(s, "A") for s in samples[:2]]  # ADE20K only
    agg = bench.aggregate(rows)
    assert set(agg["missing_sources"]) == {"COCO", "Omni3D"}
    assert agg["metrics"]["accuracy_2d"] == 0.5 and agg["overall"] == 0.5
