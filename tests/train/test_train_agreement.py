"""The agreement objective: completions parsed by the evaluation's parsers, answers compared
through the exact mirror of the answer, shares and advantages checked by hand."""

import json

import pytest
import torch

from spatialforge.train.agreement import ParsedAnswer, agree, agreement_shares, parse_completion, parse_inputs
from spatialforge.train.consistency import group_layout, mode_advantages
from tests.train.test_train_consistency import hand_advantages

YES, NO = {"kind": "boolean", "value": True}, {"kind": "boolean", "value": False}


def said(answer: str) -> str:
    return f"<think>t</think> <answer>{answer}</answer>"


def pair_layout(g):
    return group_layout(["p"] * 2 * g, ["original"] * g + ["mirrored"] * g, g)


def parsed(answers, struct, eval_type, **kw):
    return [parse_completion(said(a), json.dumps(struct), eval_type, **kw) for a in answers]


def test_yes_no_shares_by_hand():
    # truths differ (yes / no), so a consistent mirrored answer is the opposite of the original one
    answers = parsed(["yes", "no", "maybe"], YES, "yesno") + parsed(["no", "no", "yes"], NO, "yesno")
    assert answers[2].value is None and answers[0] == ParsedAnswer("boolean", True, True)
    a = agreement_shares(answers, pair_layout(3))
    # o0 "yes" <-> m0, m1 "no"; o1 "no" <-> m2 "yes"; o2 unparsable agrees with nothing
    assert a.tolist() == pytest.approx([2 / 3, 1 / 3, 0.0, 1 / 3, 1 / 3, 1 / 3])


@pytest.mark.parametrize("struct_o,struct_m,eval_type,o,m,same", [
    ({"kind": "choice", "value": "A"}, {"kind": "choice", "value": "B"}, "choice", "A", "B", True),
    ({"kind": "choice", "value": "A"}, {"kind": "choice", "value": "B"}, "choice", "A", "A", False),
    ({"kind": "choice", "value": "A"}, {"kind": "choice", "value": "A"}, "choice", "B", "B", True),  # options mirrored in place
    ({"kind": "clock", "value": 3}, {"kind": "clock", "value": 9}, "clock", "2 o'clock", "10 o'clock", True),
    ({"kind": "clock", "value": 3}, {"kind": "clock", "value": 9}, "clock", "2 o'clock", "2 o'clock", False),
    ({"kind": "label", "value": "left"}, {"kind": "label", "value": "right"}, "label", "right", "left", True),
    ({"kind": "length", "value": 1.0}, {"kind": "length", "value": 1.0}, "numeric", "2 m", "205 cm", True),
    ({"kind": "length", "value": 1.0}, {"kind": "length", "value": 1.0}, "numeric", "2 m", "1 m", False),
])
def test_agreement_is_the_exact_mirror_of_the_answer(struct_o, struct_m, eval_type, o, m, same):
    (po,), (pm,) = parsed([o], struct_o, eval_type), parsed([m], struct_m, eval_type)
    assert agree(po, pm) is same


def test_box2d_mirrors_x_with_the_image_width():
    box = {"kind": "box2d", "value": [10, 20, 30, 40]}
    mbox = {"kind": "box2d", "value": [70, 20, 90, 40]}
    (po,) = parsed(["[10, 20, 30, 40]"], box, "box2d", image_size=(100, 80))
    (pm,) = parsed(["[70, 20, 90, 40]"], mbox, "box2d", image_size=(100, 80))
    (bad,) = parsed(["[10, 20, 30, 40]"], mbox, "box2d", image_size=(100, 80))
    assert po.image_width == 100 and agree(po, pm) and not agree(po, bad)


def test_rows_without_a_typed_answer_get_no_term():
    assert parse_completion(said("a chair"), json.dumps({"kind": "text", "value": "a chair"}), "open") is None
    assert parse_completion(said("yes"), None, "yesno") is None
    assert parse_completion(said("yes"), "{not json", "yesno") is None  # malformed truth: no term
    rows = [{"answer_struct": json.dumps(YES), "eval_type": "yesno", "question": "q"}, {"eval_type": "open"}]
    out = parse_inputs([said("yes"), said("x")], rows)
    assert out[0].value is True and out[1] is None
    a = agreement_shares([None, None, None, None], pair_layout(2))
    assert torch.isnan(a).all()


def test_agreement_advantages_by_hand():
    answers = parsed(["yes", "no", "maybe"], YES, "yesno") + parsed(["no", "no", "yes"], NO, "yesno")
    a = agreement_shares(answers, pair_layout(3))
    typed = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    total = 0.5 * 1.0 + 0.5 * typed
    res = mode_advantages(total, typed, pair_layout(3), "agreement", agreement=a, agreement_weight=0.25)
    with_term = (total + 0.25 * a).tolist()
    assert res.advantages.tolist() == pytest.approx(hand_advantages([with_term[:3], with_term[3:]]), abs=1e-5)
    # the original group is three-valued with the term (the wrong answer that agrees beats the
    # unparsable one it tied with): not cancelled; the mirrored group's term is constant: cancelled
    assert res.changed.tolist() == [True] and res.cancelled.tolist() == [False]
    assert res.advantages[1] > res.advantages[2] and res.plain[1] == pytest.approx(res.plain[2].item())
    assert torch.allclose(res.advantages[3:], res.plain[3:], atol=1e-5)


def test_agreement_survives_normalisation_where_the_paper_rule_cancels():
    # lengths (truth 1 m in both views): every original answer scores > delta, so the paper's
    # penalty is one constant for the group and per-group normalisation removes it
    g = 4
    truth = {"kind": "length", "value": 1.0}
    answers = parsed(["1 m", "1 m", "1.25 m", "1.25 m"], truth, "numeric") + \
        parsed(["1.25 m", "1.25 m", "1.25 m", "2.5 m"], truth, "numeric")
    typed = torch.tensor([1.0, 1.0, 0.8, 0.8, 0.8, 0.8, 0.8, 0.4])  # min(p/g, g/p)
    total = 0.5 + 0.5 * typed
    layout = pair_layout(g)
    paper = mode_advantages(total, typed, layout, "paper")
    assert paper.changed.tolist() == [True] and paper.cancelled.tolist() == [True]
    assert torch.allclose(paper.advantages, paper.plain, atol=1e-5)
    a = agreement_shares(answers, layout)  # 1.25 m agrees with 1.25 m (within 10 %), not with 1 m or 2.5 m
    assert a.tolist() == pytest.approx([0, 0, 3 / 4, 3 / 4, 1 / 2, 1 / 2, 1 / 2, 0])
    ours = mode_advantages(total, typed, layout, "agreement", agreement=a, agreement_weight=0.25)
    assert ours.cancelled.tolist() == [False] and ours.advantage_change > 0.1
    with_term = (total + 0.25 * a).tolist()
    assert ours.advantages.tolist() == pytest.approx(hand_advantages([with_term[:g], with_term[g:]]), abs=1e-5)
