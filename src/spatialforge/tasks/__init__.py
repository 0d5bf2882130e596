"""Hierarchical spatial VQA synthesis (HiSpatial 3.1-3.2, Table 7; SVQA-R1 mirror pairs).

Public entry point::

    from spatialforge.tasks import generate_qa
    result = generate_qa(scene, seed=0, qa_per_scene=20, mirror=True)
    result.records   # list[QARecord]
    result.skipped   # list[(item, reason)]

Eleven tasks over four levels (``TASKS``, ``LEVELS``, ``DEFAULT_RATIOS``), each in free-form,
multiple-choice and true/false formats; see ``docs/tasks.md``.
"""

from .record import EVAL_TYPES, FORMATS, QARecord
from .registry import DEFAULT_RATIOS, LEVELS, TASKS, Task, get_task, register_task
# register the tasks, in this order (the registry order is part of the sampling, so of the output bytes)
from . import point_query, depth_order, orientation, size, localization, direction, distance, comparison  # noqa: F401
from . import perspective, counting, problem_solving  # noqa: F401
from .engine import GenerationResult, generate_qa, stable_hash
from .plan import Plan, RealiseError, Skip, Stream
from .references import Ref, resolve_text
from .view import SceneView, clear_caches, get_view


def resolve_reference(text: str, scene) -> list[int]:
    """Object ids that a reference text produced by this package may mean in ``scene``
    (exactly one for every reference the generator uses)."""
    return resolve_text(text, get_view(scene))


__all__ = [
    "generate_qa", "GenerationResult", "TASKS", "DEFAULT_RATIOS", "LEVELS", "Task", "register_task", "get_task",
    "QARecord", "FORMATS", "EVAL_TYPES", "Plan", "Skip", "Stream", "RealiseError", "Ref", "resolve_reference",
    "SceneView", "get_view", "clear_caches", "stable_hash",
]
