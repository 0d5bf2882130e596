"""Level 0 depth ordering (HiSpatial 3.1): which marked pixel is closer to / farther from the camera.

The question asks which point is "closer to the camera" or has "the smaller depth": a pixel pair
(or the extreme of four) is used only when the z-depths *and* the distances from the camera
centre order the points the same way, each clearly (``nearness_separated``), so the answer is
the same in either reading.
"""

from __future__ import annotations

from dataclasses import replace

from .formats import emit, label_distractors, new_plan
from .pixel_task import LEVEL, PixelTask, pixel_text, sample_pixel, valid_z
from .plan import Plan, RealiseError, Skip
from .registry import register_task
from . import thresholds


PAIR_STEMS = (
    "Which point is {rel} the camera: A at {a} or B at {b}?",
    "Consider two pixels, A = {a} and B = {b}. Which one shows a surface {rel} the camera?",
    "Between pixel A {a} and pixel B {b}, which is {rel} the viewer?",
    "Looking at image points A {a} and B {b}, which lies {rel} the camera?",
    "Of the two image locations A {a} and B {b}, which has the {cmp} depth?",
    "Is point A {a} or point B {b} {rel} the camera?",
)
PAIR_CLAIMS = (
    "point {x} is {rel} the camera than point {y}",
    "the surface at point {x} lies {rel} the camera than the one at point {y}",
    "point {x} has a {cmp} depth than point {y}",
)
MULTI_STEMS = (
    "Which of these image points is {sup} the camera?",
    "Which pixel shows the surface {sup} the camera?",
    "Among the following pixels, which one has the {sup_depth} depth?",
    "Which image location lies {sup} the viewer?",
    "Select the pixel whose 3D point is {sup} the camera.",
)


def _separated(z1: float, z2: float) -> bool:
    return abs(z1 - z2) >= max(thresholds.DEPTH_ORDER_ABS, thresholds.DEPTH_ORDER_REL * min(z1, z2))


def nearness_separated(p: tuple[float, float], q: tuple[float, float]) -> bool:
    """Two points given as (z-depth, distance from the camera centre) are clearly ordered by
    nearness: both quantities clearly separated, in the same direction."""
    (zp, dp), (zq, dq) = p, q
    return _separated(zp, zq) and _separated(dp, dq) and (zp < zq) == (dp < dq)


def _nearness(view, col: int, row: int, z: float) -> tuple[float, float]:
    x, y, _ = view.unproject(col, row, z)
    return z, (x * x + y * y + z * z) ** 0.5


def _clear_extreme(near: list[tuple[float, float]], closer: bool) -> int | None:
    """Index of the nearest (``closer``) or farthest point if it is clearly ordered against
    every other point (``nearness_separated``), else None."""
    best = min(range(len(near)), key=lambda k: near[k][0] if closer else -near[k][0])
    ok = all(nearness_separated(near[best], near[k]) for k in range(len(near)) if k != best)
    return best if ok else None


@register_task("depth_order", level=0, ratio=0.0269)
class DepthOrder(PixelTask):
    description = "which of two (free/tf) or four (mcq) marked pixels is closer/farther (depth and distance agree)"

    def _plan_pixels(self, view, rs, fmt, key):
        closer = rs.coin()
        n = 4 if fmt == "mcq" else 2
        for _ in range(12):
            pts = [sample_pixel(view, rs) for _ in range(n)]
            if any(p is None for p in pts):
                continue
            if _clear_extreme([_nearness(view, *p) for p in pts], closer) is None:
                continue
            if len({(p[0], p[1]) for p in pts}) < n:
                continue
            plan = new_plan(rs, self.name, fmt, "multi" if n == 4 else "pair",
                            n_stems=len(MULTI_STEMS if n == 4 else PAIR_STEMS), n_claims=len(PAIR_CLAIMS),
                            pixels=tuple((p[0], p[1]) for p in pts), params={"closer": closer}, key=key)
            if n == 4:  # put the extreme pixel at the drawn letter
                best = min(range(4), key=lambda k: pts[k][2] if closer else -pts[k][2])
                pix = list(plan.pixels)
                pix.insert(plan.letter, pix.pop(best))
                plan = replace(plan, pixels=tuple(pix))
            return plan
        return Skip("no pixel pair/quadruple with clearly different depths")

    def realise_view(self, plan: Plan, view):
        closer = plan.params["closer"]
        zs = [valid_z(view, c, r) for c, r in plan.pixels]
        near = [_nearness(view, c, r, z) for (c, r), z in zip(plan.pixels, zs)]
        meta = {"pixels": [list(p) for p in plan.pixels], "depths": zs, "distances": [d for _, d in near],
                "polarity": "closer" if closer else "farther"}
        best = _clear_extreme(near, closer)
        if best is None:
            raise RealiseError("pixel depths or distances not clearly ordered")
        if plan.sub == "pair":
            truth = "AB"[best]
            a, b = pixel_text(plan.pixels[0]), pixel_text(plan.pixels[1])
            slots = {"a": a, "b": b, "rel": "closer to" if closer else "farther from",
                     "cmp": "smaller" if closer else "larger"}
            named = {"A": f"A {a}", "B": f"B {b}"}
            return emit(plan, view, LEVEL, stems=PAIR_STEMS, claims=PAIR_CLAIMS, slots=slots, kind="label",
                        truth=truth, render=lambda v: f"Point {v}",
                        distract=lambda k: label_distractors(truth, ("A", "B"), plan.draws, k), labels=("A", "B"),
                        claim_slots=lambda v: {"x": named[v], "y": named["B" if v == "A" else "A"]}, meta=meta)
        # four pixels, multiple choice: the option letter is the pixel's position
        texts = [f"pixel {pixel_text(p)}" for p in plan.pixels]
        pl = plan if plan.letter == best else _with_letter(plan, best)
        slots = {"sup": "closest to" if closer else "farthest from", "sup_depth": "smallest" if closer else "largest"}
        return emit(pl, view, LEVEL, stems=MULTI_STEMS, claims=PAIR_CLAIMS, slots=slots, kind="label",
                    truth=texts[best], render=lambda v: v,
                    distract=lambda k: [t for j, t in enumerate(texts) if j != best][:k], meta=meta)


def _with_letter(plan: Plan, letter: int) -> Plan:
    return replace(plan, letter=letter)
