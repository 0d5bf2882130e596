"""SpatialRGPT-Bench: within-25 % quantitative rule, clock directions, judge-only qualitative."""

from __future__ import annotations

import numpy as np
import pytest

from spatialforge.eval.benchmarks import get_benchmark
from spatialforge.eval.judge import JudgeResult
from tests.eval.benchfix import write_spatialrgpt

PREDS = [
    "It is 1.2 meters wide.",  # 1.2 / 1.02 = 1.18 <= 1.25: success
    "22.32 feet",  # 6.80 m vs 11.4 m: 0.60 < 0.75: fail
    "Region [1] is around the 3 o'clock direction.",  # 2 vs 3 o'clock: one hour off, success
    "Yes, it is on the left.",
    "Region [1].",
]


class FakeJudge:
    """Marks qualitative answers from a fixed list, recording what it was asked."""

    def __init__(self, scores):
        self.scores = list(scores)
        self.calls = []

    def qualitative(self, question, answer, response, category=None):
        self.calls.append((question, answer, response, category))
        s = self.scores.pop(0)
        return JudgeResult(ok=False, reason="endpoint down") if s is None else JudgeResult(ok=True, score=float(s))


@pytest.fixture
def bench_samples(tmp_path):
    bench = get_benchmark("spatialrgpt")
    return bench, bench.load(write_spatialrgpt(tmp_path))


def test_loads_official_schema(bench_samples):
    _, samples = bench_samples
    s = samples[0]
    assert s.id == "srgpt0" and s.task == "width_data" and s.level == 1
    assert s.answer == "The width of Region [0] is 1.02 meters."
    assert s.meta["type"] == "quantitative" and s.meta["bbox"][0] == [2, 2, 15, 20]


def test_prompt_snapshot_is_the_text_question(bench_samples):
    bench, samples = bench_samples
    assert bench.build_prompt(samples[1]) == "How far away is Region [0] from Region [1]?"


def test_regions_are_drawn_unless_disabled(bench_samples):
    bench, samples = bench_samples
    drawn = np.asarray(bench.load_images(samples[0])[0])
    plain = np.asarray(get_benchmark("spatialrgpt", draw_regions=False).load_images(samples[0])[0])
    assert (plain == plain[0, 0]).all()  # the fixture image is one colour
    assert tuple(drawn[2, 8]) == (255, 0, 0)  # top edge of Region [0], drawn in red


def test_without_judge_qualitative_is_not_judged(bench_samples):
    bench, samples = bench_samples
    rows = [bench.score(s, p) for s, p in zip(samples, PREDS)]
    assert [r["correct"] for r in rows] == [True, False, True, None, None]
    assert rows[0]["abs_rel"] == pytest.approx(0.18 / (1.02 + 1e-4))
    assert [r.get("status") for r in rows[3:]] == ["not_judged", "not_judged"]
    m = bench.aggregate(rows)["metrics"]
    assert bench.aggregate(rows)["overall"] == m["quantitative_success"] == pytest.approx(2 / 3)
    assert m["qualitative_accuracy"] is None and m["n_qualitative_not_judged"] == 2
    assert m["quan_width_success"] == 1.0 and m["quan_direct_distance_success"] == 0.0
    assert m["quan_direction_success"] == 1.0


def test_judge_marks_qualitative_and_failures_are_counted(bench_samples):
    bench, samples = bench_samples
    judge = FakeJudge([1, None])
    rows = [bench.score(s, p, judge=judge) for s, p in zip(samples, PREDS)]
    assert len(judge.calls) == 2 and judge.calls[0][2] == "Yes, it is on the left."
    assert [c[3] for c in judge.calls] == [s.meta["category"] for s in samples[3:]]  # per-category prompts
    assert [r.get("status") for r in rows[3:]] == ["judged", "judge_failed"]
    m = bench.aggregate(rows)["metrics"]
    assert m["qualitative_accuracy"] == 1.0 and m["n_qualitative_judge_failed"] == 1
    assert m["qual_left/right_accuracy"] == 1.0 and "qual_tall/short_accuracy" not in m


def test_unparsable_quantitative_answer_is_wrong(bench_samples):
    bench, samples = bench_samples
    r = bench.score(samples[0], "It is quite wide.")
    assert r["correct"] is False and r["parsable"] is False and r["error"]
