"""Object size (level 1, object-level; HiSpatial 3.1): the box's height (vertical) or a horizontal
side, metres (``horizontal_sides``): without a front, length = the longer horizontal side and
width = the shorter; with a level front, width = the side across the front and depth = the side
from front to back (asked as "front-to-back depth"; neither when the front is more than 30 deg
off both box axes).
"""

from __future__ import annotations

import math

from .formats import emit, length_distractors, new_plan
from .language import format_length, unit_for
from .object_task import ObjectTask
from .plan import Plan, RealiseError
from .registry import register_task

LEVEL = 1

DIMS = {"width": ("width", "wide"), "height": ("height", "tall"), "length": ("length", "long"),
        "depth": ("front-to-back depth", "deep")}
_AXIS_COS = math.cos(math.radians(30))  # a front within 30 deg of a box axis says which side is the depth


def horizontal_sides(view, i: int) -> tuple:
    """("width", metres, "length" or "depth", metres) of object i (see the module docstring);
    () when a front lies between the box axes (only the height is asked then)."""
    w, _, l = view.size[i]
    f = view.horizontal_front(i)
    if f is None:
        return ("width", min(w, l), "length", max(w, l))
    c, s = math.cos(view.yaw[i]), math.sin(view.yaw[i])
    along_x, along_y = abs(f[0] * c + f[1] * s), abs(-f[0] * s + f[1] * c)
    if along_y >= _AXIS_COS:  # front along local y: w is across it
        return ("width", w, "depth", l)
    if along_x >= _AXIS_COS:
        return ("width", l, "depth", w)
    return ()


def _size_value(view, i: int, dim: str, sides: tuple | None = None) -> float | None:
    """The ``dim`` of object i in metres, or None; ``sides``: its ``horizontal_sides`` if known."""
    if dim == "height":
        return view.size[i][1]
    if sides is None:
        sides = horizontal_sides(view, i)
    if sides and dim == sides[0]:
        return sides[1]
    if sides and dim == sides[2]:
        return sides[3]
    return None


SIZE_STEMS = (
    "What is the {dim} of {obj}?",
    "How {adj} is {obj}?",
    "Estimate the {dim} of {obj}.",
    "Roughly how {adj} is {obj} in real life?",
    "Give the physical {dim} of {obj}.",
    "Measure the {dim} of {obj}.",
)
SIZE_CLAIMS = (
    "{obj} is about {value} {adj}",
    "the {dim} of {obj} is roughly {value}",
    "{obj} measures about {value} in {dim}",
)


@register_task("size", level=1, ratio=0.1156)
class Size(ObjectTask):
    description = "height, width and length (frontless) or depth (front to back) of an object's 3D box"

    def _plan_object(self, view, i, rs, fmt, key):
        sides = horizontal_sides(view, i)
        dim = rs.choice((sides[0], "height", sides[2]) if sides else ("height",))
        v = _size_value(view, i, dim, sides)
        return new_plan(rs, self.name, fmt, dim, (view.ids[i],), n_stems=len(SIZE_STEMS),
                        n_claims=len(SIZE_CLAIMS), unit=unit_for(rs.random(), v), key=key, hint=True)

    def realise_view(self, plan: Plan, view):
        i = view.idx(plan.objects[0])
        name, adj = DIMS[plan.sub]
        v = _size_value(view, i, plan.sub)
        if v is None:
            raise RealiseError(f"object {view.ids[i]} has no clear {plan.sub}")

        def render(x):
            return format_length(x, plan.unit, plan.unit_long)

        return emit(plan, view, LEVEL, stems=SIZE_STEMS, claims=SIZE_CLAIMS,
                    slots={"obj": view.ref(i), "dim": name, "adj": adj}, kind="length", truth=v,
                    render=render, distract=lambda n: length_distractors(v, plan.draws, n, render), uses_unit=True)
