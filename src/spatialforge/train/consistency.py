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

then GRPO advantages.  The paper's rule is kept for reproduction (``"paper"``), but
normalisation often removes it: a group entirely above ``delta`` gets a constant shift, and
a group of two-valued rewards (typed 0/1) is only rescaled; ``(r - mean) / std`` undoes both.
:func:`mode_advantages` therefore measures cancellation directly (advantages with the change
equal advantages without it) and the effect of every mode against plain GRPO.

Modes (``CONSISTENCY_MODES``):

* ``none``: plain GRPO;
* ``paper``: eqs. 2-4 on the answer reward, per-group advantages;
* ``joint``: eqs. 2-4, advantages normalised over the 2G completions of a pair;
* ``agreement`` (ours): every completion earns ``weight * a_i``, where ``a_i`` is the share of
  the partner view's completions whose answer agrees with its own after the exact mirror of
  the answer (:mod:`.agreement`); then per-group advantages.  ``a_i`` depends on the
  completion's own answer, so it is not a constant per group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

CONSISTENCY_MODES = ("none", "paper", "joint", "agreement")
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

    @property
    def penalised_frac(self) -> float:
        """Share of the batch's completions whose reward was lowered."""
        return float(self.penalised.float().mean()) if self.penalised.numel() else 0.0


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
    return Correction(out, deltas, penalised.view(-1), pair_hit)


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


# Advantages that differ by less than this count as equal: TRL's ``std + 1e-4`` makes a group
# that normalisation only rescales (two-valued rewards) differ by ~1e-4, nothing a step feels.
CANCEL_ATOL = 1e-3


@dataclass(frozen=True)
class ModeResult:
    """Advantages of one consistency mode on a gathered batch, and what the mode changed.

    ``changed`` (P,): the mode changed the pair's rewards (a penalty, a non-zero agreement
    term).  ``cancelled`` (P,): it did, but the pair's advantages are the same as without the
    change (normalisation removed it: a constant shift, a rescale of two-valued rewards, ...).
    ``advantage_change``: mean |A - A_plain| over the batch, against plain per-group GRPO.
    """

    advantages: torch.Tensor  # (N,)
    plain: torch.Tensor  # (N,) plain GRPO advantages of the same rewards
    deltas: torch.Tensor  # (P,) Delta of the answer reward per pair
    changed: torch.Tensor  # (P,) bool
    cancelled: torch.Tensor  # (P,) bool
    penalised_frac: float = 0.0  # paper / joint: share of completions penalised

    @property
    def cancelled_frac(self) -> float:
        """Share of changed pairs whose change normalisation removed (0 when none changed)."""
        n = int(self.changed.sum())
        return float((self.cancelled & self.changed).sum()) / n if n else 0.0

    @property
    def advantage_change(self) -> float:
        return float((self.advantages - self.plain).abs().mean()) if self.plain.numel() else 0.0


def pair_deltas(answer: torch.Tensor, layout: GroupLayout) -> torch.Tensor:
    """(P,) Delta = mean(original group) - mean(mirrored group) of the answer reward (eq. 2)."""
    grouped = answer.view(-1, layout.num_generations)
    vals = [torch.nanmean(grouped[a]) - torch.nanmean(grouped[b]) for a, b in layout.pairs]
    return torch.stack(vals) if vals else answer.new_zeros(0)


def mode_advantages(
    total: torch.Tensor,
    answer: torch.Tensor,
    layout: GroupLayout,
    mode: str,
    *,
    answer_weight: float = 0.5,
    threshold: float = 0.5,
    eta: float = 1.0,
    agreement: torch.Tensor | None = None,
    agreement_weight: float = 0.25,
    scale_rewards: str = "group",
) -> ModeResult:
    """Advantages of ``mode`` for a gathered batch, with its effect measured.

    ``total`` (N,): TRL's ``sum_k w_k r_k`` of the raw rewards (NaN for unscorable rows);
    ``answer`` (N,): the raw answer reward r^s, weighted by ``answer_weight`` inside ``total``;
    ``agreement`` (N,): the agreement shares ``a_i`` (NaN: no typed answer, adds nothing),
    needed by ``mode="agreement"``.  The rewards themselves are never changed here: the mode
    only decides the advantages.
    """
    if mode not in CONSISTENCY_MODES:
        raise ValueError(f"consistency mode must be one of {CONSISTENCY_MODES}, got {mode!r}")
    per_group = segment_ids(layout, joint=False)
    plain = advantages(total, per_group, scale_rewards)
    deltas = pair_deltas(answer, layout)
    none = torch.zeros(len(layout.pairs), dtype=torch.bool)
    if mode == "none":
        return ModeResult(plain, plain, deltas, none, none)
    penalised_frac = 0.0
    if mode == "agreement":
        if agreement is None:
            raise ValueError("consistency='agreement' needs the agreement share of every completion")
        bonus = agreement_weight * torch.nan_to_num(agreement.to(total), nan=0.0)
        seg = per_group
        changed = torch.tensor([bool(bonus[_pair_index(layout, p)].ne(0).any()) for p in layout.pairs],
                               dtype=torch.bool)
    else:
        corr = paper_correction(answer, layout, threshold, eta)
        bonus = answer_weight * torch.nan_to_num(corr.rewards - answer, nan=0.0)
        seg = segment_ids(layout, joint=mode == "joint")
        changed = corr.pair_penalised.cpu()
        penalised_frac = corr.penalised_frac
    adv = advantages(total + bonus, seg, scale_rewards)
    without = advantages(total, seg, scale_rewards)  # the same normalisation without the change
    cancelled = torch.tensor(
        [bool(torch.allclose(adv[i], without[i], atol=CANCEL_ATOL, rtol=0))
         for i in (_pair_index(layout, p) for p in layout.pairs)], dtype=torch.bool) & changed
    return ModeResult(adv, plain, deltas, changed, cancelled, penalised_frac)


def _pair_index(layout: GroupLayout, pair: tuple[int, int]) -> torch.Tensor:
    """Completion indices of a pair's two groups."""
    g = layout.num_generations
    return torch.cat([torch.arange(gi * g, (gi + 1) * g) for gi in pair])
