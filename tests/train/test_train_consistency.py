"""SVQA-R1 eqs. 2-4 and the advantages, checked against hand-computed values."""

import pytest
import torch

from spatialforge.train.consistency import advantages, group_layout, mode_advantages, paper_correction, segment_ids

G = 4


def pair_batch(orig, mirr, pair_id="p0"):
    """One pair: G original completions then G mirrored ones."""
    rewards = torch.tensor(orig + mirr, dtype=torch.float32)
    layout = group_layout([pair_id] * 2 * G, ["original"] * G + ["mirrored"] * G, G)
    return rewards, layout


def total(semantic, fmt=1.0):
    """r = 0.5 * format + 0.5 * semantic (eq. 1) with every completion well formatted."""
    return 0.5 * fmt + 0.5 * semantic


def test_delta_positive_penalises_original_above_threshold():
    r, layout = pair_batch([0.9, 0.8, 0.4, 0.7], [0.3, 0.6, 0.2, 0.5])
    c = paper_correction(r, layout, threshold=0.5, eta=1.0)
    # Delta = 0.7 - 0.4 = 0.3 >= 0: original samples > 0.5 lose 0.3, 0.4 is kept; mirrored untouched
    assert c.deltas.tolist() == pytest.approx([0.3])
    assert c.rewards.tolist() == pytest.approx([0.6, 0.5, 0.4, 0.4, 0.3, 0.6, 0.2, 0.5])
    assert c.penalised.tolist() == [True, True, False, True] + [False] * 4
    assert c.penalised_frac == pytest.approx(3 / 8)


def test_delta_negative_penalises_mirrored_group_only():
    r, layout = pair_batch([0.3, 0.6, 0.2, 0.5], [0.9, 0.8, 0.4, 0.7])
    c = paper_correction(r, layout, threshold=0.5, eta=2.0)
    # Delta = -0.3: mirrored samples > 0.5 lose eta*|Delta| = 0.6; the original 0.6 is not penalised
    assert c.deltas.tolist() == pytest.approx([-0.3])
    assert c.rewards.tolist() == pytest.approx([0.3, 0.6, 0.2, 0.5, 0.3, 0.2, 0.4, 0.1])
    assert c.penalised.tolist() == [False] * 4 + [True, True, False, True]


def test_nobody_above_threshold_changes_nothing():
    r, layout = pair_batch([0.4, 0.3, 0.5, 0.2], [0.1, 0.1, 0.1, 0.1])  # 0.5 is not > 0.5
    c = paper_correction(r, layout, threshold=0.5, eta=1.0)
    assert c.deltas.tolist() == pytest.approx([0.25])
    assert torch.equal(c.rewards, r)
    assert not c.penalised.any() and c.penalised_frac == 0.0


def test_whole_better_group_above_threshold_cancels_under_group_normalisation():
    r, layout = pair_batch([0.9, 0.8, 0.7, 0.6], [0.2, 0.5, 0.1, 0.4])
    c = paper_correction(r, layout, threshold=0.5, eta=1.0)
    # Delta = 0.75 - 0.3 = 0.45 and every original sample is > 0.5: a constant shift of the group
    assert c.rewards[:G].tolist() == pytest.approx([0.45, 0.35, 0.25, 0.15])
    per_group = segment_ids(layout, joint=False)
    a_paper = advantages(total(c.rewards), per_group)
    a_plain = advantages(total(r), per_group)
    assert torch.allclose(a_paper, a_plain, atol=1e-6)  # the paper's rule has no effect at all
    joint = segment_ids(layout, joint=True)
    a_joint = advantages(total(c.rewards), joint)
    a_joint_plain = advantages(total(r), joint)
    assert not torch.allclose(a_joint, a_paper, atol=1e-3)
    # joint: the better (original) view's advantages go down, the mirrored view's go up
    assert (a_joint[:G] < a_joint_plain[:G]).all() and (a_joint[G:] > a_joint_plain[G:]).all()


def test_eta_zero_is_plain_grpo():
    r, layout = pair_batch([0.9, 0.8, 0.4, 0.7], [0.3, 0.6, 0.2, 0.5])
    c = paper_correction(r, layout, threshold=0.5, eta=0.0)
    assert torch.equal(c.rewards, r) and not c.penalised.any()
    seg = segment_ids(layout, joint=False)
    assert torch.equal(advantages(total(c.rewards), seg), advantages(total(r), seg))


def test_joint_advantages_by_hand():
    layout = group_layout(["p"] * 4, ["original", "original", "mirrored", "mirrored"], 2)
    r = torch.tensor([1.0, 0.0, 0.0, 0.0])
    # joint: mean 0.25, unbiased std sqrt((0.75² + 3 * 0.25²) / 3) = 0.5
    a = advantages(r, segment_ids(layout, joint=True))
    assert a.tolist() == pytest.approx([0.75 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001])
    # per group: original (1, 0) -> +-0.5/0.7072; mirrored (0, 0) -> std 0 -> 0
    a = advantages(r, segment_ids(layout, joint=False))
    s = 2**-0.5
    assert a.tolist() == pytest.approx([0.5 / (s + 1e-4), -0.5 / (s + 1e-4), 0.0, 0.0])
    assert advantages(r, segment_ids(layout, joint=False), "none").tolist() == [0.5, -0.5, 0.0, 0.0]


def test_layout_pairs_groups_in_any_order_and_rejects_mixed_groups():
    pids = ["b", "b", "a", "a", "b", "b", "c", "c", "a", "a"]
    views = ["mirrored"] * 2 + ["original"] * 2 + ["original"] * 2 + ["original"] * 2 + ["mirrored"] * 2
    layout = group_layout(pids, views, 2)
    assert layout.pairs == ((1, 4), (2, 0))  # (original group, mirrored group)
    assert layout.unpaired == (3,)
    assert layout.view_mask("original").tolist() == [False, False, True, True, True, True, False, False, False, False]
    with pytest.raises(ValueError, match="mix prompts"):
        group_layout(["a", "b"], ["original", "original"], 2)


def test_nan_rewards_are_ignored_and_never_penalised():
    r, layout = pair_batch([0.9, float("nan"), 0.9, 0.9], [0.1, 0.1, 0.1, 0.1])
    c = paper_correction(r, layout, threshold=0.5, eta=1.0)
    assert c.deltas.tolist() == pytest.approx([0.8])
    assert torch.isnan(c.rewards[1]) and c.rewards[0].item() == pytest.approx(0.1)
    assert advantages(c.rewards, segment_ids(layout, joint=False))[1].item() == 0.0


# ---------------------------------------------------------------- mode_advantages: effects measured
def hand_advantages(groups):
    """Per-segment (r - mean) / (unbiased std + 1e-4), written out with the statistics module."""
    import statistics

    out = []
    for seg in groups:
        m, s = statistics.mean(seg), statistics.stdev(seg)
        out += [(r - m) / (s + 1e-4) for r in seg]
    return out


def test_two_valued_typed_rewards_cancel_and_are_counted():
    # typed 0/1 answers: Delta = 0.5 - 0.25; only the two right originals (> delta) lose 0.25, so the
    # group is NOT entirely penalised, yet (1, 1, 0, 0) -> (0.75, 0.75, 0, 0) is a rescale: cancelled
    r, layout = pair_batch([1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0])
    res = mode_advantages(total(r), r, layout, "paper")
    assert res.changed.tolist() == [True] and res.cancelled.tolist() == [True] and res.cancelled_frac == 1.0
    assert res.penalised_frac == pytest.approx(2 / 8)
    assert res.advantage_change < 1e-3
    assert res.plain.tolist() == pytest.approx(hand_advantages([total(r)[:G].tolist(), total(r)[G:].tolist()]))


def test_constant_shift_is_counted_cancelled():
    r, layout = pair_batch([0.9, 0.8, 0.7, 0.6], [0.2, 0.5, 0.1, 0.4])
    res = mode_advantages(total(r), r, layout, "paper")
    assert res.cancelled.tolist() == [True] and torch.allclose(res.advantages, res.plain, atol=1e-5)


def test_partial_penalty_is_not_cancelled():
    r, layout = pair_batch([0.9, 0.8, 0.4, 0.7], [0.3, 0.6, 0.2, 0.5])  # 0.4 is kept: order changes
    res = mode_advantages(total(r), r, layout, "paper")
    # corrected original totals: 0.5 + 0.5 * (0.6, 0.5, 0.4, 0.4)
    expected = hand_advantages([[0.8, 0.75, 0.7, 0.7], total(r)[G:].tolist()])
    assert res.advantages.tolist() == pytest.approx(expected, abs=1e-5)
    assert res.cancelled.tolist() == [False] and res.cancelled_frac == 0.0 and res.advantage_change > 0.1


def test_joint_change_is_measured_against_plain_grpo():
    # Delta = 0: no penalty at all, yet joint normalisation changes the advantages (a per-pair
    # rescale); measured against joint-without-correction that change would read 0
    r, layout = pair_batch([1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0])
    res = mode_advantages(total(r), r, layout, "joint")
    t = total(r).tolist()
    joint, plain = hand_advantages([t]), hand_advantages([t[:G], t[G:]])
    assert res.changed.tolist() == [False] and res.cancelled_frac == 0.0
    assert res.advantages.tolist() == pytest.approx(joint, abs=1e-5)
    assert res.advantage_change == pytest.approx(sum(abs(a - b) for a, b in zip(joint, plain)) / 8, abs=1e-5)
    assert res.advantage_change == pytest.approx(0.06, abs=1e-3)


def test_none_is_plain_grpo_and_modes_are_checked():
    r, layout = pair_batch([0.9, 0.8, 0.4, 0.7], [0.3, 0.6, 0.2, 0.5])
    res = mode_advantages(total(r), r, layout, "none")
    assert torch.equal(res.advantages, res.plain) and res.advantage_change == 0.0
    with pytest.raises(ValueError, match="one of"):
        mode_advantages(total(r), r, layout, "both")
    with pytest.raises(ValueError, match="agreement share"):
        mode_advantages(total(r), r, layout, "agreement")


def test_batch_scaling_divides_by_the_batch_std():
    r, layout = pair_batch([0.9, 0.8, 0.4, 0.7], [0.3, 0.6, 0.2, 0.5])
    res = mode_advantages(total(r), r, layout, "none", scale_rewards="batch")
    import statistics

    t = total(r).tolist()
    s = statistics.stdev(t)
    means = [statistics.mean(t[:G])] * G + [statistics.mean(t[G:])] * G
    assert res.advantages.tolist() == pytest.approx([(x - m) / (s + 1e-4) for x, m in zip(t, means)], abs=1e-6)
