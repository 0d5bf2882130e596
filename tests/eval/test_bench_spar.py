"""SPAR-Bench: single/multi-view samples, prompt snapshots, mean over tasks of accuracy / MRA / view-change MRA."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from tests.eval.benchfix_multiview import write_spar


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("sparbench")
    return bench, bench.load(write_spar(tmp_path))


def test_views_and_options(bench_samples):
    _, samples = bench_samples
    assert [len(s.images) for s in samples] == [1, 3, 1, 2, 2]
    assert samples[2].choices == ["chair", "table"]
    assert [s.meta["difficulty"] for s in samples] == ["low", "low", "high", "middle", "middle"]


def test_prompt_snapshots(bench_samples):
    bench, samples = bench_samples
    assert bench.build_prompt(samples[0]) == (
        "\nWhat is the depth of the chair's centre (in meters)?\nPlease answer the question using a single word or phrase.")
    assert bench.build_prompt(samples[2]) == (
        "\nWhich object is closer to the camera?\nA. chair\nB. table\n\n"
        "Answer with the option's letter from the given choices directly.")
    assert bench.build_prompt(samples[3]).endswith(
        "B. [500, 100, 700, 300]\nThe values represent the bounding box coordinates normalized to a 0-1000 scale, "
        "with the top-left corner as the origin of the image.\nAnswer with the option's letter from the given choices directly.")
    assert bench.build_prompt(samples[4]) == "\nHow did the camera move from image 1 to image 2?\n\n"


PREDS = ["2.5", "4.0 meters (2 views)", "B", "The answer is A", "move_right:0.5,rotate_left:20"]


def test_aggregate_hand_computed(bench_samples):
    bench, samples = bench_samples
    rows = [bench.score(s, p) for s, p in zip(samples, PREDS)]
    # view change, ours: axes (right 0.5|0.5, up 0|0, forward 0|0, rotate -20|-30, tilt 0|0) ->
    # 1, 1, 1, |10|/30 = 1/3 < 1-θ for θ = .50...65 -> 0.4, 1 => 0.88
    assert [r["score"] for r in rows] == pytest.approx([0.5, 1.0, 1.0, 1.0, 0.88])
    agg = bench.aggregate(rows)
    m = agg["metrics"]
    assert agg["overall"] == pytest.approx((0.5 + 1 + 1 + 1 + 0.88) / 5)
    assert m["low"] == pytest.approx(0.75) and m["middle"] == pytest.approx(0.94) and m["high"] == 1.0
    # official: <= gives 0.6; *_mv reads the last number (2 -> |2-4|/4 = 0.5 <= 1-0.5: 0.1); "the answer is a"
    # is not "a"; view change relative to the prediction: |-30+20|/20 = 0.5 -> 0.1 on that axis -> 0.82
    assert [r["official_score"] for r in rows] == pytest.approx([0.6, 0.1, 1.0, 0.0, 0.82])
    assert agg["official"]["overall"] == pytest.approx((0.6 + 0.1 + 1 + 0 + 0.82) / 5)
    assert agg["official"]["metrics"]["middle"] == pytest.approx(0.41)


def test_official_empty_output_matches_any_letter(bench_samples):
    bench, samples = bench_samples
    r = bench.score(samples[2], "")
    assert r["correct"] is False and r["official_score"] == 1.0  # "" in "b": the official quirk


def test_unreadable_view_change_is_zero(bench_samples):
    bench, samples = bench_samples
    r = bench.score(samples[4], "the camera turned left")
    assert r["score"] == 0.0 and r["parsable"] is False and r["official_score"] == 0.0


def test_per_task_table_carries_scores(bench_samples):
    bench, samples = bench_samples
    agg = bench.aggregate([bench.score(s, p) for s, p in zip(samples, PREDS)])
    assert agg["by_task"]["view_change_infer"] == {"n": 1, "metric": "vci_mra", "score": pytest.approx(0.88)}
    assert agg["by_task"]["depth_prediction_oc"]["metric"] == "mra"
    assert agg["official"]["metrics"]["by_task_score"]["depth_prediction_oc"]["score"] == pytest.approx(0.6)
