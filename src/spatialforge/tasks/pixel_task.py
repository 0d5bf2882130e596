"""Level 0 — basic geometric perception (HiSpatial 3.1): what the pixel tasks share
(``point_query.py``, ``depth_order.py``).

Both read the scene's metric depth map (z-depth, metres), so every answer is a measured
3D point; scenes without a depth map are skipped (a point on a box surface is not exact).
Pixels are written as integer (x, y) = (column, row) from the top-left corner; the 3D point
is that pixel's centre back-projected (``pinhole.unproject_pixel``; camera frame, OpenCV:
x right, y down, z forward).
"""

from __future__ import annotations

from abc import abstractmethod

from ..scene import SceneError
from .plan import RealiseError, Skip, Stream
from .registry import Task


LEVEL = 0
NO_DEPTH = "scene has no depth or point map: pixel-level questions need measured depth"


def depth_skip(view) -> Skip | None:
    if not view.has_depth:
        return Skip(NO_DEPTH, permanent=True)
    try:
        any_valid = view.has_valid_depth()
    except SceneError as e:  # missing or unreadable depth file
        return Skip(f"depth map unusable: {e}", permanent=True)
    if not any_valid:
        return Skip("depth map has no valid pixel", permanent=True)
    return None


def sample_pixel(view, rs: Stream) -> tuple[int, int, float] | None:
    """A valid pixel: half the time inside a random object's 2D box, else anywhere valid."""
    if view.boxed and rs.coin():
        x0, y0, x1, y1 = view.scene.objects[rs.choice(view.boxed)].box2d
        c0, c1 = max(int(x0), 0), min(int(x1), view.W)
        r0, r1 = max(int(y0), 0), min(int(y1), view.H)
        if c1 > c0 and r1 > r0:
            col, row = c0 + rs.randint(c1 - c0), r0 + rs.randint(r1 - r0)
            z = view.depth_at(col, row)
            if z > 0 and z == z and z != float("inf"):
                return col, row, z
    hit = view.valid_pixel(rs)
    return None if hit is None else (*hit, view.depth_at(*hit))


def pixel_text(p: tuple[int, int]) -> str:
    return f"({p[0]}, {p[1]})"


def valid_z(view, col: int, row: int) -> float:
    z = view.depth_at(col, row)
    if not (z > 0 and z != float("inf")):
        raise RealiseError(f"pixel ({col}, {row}) has no valid depth in this view")
    return z


class PixelTask(Task):
    """A task about marked pixels: it needs the scene's measured depth."""

    def unsupported(self, view):
        return None if view.has_depth else NO_DEPTH

    def plan_view(self, view, rs, fmt, key):
        return depth_skip(view) or self._plan_pixels(view, rs, fmt, key)

    @abstractmethod
    def _plan_pixels(self, view, rs, fmt, key):
        """The plan, on a view whose depth map has a valid pixel."""
