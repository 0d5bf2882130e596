"""The task registry: a dict plus a decorator (timm-style).

``@register_task(name, level, ratio)`` registers one instance of a ``Task`` subclass.
Default ratios are HiSpatial Table 7's training sampling ratios (as fractions).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Callable, TypeVar

from .plan import Plan, Skip, Stream
from .record import FORMATS
from .view import SceneView, get_view

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ..scene import Scene
    from .record import QARecord


class Task(ABC):
    """One question type: the task protocol.

    Callers (the engine, tests, tools) use ``plan`` and ``realise``, which accept a ``Scene`` or
    its ``SceneView`` and any seed or stream.  A task implements ``plan_view(view, rs, fmt, key)``
    and ``realise_view(plan, view)`` on the view, with the format and key already resolved."""

    name: str = ""
    level: int = 0
    ratio: float = 0.0
    formats: tuple[str, ...] = FORMATS
    description: str = ""

    def plan(self, scene: "Scene | SceneView", rng: "Stream | np.random.Generator | int | None",
             fmt: str | None = None, key: str = "") -> Plan | Skip:
        """Draw every random choice of one question about ``scene`` (or say why not)."""
        view = scene if isinstance(scene, SceneView) else get_view(scene)
        rs = rng if type(rng) is Stream else Stream.of(rng)  # the engine's case without a call
        if fmt is None:
            fmt = rs.choice(self.formats)
        if fmt not in self.formats:
            return Skip(f"task {self.name!r} has no {fmt!r} format", permanent=True, format_only=True)
        return self.plan_view(view, rs, fmt, key or f"{view.scene.id}-{self.name}")

    def realise(self, plan: Plan, scene: "Scene | SceneView") -> "QARecord":
        """Text and answer of ``plan`` computed from ``scene`` (original or mirrored)."""
        view = scene if isinstance(scene, SceneView) else get_view(scene)
        return self.realise_view(plan, view)

    def unsupported(self, view: "SceneView") -> str | None:
        """Why the scene can never support this task (cheap; checked once per scene), or None."""
        return None

    @abstractmethod
    def plan_view(self, view: "SceneView", rs: Stream, fmt: str, key: str) -> Plan | Skip:
        """The random choices of one question (see ``plan``)."""

    @abstractmethod
    def realise_view(self, plan: Plan, view: "SceneView") -> "QARecord":
        """One record from a plan (see ``realise``)."""


TASKS: dict[str, Task] = {}
DEFAULT_RATIOS: dict[str, float] = {}
LEVELS: dict[int, tuple[str, ...]] = {}

C = TypeVar("C", bound=type)


def register_task(name: str, level: int, ratio: float) -> Callable[[C], C]:
    """Class decorator: ``@register_task("size", level=1, ratio=0.1156)``."""

    def deco(cls: C) -> C:
        if name in TASKS:
            raise ValueError(f"task {name!r} is already registered")
        if level not in (0, 1, 2, 3) or ratio < 0:
            raise ValueError(f"task {name!r}: level must be 0-3 and ratio >= 0, got {level}, {ratio}")
        inst = cls()
        inst.name, inst.level, inst.ratio = name, level, ratio
        TASKS[name] = inst
        DEFAULT_RATIOS[name] = ratio
        LEVELS[level] = LEVELS.get(level, ()) + (name,)
        return cls

    return deco


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; valid tasks: {', '.join(TASKS)}") from None
