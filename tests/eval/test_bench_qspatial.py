"""Q-Spatial++: official prompts (snapshots), unit table, factor-2 success, sMAPE and ranges."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from spatialforge.eval.benchmarks.qspatial import SYSTEM_PROMPT, parse_official, unit_to_metres
from tests.eval.benchfix import write_qspatial


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("qspatial_plus")
    return bench, bench.load(write_qspatial(tmp_path))


def test_loads_official_schema_in_metres(bench_samples):
    _, samples = bench_samples
    assert [s.answer for s in samples] == pytest.approx([0.96, 2.0, 30 * 0.0254, 5 * 0.3048])
    assert samples[0].meta == {"answer_value": 96.0, "answer_unit": "centimeters"}
    assert samples[0].task == "horizontal_distance" and len(samples[0].images) == 1


def test_prompt_snapshots(bench_samples):
    bench, samples = bench_samples
    s = samples[0]
    assert bench.system_prompt(s) == (
        "You will be provided with a question and a 2D image. The question involves measuring the precise distance "
        "in 3D space through a 2D image. You will answer the question by providing a numeric answer consisting of a "
        'scalar and a distance unit in the format of """\\scalar{scalar} \\distance_unit{distance unit}""" at the '
        "end of your response."
    ) == SYSTEM_PROMPT
    assert bench.build_prompt(s, "plain") == (
        "Question: What is the minimum distance between the coffee grinder and the kettle?\nLet's think step by step."
    )
    assert bench.build_prompt(s, "think") == (
        "Question: What is the minimum distance between the coffee grinder and the kettle?\nLet's think step by step. "
        "First output the thinking process in <think> </think> tags and then output the final answer in "
        "<answer> </answer> tags."
    )
    spatial = bench.build_prompt(s, "spatial")
    assert spatial.startswith(
        "Question: What is the minimum distance between the coffee grinder and the kettle?\n\n---\n\n"
        "Use the following 4 steps sequentially to answer the question:\n\nStep 1 **Analyze the question**\n\n"
    )
    assert spatial.endswith("Step 4 **Focus on the image and follow the plan in Step 3 to answer the question**")


def test_official_parse_and_unit_table():
    assert parse_official(r"so about \scalar{1} \distance_unit{meter}") == (1.0, "meter", None)
    assert parse_official(r"\scalar{1 - 2} \distance_unit{m}")[0] == 1.5  # mean of the numbers in the box
    assert parse_official(r"\scalar{3} \scalar{4} \distance_unit{ft}")[0] == 4.0  # the last box
    assert parse_official("no markup") == (None, None, None)
    assert parse_official(r"\scalar{} \distance_unit{m}")[2] == "no number in \\scalar{}"
    assert unit_to_metres("Feet") == 0.3048 and unit_to_metres("mm") == 0.001 and unit_to_metres("yards") is None


def test_scoring_hand_computed(bench_samples):
    bench, samples = bench_samples
    preds = [
        r"The distance is \scalar{1} \distance_unit{meter}",  # 1.00 vs 0.96: success, ratio 1.0417
        r"\scalar{5} \distance_unit{meters}",  # 5 vs 2: ratio 2.5, fail
        r"\scalar{30} \distance_unit{furlongs}",  # unknown unit: counted failure
        "",  # empty output
    ]
    rows = [bench.score(s, p) for s, p in zip(samples, preds)]
    assert [r["success"] for r in rows] == [True, False, False, False]
    assert [r["parsable"] for r in rows] == [True, True, False, False]
    assert rows[2]["error"] == "unknown unit 'furlongs'" and rows[2]["format"] == "official"
    agg = bench.aggregate(rows)
    m = agg["metrics"]
    assert agg["overall"] == m["success_rate"] == 0.25
    assert m["samples_completed"] == 0.5
    # sMAPE over the two parsable answers: 100 * mean(0.04 / 0.98, 3 / 3.5)
    assert m["smape"] == pytest.approx(100 * (0.04 / 0.98 + 3 / 3.5) / 2)
    assert m["range_100_150"] == 0.5 and m["range_50_100"] == 0.0 and m["range_150_200"] == 0.0
    assert m["official_format_rate"] == 0.75


def test_answers_without_markup_fall_back_to_the_length_parser(bench_samples):
    bench, samples = bench_samples
    r = bench.score(samples[1], "<think>the chair is near</think><answer>about 1.5 m</answer>")
    assert r["format"] == "fallback" and r["pred_value"] == pytest.approx(1.5) and r["success"]
    r = bench.score(samples[1], "I cannot tell.")
    assert r["format"] == "fallback" and not r["parsable"] and r["error"]


def test_missing_prediction_is_scored_wrong(bench_samples):
    bench, samples = bench_samples
    r = bench.score(samples[0], None)
    assert r["missing"] and not r["success"] and not r["parsable"]
