"""The numeric_mra reward: MRA of numbers and counts, the typed reward for the rest, by hand."""

import json

import pytest

from spatialforge.rewards import NumericMRAReward, answer_reward, mra_score
from spatialforge.rewards.typed import TypedReward


def s(kind, value):
    return json.dumps({"kind": kind, "value": value})


class NoSemantic:
    """Rows here are all typed: Sentence-BERT must not be asked."""

    def score(self, preds, refs):
        raise AssertionError("sBERT called for a typed row")


@pytest.mark.parametrize("text, struct, eval_type, expected", [
    ("2 m", s("length", 2.0), "numeric", 1.0),
    ("2.5 meters", s("length", 2.0), "numeric", 0.5),    # 25 % off: θ = .50 ... .70
    ("150 cm", s("length", 2.0), "numeric", 0.5),        # units converted as in evaluation
    ("<answer>3 m</answer>", s("length", 2.0), "numeric", 0.0),  # 50 % off
    ("no idea", s("length", 2.0), "numeric", 0.0),       # unreadable
    ("five", s("count", 4), "count", 0.5),               # |5 - 4| / 4 = 0.25 < 1 - θ for θ = .50 ... .70
])
def test_mra_score(text, struct, eval_type, expected):
    assert mra_score(text, struct, eval_type) == pytest.approx(expected)


def test_reward_is_denser_than_success_and_keeps_typed_rows():
    reward = NumericMRAReward(TypedReward(semantic=NoSemantic()))
    out = reward(["1.8 m", "3 m", "B", "Yes"], answer=["2 m", "2 m", "B", "Yes"],
                 eval_type=["numeric", "numeric", "choice", "yesno"],
                 answer_struct=[s("length", 2.0), s("length", 2.0), s("choice", "B"), s("boolean", True)])
    assert out == pytest.approx([0.8, 0.0, 1.0, 1.0])  # 10 % off -> 0.8; the typed reward gave 0.9 and 0.667
    assert reward.__name__ == "numeric_mra"


def test_registered_as_an_answer_reward():
    from spatialforge.train.config import ANSWER_REWARDS

    assert "numeric_mra" in ANSWER_REWARDS
    assert isinstance(answer_reward("numeric_mra", encoder=object()), NumericMRAReward)
