"""Orientation (level 1, object-level; HiSpatial 3.1): how an object with a front faces, from the
camera's view (``relations.facing``: toward / away from the camera, to the viewer's left / right,
up / down); the answer is drawn among those the scene's fronted objects have (weighted,
``plan.balanced_choice``), then the object.
"""

from __future__ import annotations

from .formats import emit, label_distractors, new_plan, side_mirror
from .plan import Plan, RealiseError, Skip, balanced_choice
from .registry import Task, register_task
from .relations import facing

LEVEL = 1

FACING_LABELS = ("toward", "away", "left", "right", "up", "down")
LEVEL_LABELS = ("toward", "away", "left", "right")
FACING_TEXT = {"toward": "facing the camera", "away": "facing away from the camera",
               "left": "facing left", "right": "facing right", "up": "facing up", "down": "facing down"}
#: answer weights for choosing which object to ask about: most scenes have an object facing the
#: camera, fewer one facing away (tuned so ``benchmarks/qa_distribution.py`` shows no answer above
#: 1.5x its uniform share)
ORIENT_WEIGHTS = {"toward": 0.35, "away": 1.25}
ORIENT_STEMS = (
    "Which way is {obj} facing, as seen from the camera?",
    "From the camera's viewpoint, in which direction does {obj} face?",
    "Is {obj} facing the camera, facing away from it, facing left, or facing right?",
    "Describe the orientation of {obj} relative to the viewer.",
    "Where does the front of {obj} point, from the viewer's perspective?",
    "Seen from the camera, how is {obj} turned?",
)
ORIENT_CLAIMS = (
    "{obj} is {value}",
    "seen from the camera, {obj} is {value}",
    "from the viewer's perspective, {obj} is {value}",
)


def _facing_labels(view) -> dict[int, str]:
    """``{i: facing(view, i)}`` for the fronted objects with a clear facing, in ``view.fronted``
    order; kept with the view, which never changes (an orientation plan 8 -> 3.6 us)."""
    memo = view.memo("orientation")
    labels = memo.get("labels")
    if labels is None:
        labels = memo["labels"] = {i: lab for i in view.fronted if (lab := facing(view, i)) is not None}
    return labels


@register_task("orientation", level=1, ratio=0.0351)
class Orientation(Task):
    description = "which way an object with a front faces, from the camera's view"

    def unsupported(self, view):
        if not view.fronted:
            return "no referable object with a known front"
        if all(facing(view, i) is None for i in view.fronted):
            return "every front is near a facing-sector boundary"
        return None

    def plan_view(self, view, rs, fmt, key):
        labels = _facing_labels(view)
        if not labels:
            if not view.fronted:
                return Skip("no referable object with a known front", permanent=True)
            return Skip("every front is near a facing-sector boundary", permanent=True)
        i = balanced_choice(rs, list(labels), labels.__getitem__, ORIENT_WEIGHTS)[0]  # the answer first
        return new_plan(rs, self.name, fmt, "facing", (view.ids[i],), n_stems=len(ORIENT_STEMS),
                        n_claims=len(ORIENT_CLAIMS), key=key)

    def realise_view(self, plan: Plan, view):
        i = view.idx(plan.objects[0])
        lab = facing(view, i)
        if lab is None:
            raise RealiseError("facing became degenerate")
        pool = FACING_LABELS if lab in ("up", "down") else LEVEL_LABELS
        return emit(plan, view, LEVEL, stems=ORIENT_STEMS, claims=ORIENT_CLAIMS, slots={"obj": view.ref(i)},
                    kind="label", truth=lab, render=FACING_TEXT.__getitem__,
                    distract=lambda k: label_distractors(lab, pool, plan.draws, k, side_mirror(plan)),
                    labels=FACING_LABELS)
