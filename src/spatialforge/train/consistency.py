"""Spatial-GRPO reward correction and advantages (SVQA-R1 section 3.3, eqs. 2-4).

Pure tensor functions, independent of any trainer, so they can be tested by hand.

The gathered generation batch is a flat tensor of ``N = num_groups * G`` completions in
which every block of ``G`` consecutive completions answers the same prompt (TRL's layout).
A prompt is identified by ``(pair_id, view)``; an *original* group and a *mirrored* group
with the same ``pair_id`` form a pair.

For each pair (SVQA-R1 eqs. 2-4)::

    Delta = mean(r_s original group) - mean(r_s mirrored group)
    if Delta >= 0: r_s_i -> r_s_i - eta*|Delta| for every ORIGINAL sample with r_s_i > delta
    else:          the same for every MIRRORED sample with r_s_i > delta

then GRPO advantages.  Known weakness (measured, not hidden): when every sample of the
penalised group is above ``delta`` the penalty is the same constant for the whole group,
and per-group normalisation ``(r - mean) / std`` removes it exactly, so the update equals
plain GRPO.  ``consistency="joint"`` normalises over the ``2G`` completions of a pair
instead, where the penalty moves the better view's advantages relative to the other view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

CONSISTENCY_MODES = ("paper", "joint", "none")
ORIGINAL, MIRRORED = "original", "mirrored"
STD_EPS = 1e-4  # TRL's epsilon in (r - mean) / (std + eps)


@dataclass(frozen=True)
class GroupLayout:
    """Which completion groups of a gathered batch form (original, mirrored) pairs.

    ``pairs[k] = (g_orig, g_mirr)`` are group indices; completions of group ``g`` are
    ``[g*G, (g+1)*G)``.  Groups without a partner in the batch are in ``unpaired``.
    """

    num_generations: int
    num_groups: int
    pairs: tuple[tuple[int, int], ...]
    unpaired: tuple[int, ...]

    def view_mask(self, view: str) -> torch.Tensor:
        """(N,) bool: completions of the paired groups of one view."""
        idx = 0 if view == ORIGINAL else 1
        mask = torch.zeros(self.num_groups, dtype=torch.bool)
        for pair in self.pairs:
            mask[pair[idx]] = True
        return mask.repeat_interleave(self.num_generations)


def group_layout(pair_ids: Sequence[str], views: Sequence[str], num_generations: int) -> GroupLayout:
    """Find the (original, mirrored) group pairs of a gathered batch.

    Raises ``ValueError`` if the completions of one prompt group are not contiguous
    blocks of ``num_generations`` (the layout TRL's samplers guarantee).
    """
    n, g = len(pair_ids), num_generations
    if len(views) != n:
        raise ValueError(f"pair_ids ({n}) and views ({len(views)}) differ in length")
    if g < 1 or n % g:
        raise ValueError(f"{n} completions are not whole groups of num_generations={g}")
    by_pair: dict[str, dict[str, list[int]]] = {}
    keys = []
    for gi in range(n // g):
        block = {(str(pair_ids[j]), str(views[j])) for j in range(gi * g, (gi + 1) * g)}
        if len(block) != 1:
            raise ValueError(
                f"completions {gi * g}..{(gi + 1) * g - 1} mix prompts {sorted(block)}: a group of "
                f"num_generations={g} completions must answer one prompt (use TRL's or spatialforge's sampler)"
            )
        pid, view = block.pop()
        keys.append((pid, view))
        if pid and view in (ORIGINAL, MIRRORED):
            by_pair.setdefault(pid, {ORIGINAL: [], MIRRORED: []})[view].append(gi)
    pairs: list[tuple[int, int]] = []
    for views_of in by_pair.values():
        pairs.extend(zip(views_of[ORIGINAL], views_of[MIRRORED]))
    paired = {gi for p in pairs for gi in p}
    unpaired = tuple(gi for gi in range(n // g) if gi not in paired)
    return GroupLayout(g, n // g, tuple(sorted(pairs)), unpaired)


@dataclass(frozen=True)
class Correction:
    """Result of :func:`paper_correction` on one gathered batch."""

    rewards: torch.Tensor  # (N,) corrected semantic rewards
    deltas: torch.Tensor  # (P,) Delta per pair (NaN where a group has no finite reward)
    penalised: torch.Tensor  # (N,) bool, completions whose reward was lowered
    pair_penalised: torch.Tensor  # (P,) bool, the pair had at least one completion lowered
    cancelled: torch.Tensor  # (P,) bool, the whole penalised group was lowered: a constant shift

    @property
    def penalised_frac(self) -> float:
        """Share of the batch's completions whose reward was lowered."""
        return float(self.penalised.float().mean()) if self.penalised.numel() else 0.0

    @property
    def cancelled_frac(self) -> float:
        """Share of penalised pairs whose penalty per-group normalisation removes exactly."""
        n = int(self.pair_penalised.sum())
        return float(self.cancelled.sum()) / n if n else 0.0


def paper_correction(
    semantic: torch.Tensor, layout: GroupLayout, threshold: float = 0.5, eta: float = 1.0
) -> Correction:
    """Apply SVQA-R1 eqs. 2-4 to the semantic rewards ``semantic`` (N,) of a gathered batch.

    NaN rewards (a reward function returned ``None``) are ignored in the means and never
    penalised; a pair whose group has no finite reward is left unchanged (Delta = NaN).
    """
    g = layout.num_generations
    if semantic.ndim != 1 or semantic.numel() != layout.num_groups * g:
        raise ValueError(f"semantic rewards must be ({layout.num_groups * g},), got {tuple(semantic.shape)}")
    out = semantic.clone()
    grouped = semantic.view(-1, g)
    penalised = torch.zeros(layout.num_groups, g, dtype=torch.bool, device=semantic.device)
    deltas = torch.full((len(layout.pairs),), float("nan"), dtype=semantic.dtype, device=semantic.device)
    cancelled = torch.zeros(len(layout.pairs), dtype=torch.bool, device=semantic.device)
    pair_hit = torch.zeros(len(layout.pairs), dtype=torch.bool, device=semantic.device)
    for k, (go, gm) in enumerate(layout.pairs):
        delta = torch.nanmean(grouped[go]) - torch.nanmean(grouped[gm])  # eq. 2
        deltas[k] = delta
        if not torch.isfinite(delta):
            continue
        target = go if delta >= 0 else gm  # eq. 3 (Delta >= 0) / eq. 4 (Delta < 0)
        penalty = eta * delta.abs()
        hit = grouped[target] > threshold
        if penalty > 0 and hit.any():
            penalised[target] = hit
            out.view(-1, g)[target] = torch.where(hit, grouped[target] - penalty, grouped[target])
            pair_hit[k] = True
            cancelled[k] = bool(hit.all())
    return Correction(out, deltas, penalised.view(-1), pair_hit, cancelled)


def segment_ids(layout: GroupLayout, joint: bool) -> torch.Tensor:
    """(N,) normalisation segment of every completion: its group, or its pair when ``joint``."""
    seg_of_group = list(range(layout.num_groups))
    if joint:
        for go, gm in layout.pairs:
            seg_of_group[gm] = go
    return torch.tensor(seg_of_group).repeat_interleave(layout.num_generations)


def advantages(rewards: torch.Tensor, segments: torch.Tensor, scale_rewards: str = "group") -> torch.Tensor:
    """GRPO advantages ``(r - mean_seg) / (std + 1e-4)`` with TRL's conventions.

    ``segments`` (N,) names the normalisation set of every completion (a prompt group for
    GRPO, a pair's 2G completions for ``consistency="joint"``).  ``scale_rewards``:
    ``"group"`` divides by the segment's (unbiased, NaN-aware) std, ``"batch"`` by the
    batch std, ``"none"`` not at all.  NaN rewards get advantage 0, as in TRL.
    """
    if scale_rewards not in ("group", "batch", "none"):
        raise ValueError(f"scale_rewards must be 'group', 'batch' or 'none', got {scale_rewards!r}")
    segments = segments.to(rewards.device)
    mean = torch.empty_like(rewards)
    std = torch.empty_like(rewards)
    for s in torch.unique(segments):
        m = segments == s
        mean[m] = torch.nanmean(rewards[m])
        std[m] = _nanstd(rewards[m])
    if scale_rewards == "batch":
        std = _nanstd(rewards).expand_as(rewards)
    adv = rewards - mean
    if scale_rewards != "none":
        adv = adv / (std + STD_EPS)
    return torch.nan_to_num(adv, nan=0.0)


def _nanstd(x: torch.Tensor) -> torch.Tensor:
    """Unbiased std ignoring NaNs (TRL's ``nanstd``); NaN for fewer than 2 finite values."""
    finite = x[~torch.isnan(x)]
    if finite.numel() < 2:
        return torch.tensor(float("nan"), dtype=x.dtype, device=x.device)
    return finite.std(unbiased=True)
