"""Level 1 — object-level understanding (HiSpatial 3.1): what the tasks about one uniquely
referable object share (``orientation.py``, ``size.py``, ``localization.py``).
"""

from __future__ import annotations

from abc import abstractmethod

from .plan import Skip
from .registry import Task


def why_no_subject(view) -> str | None:
    if view.subjects:
        return None
    return "scene has no objects" if not view.n else "no object that can be referred to uniquely"


def no_subject(view) -> Skip:
    return Skip(why_no_subject(view) or "no subject", permanent=True)


class ObjectTask(Task):
    """A task about one uniquely referable object, drawn uniformly among them."""

    def unsupported(self, view):
        return why_no_subject(view)

    def plan_view(self, view, rs, fmt, key):
        if not view.subjects:
            return no_subject(view)
        return self._plan_object(view, rs.choice(view.subjects), rs, fmt, key)

    @abstractmethod
    def _plan_object(self, view, i, rs, fmt, key):
        """The plan about object position ``i`` (one of ``view.subjects``)."""
