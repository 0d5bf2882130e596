"""Spatial counting (level 3, abstract reasoning; HiSpatial 3.1).

Counting counts the objects in view (other than the anchor, optionally of one category) that
satisfy a relation to the anchor: within r metres (3D centre distance), left / right of it
(camera x, as in ``direction``), in front of / behind it (nearer / farther from the camera, by
depth and by distance: ``relations.front_behind``), larger than it (box
volume).  If any object lies inside a relation's threshold band, or one that would count is
hardly visible or has a degenerate box, the question is ambiguous and not asked.  The plan fixes
the side (``sub`` = ``params["rel"]``), so ``Plan.mirrored`` swaps ``left_of`` <-> ``right_of``:
the mirrored partner asks about the other side of the flipped image and has the same count
(SVQA-R1's rewrite rule).
"""

from __future__ import annotations

import math

from ..units import LONG_NAMES, METRES
from .answer_stats import COUNT_POOL
from .formats import count_distractors, emit, new_plan
from .language import plural, unit_for
from .plan import Balanced, Plan, RealiseError, Skip
from .priors import larger_count_by_prior
from .registry import Task, register_task
from .relations import distance3d, front_behind
from .thresholds import COMPARE_VOLUME_RATIO, COUNT_DIST_BAND, LR_MIN, LR_MIN_IMAGE

LEVEL = 3

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


def _status(view, rel: str, a: int, j: int) -> str:
    """'yes', 'no' or 'ambiguous' for candidate j against anchor a (a relation without radius)."""
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
    """Number of objects satisfying ``rel`` w.r.t. anchor ``a`` (None when ambiguous): one
    that would count is hardly visible, or one of the counted category lies inside the
    relation's threshold band."""
    if rel != "within":
        return _tallies(view, rel, a).get(category, 0)
    n = 0
    for cat_j, d, ok_j in _distances(view, a):
        if category is not None and cat_j != category:
            continue
        if abs(d - radius) < COUNT_DIST_BAND:
            return None
        if d < radius:
            if not ok_j:
                return None
            n += 1
    return n


def _tallies(view, rel: str, a: int) -> dict[str | None, int | None]:
    """``count_matching`` of anchor ``a`` for a relation without radius, for every category
    at once (key None: any category), from one pass over the objects; kept per view (a counting
    plan asks for hundreds of (anchor, category) pairs per scene)."""
    memo = view.memo(("counting_tallies", rel))
    tally = memo.get(a)
    if tally is None:
        tally = memo[a] = {}
        total: int | None = 0
        for j in view.visible:
            if j == a:
                continue
            s = _status(view, rel, a, j)
            c = view.cat[j]
            if s == "ambiguous" or (s == "yes" and not view.ok[j]):
                tally[c] = total = None
            else:
                yes = s == "yes"
                n = tally.get(c, 0)
                if n is not None:
                    tally[c] = n + yes
                if total is not None:
                    total += yes
        tally[None] = total
    return tally


def _distances(view, a: int) -> list[tuple[str, float, bool]]:
    """(category, 3D centre distance to ``a``, may be asked about) of each other object in view;
    kept per view."""
    memo = view.memo("counting_distances")
    out = memo.get(a)
    if out is None:
        out = memo[a] = [(view.cat[j], distance3d(view, j, a), view.ok[j]) for j in view.visible if j != a]
    return out


_COUNT_LEAK = {"left_of": ("left",), "right_of": ("left",), "in_front_of": ("near",), "behind": ("near",),
               "larger": ("big", "tall")}


def _count_leaks(view, rel: str, a: int, category: str | None) -> bool:
    """The anchor's reference orders it among its category on the counted relation."""
    r = view.refs[a]
    return (r is not None and r.kind in ("extreme", "ordinal") and r.key in _COUNT_LEAK.get(rel, ())
            and category in (None, view.cat[a]))


_UNITS = ("m", "cm", "ft", "in")
_UNSET = object()


def _other_categories(view) -> dict[int, list[str]]:
    """Per anchor (a subject): the categories of the other objects in view, one per object (the
    plan draws one of them); kept per view."""
    memo = view.memo("counting")
    cats = memo.get("other_categories")
    if cats is None:
        cats = memo["other_categories"] = {a: [view.cat[j] for j in view.visible if j != a] for a in view.subjects}
    return cats


def _count_class(view, rel: str, a: int, category: str | None, radius: float) -> int | None:
    """The answer class of a counting question (the count, ``COUNT_POOL`` for 3 or more), or None
    when it must not be asked: ambiguous, or answered by the anchor's reference or by size priors."""
    if _count_leaks(view, rel, a, category):
        return None
    n = count_matching(view, rel, a, category, radius)
    if n is None or (rel == "larger" and larger_count_by_prior(
            view, a, (j for j in view.visible if j != a and category in (None, view.cat[j])))):
        return None
    return min(n, COUNT_POOL)


def _draw_relation(rs) -> str:
    u = rs.random()
    acc = 0.0
    for name, w in _RELS:
        acc += w
        if u < acc:
            return name
    return _RELS[-1][0]


def _unit_and_radius(u_unit: float, u_radius: float) -> tuple[str, float]:
    """A candidate's unit and radius number (in that unit), from its two draws."""
    unit = unit_for(u_unit, 1.0, _UNITS)
    radii = RADII[unit]
    i = int(u_radius * len(radii))
    return unit, radii[i if i < len(radii) else -1]


def _candidate_groups(view, rs, rel: str) -> dict[int, list[tuple]]:
    """``COUNT_CANDIDATES`` drawn candidates (anchor, category, and the draws of the unit and
    the radius number), grouped by answer class as ``plan.group_by_class`` does.  The draws of
    ``Stream.choice`` / ``coin`` are inlined, the unit and radius only worked out where the
    class needs them ("within") and the classes kept per view: counting plans 65 -> 49 us at
    32 plans per scene (what 400 QA/scene asks), measured in interleaved runs."""
    r = rs.random
    S = view.subjects
    n_s = len(S)
    other_categories = _other_categories(view)
    classes = view.memo(("counting", rel))  # the count depends on the radius only for "within"
    within = rel == "within"
    groups: dict[int, list[tuple]] = {}
    for _ in range(COUNT_CANDIDATES):
        i = int(r() * n_s)
        a = S[i if i < n_s else n_s - 1]
        if r() < 0.5:
            category = None
        else:
            cats = other_categories[a]
            i = int(r() * len(cats))
            category = cats[i if i < len(cats) else -1]
        cand = (a, category, r(), r())
        if within:
            unit, num = _unit_and_radius(cand[2], cand[3])
            radius = num * METRES[unit]
        else:
            radius = 0.0
        cls = classes.get((a, category, radius), _UNSET)
        if cls is _UNSET:
            cls = classes[a, category, radius] = _count_class(view, rel, a, category, radius)
        if cls is not None:
            if cls in groups:
                groups[cls].append(cand)
            else:
                groups[cls] = [cand]
    return groups


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
            rel = _draw_relation(rs)
            # the count first (weighted over the classes the candidates have, 3+ pooled), then a candidate
            weights = WIDE_COUNT_WEIGHTS if rel in ("within", "larger") else COUNT_WEIGHTS
            got = Balanced(_candidate_groups(view, rs, rel), weights).draw(rs, thin_sole=True)
            if got is None:
                continue
            a, category, u_unit, u_radius = got[0]
            unit, num = _unit_and_radius(u_unit, u_radius)
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
