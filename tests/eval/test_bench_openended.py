"""VQASynth-style open-ended QA: multi-turn split, Appendix B typing, SVQA-R1 Table 4 metrics."""

from __future__ import annotations

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from spatialforge.eval.benchmarks.openended import single_turns
from spatialforge.eval.judge import JudgeResult
from tests.eval.benchfix import write_openspaces

PREDS = ["About 2.5 meters.", "Yes.", "[12, 10, 50, 50]", "The wall is white."]


@pytest.fixture(scope="module")
def bench_samples(tmp_path_factory):
    bench = get_benchmark("openspaces")
    return bench, bench.load(write_openspaces(tmp_path_factory.mktemp("os")))


def test_multi_turn_chats_become_single_turn_samples(bench_samples):
    bench, samples = bench_samples
    assert [s.id for s in samples] == ["0-0", "0-1", "1-0", "1-1"]
    assert [s.task for s in samples] == ["distance", "yesno", "bbox", "other"]
    assert samples[1].question == "Is the lamp above the desk?" and len(samples[1].images) == 1
    assert bench.build_prompt(samples[0]) == "How far is the chair from the table?"
    msgs = [{"role": "user", "content": "q"}, {"role": "user", "content": "q2"}, {"role": "assistant", "content": "a"}]
    assert single_turns(msgs) == [("q2", "a")]


def test_metrics_hand_computed(bench_samples):
    bench, samples = bench_samples
    rows = [bench.score(s, p) for s, p in zip(samples, PREDS)]
    assert rows[0]["correct"] and rows[0]["pred_value"] == pytest.approx(2.5)  # 2.5 m within 50-200 % of 2 m
    assert rows[1]["correct"] and rows[1]["yesno_method"] == "aliases"
    assert rows[2]["iou"] == pytest.approx(38 * 40 / (40 * 40)) and rows[2]["correct"]  # 0.95 >= 0.75
    assert rows[3]["bleu1"] == pytest.approx(1.0) and rows[3]["sbert"] == pytest.approx(1.0, abs=1e-5)
    assert rows[3].get("correct") is None  # untyped: no rule
    m = bench.aggregate(rows)["metrics"]
    assert m["bbox_miou"] == pytest.approx(0.95) and m["bbox_acc_075"] == 1.0
    assert m["yesno_accuracy"] == 1.0 and m["distance_accuracy"] == 1.0
    assert m["llm_accuracy"] is None and m["n_judged"] == 0
    assert 0 <= m["bleu1"] <= 1 and 0 <= m["bleu2"] <= m["bleu1"] + 1e-9 and -1 <= m["sbert"] <= 1
    assert m["type_counts"] == {"bbox": 1, "distance": 1, "other": 1, "yesno": 1}


def test_judge_scores_llm_metric_and_yes_no(bench_samples):
    bench, samples = bench_samples

    class Judge:
        def qualitative(self, question, answer, response):
            return JudgeResult(ok=True, score=1.0)

        def yes_no(self, pred, gt):
            return JudgeResult(ok=True, score=0.0)

    rows = [bench.score(s, p, judge=Judge()) for s, p in zip(samples, PREDS)]
    assert rows[1]["yesno_method"] == "judge" and rows[1]["correct"] is False
    m = bench.aggregate(rows)["metrics"]
    assert m["llm_accuracy"] == 1.0 and m["n_judged"] == 4 and m["yesno_accuracy"] == 0.0


def test_wrong_box_and_unparsable_distance(bench_samples):
    bench, samples = bench_samples
    assert bench.score(samples[2], "no idea")["iou"] == 0.0
    r = bench.score(samples[0], "quite far")
    assert r["correct"] is False and r["parsable"] is False
