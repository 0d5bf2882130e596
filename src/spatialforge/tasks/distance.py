"""Distance (level 2, inter-object relations; HiSpatial 3.1), all between box centres, in metres:

* ``euclidean``: |c_a - c_b| in 3D;
* ``horizontal``: length of (c_a - c_b) projected on the gravity-aligned floor plane (world x, y);
* ``vertical``: |h_a - h_b|, the difference of the centres' heights along gravity (world z);
* ``depth``: |z_a - z_b|, the difference of the centres' camera-frame z (along the optical axis);
* ``to_camera``: |c_a|, from the camera centre to the object's centre.
"""

from __future__ import annotations

from .formats import emit, length_distractors, new_plan
from .language import format_length, unit_for
from .pair_task import random_pair, weighted_pick
from .plan import Plan, Skip
from .registry import Task, register_task
from .relations import distance3d, horizontal_distance
from . import thresholds

LEVEL = 2

DIST_STEMS = {
    "euclidean": (
        "What is the distance between {a} and {b}?",
        "How far apart are {a} and {b}?",
        "Measure the straight-line distance from {a} to {b}.",
        "How far is {a} from {b}, center to center?",
        "Estimate the 3D distance between the centers of {a} and {b}.",
    ),
    "horizontal": (
        "What is the horizontal distance between {a} and {b}?",
        "Ignoring height, how far apart are {a} and {b}?",
        "Measured along the floor, how far is {a} from {b}?",
        "How far apart are {a} and {b} horizontally?",
        "Estimate the horizontal (ground-plane) distance between {a} and {b}.",
    ),
    "vertical": (
        "What is the vertical distance between {a} and {b}?",
        "What is the height difference between {a} and {b}?",
        "How far apart are {a} and {b} vertically?",
        "Measure the difference in height between the centers of {a} and {b}.",
        "Estimate the vertical gap between the centers of {a} and {b}.",
    ),
    "depth": (
        "What is the depth difference between {a} and {b}?",
        "Along the camera's viewing axis, how far apart are {a} and {b}?",
        "How far apart are {a} and {b} in depth?",
        "Measure the difference in distance from the camera plane between {a} and {b}.",
        "Estimate the depth-wise distance between {a} and {b}.",
    ),
    "to_camera": (
        "How far is {a} from the camera?",
        "What is the distance from the camera to {a}?",
        "Estimate how far away {a} is from the viewer.",
        "Measure the distance between the camera and the center of {a}.",
        "Roughly how far from the camera is {a}?",
    ),
}
DIST_CLAIMS = {
    "euclidean": ("{a} and {b} are about {value} apart", "the distance between {a} and {b} is roughly {value}",
                  "the centers of {a} and {b} are approximately {value} from each other"),
    "horizontal": ("the horizontal distance between {a} and {b} is about {value}",
                   "{a} and {b} are about {value} apart horizontally",
                   "ignoring height, {a} is roughly {value} from {b}"),
    "vertical": ("the vertical distance between {a} and {b} is about {value}",
                 "the centers of {a} and {b} differ in height by about {value}",
                 "{a} and {b} are roughly {value} apart vertically"),
    "depth": ("{a} and {b} are about {value} apart in depth", "the depth difference between {a} and {b} is roughly {value}",
              "along the viewing axis, {a} and {b} are about {value} apart"),
    "to_camera": ("{a} is about {value} from the camera", "the distance from the camera to {a} is roughly {value}",
                  "{a} stands approximately {value} away from the viewer"),
}
_DIST_SUBS = (("euclidean", 0.3), ("horizontal", 0.2), ("vertical", 0.15), ("depth", 0.15), ("to_camera", 0.2))


def distance_value(view, sub: str, a: int, b: int | None) -> float:
    if sub == "euclidean":
        return distance3d(view, a, b)
    if sub == "horizontal":
        return horizontal_distance(view, a, b)
    if sub == "vertical":
        return abs(view.z_world[a] - view.z_world[b])
    if sub == "depth":
        return abs(view.z_cam[a] - view.z_cam[b])
    if sub == "to_camera":
        return view.dist[a]
    raise ValueError(f"unknown distance kind {sub!r}")


@register_task("distance", level=2, ratio=0.1349)
class Distance(Task):
    description = "Euclidean / horizontal / vertical / depth-wise centre distance of two objects, or to the camera"

    def unsupported(self, view):
        return None if view.subjects else "no uniquely referable object"

    def plan_view(self, view, rs, fmt, key):
        if not view.subjects:
            return Skip("no uniquely referable object", permanent=True)
        sub = weighted_pick(rs, _DIST_SUBS) if len(view.subjects) >= 2 else "to_camera"
        if sub == "to_camera":
            ids = (view.ids[rs.choice(view.subjects)],)
            v = view.dist[view.idx(ids[0])]
        else:
            pair = random_pair(view, rs, lambda a, b: distance_value(view, sub, a, b) >= thresholds.MIN_LENGTH)
            if pair is None:
                return Skip(f"no object pair with a {sub} distance of at least {thresholds.MIN_LENGTH} m")
            ids = (view.ids[pair[0]], view.ids[pair[1]])
            v = distance_value(view, sub, *pair)
        return new_plan(rs, self.name, fmt, sub, ids, n_stems=len(DIST_STEMS[sub]), n_claims=len(DIST_CLAIMS[sub]),
                        unit=unit_for(rs.random(), v), key=key, hint=True)

    def realise_view(self, plan: Plan, view):
        idx = [view.idx(o) for o in plan.objects]
        a, b = idx[0], (idx[1] if len(idx) > 1 else None)
        v = distance_value(view, plan.sub, a, b)
        slots = {"a": view.ref(a), "b": view.ref(b) if b is not None else ""}

        def render(x):
            return format_length(x, plan.unit, plan.unit_long)

        return emit(plan, view, LEVEL, stems=DIST_STEMS[plan.sub], claims=DIST_CLAIMS[plan.sub], slots=slots,
                    kind="length", truth=v, render=render,
                    distract=lambda k: length_distractors(v, plan.draws, k, render), uses_unit=True)
