"""Pair-aware sampling for Spatial-GRPO: a pair's two views share a generation batch.

TRL's ``RepeatSampler`` yields, per generation batch, ``B = generation_batch_size /
num_generations`` distinct prompts, each repeated ``num_generations`` (G) times in a row,
and Accelerate hands consecutive slices of that stream to processes 0, 1, ... .  The
rewards of a generation batch are gathered across processes in process order, i.e. in
sampler order.  :class:`PairRepeatSampler` keeps that contract and yields the two views of
a pair next to each other (``orig x G, mirr x G``) inside the same chunk of ``B`` prompts,
so after the gather every pair is complete, whatever the number of processes, the
per-device batch, the gradient accumulation or ``steps_per_generation``.  The only setting
that cannot work is an odd ``B``: :func:`check_pair_batching` rejects it with the fix.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import Sampler

from .consistency import MIRRORED, ORIGINAL


def find_pairs(pair_ids: Sequence[str], views: Sequence[str]) -> tuple[list[tuple[int, int]], list[int]]:
    """Row indices of (original, mirrored) pairs, in order of first appearance, and unpaired rows.

    Raises ``ValueError`` when a ``pair_id`` has two rows of the same view (the dataset is
    not a set of mirror pairs).
    """
    if len(pair_ids) != len(views):
        raise ValueError(f"pair_id ({len(pair_ids)}) and view ({len(views)}) columns differ in length")
    rows: dict[str, dict[str, int]] = {}
    unpaired: list[int] = []
    for i, (pid, view) in enumerate(zip(pair_ids, views)):
        if not pid or view not in (ORIGINAL, MIRRORED):
            unpaired.append(i)
            continue
        slot = rows.setdefault(str(pid), {})
        if view in slot:
            raise ValueError(
                f"pair_id {pid!r} has two {view!r} rows ({slot[view]} and {i}); each pair needs exactly one "
                "'original' and one 'mirrored' row: deduplicate the dataset"
            )
        slot[view] = i
    pairs = []
    for slot in rows.values():
        if ORIGINAL in slot and MIRRORED in slot:
            pairs.append((slot[ORIGINAL], slot[MIRRORED]))
        else:
            unpaired.extend(slot.values())
    return pairs, sorted(unpaired)


def check_pair_batching(generation_batch_size: int, num_generations: int) -> int:
    """Number of pairs per generation batch; raises ``ValueError`` (with the fix) if pairs cannot be kept whole."""
    if generation_batch_size % num_generations:
        raise ValueError(
            f"generation_batch_size ({generation_batch_size}) must be a multiple of num_generations "
            f"({num_generations})"
        )
    prompts = generation_batch_size // num_generations
    if prompts % 2:
        raise ValueError(
            f"Spatial-GRPO needs an even number of prompts per generation batch to keep each original/mirrored "
            f"pair together, but generation_batch_size / num_generations = {generation_batch_size} / "
            f"{num_generations} = {prompts}. Fix: make per_device_train_batch_size * num_processes * "
            f"steps_per_generation (or generation_batch_size) a multiple of 2 * num_generations = "
            f"{2 * num_generations}, e.g. per_device_train_batch_size={2 * num_generations} or "
            f"steps_per_generation={2 * max(1, prompts)}; or set pair_sampling=False with consistency='none'."
        )
    return prompts // 2


class PairRepeatSampler(Sampler[int]):
    """``RepeatSampler`` over mirror pairs: same output contract, pairs never split.

    Args:
        pairs: ``(original_row, mirrored_row)`` dataset indices (see :func:`find_pairs`).
        mini_repeat_count: completions per prompt (``num_generations``).
        batch_size: distinct prompts per generation batch (even: two per pair).
        repeat_count: times each chunk is repeated (``num_iterations * steps_per_generation``).
        shuffle: shuffle the pairs (views stay adjacent, original first).
        seed: seed of the sampler's own generator (same on every process).

    >>> list(PairRepeatSampler([(0, 1), (2, 3)], mini_repeat_count=2, batch_size=4, shuffle=False))
    [0, 0, 1, 1, 2, 2, 3, 3]
    """

    def __init__(
        self,
        pairs: Sequence[tuple[int, int]],
        mini_repeat_count: int,
        batch_size: int = 2,
        repeat_count: int = 1,
        shuffle: bool = True,
        seed: int | None = None,
    ):
        if batch_size < 2 or batch_size % 2:
            raise ValueError(f"batch_size (prompts per generation batch) must be even and >= 2, got {batch_size}")
        if mini_repeat_count < 1 or repeat_count < 1:
            raise ValueError("mini_repeat_count and repeat_count must be >= 1")
        self.pairs = [(int(a), int(b)) for a, b in pairs]
        self.mini_repeat_count = mini_repeat_count
        self.pairs_per_batch = batch_size // 2
        self.repeat_count = repeat_count
        self.shuffle = shuffle
        self.seed = seed
        if shuffle:
            self.generator = torch.Generator()
            if seed is not None:
                self.generator.manual_seed(seed)
        if len(self.pairs) < self.pairs_per_batch:
            warnings.warn(
                f"{len(self.pairs)} pairs cannot fill one generation batch of {self.pairs_per_batch} pairs: "
                "the sampler yields nothing; use more data or a smaller batch",
                stacklevel=2,
            )

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(len(self.pairs), generator=self.generator).tolist() if self.shuffle else range(
            len(self.pairs)
        )
        order = list(order)
        k = self.pairs_per_batch
        for start in range(0, len(order) - k + 1, k):  # drop the incomplete last chunk, like RepeatSampler
            chunk = [self.pairs[i] for i in order[start : start + k]]
            for _ in range(self.repeat_count):
                for pair in chunk:
                    for index in pair:
                        for _ in range(self.mini_repeat_count):
                            yield index

    def __len__(self) -> int:
        chunks = len(self.pairs) // self.pairs_per_batch
        return chunks * self.pairs_per_batch * 2 * self.mini_repeat_count * self.repeat_count
