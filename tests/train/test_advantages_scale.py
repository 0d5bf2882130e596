"""``scale_rewards`` of the Spatial-GRPO advantages (issue #11 item 13): "batch" divides by the
std of the whole batch while the baseline stays the group mean, exactly as TRL does.

Checked twice: against numbers computed by hand, and against TRL's own formula (its
``nanstd``, transcribed from ``GRPOTrainer._generate_and_score_completions``)."""

from __future__ import annotations

import math

import pytest
import torch
from trl.trainer.utils import nanstd

from spatialforge.train.consistency import advantages

REWARDS = torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0])
SEGMENTS = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])


def test_batch_scale_by_hand():
    # group means 0.25 and 0.75; the batch's unbiased std: four 1s and four 0s -> sqrt(2/7)
    s = math.sqrt(2 / 7) + 1e-4
    expected = [0.75 / s, -0.25 / s, -0.25 / s, -0.25 / s, 0.25 / s, 0.25 / s, 0.25 / s, -0.75 / s]
    assert advantages(REWARDS, SEGMENTS, "batch").tolist() == pytest.approx(expected, rel=1e-6)
    # "group": each group's own std (0.5 for both groups here), "none": no division
    g = 0.5 + 1e-4
    assert advantages(REWARDS, SEGMENTS, "group").tolist() == pytest.approx(
        [0.75 / g, -0.25 / g, -0.25 / g, -0.25 / g, 0.25 / g, 0.25 / g, 0.25 / g, -0.75 / g], rel=1e-6)
    assert advantages(REWARDS, SEGMENTS, "none").tolist() == pytest.approx(
        [0.75, -0.25, -0.25, -0.25, 0.25, 0.25, 0.25, -0.75], rel=1e-6)


def trl_advantages(rewards: torch.Tensor, num_generations: int, scale_rewards: str) -> torch.Tensor:
    """TRL's sum_then_normalize advantages (groups of ``num_generations`` consecutive rows)."""
    grouped = rewards.view(-1, num_generations)
    mean = torch.nanmean(grouped, dim=1).repeat_interleave(num_generations)
    if scale_rewards == "batch":
        std = nanstd(rewards).expand_as(rewards)
    else:
        std = nanstd(grouped, dim=1).repeat_interleave(num_generations)
    adv = rewards - mean
    if scale_rewards != "none":
        adv = adv / (std + 1e-4)
    return torch.nan_to_num(adv, nan=0.0)


@pytest.mark.parametrize("scale_rewards", ["batch", "group", "none"])
def test_matches_trl_on_random_groups_with_nan(scale_rewards):
    gen = torch.Generator().manual_seed(0)
    rewards = torch.rand(6 * 4, generator=gen, dtype=torch.float64) * 3
    rewards[5] = float("nan")  # an unscorable completion: excluded from mean and std, advantage 0
    segments = torch.arange(6).repeat_interleave(4)
    ours = advantages(rewards, segments, scale_rewards)
    assert torch.allclose(ours, trl_advantages(rewards, 4, scale_rewards), atol=1e-10)
    assert ours[5] == 0.0
    if scale_rewards == "batch":  # and it is not the per-group scaling
        assert not torch.allclose(ours, advantages(rewards, segments, "group"))
