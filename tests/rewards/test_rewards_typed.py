"""Typed rewards: the evaluation's score_sample (parsers + metrics), hand-computed values."""

import json
import math

import pytest

from spatialforge.rewards.typed import TypedReward, typed_score


def s(kind, value):
    return json.dumps({"kind": kind, "value": value})


BOX = {"center": [0.0, 0.0, 1.0], "size": [1.0, 1.0, 1.0], "yaw": 0.0}


@pytest.mark.parametrize("pred,struct,eval_type,expected", [
    ("1 m", s("length", 2.0), "numeric", 0.5),
    ("4 meters", s("length", 2.0), "numeric", 0.5),
    ("about 200 cm", s("length", 2.0), "numeric", 1.0),
    ("no idea", s("length", 2.0), "numeric", 0.0),
    ("The answer is (B)", s("choice", "B"), "choice", 1.0),
    ("A", s("choice", "B"), "choice", 0.0),
    ("Yes, it is.", s("boolean", True), "yesno", 1.0),
    ("No.", s("boolean", True), "yesno", 0.0),
    ("three", s("count", 3), "count", 1.0),
    ("4", s("count", 3), "count", 0.0),
    ("[0, 0, 10, 20]", s("box2d", [0, 0, 10, 10]), "box2d", 0.5),
    (json.dumps(BOX), s("box3d", BOX), "box3d", 1.0),
    ("(0, 0, 3)", s("point3d", [0, 0, 2]), "point3d", 0.5),  # 1 - relative error
    ("(0, 1, 0)", s("vector3d", [1, 0, 0]), "vector3d", 0.0),
    ("(1, 1, 0)", s("vector3d", [1, 0, 0]), "vector3d", math.cos(math.pi / 4)),
    ("It is on the left side.", s("label", "left"), "label", 1.0),
    ("right", s("label", "left"), "label", 0.0),
    ("the table, then the chair, then the lamp", s("order", ["chair", "table", "lamp"]), "order", 0.0),
    ("chair, table, lamp", s("order", ["chair", "table", "lamp"]), "order", 1.0),
    ("<think>x</think> <answer>2 m</answer>", s("length", 2.0), "numeric", 1.0),  # the <answer> span
])
def test_typed_score(pred, struct, eval_type, expected):
    assert typed_score(pred, struct, eval_type) == pytest.approx(expected, abs=1e-6)


def test_bare_number_takes_the_unit_the_question_asks_for():
    assert typed_score("150", s("length", 2.0), "numeric", question="How far apart are they in centimeters?") == \
        pytest.approx(0.75)
    assert typed_score("150", s("length", 2.0), "numeric") == 0.0  # no unit anywhere: unreadable


def test_open_answers_fall_back_to_sentence_bert():
    assert typed_score("a red chair", s("label", "x"), "open") is None
    assert typed_score("a red chair", "", "label") is None and typed_score("x", s("length", 1), "bogus") is None
    reward = TypedReward()
    done = lambda a: f"<think>t</think> <answer>{a}</answer>"  # noqa: E731
    r = reward([done("1 m"), done("the red chair"), [{"role": "assistant", "content": done("B")}], done("")],
               answer=["2 m", "the red chair", "B", "yes"],
               eval_type=["numeric", "open", "choice", "yesno"],
               answer_struct=[s("length", 2.0), s("label", "the red chair"), s("choice", "B"), s("boolean", True)],
               question=["How far?", "Which object?", "Which?", "Is it?"], choices=[[], [], ["chair", "table"], []])
    assert r[0] == pytest.approx(0.5) and r[1] == pytest.approx(1.0, abs=1e-5) and r[2] == 1.0 and r[3] == 0.0
    assert reward.__name__ == "typed"


def test_malformed_ground_truth_is_counted_and_logged(caplog):
    from spatialforge.rewards.typed import MalformedTruth

    with pytest.raises(MalformedTruth, match="numeric answer_struct"):
        typed_score("1 m", "{not json", "numeric")
    reward, logged = TypedReward(), []
    done = lambda a: f"<think>t</think> <answer>{a}</answer>"  # noqa: E731
    with caplog.at_level("WARNING", logger="spatialforge.rewards.typed"):
        r = reward([done("2 m"), done("2 m"), done("2 m")], answer=["2 m"] * 3, eval_type=["numeric"] * 3,
                   answer_struct=[s("length", 2.0), "{not json", json.dumps({"kind": "length"})],
                   id=["ok", "bad-json", "no-value"], log_metric=lambda k, v: logged.append((k, v)))
    assert r[0] == 1.0 and r[1] == pytest.approx(1.0, abs=1e-5)  # Sentence-BERT of identical answers
    assert reward.malformed_truth == 2
    assert logged == [("typed/malformed_truth_frac", pytest.approx(2 / 3))]
    assert "bad-json" in caplog.text and "no-value" in caplog.text
