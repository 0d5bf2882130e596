"""Perspective taking (level 3, abstract reasoning; HiSpatial 3.1).

Perspective taking works in the horizontal (gravity-aligned) plane.  *Observer-centric*: you
stand at the centre of X facing the centre of Y; *object-centric*: you are object X (which has a
front), facing where it faces.  Z is on your right when its offset has a positive component
along your right-hand direction (``relations.egocentric``); clock directions put 12 straight
ahead and 3 on the right.  Clock directions are answers of kind ``clock`` (int hour 1-12);
their mirror is ``mirror_hour`` (3 <-> 9).
"""

from __future__ import annotations

import itertools

from ..mirror import mirror_hour
from .formats import emit, label_distractors, new_plan, side_mirror
from .plan import Balanced, Plan, RealiseError, Skip, balanced_choice, group_by_class, pick
from .registry import Task, register_task
from .relations import clock_hour, ego_front_behind, ego_left_right, egocentric, observer_frame

LEVEL = 3

OBS_STEMS = {
    "lr": (
        "If you stood at {x} facing {y}, would {z} be on your left or on your right?",
        "Imagine standing at {x} and looking toward {y}. Is {z} to your left or to your right?",
        "Suppose you are at {x}, facing {y}. On which side is {z}, left or right?",
        "Picture yourself at the position of {x}, turned toward {y}. Is {z} on your left-hand or right-hand side?",
        "From your viewpoint at {x}, looking at {y}, is {z} to your left or to your right?",
    ),
    "fb": (
        "If you stood at {x} facing {y}, would {z} be in front of you or behind you?",
        "Imagine standing at {x} and looking toward {y}. Is {z} ahead of you or behind you?",
        "Suppose you are at {x}, facing {y}. Is {z} in front of you or behind you?",
        "Picture yourself at {x}, turned toward {y}. Would {z} be ahead of you, or behind you?",
        "Standing at {x} and looking at {y}, would you have {z} in front of you or behind you?",
    ),
    "combo": (
        "If you stood at {x} facing {y}, where would {z} be?",
        "Imagine standing at {x} and looking toward {y}. Where is {z} relative to you?",
        "Suppose you are at {x}, facing {y}. Which describes the position of {z}?",
        "Picture yourself at {x}, turned toward {y}. Where would you find {z}?",
        "From your viewpoint at {x}, looking at {y}, where is {z}?",
    ),
    "clock": (
        "If you stand at {x} facing {y}, at what clock direction is {z}? (12 o'clock is straight ahead.)",
        "Imagine being at {x}, looking toward {y}, with straight ahead as 12 o'clock. At which o'clock is {z}?",
        "Standing at {x} and facing {y}, in which clock direction would you find {z}?",
        "Suppose you are at {x} facing {y}. Using clock directions (12 = ahead, 3 = right), where is {z}?",
        "From {x}, looking at {y}, give the clock direction of {z} (12 o'clock = straight ahead).",
    ),
}
OBJ_STEMS = {
    "lr": (
        "From the perspective of {x}, facing the way it faces, is {z} on its left or on its right?",
        "Looking in the direction {x} faces, is {z} on its left or on its right?",
        "Relative to the front of {x}, is {z} on its left side or its right side?",
        "Taking the point of view of {x}, is {z} to its left or to its right?",
        "Imagine {x} could see. Is {z} to its left or to its right?",
    ),
    "fb": (
        "From the perspective of {x}, facing the way it faces, is {z} in front of it or behind it?",
        "Relative to the way {x} faces, is {z} in front of it or behind it?",
        "Relative to the front of {x}, is {z} in front of it or behind it?",
        "Taking the point of view of {x}, is {z} ahead of it or behind it?",
        "Imagine {x} could see. Is {z} ahead of it or behind it?",
    ),
    "combo": (
        "From the perspective of {x}, facing the way it faces, where is {z}?",
        "Looking in the direction {x} faces, where is {z}?",
        "Relative to the front of {x}, where is {z}?",
        "Taking the point of view of {x}, which describes the position of {z}?",
        "Imagine {x} could see. Where would {z} be relative to it?",
    ),
}
OBS_CLAIMS = ("if you stood at {x} facing {y}, {z} would be {value}",
              "standing at {x} and looking toward {y}, you would have {z} {value}",
              "if you stand at {x} and face {y}, {z} is {value}")
OBJ_CLAIMS = ("from the perspective of {x}, {z} is {value}",
              "relative to the front of {x}, {z} is {value}",
              "taking the point of view of {x}, {z} is {value}")
CLOCK_CLAIMS = ("if you stood at {x} facing {y}, {z} would be at {value}",
                "standing at {x} and looking toward {y}, {z} is at {value}",
                "from {x}, looking at {y}, {z} is in the {value} direction")
_WORDS = {
    "observer": {"left": "on your left", "right": "on your right", "front": "in front of you", "behind": "behind you"},
    "object": {"left": "on its left", "right": "on its right", "front": "in front of it", "behind": "behind it"},
}
#: triples whose answers a perspective question is balanced over (all of them when fewer)
PERSP_CANDIDATES = 96
#: answer weights (see ``plan.balanced_choice``): nearly every triple set has something ahead, fewer
#: something behind; tuned so ``benchmarks/qa_distribution.py`` shows no answer above 1.5x uniform
PERSP_WEIGHTS = {12: 0.2, 11: 0.75, 1: 0.75, 4: 1.3, 5: 1.5, 6: 1.6, 7: 1.5, 8: 1.3, "front": 0.8}
COMBO_POOL = ("front+left", "front+right", "behind+left", "behind+right")


def _hour_text(h: int) -> str:
    return f"{h} o'clock"


_CLOCK_OFFSETS = (3, 6, 9, 2, -2, 4, -4)


def _clock_distractors(h: int, plan: Plan, k: int) -> list[int]:
    """``k`` other hours (>= 2 hours off), drawn for the original view's hour; on the mirrored
    view they are mirrored, so the mirrored options are the original ones mirrored in place."""
    m = plan.view == "mirrored"
    h0 = mirror_hour(h) if m else h
    out = pick([((h0 + d - 1) % 12) + 1 for d in _CLOCK_OFFSETS], plan.draws, k)
    return [mirror_hour(x) for x in out] if m else out


def _persp_label(view, sub: str, x: int, y: int | None, z: int):
    frame = observer_frame(view, x, y)
    if frame is None:
        return None
    off = egocentric(view, frame, z)
    if off is None:
        return None
    kind = sub.split("_", 1)[1]
    if kind == "lr":
        return ego_left_right(off)
    if kind == "fb":
        return ego_front_behind(off)
    if kind == "clock":
        return clock_hour(off)
    lr, fb = ego_left_right(off), ego_front_behind(off)
    return None if lr is None or fb is None else f"{fb}+{lr}"


_UNSET = object()


def _level_fronted(view) -> list[int]:
    """The referable objects with a level front (object-centric observers); kept per view."""
    memo = view.memo("perspective")
    fronted = memo.get("fronted")
    if fronted is None:
        fronted = memo["fronted"] = [i for i in view.fronted if view.horizontal_front(i) is not None]
    return fronted


def _draw_triple(view, rs, sub: str):
    """``((x, y, z), label)`` of a ``sub`` question, the answer drawn first among those of the
    candidate triples (``plan.Balanced``), or None: every triple when there are at most
    ``PERSP_CANDIDATES`` (their grouping kept per view: a question then costs only its draws),
    else ``PERSP_CANDIDATES`` drawn ones (observer: ``Stream.sample`` of 3 subjects each;
    object-centric: ``pick`` among all)."""
    fixed = view.memo("perspective_fixed")
    balanced = fixed.get(sub)
    if balanced is not None:
        return balanced.draw(rs, thin_sole=True)
    S = view.subjects
    n = len(S)
    if sub.startswith("observer"):
        if n * (n - 1) * (n - 2) > PERSP_CANDIDATES:
            got = _sampled_observer_draws(view, rs, sub).draw(rs, thin_sole=True)
            return None if got is None else (_drawn_triple(S, got[0]), got[1])
        cands = list(itertools.permutations(S, 3))
    else:
        cands = [(x, None, z) for x in _level_fronted(view) for z in S if z != x]
    labels = view.memo(("perspective", sub))
    if len(cands) > PERSP_CANDIDATES:
        cands = pick(cands, rs.take(PERSP_CANDIDATES), PERSP_CANDIDATES)
        return balanced_choice(rs, cands, lambda c: _persp_label(view, sub, *c), PERSP_WEIGHTS, thin_sole=True,
                               memo=labels)
    fixed[sub] = balanced = Balanced(group_by_class(cands, lambda c: _persp_label(view, sub, *c), labels),
                                     PERSP_WEIGHTS)
    return balanced.draw(rs, thin_sole=True)


def _sampled_observer_draws(view, rs, sub: str) -> Balanced:
    """``PERSP_CANDIDATES`` triples drawn as ``Stream.sample(view.subjects, 3)`` draws them,
    grouped by answer; each triple is handled as its draw index (``_draw_codes``; the triple:
    ``_drawn_triple``) and the label of each draw index is kept per view (int keys):
    perspective plans 79 -> 61 us at 20 plans per scene (what 400 QA/scene asks), measured in
    interleaved runs (no tuple per candidate nor per kept label: a dict of triples instead made
    garbage collection cost more than the labels saved)."""
    S = view.subjects
    labels = view.memo(("perspective_draws", sub))
    groups: dict = {}
    for code in _draw_codes(rs.take(3 * PERSP_CANDIDATES), len(S)):
        label = labels.get(code, _UNSET)
        if label is _UNSET:
            label = labels[code] = _persp_label(view, sub, *_drawn_triple(S, code))
        if label is not None:
            if label in groups:
                groups[label].append(code)
            else:
                groups[label] = [code]
    return Balanced(groups, PERSP_WEIGHTS)


def _draw_codes(u: list[float], n: int) -> list[int]:
    """The draw index ``(i * (n - 1) + j) * (n - 2) + m`` of each ``Stream.sample(seq, 3)`` (of
    ``n`` items) that the draws ``u`` (3 each) make: i, j, m are its three ``randint`` results.
    ``int(u * n) < n`` for every draw (a multiple of 2**-53 below 1), so no clamp is needed."""
    n1, n2 = n - 1, n - 2
    return [(int(a * n) * n1 + int(b * n1)) * n2 + int(c * n2) for a, b, c in zip(u[::3], u[1::3], u[2::3])]


def _drawn_triple(S, code: int) -> tuple[int, int, int]:
    """The items ``Stream.sample(S, 3)`` gives for the draw with index ``code`` (``_draw_codes``)."""
    n1, n2 = len(S) - 1, len(S) - 2
    i, rest = divmod(code, n1 * n2)
    j, m = divmod(rest, n2)
    j += j >= i
    lo, hi = (i, j) if i < j else (j, i)
    m += m >= lo
    m += m >= hi
    return S[i], S[j], S[m]


@register_task("perspective", level=3, ratio=0.0422)
class Perspective(Task):
    description = "left/right, front/behind, clock direction from an imagined observer or object viewpoint"

    def unsupported(self, view):
        fronted = any(view.horizontal_front(i) is not None for i in view.fronted)
        if len(view.subjects) >= 3 or (fronted and len(view.subjects) >= 2):
            return None
        return "needs 3 referable objects, or 2 with one having a level front"

    def plan_view(self, view, rs, fmt, key):
        S = view.subjects
        fronted = _level_fronted(view)
        subs = []
        if len(S) >= 3:
            subs += ["observer_combo", "observer_clock"] if fmt == "mcq" else ["observer_lr", "observer_fb",
                                                                               "observer_clock"]
        if fronted and len(S) >= 2:
            subs += ["object_combo"] if fmt == "mcq" else ["object_lr", "object_fb"]
        if not subs:
            return Skip("needs 3 referable objects, or 2 with one having a level front", permanent=True)
        sub = rs.choice(subs)
        # the answer first (uniform over those the candidates have), then a triple with it
        got = _draw_triple(view, rs, sub)
        if got is None:
            return Skip(f"no object triple with a clear {sub.replace('_', ' ')} relation")
        x, y, z = got[0]
        ids = (view.ids[x],) + (() if y is None else (view.ids[y],)) + (view.ids[z],)
        kind = sub.split("_", 1)[1]
        stems = (OBS_STEMS if sub.startswith("observer") else OBJ_STEMS)[kind]
        return new_plan(rs, self.name, fmt, sub, ids, n_stems=len(stems), n_claims=3, key=key)

    def realise_view(self, plan: Plan, view):
        idx = [view.idx(o) for o in plan.objects]
        observer = plan.sub.startswith("observer")
        x, y, z = (idx[0], idx[1], idx[2]) if observer else (idx[0], None, idx[1])
        lab = _persp_label(view, plan.sub, x, y, z)
        if lab is None:
            raise RealiseError("perspective relation became degenerate")
        kind = plan.sub.split("_", 1)[1]
        slots = {"x": view.ref(x), "y": view.ref(y) if y is not None else "", "z": view.ref(z)}
        stems = (OBS_STEMS if observer else OBJ_STEMS)[kind]
        words = _WORDS["observer" if observer else "object"]
        claims = OBS_CLAIMS if observer else OBJ_CLAIMS
        if kind == "clock":
            h = lab
            return emit(plan, view, LEVEL, stems=stems, claims=CLOCK_CLAIMS, slots=slots, kind="clock", truth=h,
                        render=_hour_text, distract=lambda k: _clock_distractors(h, plan, k), meta={"hour": h})
        if kind == "combo":
            def render(v):
                fb, lr = v.split("+")
                return f"{words[fb]} and {words[lr]}"

            return emit(plan, view, LEVEL, stems=stems, claims=claims, slots=slots, kind="label", truth=lab,
                        render=render, labels=COMBO_POOL,
                        distract=lambda k: label_distractors(lab, COMBO_POOL, plan.draws, k, side_mirror(plan)))
        pool = ("left", "right") if kind == "lr" else ("front", "behind")
        return emit(plan, view, LEVEL, stems=stems, claims=claims, slots=slots, kind="label", truth=lab,
                    render=words.__getitem__, labels=pool,
                    distract=lambda k: label_distractors(lab, pool, plan.draws, k, side_mirror(plan)))
