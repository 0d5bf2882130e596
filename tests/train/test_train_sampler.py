"""Pairs are never split across generation batches, for any process count and batching.

The test replays what Trainer + Accelerate do with the sampler: a ``BatchSampler`` of one
local generation batch (``per_device_train_batch_size * steps_per_generation``), sharded
over simulated processes by Accelerate's own ``BatchSamplerShard``; the rewards TRL gathers
for one generation batch are the processes' batches of one step, concatenated in order.
"""

import itertools

import pytest
from accelerate.data_loader import BatchSamplerShard
from torch.utils.data import BatchSampler

from spatialforge.train.consistency import group_layout
from spatialforge.train.sampler import PairRepeatSampler, check_pair_batching, find_pairs

NUM_PAIRS = 23


def dataset_columns(num_pairs=NUM_PAIRS, unpaired=3):
    """pair_id/view columns of a shuffled dataset with some rows lacking a partner."""
    rows = [(f"p{i}", v) for i in range(num_pairs) for v in ("original", "mirrored")]
    rows += [(f"solo{i}", "original") for i in range(unpaired)] + [("", "original")]
    order = sorted(range(len(rows)), key=lambda i: (i * 7919) % len(rows))
    rows = [rows[i] for i in order]
    return [r[0] for r in rows], [r[1] for r in rows]


def gathered_generation_batches(world, per_device, grad_accum, num_generations, num_iterations=1, seed=0):
    pair_ids, views = dataset_columns()
    pairs, _ = find_pairs(pair_ids, views)
    gen_bs = per_device * world * grad_accum  # TRL default: steps_per_generation = grad_accum
    check_pair_batching(gen_bs, num_generations)
    def process_batches(rank):  # every process builds its own sampler with the same seed
        sampler = PairRepeatSampler(pairs, num_generations, gen_bs // num_generations,
                                    repeat_count=num_iterations * grad_accum, seed=seed)
        local = BatchSampler(sampler, batch_size=per_device * grad_accum, drop_last=False)
        shard = BatchSamplerShard(local, num_processes=world, process_index=rank, split_batches=False,
                                  even_batches=True)
        return list(shard), len(sampler)

    shards = [process_batches(r)[0] for r in range(world)]
    assert len({len(s) for s in shards}) == 1
    batches = [list(itertools.chain.from_iterable(s[k] for s in shards)) for k in range(len(shards[0]))]
    return batches, pair_ids, views, gen_bs, process_batches(0)[1]


SETTINGS = [
    # world, per_device, grad_accum, num_generations
    (1, 4, 1, 2), (1, 8, 2, 8), (1, 2, 4, 2), (1, 6, 1, 3),
    (2, 2, 1, 2), (2, 4, 2, 8), (2, 3, 2, 3), (2, 8, 1, 4), (2, 1, 4, 2),
    (4, 1, 1, 2), (4, 2, 2, 8), (4, 8, 2, 8), (4, 3, 1, 6), (4, 1, 2, 4),
]


@pytest.mark.parametrize("world,per_device,grad_accum,num_generations", SETTINGS)
def test_pairs_stay_together_in_every_generation_batch(world, per_device, grad_accum, num_generations):
    batches, pair_ids, views, gen_bs, n = gathered_generation_batches(world, per_device, grad_accum, num_generations)
    assert sum(map(len, batches)) == n and n > 0
    for batch in batches:
        assert len(batch) == gen_bs
        layout = group_layout([pair_ids[i] for i in batch], [views[i] for i in batch], num_generations)
        assert not layout.unpaired, "a prompt group without its mirror partner"
        assert len(layout.pairs) == gen_bs // num_generations // 2
    # every yielded row has a partner, rows without one never appear
    seen = {pair_ids[i] for b in batches for i in b}
    assert all(p.startswith("p") for p in seen)


def test_generation_batch_repeats_for_steps_per_generation_and_iterations():
    batches, *_ = gathered_generation_batches(2, 2, 2, 2, num_iterations=3)
    # one distinct generation batch, then its 2 * 3 - 1 repeats (TRL ignores them), then the next one
    assert all(b == batches[0] for b in batches[:6]) and batches[6] != batches[0]


def test_shuffle_is_seeded_and_covers_pairs_once_per_epoch():
    pair_ids, views = dataset_columns()
    pairs, unpaired = find_pairs(pair_ids, views)
    assert len(pairs) == NUM_PAIRS and len(unpaired) == 4
    a = list(PairRepeatSampler(pairs, 1, batch_size=2, seed=3))
    b = list(PairRepeatSampler(pairs, 1, batch_size=2, seed=3))
    assert a == b and sorted(a) == sorted(i for p in pairs for i in p)
    assert list(PairRepeatSampler(pairs, 1, batch_size=2, seed=4)) != a


def test_odd_prompt_count_is_rejected_with_the_fix():
    with pytest.raises(ValueError, match=r"even number of prompts.*multiple of 2 \* num_generations = 16"):
        check_pair_batching(24, 8)  # 3 prompts
    assert check_pair_batching(128, 8) == 8  # the paper: 8 GPUs x 8 x 2 accumulation


def test_duplicate_view_in_a_pair_is_an_error():
    with pytest.raises(ValueError, match="two 'original' rows"):
        find_pairs(["a", "a", "a"], ["original", "original", "mirrored"])
