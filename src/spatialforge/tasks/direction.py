"""Direction (level 2, inter-object relations; HiSpatial 3.1): left / right, front / behind,
above / below and the direction vector between two objects.  The relations and their
thresholds are defined in ``relations.py``.
"""

from __future__ import annotations

from .formats import emit, label_distractors, new_plan, side_mirror, vector_distractors
from .language import format_vector
from .pair_task import PairTask, random_pair, weighted_pick
from .plan import Plan, RealiseError, Skip
from .registry import register_task
from .relations import LEAK_KEYS, RELATIONS, direction_vector, leaks
from . import thresholds

LEVEL = 2

# above/below compare heights (world z), not image rows: the text says "higher" / "lower"
REL_TEXT = {"left": "to the left", "right": "to the right", "front": "in front", "behind": "behind",
            "above": "higher", "below": "lower"}
REL_OF = {"left": "to the left of", "right": "to the right of", "front": "in front of", "behind": "behind",
          "above": "higher than", "below": "lower than"}
AXIS_LABELS = {"left_right": ("left", "right"), "front_behind": ("front", "behind"),
               "above_below": ("above", "below")}
DIR_STEMS = {
    "left_right": (
        "Is {a} to the left or to the right of {b}?",
        "From the camera's viewpoint, is {a} left or right of {b}?",
        "Which side of {b} is {a} on, the left or the right?",
        "Relative to {b}, is {a} on the left or on the right?",
        "In the image, does {a} appear to the left or to the right of {b}?",
    ),
    "front_behind": (
        "Is {a} in front of or behind {b}?",
        "Seen from the camera, is {a} in front of {b} or behind it?",
        "Relative to the camera, does {a} stand in front of or behind {b}?",
        "Is {a} nearer to the camera than {b} (in front) or farther away (behind)?",
        "Along the viewing direction, is {a} in front of or behind {b}?",
    ),
    "above_below": (
        "Is {a} higher or lower than {b}?",
        "Is the center of {a} higher or lower than the center of {b}?",
        "In height above the floor, is {a} above or below {b}?",
        "Which is true: {a} is higher than {b}, or {a} is lower than {b}?",
        "Measured by height, is {a} higher up or lower down than {b}?",
    ),
    "vector": (
        "What is the unit direction vector from {a} to {b} in camera coordinates (x right, y down, z forward)?",
        "Give the 3D direction from {a} to {b} as a unit vector in the camera frame.",
        "In which 3D direction (unit vector, camera frame) would you move to go from {a} to {b}?",
        "Estimate the normalized direction vector pointing from {a} toward {b}, in camera coordinates.",
        "Compute the unit vector from the center of {a} to the center of {b} (camera frame: x right, y down, "
        "z forward).",
    ),
    "combo": (
        "Where is {a} relative to {b}?",
        "Which option best describes the position of {a} with respect to {b}?",
        "How is {a} placed relative to {b}, as seen from the camera?",
        "Choose the correct spatial relation of {a} to {b}.",
        "From the camera's viewpoint, where is {a} compared with {b}?",
    ),
}
DIR_CLAIMS = {
    "relation": ("{a} is {value} {b}", "seen from the camera, {a} is {value} {b}", "{a} is located {value} {b}"),
    "vector": ("the unit direction from {a} to {b} in camera coordinates is about {value}",
               "going from {a} to {b} means moving along roughly {value} (camera frame)",
               "the normalized vector pointing from {a} toward {b} is approximately {value}"),
}
_FREE_SUBS = (("left_right", 0.4), ("front_behind", 0.25), ("above_below", 0.15), ("vector", 0.2))
_AXIS_PAIRS = (("left_right", "front_behind"), ("left_right", "above_below"), ("front_behind", "above_below"))
# the texts and claim slots of every label, built once (a combo MCQ's emit 11.3 -> 8.1 us)
_CLAIM_SLOTS = {x: {"value": REL_OF[x]} for x in REL_OF}
#: combo labels ("left+front") of each axis pair, in pool order
_COMBO_POOLS = {axes: tuple(f"{x}+{y}" for x in AXIS_LABELS[axes[0]] for y in AXIS_LABELS[axes[1]])
                for axes in _AXIS_PAIRS}
_COMBO_TEXT = {c: " and ".join(REL_TEXT[x] for x in c.split("+")) for pool in _COMBO_POOLS.values() for c in pool}
_COMBO_CLAIM_SLOTS = {c: {"value": " and ".join(REL_OF[x] for x in c.split("+"))}
                      for pool in _COMBO_POOLS.values() for c in pool}


def _other_directions(view, a: int, b: int) -> list[list[float]]:
    out = []
    for c in view.visible:
        if c not in (a, b):
            d = direction_vector(view, a, c)
            if d is not None:
                out.append(d)
    return out


@register_task("direction", level=2, ratio=0.2609)
class Direction(PairTask):
    description = "left/right, front/behind, above/below of two objects (camera view), or a 3D direction vector"

    def _plan_pair(self, view, rs, fmt, key):
        if fmt == "mcq":
            sub = "vector" if rs.coin(0.25) else "combo"
        else:
            sub = weighted_pick(rs, _FREE_SUBS)
        params = {}
        if sub == "vector":
            pair = random_pair(view, rs, lambda a, b: direction_vector(view, a, b) is not None)
        elif sub == "combo":
            axes = rs.choice(_AXIS_PAIRS)
            params["axes"] = list(axes)
            f1, f2 = RELATIONS[axes[0]], RELATIONS[axes[1]]
            keys = LEAK_KEYS[axes[0]] + LEAK_KEYS[axes[1]]
            pair = random_pair(view, rs, lambda a, b: f1(view, a, b) is not None and f2(view, a, b) is not None
                                and not leaks(view, [a, b], keys))
        else:
            f = RELATIONS[sub]
            pair = random_pair(view, rs, lambda a, b: f(view, a, b) is not None
                                and not leaks(view, [a, b], LEAK_KEYS[sub]))
        if pair is None:
            return Skip(f"no object pair with a clear {sub.replace('_', '/')} relation")
        ids = (view.ids[pair[0]], view.ids[pair[1]])
        n_claims = len(DIR_CLAIMS["vector" if sub == "vector" else "relation"])
        return new_plan(rs, self.name, fmt, sub, ids, n_stems=len(DIR_STEMS[sub]), n_claims=n_claims,
                        params=params, key=key)

    def realise_view(self, plan: Plan, view):
        a, b = view.idx(plan.objects[0]), view.idx(plan.objects[1])
        slots = {"a": view.ref(a), "b": view.ref(b)}
        sub = plan.sub
        if sub == "vector":
            v = direction_vector(view, a, b)
            if v is None:
                raise RealiseError("objects too close for a direction")
            return emit(plan, view, LEVEL, stems=DIR_STEMS[sub], claims=DIR_CLAIMS["vector"], slots=slots,
                        kind="vector3d", truth=v, render=format_vector,
                        distract=lambda k: vector_distractors(v, plan.draws, k, _other_directions(view, a, b)))
        if sub == "combo":
            ax1, ax2 = plan.params["axes"]
            l1, l2 = RELATIONS[ax1](view, a, b), RELATIONS[ax2](view, a, b)
            if l1 is None or l2 is None:
                raise RealiseError("relation became degenerate")
            pool = _COMBO_POOLS[(ax1, ax2)]
            truth = f"{l1}+{l2}"
            return emit(plan, view, LEVEL, stems=DIR_STEMS["combo"], claims=DIR_CLAIMS["relation"], slots=slots,
                        kind="label", truth=truth, render=_COMBO_TEXT.__getitem__,
                        distract=lambda k: label_distractors(truth, pool, plan.draws, k, side_mirror(plan)),
                        labels=pool, claim_slots=_COMBO_CLAIM_SLOTS.__getitem__, meta={"axes": [ax1, ax2]})
        lab = RELATIONS[sub](view, a, b)
        if lab is None:
            raise RealiseError("relation became degenerate")
        return emit(plan, view, LEVEL, stems=DIR_STEMS[sub], claims=DIR_CLAIMS["relation"], slots=slots,
                    kind="label", truth=lab, render=REL_TEXT.__getitem__,
                    distract=lambda k: label_distractors(lab, AXIS_LABELS[sub], plan.draws, k, side_mirror(plan)),
                    labels=AXIS_LABELS[sub], claim_slots=_CLAIM_SLOTS.__getitem__)
