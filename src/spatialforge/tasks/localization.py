"""Localization (level 1, object-level; HiSpatial 3.1): the box centre in the camera frame
(``point3d``), or the whole box (``box3d``: camera-frame centre, size (w, h, l), yaw about the
vertical relative to the camera's heading, in [-90, 90) degrees since a box's yaw is undirected).
"""

from __future__ import annotations

import math

from ..mirror import mirror_point3d
from ..scene import wrap_yaw
from .formats import emit, new_plan, point_distractors
from .language import POINT_UNITS, format_box, format_point, unit_for
from .object_task import ObjectTask
from .plan import Plan, pick
from .registry import register_task

LEVEL = 1

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
class Localization(ObjectTask):
    description = "3D position (box centre) or 3D box of an object in the camera frame"

    def _plan_object(self, view, i, rs, fmt, key):
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
