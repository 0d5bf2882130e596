"""Spatial relations computed from a ``SceneView`` — the single definition of each.

Every function returns ``None`` when the relation is degenerate (inside a threshold band of
``thresholds.py``), so no question is asked about it.

* left/right: camera-frame x of the centres (viewer's left/right, ``docs/conventions.md``),
  |dx| >= 0.10 m, and the projected centres must be in the same order in the image;
* front/behind: "in front of" = nearer the camera, asked only when the centres' camera-frame z
  (depth) and their distances from the camera agree, each differing by >= 0.15 m (the
  nearness rule, ``clearly_nearer``: an answer must hold whichever the reader means);
* above/below: world z (gravity) of the centres, |dh| >= 0.15 m;
* facing (an object with a front, from the camera's view): the horizontal front compared with
  the line of sight from the camera to the object's centre: within 35 deg of pointing back at
  the camera -> "toward", within 35 deg of pointing along the line of sight -> "away", within
  35 deg of the line of sight's right/left perpendicular -> "right"/"left" (the viewer's);
  a front more than 44 deg above/below the horizontal -> "up"/"down";
* relative orientation of two fronts: angle <= 30 same, 60-120 perpendicular, >= 150 opposite;
* egocentric (perspective taking): in the horizontal plane, an observer at ``o`` facing unit
  ``d``; lateral offset along the observer's right ``r = (d_y, -d_x)``.
"""

from __future__ import annotations

import math

from . import thresholds


def left_right(view, a: int, b: int) -> str | None:
    """'left' if a is to the left of b (viewer's), 'right', or None."""
    dx = view.x_cam[a] - view.x_cam[b]
    dt = (view.t[a] - view.t[b]) * view.fx
    if abs(dx) < thresholds.LR_MIN or abs(dt) < thresholds.LR_MIN_IMAGE * view.W or (dx < 0) != (dt < 0):
        return None
    return "left" if dx < 0 else "right"


def clearly_nearer(view, i: int, j: int, abs_min: float, rel: float = 0.0) -> bool:
    """Object i is clearly nearer the camera than j: by z-depth *and* by distance from the
    camera centre, each by >= max(abs_min, rel x i's value).  Every question or reference that
    orders objects by nearness uses this, so "closer" is right in either reading."""
    zi, zj, di, dj = view.z_cam[i], view.z_cam[j], view.dist[i], view.dist[j]
    return zj - zi >= max(abs_min, rel * zi) and dj - di >= max(abs_min, rel * di)


def front_behind(view, a: int, b: int) -> str | None:
    if clearly_nearer(view, a, b, thresholds.FB_MIN):
        return "front"
    if clearly_nearer(view, b, a, thresholds.FB_MIN):
        return "behind"
    return None


def above_below(view, a: int, b: int) -> str | None:
    dh = view.z_world[a] - view.z_world[b]
    if abs(dh) < thresholds.AB_MIN:
        return None
    return "above" if dh > 0 else "below"


RELATIONS = {"left_right": left_right, "front_behind": front_behind, "above_below": above_below}


def direction_vector(view, a: int, b: int) -> list[float] | None:
    """Unit vector from a's centre to b's centre, camera frame."""
    d = [view.x_cam[b] - view.x_cam[a], view.y_cam[b] - view.y_cam[a], view.z_cam[b] - view.z_cam[a]]
    n = math.sqrt(d[0] ** 2 + d[1] ** 2 + d[2] ** 2)
    if n < thresholds.MIN_VECTOR:
        return None
    return [d[0] / n, d[1] / n, d[2] / n]


def facing(view, i: int) -> str | None:
    """How object i faces, seen from the camera (see module docstring)."""
    f = view.front_w[i]
    if f is None:
        return None
    if abs(f[2]) >= thresholds.FRONT_VERTICAL:
        return "up" if f[2] > 0 else "down"
    if abs(f[2]) > thresholds.FRONT_LEVEL:
        return None
    h = math.hypot(f[0], f[1])
    fx, fy = f[0] / h, f[1] / h
    dn = math.hypot(view.x_world[i], view.y_world[i])
    if dn < 1e-6:
        return None
    dx, dy = view.x_world[i] / dn, view.y_world[i] / dn  # line of sight camera -> object (horizontal)
    along = fx * dx + fy * dy
    side = fx * dy - fy * dx  # component along the viewer's right (dy, -dx)
    ang = math.degrees(math.atan2(side, -along))  # 0 = pointing at the camera, +90 = viewer's right
    a = abs(ang)
    m = thresholds.FACING_MARGIN
    if a <= 45 - m:
        return "toward"
    if a >= 135 + m:
        return "away"
    if 45 + m <= a <= 135 - m:
        return "right" if ang > 0 else "left"
    return None


def front_angle(view, a: int, b: int) -> float | None:
    fa, fb = view.front_w[a], view.front_w[b]
    if fa is None or fb is None:
        return None
    d = max(-1.0, min(1.0, fa[0] * fb[0] + fa[1] * fb[1] + fa[2] * fb[2]))
    return math.degrees(math.acos(d))


def orientation_relation(view, a: int, b: int) -> str | None:
    ang = front_angle(view, a, b)
    if ang is None:
        return None
    if ang <= thresholds.SAME_MAX:
        return "same"
    if thresholds.PERP_MIN <= ang <= thresholds.PERP_MAX:
        return "perpendicular"
    if ang >= thresholds.OPPOSITE_MIN:
        return "opposite"
    return None


def observer_frame(view, obs: int, toward: int | None) -> tuple[float, float, float, float] | None:
    """(ox, oy, dx, dy): observer position and unit facing in the horizontal world plane; facing
    ``toward`` another object, or the observer object's own front when ``toward`` is None."""
    ox, oy = view.x_world[obs], view.y_world[obs]
    if toward is None:
        h = view.horizontal_front(obs)
        if h is None:
            return None
        return ox, oy, h[0], h[1]
    dx, dy = view.x_world[toward] - ox, view.y_world[toward] - oy
    n = math.hypot(dx, dy)
    if n < thresholds.MIN_BASELINE:
        return None
    return ox, oy, dx / n, dy / n


def egocentric(view, frame: tuple[float, float, float, float], k: int) -> tuple[float, float] | None:
    """(lateral, forward) offset of object k's centre in the observer's frame (metres)."""
    ox, oy, dx, dy = frame
    px, py = view.x_world[k] - ox, view.y_world[k] - oy
    if math.hypot(px, py) < thresholds.MIN_BASELINE:
        return None
    return px * dy - py * dx, px * dx + py * dy


def ego_left_right(off: tuple[float, float]) -> str | None:
    side, fwd = off
    min_angle = math.radians(thresholds.SIDE_MIN_ANGLE)
    if abs(side) < thresholds.SIDE_MIN or abs(side) < math.hypot(side, fwd) * math.sin(min_angle):
        return None
    return "right" if side > 0 else "left"


def ego_front_behind(off: tuple[float, float]) -> str | None:
    side, fwd = off
    if abs(fwd) < thresholds.SIDE_MIN:
        return None
    return "front" if fwd > 0 else "behind"


def clock_hour(off: tuple[float, float]) -> int | None:
    """1..12, 12 = straight ahead, 3 = right; None near a sector boundary."""
    side, fwd = off
    ang = math.degrees(math.atan2(side, fwd)) % 360.0  # clockwise from ahead
    hour = round(ang / 30.0)
    if abs(ang - hour * 30.0) > 15.0 - thresholds.CLOCK_MARGIN:
        return None
    hour %= 12
    return 12 if hour == 0 else hour


def horizontal_distance(view, a: int, b: int) -> float:
    return math.hypot(view.x_world[a] - view.x_world[b], view.y_world[a] - view.y_world[b])


def distance3d(view, a: int, b: int) -> float:
    return math.sqrt((view.x_cam[a] - view.x_cam[b]) ** 2 + (view.y_cam[a] - view.y_cam[b]) ** 2 + (view.z_cam[a] - view.z_cam[b]) ** 2)


# Reference keys (references.py) that already state the answer of a relation between two objects
# of the same category: "the leftmost chair" is left of every other chair.
LEAK_KEYS = {"left_right": ("left",), "front_behind": ("near",), "above_below": ("high",), "distance": ("near",),
             "size": ("big", "tall")}


def leaks(view, objs, keys) -> bool:
    """True if two objects of the same category are in ``objs`` and one of them is referred to
    by an ordering on one of ``keys`` (the reference would give the answer away)."""
    if not keys:
        return False
    for k, i in enumerate(objs):
        for j in objs[k + 1:]:
            if view.cat[i] == view.cat[j]:
                ri, rj = view.refs[i], view.refs[j]
                if (ri is not None and ri.kind in ("extreme", "ordinal") and ri.key in keys) or \
                   (rj is not None and rj.kind in ("extreme", "ordinal") and rj.key in keys):
                    return True
    return False
