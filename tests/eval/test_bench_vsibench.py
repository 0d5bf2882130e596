"""VSI-Bench: video samples, prompt snapshots, per-type means (directions merged), official MRA with <=."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import BenchmarkError, get_benchmark
from spatialforge.eval.benchmarks.base import is_video
from tests.eval.benchfix_multiview import write_vsibench


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("vsibench")
    return bench, bench.load(write_vsibench(tmp_path)), tmp_path


def test_video_samples(bench_samples):
    bench, samples, tmp_path = bench_samples
    s = samples[0]
    assert s.video == str(tmp_path / "vsibench" / "scannet" / "scene0000_00.mp4") and is_video(s.video) and s.images == []
    assert bench.frame_count(s) == 32 and s.task == "object_counting" and s.answer == "4"


def test_prompt_snapshots(bench_samples):
    bench, samples, _ = bench_samples
    assert bench.build_prompt(samples[0]) == (
        "These are frames of a video.\nHow many chair(s) are in this room?\n"
        "Please answer the question using a single word or phrase.")
    assert bench.build_prompt(samples[2]) == (
        "These are frames of a video.\nIf I am standing by the bed and facing the door, is the lamp to my left or right?\n"
        "Options:\nA. left\nB. right\nAnswer with the option's letter from the given choices directly.")


PREDS = ["4", "2.5", "A", "The answer is C.", "B. Turn left", "It is about 1 meter"]


def test_aggregate_hand_computed(bench_samples):
    bench, samples, _ = bench_samples
    rows = [bench.score(s, p) for s, p in zip(samples, PREDS)]
    # ours: counting 1; distance |2.5-2|/2 = 0.25 < 1-θ for θ = .50..70 -> 0.5; directions (1 + 1) / 2;
    # route 1; size: "1 meter" is 100 cm, |100-80|/80 = 0.25 -> 0.5
    assert [r["score"] for r in rows] == [1.0, 0.5, 1.0, 1.0, 1.0, 0.5]
    agg = bench.aggregate(rows)
    m = agg["metrics"]
    assert m["object_rel_direction_accuracy"] == 1.0 and m["object_abs_distance_mra"] == 0.5
    assert agg["overall"] == pytest.approx((1 + 0.5 + 1 + 1 + 0.5) / 5)  # 5 types
    assert m["by_question_type"]["object_rel_direction"] == {"n": 2, "metric": "accuracy", "score": 1.0}
    # official: 0.25 <= 1-θ also at θ = .75 -> 0.6; "The" is the letter -> hard 0, directions 0.5;
    # size reads 1 (not 100) -> 0
    off = agg["official"]["metrics"]
    assert [r["official_score"] for r in rows] == [1.0, 0.6, 1.0, 0.0, 1.0, 0.0]
    assert off["object_rel_direction_accuracy"] == 0.5
    assert agg["official"]["overall"] == pytest.approx((1 + 0.6 + 0.5 + 1 + 0) / 5)


def test_unparsable_numeric_scores_zero(bench_samples):
    bench, samples, _ = bench_samples
    r = bench.score(samples[0], "many")
    assert r["score"] == 0.0 and r["parsable"] is False and r["official_score"] == 0.0
    assert bench.score(samples[0], None)["score"] == 0.0


def test_debiased_and_pruned_split_by_the_pruned_column(tmp_path):
    src = write_vsibench(tmp_path, pruned=[False, True, False, True, False, False])
    assert [s.id for s in get_benchmark("vsibench_debiased").load(src)] == ["1", "3", "5", "6"]
    assert [s.id for s in get_benchmark("vsibench_pruned").load(src)] == ["2", "4"]
    assert len(get_benchmark("vsibench").load(src)) == 6


def test_unknown_question_type_names_the_row(tmp_path):
    root = write_vsibench(tmp_path)
    (root / "test.jsonl").write_text('{"id": 9, "dataset": "scannet", "scene_name": "s", "question_type": "height",'
                                     ' "question": "q", "options": null, "ground_truth": "1"}\n')
    with pytest.raises(BenchmarkError, match=r"row 0 .*unknown question_type 'height'"):
        get_benchmark("vsibench").load(root)


def test_per_task_table_carries_scores(bench_samples):
    bench, samples, _ = bench_samples
    agg = bench.aggregate([bench.score(s, p) for s, p in zip(samples, PREDS)])
    assert agg["by_task"]["object_size_estimation"] == {"n": 1, "metric": "mra", "score": 0.5}
    assert agg["by_task"]["object_rel_direction_hard"] == {"n": 1, "metric": "accuracy", "score": 1.0}
