"""Simple procedural meshes per category, each fitted exactly to its ground-truth box.

Builders work in the object's local frame (x = width, y = length, front towards +y,
z up from the floor at 0) with the sampled size in metres.  ``object_parts`` then maps the
union of all parts affinely onto [-w/2, w/2] x [-l/2, l/2] x [-h/2, h/2], so the object's
tight gravity-aligned box is its ``Box3D`` exactly, whatever the tessellation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Union

from ...extras import require

require("render", "synthetic scene meshes")  # name the extra, not just the missing module
import numpy as np  # noqa: E402
import trimesh  # noqa: E402

from .catalog import COLORS

Color = Union[str, tuple[int, int, int]]  # "main" = the object's colour attribute, else sRGB bytes

_DARK = (48, 48, 52)
_METAL = (170, 172, 178)
_WOOD = (112, 76, 48)
_LINEN = (238, 236, 228)
_SCREEN = (18, 26, 44)
_LEAF = (58, 128, 52)


@dataclass(frozen=True)
class Part:
    """One coloured piece of an object's mesh (local frame, metres)."""

    vertices: np.ndarray  # (V, 3) float64
    faces: np.ndarray  # (F, 3) int64
    color: tuple[int, int, int]  # sRGB bytes
    smooth: bool  # smooth normals (curved surfaces) or flat faces


@dataclass(frozen=True)
class _Raw:
    mesh: trimesh.Trimesh
    color: Color
    shade: float = 1.0  # multiplies the colour: darker legs, lighter doors
    smooth: bool = False


# --------------------------------------------------------------------------- primitives
def _box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> trimesh.Trimesh:
    t = np.eye(4)
    t[:3, 3] = ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2)
    return trimesh.creation.box(extents=(x1 - x0, y1 - y0, z1 - z0), transform=t)


def _cyl(r: float, z0: float, z1: float, x: float = 0.0, y: float = 0.0, sections: int = 32) -> trimesh.Trimesh:
    t = np.eye(4)
    t[:3, 3] = (x, y, (z0 + z1) / 2)
    return trimesh.creation.cylinder(radius=r, height=z1 - z0, sections=sections, transform=t)


def _revolve(profile: list[tuple[float, float]], sections: int = 32) -> trimesh.Trimesh:
    """Solid of revolution of (radius, z) points running from the axis at the bottom, outwards
    and up, back to the axis (that order gives outward normals)."""
    m = trimesh.creation.revolve(np.asarray(profile, dtype=float), sections=sections)
    if m.volume < 0:
        m.invert()
    return m


def _ellipsoid(rx: float, ry: float, rz: float, z: float) -> trimesh.Trimesh:
    m = trimesh.creation.uv_sphere(radius=1.0, count=[16, 16])
    m.apply_transform(np.diag([rx, ry, rz, 1.0]))
    m.apply_translation((0.0, 0.0, z))
    return m


def _legs(w: float, l: float, z1: float, t: float, inset: float) -> list[trimesh.Trimesh]:
    xs = (-w / 2 + inset, w / 2 - inset - t)
    ys = (-l / 2 + inset, l / 2 - inset - t)
    return [_box(x, x + t, y, y + t, 0.0, z1) for x in xs for y in ys]


# --------------------------------------------------------------------------- builders
def _table(w, l, h, rng):
    top = 0.04
    return [_Raw(_box(-w / 2, w / 2, -l / 2, l / 2, h - top, h), "main")] + [
        _Raw(m, "main", 0.7) for m in _legs(w, l, h - top, 0.05, 0.04)
    ]


def _chair(w, l, h, rng):
    seat = min(0.47, 0.52 * h)
    return [
        _Raw(_box(-w / 2, w / 2, -l / 2, l / 2, seat - 0.05, seat), "main"),
        _Raw(_box(-w / 2, w / 2, -l / 2, -l / 2 + 0.05, seat, h), "main", 0.85),
    ] + [_Raw(m, _DARK) for m in _legs(w, l, seat - 0.05, 0.035, 0.0)]


def _sofa(w, l, h, rng):
    arm, back, feet, seat = 0.16, 0.22, 0.08, 0.44
    parts = [
        _Raw(_box(-w / 2 + arm, w / 2 - arm, -l / 2 + back, l / 2, feet, seat), "main"),
        _Raw(_box(-w / 2, w / 2, -l / 2, -l / 2 + back, feet, h), "main", 0.85),
        _Raw(_box(-w / 2, -w / 2 + arm, -l / 2, l / 2, feet, seat + 0.2), "main", 0.9),
        _Raw(_box(w / 2 - arm, w / 2, -l / 2, l / 2, feet, seat + 0.2), "main", 0.9),
    ]
    return parts + [_Raw(m, _DARK) for m in _legs(w, l, feet, 0.05, 0.03)]


def _bed(w, l, h, rng):
    head = 0.06
    return [
        _Raw(_box(-w / 2, w / 2, -l / 2 + head, l / 2, 0.0, 0.30), _WOOD),
        _Raw(_box(-w / 2 + 0.02, w / 2 - 0.02, -l / 2 + head, l / 2 - 0.02, 0.30, 0.50), _LINEN),
        _Raw(_box(-w / 2, w / 2, -l / 2 + 0.55, l / 2, 0.30, 0.56), "main"),  # blanket
        _Raw(_box(-w / 2 + 0.12, w / 2 - 0.12, -l / 2 + 0.12, -l / 2 + 0.45, 0.50, 0.62), _LINEN),
        _Raw(_box(-w / 2, w / 2, -l / 2, -l / 2 + head, 0.0, h), _WOOD, 0.85),
    ]


def _shelf(w, l, h, rng):
    t = 0.03
    parts = [
        _Raw(_box(-w / 2, -w / 2 + t, -l / 2, l / 2, 0.0, h), "main"),
        _Raw(_box(w / 2 - t, w / 2, -l / 2, l / 2, 0.0, h), "main"),
        _Raw(_box(-w / 2 + t, w / 2 - t, -l / 2, -l / 2 + 0.015, 0.0, h), "main", 0.75),
        _Raw(_box(-w / 2 + t, w / 2 - t, -l / 2, l / 2, h - t, h), "main"),
    ]
    levels = max(1, int(h / 0.36))
    names = list(COLORS)
    for k in range(levels):
        z0 = k * (h - t) / levels
        parts.append(_Raw(_box(-w / 2 + t, w / 2 - t, -l / 2, l / 2, z0, z0 + t), "main"))
        # a row of books on most levels makes the shelf readable as a bookshelf
        x = -w / 2 + t + 0.01
        while rng.random() < 0.85 and x < w / 2 - t - 0.06:
            bw = float(rng.uniform(0.02, 0.05))
            bh = min(float(rng.uniform(0.16, 0.26)), (h - t) / levels - t - 0.02)
            if bh > 0.05:
                color = COLORS[names[int(rng.integers(len(names)))]]
                parts.append(_Raw(_box(x, x + bw, -l / 2 + 0.03, l / 2 - 0.04, z0 + t, z0 + t + bh), color))
            x += bw + 0.002
    return parts


def _cabinet(w, l, h, rng):
    plinth, gap = 0.06, 0.008
    parts = [
        _Raw(_box(-w / 2 + 0.02, w / 2 - 0.02, -l / 2, l / 2 - 0.04, 0.0, plinth), _DARK),
        _Raw(_box(-w / 2, w / 2, -l / 2, l / 2 - 0.02, plinth, h), "main", 0.85),
    ]
    doors = 2 if w > 0.7 else 1
    dw = (w - 0.04 - gap * (doors - 1)) / doors
    for k in range(doors):
        x0 = -w / 2 + 0.02 + k * (dw + gap)
        parts.append(_Raw(_box(x0, x0 + dw, l / 2 - 0.02, l / 2 - 0.005, plinth + 0.02, h - 0.03), "main", 1.1))
        hx = x0 + dw - 0.05 if k == 0 else x0 + 0.03
        parts.append(_Raw(_box(hx, hx + 0.02, l / 2 - 0.005, l / 2, h - 0.25, h - 0.1), _METAL))
    return parts


def _lamp(w, l, h, rng):
    r = w / 2
    return [
        _Raw(_cyl(0.35 * r, 0.0, 0.03), _DARK),
        _Raw(_cyl(0.015, 0.03, h - 0.3, sections=12), _DARK),
        _Raw(_revolve([(0, h - 0.42), (r, h - 0.42), (0.62 * r, h), (0, h)]), "main", smooth=True),
    ]


def _plant_pot(w, l, h, rng):
    r = w / 2
    pot = min(0.45 * h, 0.4)
    rz = (h - 0.7 * pot) / 2
    return [
        _Raw(_revolve([(0, 0), (0.62 * r, 0), (0.8 * r, pot), (0, pot)]), "main", smooth=False),
        _Raw(_ellipsoid(r, r, rz, h - rz), _LEAF, smooth=True),
    ]


def _box_obj(w, l, h, rng):
    return [
        _Raw(_box(-w / 2, w / 2, -l / 2, l / 2, 0.0, h - 0.002), "main"),
        _Raw(_box(-0.03, 0.03, -l / 2, l / 2, h - 0.002, h), (200, 190, 150)),  # tape
    ]


def _ball(w, l, h, rng):
    return [_Raw(_ellipsoid(w / 2, w / 2, w / 2, w / 2), "main", smooth=True)]


def _backpack(w, l, h, rng):
    return [
        _Raw(_box(-w / 2, w / 2, -l / 2 + 0.015, l / 2 - 0.05, 0.0, 0.9 * h), "main"),
        _Raw(_box(-w / 2 + 0.03, w / 2 - 0.03, -l / 2 + 0.03, l / 2 - 0.07, 0.9 * h, h), "main", 0.9),
        _Raw(_box(-w / 2 + 0.05, w / 2 - 0.05, l / 2 - 0.05, l / 2, 0.05, 0.5 * h), "main", 0.75),
        _Raw(_box(-w / 2 + 0.05, -w / 2 + 0.09, -l / 2, -l / 2 + 0.015, 0.1, 0.8 * h), _DARK),
        _Raw(_box(w / 2 - 0.09, w / 2 - 0.05, -l / 2, -l / 2 + 0.015, 0.1, 0.8 * h), _DARK),
    ]


def _trash_bin(w, l, h, rng):
    r = w / 2
    return [
        _Raw(_revolve([(0, 0), (0.82 * r, 0), (0.97 * r, h - 0.03), (0, h - 0.03)]), "main"),
        _Raw(_cyl(r, h - 0.03, h), "main", 0.7),
    ]


def _stool(w, l, h, rng):
    r = w / 2
    leg = 0.035
    s = 0.55 * r
    return [_Raw(_cyl(r, h - 0.04, h), "main")] + [
        _Raw(_box(x - leg / 2, x + leg / 2, y - leg / 2, y + leg / 2, 0.0, h - 0.04), "main", 0.7)
        for x in (-s, s) for y in (-s, s)
    ]


def _mug(w, l, h, rng):
    r = l / 2
    x = -w / 2 + r
    x1 = w / 2
    return [
        _Raw(_cyl(r, 0.0, h - 0.002, x=x), "main"),
        _Raw(_cyl(r - 0.006, h - 0.002, h, x=x), (60, 36, 24)),  # coffee
        _Raw(_box(x + r - 0.004, x1, -0.006, 0.006, 0.72 * h, 0.8 * h), "main"),
        _Raw(_box(x + r - 0.004, x1, -0.006, 0.006, 0.22 * h, 0.3 * h), "main"),
        _Raw(_box(x1 - 0.008, x1, -0.006, 0.006, 0.22 * h, 0.8 * h), "main"),
    ]


def _bottle(w, l, h, rng):
    r = w / 2
    return [
        _Raw(_revolve([(0, 0), (r, 0), (r, 0.62 * h), (0.36 * r, 0.8 * h), (0.36 * r, 0.92 * h), (0, 0.92 * h)]),
             "main", smooth=True),
        _Raw(_cyl(0.4 * r, 0.92 * h, h, sections=16), _DARK),
    ]


def _book(w, l, h, rng):
    c = 0.12 * h
    return [
        _Raw(_box(-w / 2, w / 2, -l / 2, l / 2, 0.0, c), "main"),
        _Raw(_box(-w / 2, w / 2, -l / 2, l / 2, h - c, h), "main"),
        _Raw(_box(-w / 2, -w / 2 + 0.008, -l / 2, l / 2, c, h - c), "main", 0.8),
        _Raw(_box(-w / 2 + 0.008, w / 2 - 0.004, -l / 2 + 0.004, l / 2 - 0.004, c, h - c), _LINEN),
    ]


def _monitor(w, l, h, rng):
    base = min(0.24, 0.45 * w)
    panel_z0 = 0.28 * h
    return [
        _Raw(_box(-base / 2, base / 2, -l / 2, l / 2, 0.0, 0.015), _DARK),
        _Raw(_box(-0.025, 0.025, -0.05, -0.02, 0.015, panel_z0 + 0.05), _DARK),
        _Raw(_box(-w / 2, w / 2, -0.02, 0.01, panel_z0, h), "main"),
        _Raw(_box(-w / 2 + 0.015, w / 2 - 0.015, 0.01, 0.013, panel_z0 + 0.02, h - 0.015), _SCREEN),
    ]


def _laptop(w, l, h, rng):
    t = 0.018
    return [
        _Raw(_box(-w / 2, w / 2, -l / 2, l / 2, 0.0, t), "main"),
        _Raw(_box(-w / 2 + 0.02, w / 2 - 0.02, -l / 2 + 0.03, l / 2 - 0.07, t, t + 0.002), _DARK),  # keyboard
        _Raw(_box(-w / 2, w / 2, -l / 2, -l / 2 + 0.01, t, h), "main", 0.9),
        _Raw(_box(-w / 2 + 0.015, w / 2 - 0.015, -l / 2 + 0.01, -l / 2 + 0.012, t + 0.015, h - 0.012), _SCREEN),
    ]


def _vase(w, l, h, rng):
    r = w / 2
    profile = [(0, 0), (0.6 * r, 0), (r, 0.38 * h), (0.85 * r, 0.65 * h), (0.42 * r, 0.86 * h), (0.55 * r, h), (0, h)]
    return [_Raw(_revolve(profile), "main", smooth=True)]


def _bowl(w, l, h, rng):
    r = w / 2
    profile = [(0, 0), (0.5 * r, 0), (r, h), (0.9 * r, h), (0.45 * r, 0.3 * h), (0, 0.3 * h)]
    return [_Raw(_revolve(profile, sections=40), "main")]


BUILDERS: dict[str, Callable[..., list[_Raw]]] = {
    "table": _table, "chair": _chair, "sofa": _sofa, "bed": _bed, "shelf": _shelf, "cabinet": _cabinet,
    "lamp": _lamp, "plant pot": _plant_pot, "box": _box_obj, "ball": _ball, "backpack": _backpack,
    "trash bin": _trash_bin, "stool": _stool, "mug": _mug, "bottle": _bottle, "book": _book,
    "monitor": _monitor, "laptop": _laptop, "vase": _vase, "bowl": _bowl,
}


def _shade(rgb: tuple[int, int, int], factor: float) -> tuple[int, int, int]:
    return tuple(int(v) for v in np.clip(np.round(np.asarray(rgb, float) * factor), 0, 255))  # type: ignore[return-value]


def object_parts(category: str, size: tuple[float, float, float], color: str,
                 rng: np.random.Generator) -> list[Part]:
    """Coloured parts of one object, centred on its box: exact bounds ±(w, l, h)/2.

    ``size`` is (w, l, h) in metres; ``rng`` drives decorative detail only (books on a shelf).
    """
    if category not in BUILDERS:
        raise KeyError(f"no mesh builder for category {category!r}; valid: {', '.join(BUILDERS)}")
    w, l, h = size
    raws = BUILDERS[category](w, l, h, rng)
    lo = np.min([r.mesh.bounds[0] for r in raws], axis=0)
    hi = np.max([r.mesh.bounds[1] for r in raws], axis=0)
    # Affine fit of the union onto the exact box: builders need only be approximately right.
    target = np.array([w, l, h])
    scale = target / (hi - lo)
    offset = -(lo + hi) / 2 * scale
    main = COLORS[color]
    parts = []
    for r in raws:
        base = main if isinstance(r.color, str) else r.color
        v = np.asarray(r.mesh.vertices, dtype=float) * scale + offset
        v = np.clip(v, -target / 2, target / 2)  # clip float rounding so bounds are exact
        parts.append(Part(v, np.asarray(r.mesh.faces, dtype=np.int64), _shade(base, r.shade), r.smooth))
    return parts
