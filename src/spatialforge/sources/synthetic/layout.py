"""Procedural layouts: a camera rig, a room (floor, optional walls) and placed objects.

Everything here is resolution-free: image positions are sampled as fractions of the
image, so one (seed, index) gives the same 3D scene at any size of the same aspect
ratio.  The world frame is the scene's (origin at the camera centre, z up, y forward);
the floor is the plane z = -rig.height.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...scene import Box3D, Camera
from .catalog import (CATEGORIES, FLOOR_CATEGORIES, MAX_SUPPORT_TOP, SURFACE_CATEGORIES,
                      allowed_on, category)

FLOOR_GAP = 0.05  # metres between floor footprints
SURFACE_GAP = 0.015  # between items on one support, and from its edge
MIN_DEPTH = 0.35  # every box corner stays this far in front of the camera plane
MAX_RANGE = 7.0  # horizontal distance of floor objects from the camera


class LayoutError(RuntimeError):
    """No acceptable layout was found; the message names the scene."""


@dataclass(frozen=True)
class CameraRig:
    height: float  # camera centre above the floor, metres
    pitch: float  # radians, positive looks down
    roll: float  # radians
    hfov: float  # horizontal field of view, radians
    aspect: float  # image height / width

    def rotation(self) -> np.ndarray:
        """R_world_cam.  Pitch turns about world x and roll about world y (forward), so the
        camera's x axis keeps no forward component: world x is camera right made level."""
        level = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
        a = -self.pitch
        rx = np.array([[1.0, 0.0, 0.0], [0.0, math.cos(a), -math.sin(a)], [0.0, math.sin(a), math.cos(a)]])
        b = self.roll
        ry = np.array([[math.cos(b), 0.0, math.sin(b)], [0.0, 1.0, 0.0], [-math.sin(b), 0.0, math.cos(b)]])
        return ry @ rx @ level

    def camera(self, width: int, height: int) -> Camera:
        f = width / (2.0 * math.tan(self.hfov / 2.0))
        return Camera(f, f, width / 2.0, height / 2.0, width, height, tuple(map(tuple, self.rotation().tolist())))

    def rays(self, ab: np.ndarray) -> np.ndarray:
        """(N, 2) image positions as fractions of (width, height) -> (N, 3) world directions."""
        ab = np.asarray(ab, dtype=float).reshape(-1, 2)
        t = math.tan(self.hfov / 2.0)
        cam = np.stack([(ab[:, 0] - 0.5) * 2 * t, (ab[:, 1] - 0.5) * 2 * t * self.aspect, np.ones(len(ab))], 1)
        return cam @ self.rotation().T

    def depth_of(self, points_world: np.ndarray) -> np.ndarray:
        """Camera-frame z of world points."""
        return np.asarray(points_world, dtype=float) @ self.rotation()[:, 2]


@dataclass(frozen=True)
class Room:
    xmin: float
    xmax: float
    ymin: float
    ymax: float
    floor_z: float
    wall_height: float
    walls: tuple[str, ...]  # subset of ("back", "left", "right")
    floor_colors: tuple[tuple[int, int, int], tuple[int, int, int]]  # checker tiles, sRGB
    wall_color: tuple[int, int, int]


@dataclass(frozen=True)
class PlacedObject:
    id: int
    category: str
    color: str
    size: tuple[float, float, float]  # (w, l, h) metres
    center: tuple[float, float, float]  # world
    heading: float  # radians: local +y (the front, if any) points to (-sin, cos, 0)
    support: int | None = None  # id of the object it stands on; None = floor

    @property
    def box3d(self) -> Box3D:
        w, l, h = self.size
        return Box3D(self.center, (w, h, l), self.heading)

    @property
    def front(self) -> tuple[float, float, float] | None:
        if not CATEGORIES[self.category].has_front:
            return None
        return (-math.sin(self.heading), math.cos(self.heading), 0.0)

    @property
    def top(self) -> float:
        return self.center[2] + self.size[2] / 2

    def pose(self) -> np.ndarray:
        """4x4 T_world_local."""
        c, s = math.cos(self.heading), math.sin(self.heading)
        T = np.eye(4)
        T[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
        T[:3, 3] = self.center
        return T

    def footprint(self) -> np.ndarray:
        return footprint(self.center[:2], self.size[0], self.size[1], self.heading)


@dataclass(frozen=True)
class Layout:
    rig: CameraRig
    room: Room
    objects: tuple[PlacedObject, ...]
    light_azimuth: float  # radians, world frame, direction the light comes from
    light_elevation: float  # radians above the horizon
    detail_seed: int  # decorative mesh detail (books on shelves): a function of the layout alone


# --------------------------------------------------------------------------- footprints
def footprint(center_xy, w: float, l: float, heading: float) -> np.ndarray:
    """(4, 2) corners of a (w, l) rectangle turned by ``heading``, in order around it."""
    c, s = math.cos(heading), math.sin(heading)
    local = np.array([[-w, -l], [w, -l], [w, l], [-w, l]]) / 2
    return local @ np.array([[c, s], [-s, c]]) + np.asarray(center_xy, dtype=float)[:2]


def footprints_overlap(a: np.ndarray, others: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Separating-axis test of rectangle ``a`` (4, 2) against ``others`` (N, 4, 2): (N,) bool,
    True where they overlap or come closer than ``margin``."""
    others = np.asarray(others, dtype=float).reshape(-1, 4, 2)
    if not len(others):
        return np.zeros(0, dtype=bool)
    edges = np.concatenate([
        np.broadcast_to(np.stack([a[1] - a[0], a[3] - a[0]]), (len(others), 2, 2)),
        np.stack([others[:, 1] - others[:, 0], others[:, 3] - others[:, 0]], 1),
    ], 1)  # (N, 4, 2)
    axes = edges / np.linalg.norm(edges, axis=-1, keepdims=True)
    pa = np.einsum("cd,nkd->nkc", a, axes)  # (N, 4 axes, 4 corners)
    pb = np.einsum("ncd,nkd->nkc", others, axes)
    separated = (pa.max(-1) + margin < pb.min(-1)) | (pb.max(-1) + margin < pa.min(-1))
    return ~separated.any(-1)


# --------------------------------------------------------------------------- sampling
_FLOORS = (((200, 200, 196), (172, 172, 168)), ((206, 180, 146), (184, 156, 122)),
           ((176, 184, 194), (152, 160, 172)), ((214, 206, 190), (190, 180, 164)))
_WALLS = ((232, 228, 218), (214, 222, 230), (226, 214, 198), (222, 226, 214))
_WALL_FACING = {"back": -math.pi, "left": -math.pi / 2, "right": math.pi / 2}  # heading facing into the room


def sample_rig(rng: np.random.Generator, aspect: float) -> CameraRig:
    return CameraRig(
        height=float(rng.uniform(1.0, 1.8)),
        pitch=math.radians(rng.uniform(5.0, 35.0)),
        roll=math.radians(rng.uniform(-5.0, 5.0)),
        hfov=math.radians(rng.uniform(50.0, 90.0)),
        aspect=aspect,
    )


def sample_room(rng: np.random.Generator, rig: CameraRig) -> Room:
    walls = []
    ymax, xmin, xmax = 12.0, -12.0, 12.0
    if rng.random() < 0.75:
        walls.append("back")
        ymax = float(rng.uniform(4.0, 7.5))
    if rng.random() < 0.5:
        side = "left" if rng.random() < 0.5 else "right"
        walls.append(side)
        dist = float(rng.uniform(1.8, 3.5))
        xmin, xmax = (-dist, xmax) if side == "left" else (xmin, dist)
    floor = _FLOORS[int(rng.integers(len(_FLOORS)))]
    wall = _WALLS[int(rng.integers(len(_WALLS)))]
    return Room(xmin, xmax, -3.0, ymax, -rig.height, float(rng.uniform(2.6, 3.0)), tuple(walls), floor, wall)


def _fits_view(rig: CameraRig, obj: PlacedObject) -> bool:
    return bool(rig.depth_of(obj.box3d.corners()).min() >= MIN_DEPTH)


def _inside_room(room: Room, corners: np.ndarray, margin: float = 0.02) -> bool:
    return bool(corners[:, 0].min() >= room.xmin + margin and corners[:, 0].max() <= room.xmax - margin
                and corners[:, 1].max() <= room.ymax - margin)


def _pick_color(rng: np.random.Generator, name: str, placed: list[PlacedObject]) -> str:
    """A colour of the category not yet used by the same category, so "<colour> <category>"
    names one object in the scene (when the category has colours left)."""
    options = CATEGORIES[name].colors
    used = {o.color for o in placed if o.category == name}
    free = [c for c in options if c not in used] or list(options)
    return free[int(rng.integers(len(free)))]


def _choose(rng: np.random.Generator, names) -> str:
    weights = np.array([CATEGORIES[n].weight for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def _place_floor(rng, rig, room, name, placed, tries=30) -> PlacedObject | None:
    cat = category(name)
    color = _pick_color(rng, name, placed)
    size = cat.sample_size(rng)
    w, l, h = size
    existing = np.array([o.footprint() for o in placed if o.support is None]).reshape(-1, 4, 2)
    against_wall = cat.has_front and name in ("shelf", "cabinet", "bed", "sofa") and room.walls
    for _ in range(tries):
        if against_wall and rng.random() < 0.6:
            wall = room.walls[int(rng.integers(len(room.walls)))]
            heading = _WALL_FACING[wall]
            if wall == "back":
                y = room.ymax - l / 2 - 0.03
                half = y * math.tan(rig.hfov / 2) * 0.9
                xy = (float(rng.uniform(-half, half)), y)
            else:
                x = room.xmin + l / 2 + 0.03 if wall == "left" else room.xmax - l / 2 - 0.03
                xy = (x, float(rng.uniform(1.0, min(room.ymax, MAX_RANGE) - w / 2)))
        else:
            ray = rig.rays([[rng.uniform(0.08, 0.92), rng.uniform(0.45, 0.97)]])[0]
            heading = float(rng.uniform(-math.pi, math.pi))
            if ray[2] >= -1e-6:
                continue
            hit = ray * (room.floor_z / ray[2])
            xy = (float(hit[0]), float(hit[1]))
        if math.hypot(*xy) > MAX_RANGE:
            continue
        corners = footprint(xy, w, l, heading)
        if not _inside_room(room, corners) or footprints_overlap(corners, existing, FLOOR_GAP).any():
            continue
        obj = PlacedObject(len(placed), name, color, size, (xy[0], xy[1], room.floor_z + h / 2), heading)
        if _fits_view(rig, obj):
            return obj
    return None


def _place_surface(rng, rig, room, support: PlacedObject, placed, tries=15) -> PlacedObject | None:
    names = [n for n in SURFACE_CATEGORIES if allowed_on(n, support.category)]
    name = _choose(rng, names)
    cat = category(name)
    color = _pick_color(rng, name, placed)
    size = cat.sample_size(rng)
    w, l, h = size
    sw, sl = support.size[0] / 2 - SURFACE_GAP, support.size[1] / 2 - SURFACE_GAP
    siblings = np.array([o.footprint() for o in placed if o.support == support.id]).reshape(-1, 4, 2)
    c, s = math.cos(support.heading), math.sin(support.heading)
    to_world = np.array([[c, s], [-s, c]])  # rows: support local x, y in world
    if 2 * min(sw, sl) < min(w, l):
        return None  # cannot fit in any orientation
    for _ in range(tries):
        local = np.array([rng.uniform(-sw, sw), rng.uniform(-sl, sl)])
        xy = local @ to_world + np.asarray(support.center[:2])
        heading = float(rng.uniform(-math.pi, math.pi))
        corners = footprint(xy, w, l, heading)
        in_support = (corners - np.asarray(support.center[:2])) @ to_world.T
        if np.any(np.abs(in_support[:, 0]) > sw) or np.any(np.abs(in_support[:, 1]) > sl):
            continue
        if footprints_overlap(corners, siblings, SURFACE_GAP).any():
            continue
        obj = PlacedObject(len(placed), name, color, size, (float(xy[0]), float(xy[1]), support.top + h / 2),
                           heading, support.id)
        if _fits_view(rig, obj):
            return obj
    return None


def sample_layout(rng: np.random.Generator, aspect: float) -> Layout:
    """One layout attempt: 3-12 objects (fewer only if placement keeps failing)."""
    rig = sample_rig(rng, aspect)
    room = sample_room(rng, rig)
    target = int(rng.integers(3, 13))
    placed: list[PlacedObject] = []
    supports_first = rng.random() < 0.8  # most scenes get a table/cabinet/shelf/stool to put things on
    for step in range(3 * target):
        if len(placed) >= target:
            break
        supports = [o for o in placed if CATEGORIES[o.category].supports
                    and o.top - room.floor_z <= MAX_SUPPORT_TOP and o.support is None]
        if supports and rng.random() < 0.5:
            obj = _place_surface(rng, rig, room, supports[int(rng.integers(len(supports)))], placed)
        else:
            pool = FLOOR_CATEGORIES
            if step == 0 and supports_first:
                pool = tuple(n for n in FLOOR_CATEGORIES if CATEGORIES[n].supports)
            obj = _place_floor(rng, rig, room, _choose(rng, pool), placed)
        if obj is not None:
            placed.append(obj)
    azimuth = float(rng.uniform(-math.pi, math.pi))
    elevation = math.radians(float(rng.uniform(45.0, 70.0)))
    return Layout(rig, room, tuple(placed), azimuth, elevation, int(rng.integers(2**31)))


def references(objects: tuple[PlacedObject, ...]) -> dict[int, tuple[str, ...]]:
    """Per object: "<colour> <category>", plus the bare category when it is unique."""
    counts: dict[str, int] = {}
    for o in objects:
        counts[o.category] = counts.get(o.category, 0) + 1
    return {o.id: (f"{o.color} {o.category}",) + ((o.category,) if counts[o.category] == 1 else ())
            for o in objects}


__all__ = ["CameraRig", "Room", "PlacedObject", "Layout", "LayoutError", "sample_layout", "footprint",
           "footprints_overlap", "references"]
