"""Level 2 — inter-object relations: direction, distance, comparison (HiSpatial 3.1).

Distances (``distance`` task), all between box centres, in metres:

* ``euclidean``: |c_a - c_b| in 3D;
* ``horizontal``: length of (c_a - c_b) projected on the gravity-aligned floor plane (world x, y);
* ``vertical``: |h_a - h_b|, the difference of the centres' heights along gravity (world z);
* ``depth``: |z_a - z_b|, the difference of the centres' camera-frame z (along the optical axis);
* ``to_camera``: |c_a|, from the camera centre to the object's centre.

Direction relations and their thresholds are defined in ``relations.py``; comparisons use the
distance of the centre to the camera and the box volume, with the margins of ``thresholds.py``.
"""

from __future__ import annotations

from abc import abstractmethod

import math
from itertools import permutations

from .formats import emit, label_distractors, length_distractors, new_plan, side_mirror, vector_distractors
from .language import format_length, format_vector, join_and, unit_for
from .plan import Plan, RealiseError, Skip, balanced_choice, pick
from .priors import decided_by_prior
from .registry import Task, register_task
from .relations import (LEAK_KEYS, RELATIONS, clearly_nearer, direction_vector, distance3d, horizontal_distance,
                        leaks, orientation_relation)
from . import thresholds

LEVEL = 2


def _pairs_skip(view, need: int = 2) -> Skip | None:
    if len(view.subjects) < need:
        n = len(view.subjects)
        return Skip(f"needs {need} uniquely referable objects, the scene has {n}", permanent=True)
    return None


class _PairTask(Task):
    """A task about two or more uniquely referable objects."""

    def unsupported(self, view):
        s = _pairs_skip(view)
        return s.reason if s else None

    def plan_view(self, view, rs, fmt, key):
        return _pairs_skip(view) or self._plan_pair(view, rs, fmt, key)

    @abstractmethod
    def _plan_pair(self, view, rs, fmt, key):
        """The plan, given that the scene has enough referable objects."""


def _random_pair(view, rs, ok, pool=None, tries: int = 10):
    pool = view.subjects if pool is None else pool
    if len(pool) < 2:
        return None
    for _ in range(tries):
        a, b = rs.sample(pool, 2)
        if ok(a, b):
            return a, b
    return None


# ---------------------------------------------------------------------- direction
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


def _weighted(rs, items):
    u, acc = rs.random() * sum(w for _, w in items), 0.0
    for name, w in items:
        acc += w
        if u < acc:
            return name
    return items[-1][0]


def _other_directions(view, a: int, b: int) -> list[list[float]]:
    out = []
    for c in view.visible:
        if c not in (a, b):
            d = direction_vector(view, a, c)
            if d is not None:
                out.append(d)
    return out


@register_task("direction", level=2, ratio=0.2609)
class Direction(_PairTask):
    description = "left/right, front/behind, above/below of two objects (camera view), or a 3D direction vector"

    def _plan_pair(self, view, rs, fmt, key):
        if fmt == "mcq":
            sub = "vector" if rs.coin(0.25) else "combo"
        else:
            sub = _weighted(rs, _FREE_SUBS)
        params = {}
        if sub == "vector":
            pair = _random_pair(view, rs, lambda a, b: direction_vector(view, a, b) is not None)
        elif sub == "combo":
            axes = rs.choice(_AXIS_PAIRS)
            params["axes"] = list(axes)
            f1, f2 = RELATIONS[axes[0]], RELATIONS[axes[1]]
            keys = LEAK_KEYS[axes[0]] + LEAK_KEYS[axes[1]]
            pair = _random_pair(view, rs, lambda a, b: f1(view, a, b) is not None and f2(view, a, b) is not None
                                and not leaks(view, [a, b], keys))
        else:
            f = RELATIONS[sub]
            pair = _random_pair(view, rs, lambda a, b: f(view, a, b) is not None
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
            pool = [f"{x}+{y}" for x in AXIS_LABELS[ax1] for y in AXIS_LABELS[ax2]]
            truth = f"{l1}+{l2}"

            def render(v):
                x, y = v.split("+")
                return f"{REL_TEXT[x]} and {REL_TEXT[y]}"

            return emit(plan, view, LEVEL, stems=DIR_STEMS["combo"], claims=DIR_CLAIMS["relation"], slots=slots,
                        kind="label", truth=truth, render=render,
                        distract=lambda k: label_distractors(truth, pool, plan.draws, k, side_mirror(plan)),
                        labels=pool,
                        claim_slots=lambda v: {"value": " and ".join(REL_OF[x] for x in v.split("+"))},
                        meta={"axes": [ax1, ax2]})
        lab = RELATIONS[sub](view, a, b)
        if lab is None:
            raise RealiseError("relation became degenerate")
        return emit(plan, view, LEVEL, stems=DIR_STEMS[sub], claims=DIR_CLAIMS["relation"], slots=slots,
                    kind="label", truth=lab, render=lambda v: REL_TEXT[v],
                    distract=lambda k: label_distractors(lab, AXIS_LABELS[sub], plan.draws, k, side_mirror(plan)),
                    labels=AXIS_LABELS[sub],
                    claim_slots=lambda v: {"value": REL_OF[v]})


# ---------------------------------------------------------------------- distance
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
        sub = _weighted(rs, _DIST_SUBS) if len(view.subjects) >= 2 else "to_camera"
        if sub == "to_camera":
            ids = (view.ids[rs.choice(view.subjects)],)
            v = view.dist[view.idx(ids[0])]
        else:
            pair = _random_pair(view, rs, lambda a, b: distance_value(view, sub, a, b) >= thresholds.MIN_LENGTH)
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


# ---------------------------------------------------------------------- comparison
def dist_before(view, i: int, j: int) -> bool:
    """i clearly nearer the camera than j, by distance and by depth (``relations.clearly_nearer``)."""
    return clearly_nearer(view, i, j, thresholds.COMPARE_DIST_ABS, thresholds.COMPARE_DIST_REL)


def vol_before(view, i: int, j: int) -> bool:
    """i clearly smaller (volume) than j."""
    return view.logvol[j] - view.logvol[i] >= math.log(thresholds.COMPARE_VOLUME_RATIO)


KEYS = {"nearest": (dist_before, False), "farthest": (dist_before, True),
        "smallest": (vol_before, False), "largest": (vol_before, True)}
PHRASE = {"nearest": "closest to the camera", "farthest": "farthest from the camera",
          "smallest": "the smallest", "largest": "the largest"}
PHRASE_OF_TWO = {"nearest": "closer to the camera", "farthest": "farther from the camera",
                 "smallest": "the smaller", "largest": "the larger"}  # "the larger of the two"
COMP = {"nearest": "closer to the camera than", "farthest": "farther from the camera than",
        "smallest": "smaller than", "largest": "larger than"}
EXT_STEMS = {
    "dist": (
        "Which is {p}: {objs_or}?",
        "Among {objs}, which one is {p}?",
        "Of {objs}, which lies {p}?",
        "Which of these objects is {p}: {objs_or}?",
        "Considering {objs}, which one is {p}?",
    ),
    "size": (
        "Which is {p}: {objs_or}?",
        "Among {objs}, which one is {p}?",
        "Of {objs}, which is {p} in volume?",
        "Which object is {p}: {objs_or}?",
        "Considering their real-world size, which is {p}: {objs_or}?",
    ),
}
EXT_CLAIMS = (
    "{x} is {comp} {y}",
    "among {objs}, {x} is {p}",
    "of {objs}, the one that is {p} is {x}",
)
ORDER_STEMS = {
    "order_distance": (
        "Order {objs} from {first} to {last} from the camera.",
        "Sort {objs} by their distance to the camera, {first} first.",
        "List {objs} in order of distance from the camera, starting with the {first}.",
        "Rank {objs} from the {first} to the {last} relative to the camera.",
        "Arrange {objs} by how far they are from the camera, {first} first.",
    ),
    "order_size": (
        "Order {objs} from {first} to {last}.",
        "Sort {objs} by size (volume), {first} first.",
        "List {objs} in order of size, starting with the {first}.",
        "Rank {objs} from the {first} to the {last}.",
        "Arrange {objs} by their real-world size, {first} first.",
    ),
}
ORDER_CLAIMS = (
    "from {first} to {last}, the order is {value}",
    "sorted {first} first, the objects are {value}",
    "ranked from the {first} to the {last}, they go {value}",
)
ORIENT_REL_STEMS = (
    "Do {a} and {b} face the same direction, opposite directions, or perpendicular directions?",
    "How are {a} and {b} oriented relative to each other: the same way, opposite, or at right angles?",
    "Compare the facing directions of {a} and {b}: similar, opposite, or orthogonal?",
    "Are {a} and {b} facing the same way, facing opposite ways, or turned 90 degrees to each other?",
    "Describe the relative orientation of {a} and {b} (same, opposite, or perpendicular).",
)
ORIENT_REL_CLAIMS = ("{a} and {b} face {value}", "{a} and {b} are oriented in {value}",
                     "the fronts of {a} and {b} point in {value}")
ORIENT_REL_TEXT = {"same": "the same direction", "perpendicular": "perpendicular directions",
                   "opposite": "opposite directions"}
_PERMS = [p for p in permutations(range(3)) if p != (0, 1, 2)]


def _leak_keys(sub: str) -> tuple[str, ...]:
    return LEAK_KEYS["distance"] if sub in ("nearest", "farthest", "order_distance") else LEAK_KEYS["size"]


def _ordered(view, objs: list[int], key: str) -> list[int] | None:
    """``objs`` sorted by ``key`` (first = the extreme), or None if not clearly separated."""
    before, desc = KEYS[key]
    vals = view.dist if before is dist_before else view.logvol
    order = sorted(objs, key=lambda i: -vals[i] if desc else vals[i])
    cmp = (lambda i, j: before(view, j, i)) if desc else (lambda i, j: before(view, i, j))
    return order if all(cmp(order[k], order[k + 1]) for k in range(len(order) - 1)) else None


def _extreme(view, objs: list[int], key: str) -> int | None:
    before, desc = KEYS[key]
    vals = view.dist if before is dist_before else view.logvol
    order = sorted(objs, key=lambda i: -vals[i] if desc else vals[i])
    ok = before(view, order[1], order[0]) if desc else before(view, order[0], order[1])
    return order[0] if ok else None


@register_task("comparison", level=2, ratio=0.1153)
class Comparison(_PairTask):
    description = "nearest/farthest, smallest/largest, ordering of 3 objects, relative orientation of two fronts"

    def _plan_pair(self, view, rs, fmt, key):
        n = len(view.subjects)
        subs = []
        if fmt == "mcq":
            if n >= 4:
                subs += ["nearest", "farthest", "smallest", "largest"]
        else:
            subs += ["nearest", "farthest", "smallest", "largest"]
            if len(view.fronted) >= 2:
                subs += ["orientation"]
        if n >= 3:
            subs += ["order_distance", "order_size"]
        if not subs:
            return Skip("multiple-choice comparison needs 3 or more referable objects", permanent=True,
                        format_only=True)
        sub = rs.choice(subs)
        params: dict = {}
        for _ in range(10):
            if sub == "orientation":  # the answer first (uniform), then a pair with it
                got = balanced_choice(rs, list(permutations(view.fronted, 2)),
                                      lambda p: orientation_relation(view, *p))
                if got is None:
                    break
                objs = list(got[0])
                nst, ncl = len(ORIENT_REL_STEMS), len(ORIENT_REL_CLAIMS)
            elif sub.startswith("order"):
                objs = rs.sample(view.subjects, 3)
                params["first"] = rs.coin()  # nearest/smallest first
                k = ("nearest" if params["first"] else "farthest") if sub == "order_distance" else \
                    ("smallest" if params["first"] else "largest")
                if (_ordered(view, objs, k) is None or leaks(view, objs, _leak_keys(sub))
                        or decided_by_prior(view, objs, "order_" + k)):
                    continue
                nst, ncl = len(ORDER_STEMS[sub]), len(ORDER_CLAIMS)
            else:
                k = 4 if fmt == "mcq" else (2 if n == 2 or rs.coin(0.6) else 3)
                objs = rs.sample(view.subjects, k)
                if (_extreme(view, objs, sub) is None or leaks(view, objs, _leak_keys(sub))
                        or decided_by_prior(view, objs, sub)):
                    continue
                nst, ncl = len(EXT_STEMS["dist"]), len(EXT_CLAIMS)
            return new_plan(rs, self.name, fmt, sub, [view.ids[i] for i in objs], n_stems=nst, n_claims=ncl,
                            params=params, key=key)
        return Skip(f"no objects clearly separated for a {sub} comparison")

    def realise_view(self, plan: Plan, view):
        objs = [view.idx(o) for o in plan.objects]
        refs = [view.ref(i) for i in objs]
        sub = plan.sub

        def extra(i):
            return {"object_id": view.ids[i]}

        if sub == "orientation":
            a, b = objs
            lab = orientation_relation(view, a, b)
            if lab is None:
                raise RealiseError("orientation relation became degenerate")
            return emit(plan, view, LEVEL, stems=ORIENT_REL_STEMS, claims=ORIENT_REL_CLAIMS,
                        slots={"a": refs[0], "b": refs[1]}, kind="label", truth=lab,
                        render=ORIENT_REL_TEXT.__getitem__,
                        distract=lambda k: label_distractors(lab, tuple(ORIENT_REL_TEXT), plan.draws, k),
                        labels=tuple(ORIENT_REL_TEXT))
        if sub.startswith("order"):
            first = plan.params["first"]
            if sub == "order_distance":
                k, words = ("nearest", ("nearest", "farthest")) if first else ("farthest", ("farthest", "nearest"))
            else:
                k, words = ("smallest", ("smallest", "largest")) if first else ("largest", ("largest", "smallest"))
            order = _ordered(view, objs, k)
            if order is None:
                raise RealiseError("order became degenerate")
            truth = tuple(order)
            wrong = [tuple(truth[p] for p in perm) for perm in _PERMS]
            return emit(plan, view, LEVEL, stems=ORDER_STEMS[sub], claims=ORDER_CLAIMS,
                        slots={"objs": join_and(refs), "first": words[0], "last": words[1]}, kind="order",
                        truth=truth, render=lambda o: ", ".join(view.ref(i) for i in o),
                        to_value=lambda o: [view.ref(i) for i in o],
                        extra=lambda o: {"object_ids": [view.ids[i] for i in o]},
                        distract=lambda n: pick(wrong, plan.draws, n), meta={"key": k})
        best = _extreme(view, objs, sub)
        if best is None:
            raise RealiseError("extreme became degenerate")
        others = [i for i in objs if i != best]
        phrase = PHRASE_OF_TWO[sub] if len(objs) == 2 else PHRASE[sub]
        slots = {"p": phrase, "objs": join_and(refs), "objs_or": join_and(refs, "or")}

        def claim_slots(i):
            y = join_and([view.ref(j) for j in objs if j != i])
            return {"x": view.ref(i), "y": y, "comp": COMP[sub]}

        stems = EXT_STEMS["dist" if sub in ("nearest", "farthest") else "size"]
        return emit(plan, view, LEVEL, stems=stems, claims=EXT_CLAIMS, slots=slots, kind="label", truth=best,
                    render=view.ref, to_value=view.ref, extra=extra,
                    distract=lambda n: pick(others, plan.draws, n), claim_slots=claim_slots, labels=objs,
                    meta={"answer_object_id": view.ids[best]})
