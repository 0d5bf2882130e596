"""Comparison (level 2, inter-object relations; HiSpatial 3.1): nearest / farthest / largest /
smallest of several objects, their order, and the relative orientation of two; by the distance
of the centre to the camera and the box volume, with the margins of ``thresholds.py``.
"""

from __future__ import annotations

import math
from itertools import permutations

from .formats import emit, label_distractors, new_plan
from .language import join_and
from .pair_task import PairTask
from .plan import Balanced, Plan, RealiseError, Skip, group_by_class, pick
from .priors import decided_by_prior
from .registry import register_task
from .relations import LEAK_KEYS, clearly_nearer, leaks, orientation_relation
from . import thresholds

LEVEL = 2

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
    order = _sorted(view, objs, key)
    cmp = (lambda i, j: before(view, j, i)) if desc else (lambda i, j: before(view, i, j))
    return order if all(cmp(order[k], order[k + 1]) for k in range(len(order) - 1)) else None


def _sorted(view, objs: list[int], key: str) -> list[int]:
    """``objs`` by ``key``'s value, the extreme first (stable: equal values keep their order)."""
    before, desc = KEYS[key]
    return sorted(objs, key=(view.dist if before is dist_before else view.logvol).__getitem__, reverse=desc)


def _extreme(view, objs: list[int], key: str) -> int | None:
    before, desc = KEYS[key]
    order = _sorted(view, objs, key)
    ok = before(view, order[1], order[0]) if desc else before(view, order[0], order[1])
    return order[0] if ok else None


def _orientation_pairs(view) -> Balanced:
    """The ordered pairs of objects with fronts grouped by relative orientation; kept per view
    (the same for every question: one costs only its draws)."""
    memo = view.memo("comparison")
    pairs = memo.get("orientation")
    if pairs is None:
        pairs = memo["orientation"] = Balanced(group_by_class(permutations(view.fronted, 2),
                                                              lambda p: orientation_relation(view, *p)))
    return pairs


@register_task("comparison", level=2, ratio=0.1153)
class Comparison(PairTask):
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
                got = _orientation_pairs(view).draw(rs)
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
