"""Our synthetic benchmark: generate-schema shards, typed scoring, per task/level, mirror consistency."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from tests.eval.benchfix import write_synthetic


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("synthetic")
    return bench, bench.load(write_synthetic(tmp_path))


def test_loads_dataset_folder(bench_samples):
    bench, samples = bench_samples
    assert [s.id for s in samples] == [f"q{i}" for i in range(6)]
    assert samples[0].answer == {"kind": "length", "value": 1.8} and samples[0].level == 1
    assert samples[1].meta["view"] == "mirrored" and samples[1].meta["pair_id"] == "p0"
    assert bench.load_images(samples[1])[0].getpixel((0, 0)) == (200, 80, 80)  # the stored (flipped) view


def test_prompt_snapshots(bench_samples):
    bench, samples = bench_samples
    assert bench.build_prompt(samples[0]) == "How wide is the sofa?"
    assert bench.build_prompt(samples[4]) == (
        "Which object is closest to the camera?\nA. the lamp\nB. the mug\nC. the sofa"
    )


def test_scores_per_task_level_and_mirror_consistency(bench_samples):
    bench, samples = bench_samples
    preds = ["1.7 m", "3 meters", "yes", "<answer>Yes</answer>", "(B)", "three"]
    rows = [bench.score(s, p) for s, p in zip(samples, preds)]
    assert [r["correct"] for r in rows] == [True, True, True, True, True, False]
    agg = bench.aggregate(rows)
    assert agg["overall"] == pytest.approx(5 / 6)
    assert agg["by_level"]["L1"]["accuracy"] == 1.0 and agg["by_level"]["L3"]["accuracy"] == 0.0
    assert agg["by_task"]["spatial_counting"]["accuracy"] == 0.0
    m = agg["metrics"]
    # pair p0: 1.7 m vs 3 m disagree (lengths do not change in a mirror); p1: yes/yes agree
    assert m["mirror_pairs"] == 2 and m["mirror_consistency"] == 0.5
    assert m["mirror_both_correct"] == 1.0  # both pairs right in both views: correctness is not consistency
    assert m["numeric_success_rate"] == 1.0 and m["numeric_samples_completed"] == 1.0
    assert m["by_eval_type"]["numeric"]["accuracy"] == 1.0


def test_empty_and_missing_outputs_fail(bench_samples):
    bench, samples = bench_samples
    rows = [bench.score(samples[0], ""), bench.score(samples[2], None)]
    assert [r["correct"] for r in rows] == [False, False] and rows[1]["missing"]
    assert bench.aggregate(rows)["metrics"]["completed"] == 0.0
