"""Level 0 point query (HiSpatial 3.1): the metric camera-frame 3D point seen at a pixel,
from the scene's measured depth (shared pixel-task helpers: ``pixel_task.py``)."""

from __future__ import annotations

from .formats import emit, new_plan, point_distractors
from .language import POINT_UNITS, format_point, unit_for
from .pixel_task import LEVEL, PixelTask, pixel_text, sample_pixel, valid_z
from .plan import Plan, Skip
from .registry import register_task


POINT_STEMS = (
    "What are the 3D coordinates of the point at pixel {p} in the camera frame?",
    "Give the camera-frame position (x right, y down, z forward) of the surface seen at pixel {p}.",
    "In camera coordinates, where is the point shown at image location {p}?",
    "Estimate the metric 3D location of pixel {p} relative to the camera (x right, y down, z forward).",
    "The pixel at x={u}, y={v} shows a surface point. What are its (x, y, z) coordinates in the camera "
    "coordinate system?",
    "Back-project pixel {p} into 3D: what is the point's position in the camera frame?",
)
POINT_CLAIMS = (
    "the surface point at pixel {p} lies at about {value} in camera coordinates",
    "pixel {p} shows a point whose camera-frame position is roughly {value}",
    "back-projected into 3D, pixel {p} is at approximately {value} (x right, y down, z forward)",
)


@register_task("point_query", level=0, ratio=0.1051)
class PointQuery(PixelTask):
    description = "metric xyz (camera frame) of a pixel with measured depth"

    def _plan_pixels(self, view, rs, fmt, key):
        hit = sample_pixel(view, rs)
        if hit is None:
            return Skip("no valid pixel found")
        col, row, z = hit
        unit = unit_for(rs.random(), z, POINT_UNITS)
        return new_plan(rs, self.name, fmt, "point", n_stems=len(POINT_STEMS), n_claims=len(POINT_CLAIMS),
                        unit=unit, pixels=((col, row),), key=key, hint=True)

    def realise_view(self, plan: Plan, view):
        (col, row), = plan.pixels
        z = valid_z(view, col, row)
        p = list(view.unproject(col, row, z))

        def render(v):
            return format_point(v, plan.unit, plan.unit_long)

        return emit(plan, view, LEVEL, stems=POINT_STEMS, claims=POINT_CLAIMS,
                    slots={"p": pixel_text((col, row)), "u": col, "v": row}, kind="point3d", truth=p, render=render,
                    distract=lambda k: point_distractors(p, plan.draws, k), uses_unit=True,
                    meta={"pixels": [[col, row]], "depth": z})
