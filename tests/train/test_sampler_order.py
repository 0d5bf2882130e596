"""The pair sampler yields the original view of a pair before its mirror (issue #11 item 13),
and the module's doctest runs."""

from __future__ import annotations

import doctest

import spatialforge.train.sampler as sampler_module
from spatialforge.train.sampler import PairRepeatSampler, find_pairs


def test_module_doctests_run_and_pass():
    result = doctest.testmod(sampler_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 1 and result.failed == 0


def test_find_pairs_puts_the_original_first_whatever_the_row_order():
    pair_ids = ["b", "a", "a", "b", "c"]
    views = ["mirrored", "mirrored", "original", "original", "original"]
    pairs, unpaired = find_pairs(pair_ids, views)
    assert pairs == [(3, 0), (2, 1)] and unpaired == [4]  # in order of first appearance
    assert all(views[o] == "original" and views[m] == "mirrored" for o, m in pairs)


def test_every_pair_is_yielded_original_first_when_shuffled():
    pairs = [(2 * i + 1, 2 * i) for i in range(10)]  # original rows are the odd ones
    for seed in range(3):
        order = list(PairRepeatSampler(pairs, mini_repeat_count=3, batch_size=4, repeat_count=2, seed=seed))
        runs = [order[k] for k in range(0, len(order), 3)]  # one entry per prompt (3 completions each)
        assert all(order[k : k + 3] == [order[k]] * 3 for k in range(0, len(order), 3))
        for k in range(0, len(runs), 2):
            original, mirrored = runs[k], runs[k + 1]
            assert original % 2 == 1 and mirrored == original - 1, (seed, runs)
