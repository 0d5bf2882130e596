"""Coordinates after a horizontal flip (conventions in :mod:`spatialforge.mirror`)."""

from __future__ import annotations

from typing import Any, Sequence


def mirror_hour(hour: int) -> int:
    """A clock direction after a horizontal flip: 3 <-> 9, 12 and 6 stay."""
    return (12 - hour) % 12 or 12


def mirror_x(x: float, width: float) -> float:
    """A continuous image x in ``[0, W]``: ``x -> W - x``."""
    return width - x


def mirror_col(col: int, width: int) -> int:
    """A pixel column index: ``col -> W - 1 - col`` (the same map on the pixel's centre)."""
    return width - 1 - col


def mirror_box2d(box: Sequence[float], width: float) -> tuple:
    """An (x0, y0, x1, y1) image box: the x edges swap and mirror, y stays."""
    return (width - box[2], box[1], width - box[0], box[3])


def mirror_box_xywh(box: Sequence[float], width: float) -> tuple:
    """An (x, y, w, h) image box (x, y its top-left corner): ``x -> W - x - w``; y, w, h stay."""
    return (width - box[0] - box[2], box[1], box[2], box[3])


def mirror_point2d(p: Sequence[float], width: float) -> tuple:
    """An (x, y) image point: ``x -> W - x``."""
    return (width - p[0], p[1])


def mirror_point3d(p: Sequence[float]) -> tuple:
    """A camera- or world-frame point or vector: ``x -> -x`` (x is the camera's right axis in both)."""
    return (-p[0], p[1], p[2])


def mirror_rotation(R: Sequence[Sequence[float]]) -> tuple:
    """A camera-to-world rotation seen through the flip, ``diag(-1,1,1) R diag(-1,1,1)``: sign
    flips only, so it stays exact (and an involution)."""
    (a, b, c), (d, e, f), (g, h, i) = R
    return ((a, -b, -c), (-d, e, f), (-g, h, i))


def mirror_box3d_answer(b: dict[str, Any]) -> dict[str, Any]:
    """A parsed 3D box answer ``{"center", "size", "yaw"}``: centre x negated, yaw negated."""
    return {"center": (-b["center"][0], *b["center"][1:]), "size": b["size"], "yaw": -float(b.get("yaw", 0.0))}
