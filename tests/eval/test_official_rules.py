"""``--rules official``: per benchmark, a prediction file in the format the official tool writes,
where our rules and the official ones disagree, with the official number computed by hand."""

from __future__ import annotations

import csv
import json

import pytest

from spatialforge.eval.benchmarks import get_benchmark
from spatialforge.eval.benchmarks.official import robospatial_point, vlmeval_choice, lmms_letter
from spatialforge.eval.evaluate import score_predictions
from spatialforge.eval.metrics import success_hits, within_hits
from tests.eval.benchfix import (write_cvbench, write_embspatial, write_qspatial, write_robospatial,
                                 write_spatialrgpt, write_threedsr)


def _jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_boundaries_survive_float_rounding():
    # 2.4 vs 3 is exactly 25 % off (|p - g| = 0.6000000000000001 > 0.25 * 2.4 in raw floats)
    assert within_hits([3.0], [2.4], 0.25)[0] and within_hits([2.25], [3.0], 0.25)[0]
    assert not within_hits([2.2499], [3.0], 0.25)[0]
    # 35 cm (0.35000000000000003 m) vs 0.7 m is a factor of exactly 2: not a success
    assert not success_hits([35 * 0.01], [0.7])[0] and success_hits([0.3501], [0.7])[0]


def test_official_extractors():
    assert lmms_letter("The answer is (B)") == "T" and lmms_letter(" (c) two") == "C" and lmms_letter("") == ""
    assert vlmeval_choice("I pick B.", ["x", "y"]) == "B" and vlmeval_choice("A or B", ["x", "y"]) == "Z"
    assert vlmeval_choice("y", ["x", "yy"]) == "Z" and vlmeval_choice("yy", ["x", "yy"]) == "B"
    assert robospatial_point("[(.45, .62)]") == (0.45, 0.62)  # the literal_eval fallback
    assert robospatial_point("[[0.2, 0.3], [0.4, 0.5]]") == (0.2, 0.3)
    assert robospatial_point("(0.1, 0.2) then [0.3, 0.4]") == (0.1, 0.2)
    assert robospatial_point("[__import__('os')]") is None  # literal_eval, never eval


def test_cvbench_lmms_eval_samples(tmp_path):
    outs = ["The answer is (C).", "A", "(B) 2", "A", "answer: B"]  # lmms-eval reads T and A from 0 and 4
    preds = _jsonl(tmp_path / "samples.jsonl",
                   [{"doc_id": i, "resps": [[o]], "filtered_resps": [o]} for i, o in enumerate(outs)])
    res = score_predictions(preds, "cvbench", write_cvbench(tmp_path), rules="official")
    agg = res["aggregate"]
    assert agg["ours"]["overall"] == 1.0
    # official: ADE20K 1/2, COCO 1/1, Omni3D 1/2 -> ((0.5 + 1) / 2 + 0.5) / 2
    assert agg["metric"] == "official_cvbench_accuracy" and agg["overall"] == pytest.approx(0.625)
    assert agg["official_minus_ours"] == pytest.approx(-0.375) and agg["n_unknown_ids"] == 0


def test_embspatial_lmms_eval_samples(tmp_path):
    preds = _jsonl(tmp_path / "samples.jsonl", [{"doc_id": 0, "filtered_resps": ["B) chair"]},
                                                {"doc_id": 1, "filtered_resps": ["The best option is D."]}])
    agg = score_predictions(preds, "embspatial", write_embspatial(tmp_path), rules="official")["aggregate"]
    assert agg["ours"]["overall"] == 1.0 and agg["overall"] == 0.5
    assert agg["official"]["metrics"]["by_relation"] == {"close": {"n": 1, "accuracy": 0.0},
                                                         "left": {"n": 1, "accuracy": 1.0}}


def test_threedsr_vlmevalkit_tsv(tmp_path):
    src = write_threedsr(tmp_path)
    outs = ["<think>red hat is higher</think><answer>B</answer>",  # ours B; VLMEvalKit: no bare letter -> Z
            "A", "The answer is B", "A. red hat",
            "I think A is right, not B, so",  # two letters: neither reads one
            "B"]
    path = tmp_path / "model_3DSRBench.tsv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, ["index", "question", "prediction"], delimiter="\t")
        w.writeheader()
        w.writerows({"index": i, "question": "q", "prediction": o} for i, o in enumerate(outs))
    res = score_predictions(path, "threedsr", src, rules="official")
    assert [r["official_correct"] for r in res["per_sample"]] == [False, True, True, True, False, True]
    assert [r["correct"] for r in res["per_sample"]] == [True, True, True, True, False, True]
    agg = res["aggregate"]
    # circular groups: VIN6MS3J {0, 1} wrong, VIN6MS3J-flip {2, 3} right, K2P7QX1A {4, 5} wrong
    assert agg["metric"] == "official_circ_eval" and agg["overall"] == pytest.approx(1 / 3)
    assert agg["official"]["metrics"]["flip_circ_eval"] == 0.0
    assert agg["official"]["metrics"]["vanilla"] == pytest.approx(4 / 6)
    assert agg["ours"] == {"metric": "circular_accuracy", "overall": pytest.approx(2 / 3)}


def test_qspatial_notebook_rules(tmp_path):
    outs = [r"\scalar{48} \distance_unit{centimeters}",  # 96 cm: a factor of exactly 2, fails in both
            r"\scalar{1.5} \distance_unit{ meters}",  # 2 m: ours strips the unit; the notebook reads 1.5 cm
            "<answer>about 40 inches</answer>",  # 30 in: ours falls back to the length parser; no markup officially
            r"So \scalar{4} \distance_unit{feet}"]  # 5 ft: both succeed
    preds = _jsonl(tmp_path / "p.jsonl", [{"id": f"qspatial_plus-{i:04d}", "prediction": o} for i, o in enumerate(outs)])
    res = score_predictions(preds, "qspatial_plus", write_qspatial(tmp_path), rules="official")
    assert [r["correct"] for r in res["per_sample"]] == [False, True, True, True]
    assert [r["official_correct"] for r in res["per_sample"]] == [False, False, False, True]
    assert res["per_sample"][1]["official_pred_cm"] == 1.5
    agg = res["aggregate"]
    assert agg["overall"] == 0.25 and agg["ours"]["overall"] == 0.75


def test_robospatial_pregenerated_results(tmp_path):
    src = write_robospatial(tmp_path)
    rows = json.loads((src / "annotations.json").read_text())
    answers = ["<answer>Yes</answer>", "No.", "[(.3, .3)]"]  # the official prefix test misses the tagged Yes
    path = tmp_path / "results.json"
    path.write_text(json.dumps([{"question": r["question"], "img": r["img"], "answer": a} for r, a in zip(rows, answers)]))
    res = score_predictions(path, "robospatial", src, rules="official")
    assert [r["correct"] for r in res["per_sample"]] == [True, True, True]
    assert [r["official_correct"] for r in res["per_sample"]] == [False, True, True]
    agg = res["aggregate"]
    assert agg["overall"] == pytest.approx(2 / 3) and agg["ours"]["overall"] == 1.0  # mean of the 3 categories
    assert agg["official"]["metrics"]["illformed_responses"] == 0


def test_robospatial_missing_predictions_are_left_out_officially(tmp_path):
    src = write_robospatial(tmp_path)
    preds = _jsonl(tmp_path / "p.jsonl", [{"id": "configuration-00000", "prediction": "yes"}])
    agg = score_predictions(preds, "robospatial", src, rules="official")["aggregate"]
    assert agg["official"]["metrics"]["unmatched_entries"] == 2
    assert agg["overall"] == 1.0 and agg["ours"]["overall"] == pytest.approx(1 / 3)


def test_spatialrgpt_answer_file(tmp_path):
    outs = {"srgpt0": "Region [0] is 127.5 cm wide.",  # 1.02 m: 1.25 * 1.02 < 1.2750000000000001 in raw floats
            "srgpt1": "About 9 meters.", "srgpt2": "At 3 o'clock."}
    preds = _jsonl(tmp_path / "answers.jsonl", [{"question_id": k, "pred": v, "gt": "", "qa_info": {}} for k, v in outs.items()])
    res = score_predictions(preds, "spatialrgpt", write_spatialrgpt(tmp_path), rules="official")
    quant = [r for r in res["per_sample"] if r["type"] == "quantitative"]
    assert [r["correct"] for r in quant] == [True, True, True]
    assert [r["official_correct"] for r in quant] == [False, True, True]
    agg = res["aggregate"]
    assert agg["overall"] == pytest.approx(2 / 3) and agg["ours"]["overall"] == 1.0
    assert agg["official"]["metrics"]["quan_width_success"] == 0.0


def test_rules_option_rejects_unknown_values(tmp_path):
    from spatialforge.eval.benchmarks import BenchmarkError

    preds = _jsonl(tmp_path / "p.jsonl", [{"id": "0", "prediction": "A"}])
    with pytest.raises(BenchmarkError, match="rules must be one of"):
        score_predictions(preds, "cvbench", write_cvbench(tmp_path), rules="paper")


def test_no_official_scorer_keeps_ours(tmp_path):
    from spatialforge.eval.benchmarks.common import with_rules

    agg = with_rules({"metric": "sbert", "overall": 0.5}, "official")
    assert agg["overall"] == 0.5 and agg["rules_applied"] == "ours (no official scorer)"


# ---------------------------------------------------------------- coordinate grids
def test_robospatial_points_on_the_model_grid(tmp_path):
    bench = get_benchmark("robospatial")
    sample = bench.load(write_robospatial(tmp_path))[2]  # polygon (0.1..0.5)^2 on a 32x24 image
    assert not bench.score(sample, "[(300, 300)]")["correct"]  # auto: pixels, far outside
    bench.set_coord_scale(None, "Qwen/Qwen2-VL-7B-Instruct")  # profile: 0-1000
    assert bench.coord_scale == "thousand" and bench.score(sample, "[(300, 300)]")["correct"]
    assert bench.score(sample, "[(0.3, 0.3)]")["correct"]  # a fraction stays a fraction under a profile
    bench.set_coord_scale(None, "Qwen/Qwen2.5-VL-3B-Instruct")  # pixels of the 84x56 resized image
    assert bench.coord_scale == "qwen25" and bench.score(sample, "[(25, 17)]")["correct"]
    bench.set_coord_scale("pixel", "Qwen/Qwen2.5-VL-3B-Instruct")  # the override wins
    assert not bench.score(sample, "[(25, 17)]")["correct"]
    assert bench.score(sample, "[(12, 8)]")["correct"]


def test_qwen25_resize_and_scoring_grid():
    from spatialforge.eval.coords import qwen25_resized_size
    from spatialforge.eval.scoring import score_sample

    assert qwen25_resized_size(640, 480) == (644, 476) and qwen25_resized_size(32, 24) == (84, 56)
    gt = {"kind": "box2d", "value": [64, 96, 192, 192]}
    assert not score_sample("[100, 200, 300, 400]", gt, "box2d", image_size=(640, 480)).correct
    s = score_sample("[100, 200, 300, 400]", gt, "box2d", image_size=(640, 480), coord_scale="thousand")
    assert s.correct and s.parsed == (64.0, 96.0, 192.0, 192.0)
