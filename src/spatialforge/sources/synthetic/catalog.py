"""Object categories of the synthetic source: metric size ranges, colours, fronts, support.

Sizes are (w, l, h) in metres: w along the object's local x axis, l along local y and h
vertical, matching ``Box3D`` (whose ``size`` is ordered (w, h, l)).  Objects with a
natural front face their local +y axis.  Ranges follow common furniture and household
dimensions (e.g. tables 0.70-0.78 m high, chair seats ~0.45 m, mugs ~0.1 m).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

# Named colours as sRGB bytes; names become the ``color`` attribute and reference words.
COLORS: dict[str, tuple[int, int, int]] = {
    "red": (196, 36, 36),
    "orange": (236, 128, 28),
    "yellow": (238, 200, 40),
    "green": (46, 150, 62),
    "blue": (38, 88, 200),
    "purple": (124, 58, 168),
    "pink": (236, 126, 172),
    "brown": (120, 74, 40),
    "black": (34, 34, 36),
    "white": (236, 236, 230),
    "gray": (128, 130, 134),
}

Range = tuple[float, float]
Shape = Literal["box", "round", "sphere"]  # free (w, l, h); l == w; w == l == h


@dataclass(frozen=True)
class Category:
    name: str
    w: Range
    l: Range
    h: Range
    colors: tuple[str, ...]
    placement: Literal["floor", "surface"]
    has_front: bool = False
    shape: Shape = "box"
    supports: bool = False  # its top can carry surface objects
    weight: float = 1.0  # relative sampling frequency within its placement group

    def __post_init__(self) -> None:
        for axis, (lo, hi) in (("w", self.w), ("l", self.l), ("h", self.h)):
            if not 0 < lo <= hi:
                raise ValueError(f"category {self.name!r}: bad {axis} range ({lo}, {hi})")
        unknown = set(self.colors) - set(COLORS)
        if unknown or not self.colors:
            raise ValueError(f"category {self.name!r}: unknown colours {sorted(unknown)}")

    def sample_size(self, rng: np.random.Generator) -> tuple[float, float, float]:
        """(w, l, h) in metres, honouring the shape's equal sides."""
        w = float(rng.uniform(*self.w))
        l = w if self.shape in ("round", "sphere") else float(rng.uniform(*self.l))
        h = w if self.shape == "sphere" else float(rng.uniform(*self.h))
        return w, l, h


_ALL = tuple(COLORS)
_WOOD = ("brown", "white", "black", "gray")
_BRIGHT = ("red", "orange", "yellow", "green", "blue", "purple", "pink", "white", "black")

_CATEGORIES = (
    # -- floor objects
    Category("table", (0.90, 1.80), (0.60, 1.00), (0.70, 0.78), _WOOD, "floor", supports=True, weight=3),
    Category("chair", (0.42, 0.55), (0.45, 0.58), (0.80, 1.00),
             ("red", "blue", "green", "black", "white", "brown", "gray", "yellow", "orange"), "floor",
             has_front=True, weight=3),
    Category("sofa", (1.50, 2.30), (0.80, 1.00), (0.75, 0.95),
             ("red", "blue", "green", "gray", "brown", "black", "purple", "orange"), "floor",
             has_front=True, weight=1.5),
    Category("bed", (1.00, 1.80), (1.95, 2.20), (0.80, 1.10), ("white", "gray", "blue", "pink", "purple", "green"),
             "floor", has_front=True, weight=1),
    Category("shelf", (0.60, 1.20), (0.28, 0.40), (0.75, 1.90), _WOOD, "floor", has_front=True, supports=True,
             weight=1.5),
    Category("cabinet", (0.50, 1.20), (0.40, 0.60), (0.60, 1.00), _WOOD + ("blue", "green"), "floor",
             has_front=True, supports=True, weight=2),
    Category("lamp", (0.30, 0.45), (0.30, 0.45), (1.30, 1.70), ("white", "black", "red", "yellow", "blue", "orange"),
             "floor", shape="round"),
    Category("plant pot", (0.25, 0.50), (0.25, 0.50), (0.45, 1.10),
             ("red", "white", "black", "brown", "blue", "gray", "orange"), "floor", shape="round", weight=1.5),
    Category("box", (0.30, 0.60), (0.25, 0.50), (0.20, 0.50), ("brown", "white", "red", "blue", "green", "yellow"),
             "floor", weight=1.5),
    Category("ball", (0.16, 0.30), (0.16, 0.30), (0.16, 0.30), _BRIGHT, "floor", shape="sphere"),
    Category("backpack", (0.28, 0.36), (0.15, 0.25), (0.40, 0.52),
             ("red", "blue", "black", "green", "gray", "orange", "purple", "yellow"), "floor", has_front=True),
    Category("trash bin", (0.24, 0.36), (0.24, 0.36), (0.35, 0.65), ("gray", "black", "white", "blue", "green"),
             "floor", shape="round"),
    Category("stool", (0.30, 0.40), (0.30, 0.40), (0.45, 0.75), ("brown", "black", "white", "red", "gray"),
             "floor", shape="round", supports=True, weight=1.5),
    # -- surface (tabletop) objects
    Category("mug", (0.100, 0.125), (0.075, 0.090), (0.090, 0.110), _ALL, "surface", weight=2),
    Category("bottle", (0.060, 0.090), (0.060, 0.090), (0.20, 0.32), ("green", "blue", "white", "red", "brown"),
             "surface", shape="round", weight=2),
    Category("book", (0.14, 0.22), (0.20, 0.30), (0.015, 0.05), _BRIGHT, "surface", weight=2),
    Category("monitor", (0.48, 0.72), (0.15, 0.24), (0.35, 0.52), ("black", "white", "gray"), "surface",
             has_front=True),
    Category("laptop", (0.30, 0.38), (0.22, 0.28), (0.20, 0.25), ("gray", "black", "white"), "surface",
             has_front=True),
    Category("vase", (0.10, 0.20), (0.10, 0.20), (0.20, 0.40), _ALL, "surface", shape="round"),
    Category("bowl", (0.12, 0.22), (0.12, 0.22), (0.05, 0.09), _ALL, "surface", shape="round"),
)

CATEGORIES: dict[str, Category] = {c.name: c for c in _CATEGORIES}
# The scene record's ``Object3D.shape`` (what fills the box, seen from above) per category: round
# categories are built as solids of revolution or cylinders (meshes.py), the ball as a sphere;
# a mug is a cylinder plus a handle, a footprint that is neither a rectangle nor a disc.
_SCENE_SHAPES = {"round": "cylinder", "sphere": "sphere", "box": "box"}
_OTHER_FOOTPRINT = frozenset({"mug"})


def scene_shape(name: str) -> str:
    """``Object3D.shape`` of a synthetic object of category ``name``."""
    return "other" if name in _OTHER_FOOTPRINT else _SCENE_SHAPES[category(name).shape]
FLOOR_CATEGORIES: tuple[str, ...] = tuple(c.name for c in _CATEGORIES if c.placement == "floor")
SURFACE_CATEGORIES: tuple[str, ...] = tuple(c.name for c in _CATEGORIES if c.placement == "surface")
SUPPORT_CATEGORIES: tuple[str, ...] = tuple(c.name for c in _CATEGORIES if c.supports)
# Desk-only items: a monitor or laptop on a stool or bookshelf top looks wrong.
SURFACE_RULES: dict[str, tuple[str, ...]] = {
    "monitor": ("table", "cabinet"),
    "laptop": ("table", "cabinet"),
}
MAX_SUPPORT_TOP = 1.25  # metres above the floor: higher tops are not used as supports


def category(name: str) -> Category:
    try:
        return CATEGORIES[name]
    except KeyError:
        raise KeyError(f"unknown synthetic category {name!r}; valid: {', '.join(CATEGORIES)}") from None


def allowed_on(item: str, support: str) -> bool:
    return support in SURFACE_RULES.get(item, SUPPORT_CATEGORIES)


def srgb_to_linear(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    """pyrender's shader treats material colours as linear and encodes its output with
    gamma 1/2.2, so raising to 2.2 makes a fully lit face show the named colour."""
    c = np.asarray(rgb, dtype=float) / 255.0
    return tuple(float(v) for v in c**2.2)
