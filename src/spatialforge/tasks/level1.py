"""Level 1 — object-level understanding: orientation, size, localization (HiSpatial 3.1).

* ``orientation``: how an object with a front faces, from the camera's view
  (``relations.facing``: toward / away from the camera, to the viewer's left / right, up / down);
  the answer is drawn among those the scene's fronted objects have (weighted, ``plan.balanced_choice``), then the object.
* ``size``: the box's height (vertical) or a horizontal side, metres (``horizontal_sides``):
  without a front, length = the longer horizontal side and width = the shorter; with a level
  front, width = the side across the front and depth = the side from front to back (asked as
  "front-to-back depth"; neither when the front is more than 30 deg off both box axes).
* ``localization``: the box centre in the camera frame (``point3d``), or the whole box
  (``box3d``: camera-frame centre, size (w, h, l), yaw about the vertical relative to the
  camera's heading, in [-90, 90) degrees since a box's yaw is undirected).
"""

from __future__ import annotations

import math

from ..mirror import mirror_point3d
from ..scene import wrap_yaw
from .formats import emit, label_distractors, length_distractors, new_plan, point_distractors, side_mirror
from .language import POINT_UNITS, format_box, format_length, format_point, unit_for
from .plan import Plan, RealiseError, Skip, balanced_choice, pick
from .registry import Task, register_task
from .relations import facing

LEVEL = 1


def _why_no_subject(view) -> str | None:
    if view.subjects:
        return None
    return "scene has no objects" if not view.n else "no object that can be referred to uniquely"


def _no_subject(view) -> Skip:
    return Skip(_why_no_subject(view) or "no subject", permanent=True)


class _ObjectTask(Task):
    def unsupported(self, view):
        return _why_no_subject(view)


# ---------------------------------------------------------------------- orientation
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
        cands = [i for i in view.fronted if facing(view, i) is not None]
        if not cands:
            if not view.fronted:
                return Skip("no referable object with a known front", permanent=True)
            return Skip("every front is near a facing-sector boundary", permanent=True)
        i = balanced_choice(rs, cands, lambda j: facing(view, j), ORIENT_WEIGHTS)[0]  # the answer first
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


# ---------------------------------------------------------------------- size
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


def _size_value(view, i: int, dim: str) -> float | None:
    if dim == "height":
        return view.size[i][1]
    sides = horizontal_sides(view, i)
    return dict(zip(sides[::2], sides[1::2])).get(dim)
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
class Size(_ObjectTask):
    description = "height, width and length (frontless) or depth (front to back) of an object's 3D box"

    def plan_view(self, view, rs, fmt, key):
        if not view.subjects:
            return _no_subject(view)
        i = rs.choice(view.subjects)
        sides = horizontal_sides(view, i)
        dim = rs.choice((sides[0], "height", sides[2]) if sides else ("height",))
        v = _size_value(view, i, dim)
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


# ---------------------------------------------------------------------- localization
CENTER_STEMS = (
    "Where is the center of {obj} in camera coordinates?",
    "Give the 3D position of the center of {obj} in the camera frame (x right, y down, z forward).",
    "What are the camera-frame coordinates of the center of {obj}?",
    "Locate {obj} in 3D: what is its center position relative to the camera?",
    "Estimate the 3D location (x, y, z) of {obj} with respect to the camera.",
)
CENTER_CLAIMS = (
    "the center of {obj} is at about {value} in camera coordinates",
    "{obj} is centered at roughly {value} relative to the camera",
    "in the camera frame, {obj} sits at approximately {value}",
)
BOX_STEMS = (
    "Give the 3D bounding box of {obj} in the camera frame (center, size and yaw).",
    "What is the oriented 3D box of {obj} relative to the camera?",
    "Describe the 3D box around {obj}: its center in camera coordinates, its width, height and length, "
    "and its yaw.",
    "Estimate the 3D bounding box (center, dimensions, heading) of {obj}.",
    "Output the camera-frame 3D box of {obj}.",
)
BOX_CLAIMS = (
    "the 3D box of {obj} is: {value}",
    "{obj} is enclosed by the 3D box {value}",
    "in camera coordinates, the bounding box of {obj} is {value}",
)


def _box_distractors(box: dict, draws, k: int) -> list[dict]:
    c, s, yaw = box["center"], box["size"], box["yaw"]
    n = math.sqrt(sum(v * v for v in c))
    cands = [
        {"center": [v * 1.5 for v in c], "size": s, "yaw": yaw},
        {"center": [v * 0.65 for v in c], "size": s, "yaw": yaw},
        {"center": c, "size": [v * 1.8 for v in s], "yaw": yaw},
        {"center": c, "size": [v * 0.5 for v in s], "yaw": yaw},
        {"center": [v * 1.3 for v in c], "size": [v * 1.4 for v in s], "yaw": yaw},
    ]
    if abs(c[0]) >= max(0.3, 0.2 * n):
        cands.append({"center": list(mirror_point3d(c)), "size": s, "yaw": wrap_yaw(-yaw)})
    if max(s[0], s[2]) >= 1.3 * min(s[0], s[2]):
        cands.append({"center": c, "size": s, "yaw": wrap_yaw(yaw + math.pi / 2)})
    return pick(cands, draws, k)  # each differs visibly (>= 30 % in centre or size, or a turn/flip)


@register_task("localization", level=1, ratio=0.0831)
class Localization(_ObjectTask):
    description = "3D position (box centre) or 3D box of an object in the camera frame"

    def plan_view(self, view, rs, fmt, key):
        if not view.subjects:
            return _no_subject(view)
        i = rs.choice(view.subjects)
        sub = "center" if rs.coin(0.6) else "box"
        stems, claims = (CENTER_STEMS, CENTER_CLAIMS) if sub == "center" else (BOX_STEMS, BOX_CLAIMS)
        return new_plan(rs, self.name, fmt, sub, (view.ids[i],), n_stems=len(stems), n_claims=len(claims),
                        unit=unit_for(rs.random(), view.dist[i], POINT_UNITS), key=key, hint=True)

    def realise_view(self, plan: Plan, view):
        i = view.idx(plan.objects[0])
        c = list(view.center_cam(i))
        slots = {"obj": view.ref(i)}
        if plan.sub == "center":
            def render(v):
                return format_point(v, plan.unit, plan.unit_long)

            return emit(plan, view, LEVEL, stems=CENTER_STEMS, claims=CENTER_CLAIMS, slots=slots, kind="point3d",
                        truth=c, render=render, distract=lambda k: point_distractors(c, plan.draws, k),
                        uses_unit=True)
        box = {"center": c, "size": list(view.size[i]), "yaw": view.yaw[i]}

        def render_box(b):
            return format_box(b["center"], b["size"], b["yaw"], plan.unit, plan.unit_long)

        return emit(plan, view, LEVEL, stems=BOX_STEMS, claims=BOX_CLAIMS, slots=slots, kind="box3d", truth=box,
                    render=render_box, distract=lambda k: _box_distractors(box, plan.draws, k),
                    uses_unit=True)
