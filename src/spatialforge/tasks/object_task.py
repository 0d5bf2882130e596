"""Level 1 — object-level understanding (HiSpatial 3.1): what the tasks about one uniquely
referable object share (``orientation.py``, ``size.py``, ``localization.py``).
"""

from __future__ import annotations

from .plan import Skip
from .registry import Task


def why_no_subject(view) -> str | None:
    if view.subjects:
        return None
    return "scene has no objects" if not view.n else "no object that can be referred to uniquely"


def no_subject(view) -> Skip:
    return Skip(why_no_subject(view) or "no subject", permanent=True)


class ObjectTask(Task):
    def unsupported(self, view):
        return why_no_subject(view)
