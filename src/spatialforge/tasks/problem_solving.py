"""Level 3 — spatial problem solving: template-driven multi-step questions (HiSpatial 3.1, App. 7.3).

Each question comes with a short reasoning trace built from scene facts (``record.reasoning``),
in the spirit of the paper's student traces.  Variants (all horizontal quantities on the
gravity-aligned floor plane):

* ``gap``: the clearance between A and B = the shortest horizontal distance between their
  footprints, edge to edge (``footprint.clearance``: rectangles for boxes, discs / ellipses for
  cylinders and spheres); the question says "at their closest" / "edge to edge"
  (A and B side by side: their vertical extents overlap by >= 0.10 m);
* ``fit``: would C (at the same level), turned narrow side first, fit through the gap where A and
  B are closest: yes if C's smaller horizontal side is at least 0.10 m below the clearance, no if
  at least 0.10 m above (in between: not asked);
* ``reach``: standing at A's side with arm reach R, can you touch B: the clearance vs R, same margin;
* ``stack``: height of A stacked on B = h_A + h_B;
* ``path``: walking A -> B -> C in straight lines = |AB| + |BC| (horizontal centre distances);
* ``around``: one lap around A's footprint (``footprint.perimeter``): 2 (w + l) for a box,
  pi x diameter for a round footprint (Ramanujan's approximation for an ellipse).
Objects whose footprint is unknown (shape "other") get no gap, fit, reach or around question.

Questions can be rephrased by an LLM afterwards (``spatialforge.tasks.llm``, off by default);
the answer always stays the computed one.
"""

from __future__ import annotations

from .formats import emit, label_distractors, length_distractors, new_plan
from .language import cap, format_length, unit_for
from .plan import Plan, RealiseError, Skip, balanced_choice
from .registry import Task, register_task
from .footprint import clearance, is_disc, perimeter
from .relations import horizontal_distance
from .thresholds import FIT_MARGIN, MIN_BASELINE, MIN_GAP

LEVEL = 3

STEMS = {
    "gap": (
        "How much free floor space is there between {a} and {b} where they are closest?",
        "What is the shortest horizontal distance between {a} and {b}, edge to edge?",
        "If you wanted to walk between {a} and {b}, how wide is the opening at its narrowest?",
        "Seen from above, how far apart are the closest edges of {a} and {b}?",
        "Estimate the clearance between {a} and {b} at their nearest points.",
    ),
    "fit": (
        "Would {c} fit, narrow side first, through the gap where {a} and {b} are closest?",
        "Is the narrowest part of the gap between {a} and {b} wide enough for {c}, narrow side first?",
        "Could {c} pass between {a} and {b} at their closest point, turned narrow side first?",
        "If you slid {c} narrow side first through the gap between {a} and {b} where it is narrowest, "
        "would it fit?",
        "Is the clearance between {a} and {b} at their closest wider than the narrow side of {c}?",
    ),
    "reach": (
        "A person standing right next to {a}, on the side nearest {b}, can reach {r} beyond it. Can they "
        "touch {b} without moving?",
        "If your arm reaches {r} from the edge of {a} nearest {b}, can you reach {b}?",
        "Standing at the side of {a} closest to {b} with a reach of {r}, could you touch {b}?",
        "Can someone at the side of {a} facing {b}, with an arm reach of {r}, reach {b}?",
        "Is the nearest edge of {b} within {r} of the nearest edge of {a}?",
    ),
    "stack": (
        "If {a} were stacked on top of {b}, how tall would the stack be?",
        "What would be the combined height of {a} placed on top of {b}?",
        "Stacking {a} on {b}, how tall would the pile be?",
        "How tall would {a} and {b} be together if one were placed on top of the other?",
        "Estimate the total height of {a} stacked on {b}.",
    ),
    "path": (
        "If you walked in straight lines from {a} to {b} and then to {c}, how far would you walk?",
        "What is the total distance of a trip from {a} to {b} to {c}, measured along the floor?",
        "How far is it from {a} to {b} plus from {b} to {c}, ignoring height?",
        "Starting at {a}, you go to {b} and then to {c}. How long is the route, center to center?",
        "Estimate the horizontal path length from {a} via {b} to {c}.",
    ),
    "around": (
        "How far would you walk going once around {a}, staying right next to it?",
        "What is the perimeter of the footprint of {a}?",
        "If you circled {a} once along its sides, how far would you travel?",
        "How long is one lap around the base of {a}?",
        "Estimate the distance around {a} at floor level.",
    ),
}
CLAIMS = {
    "gap": ("at their closest, {a} and {b} are about {value} apart edge to edge",
            "the shortest horizontal distance between {a} and {b} is roughly {value}",
            "{a} and {b} leave an opening of about {value} between them at its narrowest"),
    "fit": ("{c} {would} fit, narrow side first, through the gap where {a} and {b} are closest",
            "there {is} enough room at the narrowest point between {a} and {b} to pass {c} narrow side first",
            "the narrowest part of the gap between {a} and {b} {is} wide enough for {c}, narrow side first"),
    "reach": ("a person next to {a}, on the side nearest {b}, with a reach of {r} {can} touch {b}",
              "with an arm reach of {r} from the edge of {a} nearest {b}, {b} {is} within reach",
              "the nearest edge of {b} {is} within {r} of the nearest edge of {a}"),
    "stack": ("{a} stacked on {b} would be about {value} tall", "the combined height of {a} on {b} is roughly {value}",
              "a stack of {a} on top of {b} reaches about {value}"),
    "path": ("walking from {a} to {b} and then to {c} covers about {value}",
             "the route from {a} via {b} to {c} is roughly {value} long",
             "the trip {a} to {b} to {c} is about {value} along the floor"),
    "around": ("one lap around {a} is about {value}", "the perimeter of the footprint of {a} is roughly {value}",
               "circling {a} once means walking about {value}"),
}
NUMERIC = ("gap", "stack", "path", "around")
BOOLEAN = ("fit", "reach")
REACHES = (0.5, 0.7, 1.0)
#: answer weights (``plan.balanced_choice``): in most scenes every third object fits some gap
FIT_WEIGHTS = {"fit": {False: 3.0}}
_M = lambda x: format_length(x, "m")  # noqa: E731  (reasoning traces are in metres)


_GAP_SUBS = ("gap", "fit", "reach")
_UNSET = object()


def _clearance(view, a: int, b: int) -> float | None:
    """``footprint.clearance`` of a and b, kept per view (a numpy polygon distance: ~65 us for two
    boxes; a plan tries up to 20 pairs, and its realise asks for the same pair)."""
    memo = view.memo("problem_solving_clearance")
    g = memo.get((a, b), _UNSET)
    if g is _UNSET:
        g = memo[a, b] = clearance(view, a, b)
    return g


def _gap(view, sub: str, idx) -> float | None:
    """The clearance of a gap / fit / reach problem (A = idx[0], B = idx[1]), None when it is not
    asked: unknown footprints, touching, or (gap, fit) not side by side."""
    if sub != "reach" and not _same_level(view, idx):  # first: far cheaper than the clearance
        return None
    g = _clearance(view, idx[0], idx[1])
    return None if g is None or g < MIN_GAP else g


def _narrow_side(view, i: int) -> float:
    return min(view.size[i][0], view.size[i][2])


def _value(view, sub: str, idx, params) -> float | bool | None:
    """The answer computed from the scene, None if degenerate; kept per view (the plan's
    candidates and the realised plan ask for the same problems)."""
    memo = view.memo("problem_solving")
    key = (sub, tuple(idx), params.get("reach"))
    v = memo.get(key, _UNSET)
    if v is _UNSET:
        v = memo[key] = _compute_value(view, sub, idx, params)
    return v


def _compute_value(view, sub: str, idx, params) -> float | bool | None:
    if sub in _GAP_SUBS:
        if sub == "fit" and view.shape[idx[2]] == "other":
            return None
        g = _gap(view, sub, idx)
        if g is None or sub == "gap":
            return g
        if sub == "fit":
            side = _narrow_side(view, idx[2])
            return None if abs(g - side) < FIT_MARGIN else side < g
        r = params["reach"]
        return None if abs(g - r) < FIT_MARGIN else g < r
    if sub == "stack":
        a, b = idx
        return view.size[a][1] + view.size[b][1]
    if sub == "path":
        a, b, c = idx
        d1, d2 = horizontal_distance(view, a, b), horizontal_distance(view, b, c)
        return None if min(d1, d2) < MIN_BASELINE else d1 + d2
    if sub == "around":
        (a,) = idx
        w, _, l = view.size[a]
        return perimeter(view.shape[a], w, l)
    raise ValueError(f"unknown problem {sub!r}")


def _facts(view, sub, idx, params):
    """(value, reasoning) computed from the scene; value None if degenerate.  A gap / fit /
    reach trace names A and B (``view.ref``, which raises ``RealiseError`` in a view where one
    has no reference) once the gap itself is usable, before the fit / reach margin is checked."""
    ref = view.ref
    v = _value(view, sub, idx, params)
    if sub in _GAP_SUBS:
        a, b = idx[0], idx[1]
        g = _gap(view, sub, idx)
        if g is None:
            return None, ""
        base = (f"Seen from above, {_outline_text(view, a)} and {_outline_text(view, b)}; where they are "
                f"closest, their edges are {_M(g)} apart.")
        if v is None:
            return None, ""
        if sub == "gap":
            return v, base
        if sub == "fit":
            c, ok = idx[2], v
            return ok, base + (f" The narrow side of {ref(c)} is {_M(_narrow_side(view, c))}, which is "
                               f"{'less' if ok else 'more'} than the gap, so it {'fits' if ok else 'does not fit'}.")
        r, ok = params["reach"], v
        return ok, base + (f" A reach of {_M(r)} is {'more' if ok else 'less'} than that, so {ref(b)} is "
                           f"{'' if ok else 'not '}within reach.")
    if v is None:
        return None, ""
    if sub == "stack":
        a, b = idx
        ha, hb = view.size[a][1], view.size[b][1]
        return v, f"{cap(ref(a))} is {_M(ha)} tall and {ref(b)} is {_M(hb)} tall; stacked: {_M(ha)} + {_M(hb)} = {_M(v)}."
    if sub == "path":
        a, b, c = idx
        d1, d2 = horizontal_distance(view, a, b), horizontal_distance(view, b, c)
        return v, (f"From {ref(a)} to {ref(b)} is {_M(d1)} and from {ref(b)} to {ref(c)} is {_M(d2)} "
                   f"(horizontal, center to center); in total {_M(v)}.")
    (a,) = idx
    w, _, l = view.size[a]
    if view.shape[a] == "box":
        why = f"its perimeter is 2 x ({_M(w)} + {_M(l)}) = {_M(v)}"
    elif is_disc(view.shape[a], w, l):
        why = f"its circumference is pi x {_M(w)} = {_M(v)}"
    else:
        why = (f"by Ramanujan's approximation for an ellipse with semi-axes a = {_M(w / 2)} and b = {_M(l / 2)}, "
               f"pi (3 (a + b) - sqrt((3a + b)(a + 3b))), its perimeter is about {_M(v)}")
    return v, f"Seen from above, {_outline_text(view, a)}; {why}."


def _outline_text(view, i: int) -> str:
    w, _, l = view.size[i]
    shape = view.shape[i]
    if shape == "box":
        return f"{view.ref(i)} is a {_M(w)} by {_M(l)} rectangle"
    if is_disc(shape, w, l):
        return f"{view.ref(i)} is a circle {_M(w)} across"
    return f"{view.ref(i)} is an ellipse {_M(w)} by {_M(l)}"


def _same_level(view, idx) -> bool:
    """The boxes' vertical extents overlap pairwise by >= 0.1 m (side by side, not stacked)."""
    spans = [(view.z_world[i] - view.size[i][1] / 2, view.z_world[i] + view.size[i][1] / 2) for i in idx]
    return all(min(a[1], b[1]) - max(a[0], b[0]) >= MIN_GAP for k, a in enumerate(spans) for b in spans[k + 1:])


_NEED = {"gap": 2, "fit": 3, "reach": 2, "stack": 2, "path": 3, "around": 1}


@register_task("problem_solving", level=3, ratio=0.0057)
class ProblemSolving(Task):
    description = "multi-step template problems (gap, fit, reach, stacking, path, perimeter) with a reasoning trace"

    def unsupported(self, view):
        return None if view.subjects else "no uniquely referable object"

    def plan_view(self, view, rs, fmt, key):
        S = view.subjects
        subs = [s for s in (NUMERIC if fmt == "mcq" else NUMERIC + BOOLEAN) if len(S) >= _NEED[s]]
        if not subs:
            return Skip("no uniquely referable object", permanent=True)
        sub = rs.choice(subs)
        if sub in BOOLEAN:  # yes / no balanced: the answer first, then objects that give it
            draws = [(rs.sample(S, _NEED[sub]), {"reach": rs.choice(REACHES)} if sub == "reach" else {})
                     for _ in range(20)]
            got = balanced_choice(rs, draws, lambda c: _value(view, sub, c[0], c[1]), FIT_WEIGHTS.get(sub))
            tries = [] if got is None else [got[0]]
        else:
            tries = ((rs.sample(S, _NEED[sub]), {}) for _ in range(10))
        for idx, params in tries:
            v = _value(view, sub, idx, params)
            if v is None:
                continue
            unit = unit_for(rs.random(), v if sub in NUMERIC else params.get("reach", 1.0))
            return new_plan(rs, self.name, fmt, sub, [view.ids[i] for i in idx], n_stems=len(STEMS[sub]),
                            n_claims=len(CLAIMS[sub]), unit=unit, params=params, key=key, hint=sub in NUMERIC)
        return Skip(f"no objects for a clear {sub} problem")

    def realise_view(self, plan: Plan, view):
        idx = [view.idx(o) for o in plan.objects]
        sub = plan.sub
        v, reasoning = _facts(view, sub, idx, plan.params)
        if v is None:
            raise RealiseError(f"{sub} problem became degenerate")
        names = "abc"
        slots = {names[k]: view.ref(i) for k, i in enumerate(idx)}
        if sub == "reach":
            slots["r"] = format_length(plan.params["reach"], plan.unit, plan.unit_long)
        if sub in NUMERIC:
            def render(x):
                return format_length(x, plan.unit, plan.unit_long)

            return emit(plan, view, LEVEL, stems=STEMS[sub], claims=CLAIMS[sub], slots=slots, kind="length",
                        truth=v, render=render, distract=lambda k: length_distractors(v, plan.draws, k, render),
                        reasoning=reasoning, uses_unit=True)

        def claim_slots(b):
            return {"would": "would" if b else "would not", "is": "is" if b else "is not",
                    "can": "can" if b else "cannot"}

        return emit(plan, view, LEVEL, stems=STEMS[sub], claims=CLAIMS[sub], slots=slots, kind="boolean", truth=v,
                    render=lambda b: "Yes" if b else "No",
                    distract=lambda k: label_distractors(v, (True, False), plan.draws, k),
                    claim_slots=claim_slots, reasoning=reasoning,
                    meta={"reach_m": plan.params["reach"]} if sub == "reach" else None)
