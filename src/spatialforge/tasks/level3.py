"""Level 3 — abstract reasoning: perspective taking and spatial counting (HiSpatial 3.1).

Perspective taking works in the horizontal (gravity-aligned) plane.  *Observer-centric*: you
stand at the centre of X facing the centre of Y; *object-centric*: you are object X (which has a
front), facing where it faces.  Z is on your right when its offset has a positive component
along your right-hand direction (``relations.egocentric``); clock directions put 12 straight
ahead and 3 on the right.

Counting counts the objects in view (other than the anchor, optionally of one category) that
satisfy a relation to the anchor: within r metres (3D centre distance), left / right of it
(camera x, as in ``direction``), in front of / behind it (nearer / farther from the camera, by
depth and by distance: ``relations.front_behind``), larger than it (box
volume).  If any object lies inside a relation's threshold band, or one that would count is
hardly visible or has a degenerate box, the question is ambiguous and not asked.  The plan fixes
the side (``sub`` = ``params["rel"]``), so ``Plan.mirrored`` swaps ``left_of`` <-> ``right_of``:
the mirrored partner asks about the other side of the flipped image and has the same count
(SVQA-R1's rewrite rule).  Clock directions are answers of kind ``clock`` (int hour 1-12);
their mirror is ``mirror_hour`` (3 <-> 9).
"""

from __future__ import annotations

import itertools
import math

from ..mirror import mirror_hour
from ..units import LONG_NAMES, METRES
from .answer_stats import COUNT_POOL
from .formats import count_distractors, emit, label_distractors, new_plan, side_mirror
from .language import plural, unit_for
from .plan import Plan, RealiseError, Skip, balanced_choice, pick
from .priors import larger_count_by_prior
from .registry import Task, register_task
from .relations import clock_hour, ego_front_behind, ego_left_right, egocentric, front_behind, observer_frame
from .thresholds import COMPARE_VOLUME_RATIO, COUNT_DIST_BAND, LR_MIN, LR_MIN_IMAGE

LEVEL = 3

# ---------------------------------------------------------------------- perspective
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
        fronted = [i for i in view.fronted if view.horizontal_front(i) is not None]
        subs = []
        if len(S) >= 3:
            subs += ["observer_combo", "observer_clock"] if fmt == "mcq" else ["observer_lr", "observer_fb",
                                                                               "observer_clock"]
        if fronted and len(S) >= 2:
            subs += ["object_combo"] if fmt == "mcq" else ["object_lr", "object_fb"]
        if not subs:
            return Skip("needs 3 referable objects, or 2 with one having a level front", permanent=True)
        sub = rs.choice(subs)
        if sub.startswith("observer"):
            n = len(S)
            cands = (list(itertools.permutations(S, 3)) if n * (n - 1) * (n - 2) <= PERSP_CANDIDATES
                     else [tuple(rs.sample(S, 3)) for _ in range(PERSP_CANDIDATES)])
        else:
            cands = [(x, None, z) for x in fronted for z in S if z != x]
            if len(cands) > PERSP_CANDIDATES:
                cands = pick(cands, [rs.random() for _ in range(PERSP_CANDIDATES)], PERSP_CANDIDATES)
        # the answer first (uniform over those the candidates have), then a triple with it
        got = balanced_choice(rs, cands, lambda c: _persp_label(view, sub, *c), PERSP_WEIGHTS, thin_sole=True)
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


# ---------------------------------------------------------------------- counting
COUNT_STEMS = (
    "How many {things} {cond}?",
    "Count the {things} that {cond}.",
    "What is the number of {things} that {cond}?",
    "How many {things} in the scene {cond}?",
    "Tell me how many {things} {cond}.",
    "Not counting {a} itself, how many {things} {cond}?",
)
COUNT_CLAIMS = ("the number of {things} that {cond} is {value}", "the count of {things} that {cond} is {value}",
                "counting the {things} that {cond} gives {value}")  # never a sentence opening "0 is ..."
COND = {"within": "are within {r} of {a}", "left_of": "are to the left of {a}", "right_of": "are to the right of {a}",
        "in_front_of": "are in front of {a} (nearer the camera)", "behind": "are behind {a} (farther from the camera)",
        "larger": "are larger than {a}"}  # "in front of" alone could mean in front of the anchor's own front
_RELS = (("within", 0.35), ("left_of", 0.15), ("right_of", 0.15), ("in_front_of", 0.1), ("behind", 0.1),
         ("larger", 0.15))
RADII = {"m": (0.5, 1.0, 1.5, 2.0, 3.0), "cm": (50, 80, 100, 150), "ft": (2, 3, 4, 5, 6, 8, 10),
         "in": (18, 24, 36, 48)}
#: answer weights: counts of 0 and 1 are possible in almost every scene, 3 or more only in full ones
COUNT_WEIGHTS = {0: 0.8, 1: 0.8, 2: 1.5, COUNT_POOL: 1.6}
#: "within r" (radii up to 3 m) and "larger than X" (a small anchor has many larger objects) reach 3+ often
WIDE_COUNT_WEIGHTS = {**COUNT_WEIGHTS, COUNT_POOL: 1.2}
COUNT_CANDIDATES = 24  # (anchor, category, radius) draws a counting question's answer is balanced over


def _radius_text(num: float, unit: str, long: bool) -> str:
    s = f"{num:g}"
    if not long:
        return f"{s} {unit}"
    singular, plural_ = LONG_NAMES[unit]
    return f"{s} {singular if s == '1' else plural_}"


def _status(view, rel: str, a: int, j: int, radius: float) -> str:
    """'yes', 'no' or 'ambiguous' for candidate j against anchor a."""
    if rel == "within":
        d = math.sqrt((view.x_cam[j] - view.x_cam[a]) ** 2 + (view.y_cam[j] - view.y_cam[a]) ** 2 + (view.z_cam[j] - view.z_cam[a]) ** 2)
        if abs(d - radius) < COUNT_DIST_BAND:
            return "ambiguous"
        return "yes" if d < radius else "no"
    if rel in ("left_of", "right_of"):
        dx = view.x_cam[j] - view.x_cam[a]
        dt = (view.t[j] - view.t[a]) * view.fx
        if abs(dx) < LR_MIN or abs(dt) < LR_MIN_IMAGE * view.W or (dx < 0) != (dt < 0):
            return "ambiguous"
        return "yes" if (dx < 0) == (rel == "left_of") else "no"
    if rel in ("in_front_of", "behind"):  # nearer / farther by depth and distance (front_behind)
        fb = front_behind(view, j, a)
        if fb is None:
            return "ambiguous"
        return "yes" if (fb == "front") == (rel == "in_front_of") else "no"
    if rel == "larger":
        d = view.logvol[j] - view.logvol[a]
        if abs(d) < math.log(COMPARE_VOLUME_RATIO):
            return "ambiguous"
        return "yes" if d > 0 else "no"
    raise ValueError(f"unknown counting relation {rel!r}")


def count_matching(view, rel: str, a: int, category: str | None, radius: float) -> int | None:
    """Number of objects satisfying ``rel`` w.r.t. anchor ``a`` (None when ambiguous)."""
    n = 0
    for j in view.visible:
        if j == a or (category is not None and view.cat[j] != category):
            continue
        s = _status(view, rel, a, j, radius)
        if s == "ambiguous" or (s == "yes" and not view.ok[j]):
            return None
        n += s == "yes"
    return n


_COUNT_LEAK = {"left_of": ("left",), "right_of": ("left",), "in_front_of": ("near",), "behind": ("near",),
               "larger": ("big", "tall")}


def _count_leaks(view, rel: str, a: int, category: str | None) -> bool:
    """The anchor's reference orders it among its category on the counted relation."""
    r = view.refs[a]
    return (r is not None and r.kind in ("extreme", "ordinal") and r.key in _COUNT_LEAK.get(rel, ())
            and category in (None, view.cat[a]))


@register_task("counting", level=3, ratio=0.0752)
class Counting(Task):
    description = "how many objects satisfy a spatial relation to an anchor object"

    def unsupported(self, view):
        if not view.subjects:
            return "no uniquely referable anchor object"
        if len(view.visible) < 2:
            return "needs at least 2 objects in view"
        return None

    def plan_view(self, view, rs, fmt, key):
        why = self.unsupported(view)
        if why:
            return Skip(why, permanent=True)
        for _ in range(3):
            u = rs.random()
            rel = _RELS[-1][0]
            acc = 0.0
            for name, w in _RELS:
                acc += w
                if u < acc:
                    rel = name
                    break
            cands = []
            for _ in range(COUNT_CANDIDATES):
                a = rs.choice(view.subjects)
                others = [j for j in view.visible if j != a]
                category = None if rs.coin() else view.cat[rs.choice(others)]
                unit = unit_for(rs.random(), 1.0, ("m", "cm", "ft", "in"))
                cands.append((a, category, unit, rs.choice(RADII[unit])))

            def count_class(c, rel=rel):
                a, category, unit, num = c
                if _count_leaks(view, rel, a, category) or (rel == "larger" and larger_count_by_prior(
                        view, a, (j for j in view.visible if j != a and category in (None, view.cat[j])))):
                    return None
                n = count_matching(view, rel, a, category, num * METRES[unit])
                return None if n is None else min(n, COUNT_POOL)

            # the count first (weighted over the classes the candidates have, 3+ pooled), then a candidate
            got = balanced_choice(rs, cands, count_class, WIDE_COUNT_WEIGHTS if rel in ("within", "larger") else COUNT_WEIGHTS,
                                  thin_sole=True)
            if got is None:
                continue
            a, category, unit, num = got[0]
            params = {"rel": rel, "category": category}
            if rel == "within":
                params["radius_num"] = num
                params["radius_m"] = num * METRES[unit]
            return new_plan(rs, self.name, fmt, rel, (view.ids[a],), n_stems=len(COUNT_STEMS),
                            n_claims=len(COUNT_CLAIMS), unit=unit, params=params, key=key)
        return Skip("every anchor/relation tried had an object inside a threshold band")

    def realise_view(self, plan: Plan, view):
        a = view.idx(plan.objects[0])
        rel, category = plan.params["rel"], plan.params["category"]
        radius = plan.params.get("radius_m", 0.0)
        n = count_matching(view, rel, a, category, radius)
        if n is None:
            raise RealiseError("count became ambiguous")
        ref = view.ref(a)
        if category is None:
            things = "other objects"
        else:
            things = ("other " if category == view.cat[a] else "") + plural(category)
        r = _radius_text(plan.params["radius_num"], plan.unit, plan.unit_long) if rel == "within" else ""
        cond = COND[rel].format(r=r, a=ref)
        meta = {"rel": rel, "category": category}
        if rel == "within":
            meta["radius_m"] = radius
            meta["unit"] = plan.unit
        return emit(plan, view, LEVEL, stems=COUNT_STEMS, claims=COUNT_CLAIMS,
                    slots={"things": things, "cond": cond, "a": ref}, kind="count", truth=n, render=str,
                    distract=lambda k: count_distractors(n, plan.draws, k), meta=meta)
