"""The draw helpers of ``tasks.plan``: the fast paths give the same items from the same draws as
the plain pool-and-pop loop, and memoised answer classes give the same choices as fresh ones."""

from __future__ import annotations

import numpy as np

from spatialforge.tasks.plan import Stream, balanced_choice


def _pool_sample(rs: Stream, seq, k: int) -> list:
    pool, out = list(seq), []
    for _ in range(min(k, len(pool))):
        out.append(pool.pop(rs.randint(len(pool))))
    return out


def test_sample_fast_paths_match_the_pool_loop():
    for k in (2, 3):
        for n in (k, k + 1, 5, 9):
            seq = [f"o{i}" for i in range(n)]
            fast, plain = Stream.of(np.random.default_rng(n)), Stream.of(np.random.default_rng(n))
            for _ in range(500):
                got = fast.sample(seq, k)
                assert got == _pool_sample(plain, seq, k)
                assert len(set(got)) == k
            assert fast.random() == plain.random()  # the same number of draws consumed


def test_memo_gives_the_same_choices_and_skips_recomputing():
    cands = [(i, j) for i in range(6) for j in range(6) if i != j]
    calls = []

    def cls(c):
        return None if c[0] == 0 else (c[0] + c[1]) % 3

    def counted(c):
        calls.append(c)
        return cls(c)

    memo: dict = {}
    a, b = Stream.of(1), Stream.of(1)
    for _ in range(20):
        assert balanced_choice(a, cands, counted, memo=memo) == balanced_choice(b, cands, cls)
    assert sorted(calls) == sorted(cands)  # each candidate's class computed once
    assert memo == {c: cls(c) for c in cands}


def test_stream_is_the_generators_own_sequence_across_blocks():
    for block in (1, 7, 256):
        s, g = Stream(np.random.default_rng(3), block=block), np.random.default_rng(3)
        got = [s.random() for _ in range(600)]
        assert got == [g.random() for _ in range(600)]
        assert all(type(x) is float for x in got)


def test_level3_memos_hold_what_a_fresh_computation_gives():
    """The answer classes counting and perspective keep per scene view are the ones computed
    afresh for the same key (a key missing a dependency would hand out another candidate's class)."""
    from spatialforge.tasks import TASKS, get_view
    from spatialforge.tasks.counting import _count_class
    from spatialforge.tasks.perspective import _persp_label

    from taskscenes import random_scene

    checked = 0
    for seed in range(4):
        view = get_view(random_scene(seed, n=9))
        rs = Stream.of(seed)
        for _ in range(60):
            for name in ("counting", "perspective"):
                if not TASKS[name].unsupported(view):
                    TASKS[name].plan(view, rs, "free")
        for key, memo in view._memos.items():
            if key[0] == "counting":
                for (a, category, radius), cls in memo.items():
                    assert cls == _count_class(view, key[1], a, category, radius)
                    checked += 1
            elif key[0] == "perspective":
                for triple, cls in memo.items():
                    assert cls == _persp_label(view, key[1], *triple)
                    checked += 1
    assert checked > 200
