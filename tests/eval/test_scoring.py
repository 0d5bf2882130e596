"""Per-sample scoring and aggregation, with hand-computed values."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from spatialforge.eval import metrics as M
from spatialforge.eval.scoring import SampleScore, add_sbert, aggregate, score_record, score_sample
from spatialforge.tasks.record import QARecord


def S(kind, value):
    return {"kind": kind, "value": value}


@pytest.mark.parametrize("pred,struct,eval_type,kw,correct,score", [
    ("<think>look</think> <answer>about 2 m</answer>", S("length", 1.5), "numeric", {}, True, 0.75),
    ("It is 350 cm", S("length", 1.5), "numeric", {}, False, 1.5 / 3.5),
    ("3 m", S("length", 1.5), "numeric", {}, False, 0.5),  # ratio exactly 2 is no success
    ("1.8 m", S("length", 1.5), "numeric", {"numeric_rule": "within_25pct"}, True, 1.5 / 1.8),
    ("150", S("length", 1.5), "numeric", {"question": "How far apart are they in centimeters?"}, True, 1.0),
    ("3", S("count", 3), "numeric", {}, True, 1.0),
    ("The answer is (B)", S("choice", "B"), "choice", {"choices": ("a", "b", "c", "d")}, True, 1.0),
    ("lamp", S("choice", "B"), "choice", {"choices": ("chair", "lamp")}, True, 1.0),
    ("No, it is not.", S("boolean", False), "yesno", {}, True, 1.0),
    ("Yes", S("boolean", "no"), "yesno", {}, False, 0.0),
    ("3 chairs", S("count", 3), "count", {}, True, 1.0),
    ("on the right", S("label", "left"), "label", {}, False, 0.0),
    ("It is facing left", S("label", "facing left"), "label", {}, True, 1.0),
    ("farther", S("label", "closer"), "label", {"choices": ("closer", "farther")}, False, 0.0),
    ("lamp, table", S("order", ["table", "lamp"]), "order", {}, False, 0.0),
    ("at 9 o'clock", S("clock", 9), "clock", {}, True, 1.0),
    ("nine o'clock", S("clock", "9 o'clock"), "clock", {}, True, 1.0),
    ("It is at 3 o'clock.", S("clock", 9), "clock", {}, False, 0.0),
    # a label of the truth's set that is not its pair: parsed, wrong (not unparsable)
    ("It is facing left", S("label", "toward"), "label", {}, False, 0.0),
    ("opposite directions", S("label", "same"), "label", {}, False, 0.0),
    ("Point B", S("label", "A"), "label", {}, False, 0.0),
    # the record's own label set (answer_struct["labels"], spatialforge.tasks)
    ("facing the camera", {"kind": "label", "value": "toward", "labels": ["toward", "away", "left", "right"]},
     "label", {}, True, 1.0),
    ("It faces right.", {"kind": "label", "value": "toward", "labels": ["toward", "away", "left", "right"]},
     "label", {}, False, 0.0),
    ("The white mug.", {"kind": "label", "value": "the red mug", "labels": ["the red mug", "the white mug"]},
     "label", {}, False, 0.0),
    ("the red mug", {"kind": "label", "value": "the red mug", "labels": ["the red mug", "the white mug"]},
     "label", {}, True, 1.0),
    ("(0.3, 0, 2.0)", S("point3d", [0.0, 0.0, 2.0]), "point3d", {}, True, 1 - 0.15),  # 0.3 / 2 = 15 %
    ("(0, 0, 78.74) inches", S("point3d", [0.0, 0.0, 2.0]), "point3d", {}, True, 1 - 0.000002),  # 78.74 in = 1.999996 m
    ("(0, 0, 200)", S("point3d", [0.0, 0.0, 2.0]), "point3d", {"question": "Where is it, in centimeters?"}, True, 1.0),
    ("(0, 0, 200)", S("point3d", [0.0, 0.0, 2.0]), "point3d", {}, False, 0.0),  # bare: metres, 100x off
    ("(1, 0, 1)", S("vector3d", [1, 0, 0]), "vector3d", {}, False, math.sqrt(0.5)),  # 45 deg > 30
    ("(1, 0, 1)", S("vector3d", [1, 0, 0]), "vector3d", {"angle_threshold_deg": 50}, True, math.sqrt(0.5)),
    ("[0.5, 0, 0, 1, 1, 1, 0]", S("box3d", {"center": [0, 0, 0], "size": [1, 1, 1], "yaw": 0}), "box3d", {},
     True, 1 / 3),
    ("center (50, 0, 0) cm, size 100 x 100 x 100 cm (w x h x l), yaw 0°",
     S("box3d", {"center": [0, 0, 0], "size": [1, 1, 1], "yaw": 0}), "box3d", {}, True, 1 / 3),
    ("[10, 10, 20, 20]", S("box2d", [10, 10, 20, 22]), "box2d", {}, True, 100 / 120),
    ("[0, 0, 0.5, 0.5]", S("box2d", [0, 0, 100, 100]), "box2d", {"image_size": (200, 200)}, True, 1.0),
    ("(15, 15)", S("box2d", [10, 10, 20, 20]), "point2d", {}, True, 1.0),
])
def test_score_sample(pred, struct, eval_type, kw, correct, score):
    s = score_sample(pred, struct, eval_type, **kw)
    assert s.parsable and s.error is None
    assert s.correct is correct
    assert s.score == pytest.approx(score)


@pytest.mark.parametrize("pred,gt,off", [("3 o'clock", 9, 6), ("10 o'clock", 12, 2), ("about 1 o'clock", 12, 1),
                                          ("12 o'clock", 12, 0)])
def test_clock_hours_off(pred, gt, off):
    s = score_sample(pred, S("clock", gt), "clock")
    assert s.parsable and s.parsed == (gt if off == 0 else s.parsed) and s.hours_off == off
    assert s.correct is (off == 0) and s.hours_off == M.clock_hours_off(s.parsed, gt)


def test_clock_summary_and_mirror():
    recs = [(_record(0, "clock", S("clock", 3), "perspective", 3, "p", "original"), "3 o'clock"),
            (_record(1, "clock", S("clock", 9), "perspective", 3, "p", "mirrored"), "8 o'clock"),
            (_record(2, "clock", S("clock", 2), "perspective", 3, "q", "original"), "2 o'clock"),
            (_record(3, "clock", S("clock", 10), "perspective", 3, "q", "mirrored"), "10 o'clock")]
    o = aggregate([score_record(p, r) for r, p in recs])["overall"]
    assert o["clock"] == {"accuracy": 0.75, "mean_hours_off": 0.25}
    assert o["mirror_pairs"] == 2 and o["mirror_consistency"] == 0.5  # 3 -> 9 expected, 8 said


def test_unknown_label_is_unparsable():
    s = score_sample("the blue cup", S("label", "toward"), "label")
    assert not s.parsable and s.correct is False


def test_numeric_fields():
    s = score_sample("3 m", S("length", 2.0), "numeric")
    assert (s.parsed, s.gt_value, s.ratio, s.rel_error) == (3.0, 2.0, 1.5, 0.5)
    neg = score_sample("-3 m", S("length", 2.0), "numeric")
    assert neg.parsable and neg.ratio == math.inf and neg.correct is False and neg.score == 0.0


@pytest.mark.parametrize("pred,struct,eval_type,reason", [
    (None, S("length", 1.5), "numeric", "None"),
    ("", S("choice", "A"), "choice", "empty"),
    ("<answer></answer>", S("boolean", True), "yesno", "empty <answer>"),
    ("5 blorps", S("length", 1.5), "numeric", "blorps"),
    ("A or B", S("choice", "A"), "choice", "ambiguous"),
    ("not sure", S("boolean", True), "yesno", "undecided"),
    ("somewhere", S("box2d", [0, 0, 1, 1]), "box2d", "no box"),
])
def test_failed_parse_is_wrong_and_not_completed(pred, struct, eval_type, reason):
    s = score_sample(pred, struct, eval_type)
    assert not s.parsable and s.correct is False and s.score == 0.0 and s.parsed is None
    assert reason in s.error


def test_open_scores_bleu_and_no_rule():
    s = score_sample("the cup is left", S("label", "x"), "open", reference_text="the cup is on the left")
    assert s.correct is None and s.sbert is None
    assert s.bleu1 == pytest.approx(math.exp(-0.5)) and s.score == s.bleu1
    assert s.bleu2 == pytest.approx(math.exp(-0.5) * math.sqrt(2 / 3))


def test_unknown_eval_type_raises():
    with pytest.raises(ValueError, match="eval_type"):
        score_sample("3 m", S("length", 1), "distance")


def test_score_is_frozen_and_vars_readable():
    s = score_sample("3 m", S("length", 2.0), "numeric")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.correct = False
    assert vars(s)["parsable"] is True  # benchmarks read scores as dicts


def _record(i, eval_type, struct, task, level, pair="", view="original", question="q?", choices=()):
    return QARecord(id=f"r{i}", scene_id="s", question=question, answer=str(struct["value"]), answer_struct=struct,
                    task=task, level=level, format="mcq" if choices else "free", eval_type=eval_type,
                    choices=choices, pair_id=pair, view=view)


def test_aggregate_by_hand():
    recs = [
        (_record(0, "numeric", S("length", 2.0), "size", 1), "2.5 m"),  # ratio 1.25: success
        (_record(1, "numeric", S("length", 2.0), "size", 1), "5 m"),  # ratio 2.5: fail
        (_record(2, "numeric", S("length", 2.0), "size", 1), "no idea"),  # failure
        (_record(3, "label", S("label", "left"), "direction", 2, "p1", "original"), "left"),
        (_record(4, "label", S("label", "right"), "direction", 2, "p1", "mirrored"), "right"),
        (_record(5, "label", S("label", "left"), "direction", 2, "p2", "original"), "left"),
        (_record(6, "label", S("label", "right"), "direction", 2, "p2", "mirrored"), "left"),
        (_record(7, "choice", S("choice", "A"), "compare", 2, choices=("x", "y")), "(A)"),
    ]
    scores = [score_record(p, r) for r, p in recs]
    assert scores[0].tags["task"] == "size" and scores[3].tags["pair_id"] == "p1"
    agg = aggregate(scores, by=("eval_type", "task", "level"))
    o = agg["overall"]
    assert o["n"] == 8 and o["completed"] == pytest.approx(7 / 8)
    assert o["accuracy"] == pytest.approx(5 / 8)  # 1 numeric + 3 labels + 1 choice
    num = o["numeric"]
    assert num["success_rate"] == pytest.approx(1 / 3) and num["samples_completed"] == pytest.approx(2 / 3)
    # sMAPE over parsable: 100 * mean(0.5/2.25, 3/3.5)
    assert num["smape"] == pytest.approx(100 * (0.5 / 2.25 + 3 / 3.5) / 2)
    assert o["mirror_consistency"] == 0.5 and o["mirror_pairs"] == 2
    assert o["mirror_both_correct"] == 0.5  # p1 right in both views; p2's mirrored "left" is wrong
    assert agg["eval_type"]["label"]["accuracy"] == 0.75
    assert agg["task"]["size"]["accuracy"] == pytest.approx(1 / 3)
    assert set(agg["level"]) == {"1", "2"} and agg["level"]["2"]["n"] == 5


def test_aggregate_families():
    scores = [
        score_sample("[0, 0, 10, 10]", S("box2d", [0, 0, 10, 10]), "box2d"),
        score_sample("[0, 0, 10, 5]", S("box2d", [0, 0, 10, 10]), "box2d"),
        score_sample("(1, 0, 0)", S("vector3d", [1, 0, 0]), "vector3d"),
        score_sample("(0, 1, 0)", S("vector3d", [1, 0, 0]), "vector3d"),
        score_sample("yes", S("label", "x"), "open", reference_text="yes"),
    ]
    o = aggregate(scores, by=())["overall"]
    assert o["box2d"] == {"miou": 0.75, "acc@0.75": 0.5}
    assert o["vector3d"]["accuracy"] == 0.5 and o["vector3d"]["mean_angle_deg"] == pytest.approx(45)
    assert o["open"]["bleu1"] == 1.0 and math.isnan(o["open"]["sbert"])
    assert o["accuracy"] == pytest.approx(2 / 4)  # the open sample has no rule


def test_add_sbert_batches_open_samples(monkeypatch):
    calls = []

    class FakeModel:
        def encode(self, texts, **kw):
            calls.append(list(texts))
            return np.asarray([[1.0, 0.0] if t.startswith("a") else [0.6, 0.8] for t in texts])

    monkeypatch.setattr(M, "load_sbert", lambda model=None, device="cpu": FakeModel())
    scores = [score_sample("a x", S("label", "x"), "open", reference_text="a y"),
              score_sample("a x", S("label", "x"), "open", reference_text="b y"),
              score_sample("3 m", S("length", 3.0), "numeric")]
    out = add_sbert(scores)
    assert len(calls) == 1 and sorted(calls[0]) == ["a x", "a y", "b y"]  # each text embedded once
    assert out[0].sbert == pytest.approx(1.0) and out[1].sbert == pytest.approx(0.6) and out[1].score == out[1].sbert
    assert out[2] is scores[2] and isinstance(out[2], SampleScore)


def test_open_failure_scores_zero_without_rule():
    s = score_sample("", S("label", "x"), "open", reference_text="yes")
    assert s.correct is None and not s.parsable and (s.bleu1, s.bleu2, s.sbert, s.score) == (0.0, 0.0, 0.0, 0.0)


def test_answer_struct_as_json_text_and_bad_rule():
    assert score_sample("2 m", '{"kind": "length", "value": 2.0}', "numeric").correct is True
    with pytest.raises(ValueError, match="numeric_rule"):
        score_sample("", S("length", 1), "numeric", numeric_rule="close")
