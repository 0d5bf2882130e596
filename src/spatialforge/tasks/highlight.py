"""The fallback reference "the [class] highlighted by the [colour] box" (HiSpatial 3.2).

An object that may be asked about but has no unique referring expression is named by a
coloured 2D box drawn on the image (``references.assign_highlights`` picks the objects and
colours; this module holds the palette, the box of an object in a view, the record side
and the drawing):

* ``highlight_box(scene, i)`` — the usable 2D box of object ``i`` in the scene's own image
  (its ``box2d``, else its projected 3D box), clipped to the image, or None (also when a
  side is under ``min_side(W)``: too small to see inside its own outline).
* ``hidden_boxes(boxes, W, H)`` — candidates whose drawn outline would mostly lie under other
  candidates' outlines (> ``thresholds.HIGHLIGHT_MAX_COVERED`` of its pixels): not used.  A mirrored
  scene's box is computed on the unflipped scene and mirrored (``x -> W - x``), so the two
  views' boxes are exact mirror images.
* ``attach_highlights(record, view)`` — a record whose question, answer, choices or
  reasoning mentions a highlight reference of its view gets ``meta["highlight"]``: every
  highlight of the view, ``[{"object_id", "color", "rgb", "box2d"}, ...]`` sorted by object
  id (all of them, as the dataset writer draws all of them on one image per view).
* ``draw_highlights(rgb, highlights)`` — a copy of the image with each box's outline drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw

from ..mirror import mirror_box2d
from ..pinhole import project
from ..scene import snap_pixel
from .thresholds import HIGHLIGHT_MAX_COVERED, HIGHLIGHT_MIN_SIDE, MIN_DEPTH

if TYPE_CHECKING:  # pragma: no cover
    from ..scene import Scene
    from .record import QARecord
    from .view import SceneView

# Clearly distinct colour names, in assignment order (object-index order in the view).
HIGHLIGHT_COLORS: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("red", (255, 0, 0)),
    ("green", (0, 200, 0)),
    ("blue", (0, 64, 255)),
    ("yellow", (255, 230, 0)),
    ("magenta", (255, 0, 255)),
    ("cyan", (0, 230, 255)),
    ("orange", (255, 140, 0)),
    ("purple", (140, 40, 200)),
    ("white", (255, 255, 255)),
    ("black", (0, 0, 0)),
)
MARKER = " highlighted by the "  # every highlight text contains it (fast mention check)


def highlight_text(category: str, color: str) -> str:
    return f"the {category}{MARKER}{color} box"


@dataclass(frozen=True, slots=True)
class Highlight:
    """One highlighted object of a view: index ``i`` in the view, its id, colour and box."""

    index: int
    object_id: int
    color: str
    rgb: tuple[int, int, int]
    box2d: tuple[float, float, float, float]  # x0, y0, x1, y1 in this view's pixels
    text: str

    def to_meta(self) -> dict[str, Any]:
        return {"object_id": self.object_id, "color": self.color, "rgb": list(self.rgb), "box2d": list(self.box2d)}


def _raw_box(scene: "Scene", i: int) -> tuple[float, float, float, float] | None:
    """Box of object ``i`` in an *unflipped* scene's image, clipped; None if not usable."""
    cam = scene.camera
    W, H = cam.width, cam.height
    o = scene.objects[i]
    if o.box2d is not None:
        x0, y0, x1, y1 = o.box2d
    else:
        pts = o.box3d.corners() @ np.asarray(cam.R_world_cam, dtype=float)  # world -> camera frame
        z = pts[:, 2]
        if not np.all(z > MIN_DEPTH):
            return None  # a corner behind (or at) the camera: the projection is not a box
        u, v = project(pts[:, 0], pts[:, 1], z, cam.fx, cam.fy, cam.cx, cam.cy)
        x0, x1, y0, y1 = (snap_pixel(float(a)) for a in (u.min(), u.max(), v.min(), v.max()))
    x0, y0, x1, y1 = max(x0, 0.0), max(y0, 0.0), min(x1, float(W)), min(y1, float(H))
    side = min_side(W)
    if not (math.isfinite(x0 + y0 + x1 + y1) and x1 - x0 >= side and y1 - y0 >= side):
        return None
    return (x0, y0, x1, y1)


def min_side(image_width: int) -> float:
    """Shortest box side (px) that is visible as a box: ``thresholds.HIGHLIGHT_MIN_SIDE`` and 3
    line widths, so at least one line width of the object shows inside the drawn outline."""
    return max(HIGHLIGHT_MIN_SIDE, 3.0 * line_width(image_width))


def highlight_box(scene: "Scene", i: int) -> tuple[float, float, float, float] | None:
    """Usable 2D box (x0, y0, x1, y1, this view's pixels, clipped to the image) of object
    ``i`` of ``scene``, or None (no box2d and a 3D box corner behind the camera, or a side
    shorter than ``min_side(width)`` px after clipping)."""
    if not scene.flipped:
        return _raw_box(scene, i)
    b = _raw_box(scene.mirrored(), i)  # exact: coordinates are multiples of 2**-20 px
    if b is None:
        return None
    W = float(scene.camera.width)
    return mirror_box2d(b, W)


def _pixel_rect(box, W: int, H: int) -> tuple[int, int, int, int] | None:
    """Inclusive pixel rectangle (c0, r0, c1, r1) whose outline ``draw_highlights`` paints:
    the pixel columns/rows covered by [x0, x1) x [y0, y1), clipped; None if empty."""
    x0, y0, x1, y1 = box
    c0, r0 = max(int(math.floor(x0)), 0), max(int(math.floor(y0)), 0)
    c1, r1 = min(int(math.ceil(x1)) - 1, W - 1), min(int(math.ceil(y1)) - 1, H - 1)
    if c1 < c0 or r1 < r0:
        return None
    return c0, r0, c1, r1


def outline_mask(box, W: int, H: int) -> np.ndarray:
    """(H, W) bool: the pixels ``draw_highlights`` paints for ``box``."""
    m = np.zeros((H, W), dtype=bool)
    r = _pixel_rect(box, W, H)
    if r is None:
        return m
    c0, r0, c1, r1 = r
    lw = line_width(W)
    m[r0:r1 + 1, c0:c1 + 1] = True
    if c1 - c0 + 1 > 2 * lw and r1 - r0 + 1 > 2 * lw:
        m[r0 + lw:r1 - lw + 1, c0 + lw:c1 - lw + 1] = False
    return m


def hidden_boxes(boxes: list[tuple[float, float, float, float]], W: int, H: int) -> dict[int, tuple[float, int]]:
    """Boxes (positions in ``boxes``) whose drawn outline is mostly under other boxes' outlines:
    ``{k: (covered fraction, position of the box covering most of it)}`` for each box with more
    than ``thresholds.HIGHLIGHT_MAX_COVERED`` of its outline pixels also painted by another box
    (whichever is drawn last wins those pixels, so its colour cannot be read).  Two nearly
    identical boxes hide each other and both are listed.  Mirror-invariant: a flip mirrors
    every outline pixel."""
    if len(boxes) < 2:
        return {}
    masks = [outline_mask(b, W, H) for b in boxes]
    out: dict[int, tuple[float, int]] = {}
    for k, m in enumerate(masks):
        n = int(m.sum())
        if n == 0:
            continue
        others = np.zeros_like(m)
        best, best_j = 0, -1
        for j, mj in enumerate(masks):
            if j == k:
                continue
            c = int(np.count_nonzero(m & mj))
            if c > best:
                best, best_j = c, j
            others |= mj
        frac = int(np.count_nonzero(m & others)) / n
        if frac > HIGHLIGHT_MAX_COVERED:
            out[k] = (frac, best_j)
    return out


# ---------------------------------------------------------------------- records
def _mentions(rec: "QARecord", cores: tuple[str, ...]) -> bool:
    for s in (rec.question, rec.answer, rec.reasoning, *rec.choices):
        if MARKER in s:
            for c in cores:
                if c in s:
                    return True
    return False


def attach_highlights(rec: "QARecord", view: "SceneView") -> "QARecord":
    """``rec`` with ``meta["highlight"]`` (every highlight of ``view``, sorted by object id)
    if its text mentions a highlight reference of ``view``; otherwise ``rec`` itself."""
    if not view.highlights:
        return rec
    if not _mentions(rec, view.highlight_cores):
        return rec
    hl = [h.to_meta() for h in sorted(view.highlights, key=lambda h: h.object_id)]
    return replace(rec, meta={**rec.meta, "highlight": hl})


# ---------------------------------------------------------------------- drawing
def line_width(image_width: int) -> int:
    return max(2, round(image_width / 200))


def draw_highlights(rgb: np.ndarray, highlights: list[dict[str, Any]]) -> np.ndarray:
    """A copy of the (H, W, 3) uint8 image with each highlight's box outline drawn in its
    ``rgb`` (line width ``max(2, round(W / 200))`` px, drawn inside the box)."""
    arr = np.asarray(rgb)
    if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"draw_highlights needs an (H, W, 3) uint8 image, got {arr.shape} {arr.dtype}")
    if not highlights:
        return arr.copy()
    H, W = arr.shape[:2]
    img = Image.fromarray(np.ascontiguousarray(arr))
    d = ImageDraw.Draw(img)
    lw = line_width(W)
    for h in highlights:
        # pixel columns covered by [x0, x1): the outline's outer edge lies on the box
        r = _pixel_rect(h["box2d"], W, H)
        if r is None:
            continue
        d.rectangle(r, outline=tuple(int(v) for v in h["rgb"]), width=lw)
    return np.array(img)
