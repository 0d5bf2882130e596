"""SVQA-R1 eqs. 2-4 and the advantages, checked against hand-computed values."""

import pytest
import torch

from spatialforge.train.consistency import advantages, group_layout, paper_correction, segment_ids

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
    assert c.cancelled.tolist() == [False] and c.cancelled_frac == 0.0


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
    assert c.cancelled.tolist() == [True] and c.cancelled_frac == 1.0
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
