"""ViewSpatial-Bench: prompt snapshot, accuracy per perspective, the official last-line letter."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from tests.eval.benchfix_multiview import write_viewspatial


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("viewspatial")
    return bench, bench.load(write_viewspatial(tmp_path))


def test_loads_letters_and_perspectives(bench_samples):
    _, samples = bench_samples
    assert [s.answer for s in samples] == ["A", "B", "C"]
    assert [s.meta["perspective"] for s in samples] == ["camera", "person", "person"]
    assert samples[1].choices == ["facing left", "facing right"] and len(samples[0].images) == 1


def test_prompt_snapshot(bench_samples):
    bench, samples = bench_samples
    assert bench.build_prompt(samples[0]) == (
        "Question: Where is the lamp relative to the sofa?\nChoices: A. left\nB. right\nC. front\nD. back\n"
        "Reply only to the corresponding option.\nAnswer:")


def test_aggregate_hand_computed(bench_samples):
    bench, samples = bench_samples
    preds = ["A", "The dog faces right, option B.\nDone", "D"]
    rows = [bench.score(s, p) for s, p in zip(samples, preds)]
    assert [r["correct"] for r in rows] == [True, True, False]
    assert [r["official_correct"] for r in rows] == [True, False, False]  # the last line "Done" has no letter
    agg = bench.aggregate(rows)
    m, off = agg["metrics"], agg["official"]["metrics"]
    assert agg["overall"] == pytest.approx(2 / 3) and agg["official"]["overall"] == pytest.approx(1 / 3)
    assert m["accuracy_camera"] == 1.0 and m["accuracy_person"] == 0.5
    assert off["accuracy_camera"] == 1.0 and off["accuracy_person"] == 0.0
