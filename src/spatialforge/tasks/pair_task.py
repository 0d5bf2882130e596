"""Level 2 — inter-object relations (HiSpatial 3.1): what the tasks about two or more uniquely
referable objects share (``direction.py``, ``distance.py``, ``comparison.py``).
"""

from __future__ import annotations

from abc import abstractmethod

from .plan import Skip
from .registry import Task


def pairs_skip(view, need: int = 2) -> Skip | None:
    if len(view.subjects) < need:
        n = len(view.subjects)
        return Skip(f"needs {need} uniquely referable objects, the scene has {n}", permanent=True)
    return None


class PairTask(Task):
    """A task about two or more uniquely referable objects."""

    def unsupported(self, view):
        s = pairs_skip(view)
        return s.reason if s else None

    def plan_view(self, view, rs, fmt, key):
        return pairs_skip(view) or self._plan_pair(view, rs, fmt, key)

    @abstractmethod
    def _plan_pair(self, view, rs, fmt, key):
        """The plan, given that the scene has enough referable objects."""


def random_pair(view, rs, ok, pool=None, tries: int = 10):
    pool = view.subjects if pool is None else pool
    if len(pool) < 2:
        return None
    for _ in range(tries):
        a, b = rs.sample(pool, 2)
        if ok(a, b):
            return a, b
    return None


def weighted_pick(rs, items):
    """The name of one ``(name, weight)`` item, drawn in proportion to the weights."""
    u, acc = rs.random() * sum(w for _, w in items), 0.0
    for name, w in items:
        acc += w
        if u < acc:
            return name
    return items[-1][0]
