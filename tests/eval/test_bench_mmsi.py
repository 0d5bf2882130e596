"""MMSI-Bench: multi-image samples, prompt snapshot, pooled accuracy, the official backtick/boundary letter."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from spatialforge.eval.benchmarks.official_multiview import mmsi_letter
from tests.eval.benchfix_multiview import write_mmsi


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("mmsi_bench")
    return bench, bench.load(write_mmsi(tmp_path))


def test_multi_image_samples(bench_samples):
    bench, samples = bench_samples
    assert [len(s.images) for s in samples] == [2, 3, 2]
    assert [im.size for im in bench.load_images(samples[1])] == [(32, 24)] * 3
    assert samples[0].task == "Positional Relationship (Cam.–Obj.)"  # "-" normalised to "–" as lmms-eval does
    assert samples[0].choices == ["left", "right", "front", "behind"]


def test_prompt_snapshot(bench_samples):
    bench, samples = bench_samples
    assert bench.build_prompt(samples[0]) == (
        "Where is the lamp relative to the camera of image 1? Options: A: left, B: right, C: front, D: behind\n"
        "Answer with the option's letter from the given choices directly. Enclose the option's letter within ``.")


def test_aggregate_hand_computed(bench_samples):
    bench, samples = bench_samples
    preds = ["The answer is B", "backward", "Option D is right"]
    rows = [bench.score(s, p) for s, p in zip(samples, preds)]
    assert [r["correct"] for r in rows] == [True, False, True]  # "backward" is option B, not A
    assert [r["official_parsed"] for r in rows] == ["B", "", ""]  # "D is" is followed by a word: not a letter
    agg = bench.aggregate(rows)
    assert agg["overall"] == pytest.approx(2 / 3) and agg["official"]["overall"] == pytest.approx(1 / 3)
    assert agg["by_task"]["Motion (Cam.)"]["accuracy"] == 0.0 and agg["by_task"]["MSR"]["accuracy"] == 1.0
    assert agg["official"]["metrics"]["by_category"]["MSR"]["accuracy"] == 0.0


def test_official_letter_rules():
    assert mmsi_letter("reasoning ... ``C``") == "C"
    assert mmsi_letter("I pick `b`") == "B"
    assert mmsi_letter("{A}") == "A"
    assert mmsi_letter("nothing here") == ""
