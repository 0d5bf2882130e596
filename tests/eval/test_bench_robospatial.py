"""RoboSpatial-Home: official yes/no prefix rule, first point in the polygon, leaderboard averages."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from spatialforge.eval.benchmarks.robospatial import first_point, point_in_polygon
from tests.eval.benchfix import write_robospatial

SQUARE = [(0.1, 0.1), (0.5, 0.1), (0.5, 0.5), (0.1, 0.5)]


def test_point_helpers():
    assert point_in_polygon(0.3, 0.3, SQUARE) and not point_in_polygon(0.6, 0.3, SQUARE)
    assert first_point("[(0.2, 0.3), (0.9, 0.9)]") == (0.2, 0.3)
    assert first_point("at [0.25,0.4]") == (0.25, 0.4)
    assert first_point("nowhere") is None


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("robospatial")
    return bench, bench.load(write_robospatial(tmp_path))


def test_prompt_is_the_official_question(bench_samples):
    bench, samples = bench_samples
    assert bench.build_prompt(samples[0]) == "Is the mug to the left of the plate? Answer yes or no."


def test_scoring_hand_computed(bench_samples):
    bench, samples = bench_samples
    rows = [bench.score(samples[0], "Yes."), bench.score(samples[1], "Yes, it fits."),
            bench.score(samples[2], "Points: [(0.6, 0.2), (0.3, 0.3)]")]  # first point is outside
    assert [r["correct"] for r in rows] == [True, False, False]
    assert rows[2]["parsed"] == [0.6, 0.2]
    m = bench.aggregate(rows)["metrics"]
    assert m["accuracy_configuration"] == 1.0 and m["accuracy_compatibility"] == 0.0 and m["accuracy_context"] == 0.0
    assert m["vqa_average"] == 0.5 and m["total"] == pytest.approx(1 / 3)


def test_official_prefix_rule_and_lenient_parse(bench_samples):
    bench, samples = bench_samples
    r = bench.score(samples[0], "I believe yes")  # official: must start with "yes"
    assert r["correct"] is False and r["correct_lenient"] is True
    r = bench.score(samples[2], "I cannot point at it.")
    assert r["correct"] is False and r["parsable"] is False
    assert bench.aggregate([r])["metrics"]["illformed_responses"] == 1
