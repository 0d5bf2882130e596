"""Unique referring expressions computed from geometry (HiSpatial 3.2, App. 7.3).

For each object, the simplest reference that picks it out alone among the objects in view:

1. the category, when it is the only one in view: "the sofa";
2. attribute + category, when unique: "the red mug", then two attributes "the red wooden mug";
3. positional / size extremes within the category: "the leftmost chair", "the chair closest
   to the camera", "the largest box", "the highest vase", "the tallest lamp";
4. ordinals: "the second chair from the left", "the middle chair" (only when the category's centres lie roughly on
   a line across the image: PCA of the centres, 2nd principal std < 0.3 x the 1st, dominant axis
   left-right; "from the top" likewise for a vertical line), "the second-closest chair";
5. references given with the scene (``Object3D.references``), when no other object in view has
   the same text;
6. the fallback (SPEC §3): "the chair highlighted by the red box", with that 2D box drawn on the
   image (``assign_highlights``; boxes, palette and records in ``highlight.py``).

Every candidate is checked by *resolving it back* against the scene: resolution returns every
object the words could mean, i.e. the target plus each object that is not clearly separated
from it along the reference's key (thresholds in ``thresholds.py``); a reference is used only if
it resolves to exactly its object.  Objects with no such reference get a highlight (a colour of
``highlight.HIGHLIGHT_COLORS``, in object-index order) when they have a usable 2D box; the rest
are unreferable and skipped.
Left/right use camera-frame x (and the image order of the centres must agree), so mirroring
turns "leftmost" into "rightmost" by itself.  Closest / farthest need the distance from the
camera and the z-depth to agree (``relations.clearly_nearer``), so either reading holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from . import thresholds
from .highlight import HIGHLIGHT_COLORS, Highlight, hidden_boxes, highlight_box, highlight_text, min_side
from .language import ORDINALS
from .relations import clearly_nearer

if TYPE_CHECKING:  # pragma: no cover
    from .view import SceneView

ADJ_KEYS = ("size_word", "shape", "color", "colour", "material", "pattern", "texture")


@dataclass(frozen=True, slots=True)
class Ref:
    kind: str  # category | attribute | extreme | ordinal | given | highlight
    category: str  # display category
    text: str
    key: str = ""  # left | near | high | big | tall; attribute words joined by " "; highlight colour
    descending: bool = False
    rank: int = 0


_EXTREME = {
    ("left", False): "the leftmost {c}",
    ("left", True): "the rightmost {c}",
    ("near", False): "the {c} closest to the camera",
    ("near", True): "the {c} farthest from the camera",
    ("big", True): "the largest {c}",
    ("big", False): "the smallest {c}",
    ("high", True): "the highest {c}",
    ("high", False): "the lowest {c}",
    ("tall", True): "the tallest {c}",
    ("tall", False): "the shortest {c}",
}
_ORDINAL = {
    ("left", False): "the {o} {c} from the left",
    ("left", True): "the {o} {c} from the right",
    ("near", False): "the {o}-closest {c}",
    ("near", True): "the {o}-farthest {c}",
    ("high", True): "the {o} {c} from the top",
    ("high", False): "the {o} {c} from the bottom",
}
# Priority (simplest first).  Left/right twins are adjacent so the choice mirrors exactly.
_EXTREME_ORDER = [("left", False), ("left", True), ("near", False), ("near", True), ("big", True),
                  ("big", False), ("high", True), ("high", False), ("tall", True), ("tall", False)]
_ORDINAL_ORDER = [("left", False), ("left", True), ("near", False), ("near", True), ("high", True),
                  ("high", False)]  # all renderable ordinals (generation order: see compute_references)


def render(kind: str, category: str, key: str = "", descending: bool = False, rank: int = 0, n: int = 0) -> str:
    """Text of a reference; ``n`` (group size) lets the centre of an odd left-right line be
    "the middle {category}" (it is the same object counted from either side)."""
    if kind == "category":
        return f"the {category}"
    if kind == "attribute":
        return f"the {key} {category}"
    if kind == "extreme":
        return _EXTREME[(key, descending)].format(c=category)
    if kind == "ordinal":
        if key == "left" and n and n % 2 == 1 and rank == (n - 1) // 2:
            return f"the middle {category}"
        return _ORDINAL[(key, descending)].format(c=category, o=ORDINALS[rank])
    raise ValueError(f"unknown reference kind {kind!r}")


def _before(view: "SceneView", key: str) -> Callable[[int, int], bool]:
    """``before(i, j)``: object i is clearly before j in ascending order of ``key``."""
    if key == "left":
        x, t, fx = view.x_cam, view.t, view.fx
        img = thresholds.REF_IMAGE_GAP * view.W
        return lambda i, j: x[j] - x[i] >= thresholds.REF_LR_GAP and (t[j] - t[i]) * fx >= img
    if key == "near":  # by distance and by depth (the nearness rule of relations.clearly_nearer)
        return lambda i, j: clearly_nearer(view, i, j, thresholds.REF_DIST_GAP_ABS, thresholds.REF_DIST_GAP_REL)
    if key == "high":
        h = view.z_world
        return lambda i, j: h[j] - h[i] >= thresholds.REF_HEIGHT_GAP
    if key == "big":
        lv = view.logvol
        return lambda i, j: lv[j] - lv[i] >= thresholds.LOG_VOLUME_GAP
    if key == "tall":
        lh = view.logh
        return lambda i, j: lh[j] - lh[i] >= thresholds.LOG_TALL_GAP
    raise ValueError(f"unknown reference key {key!r}")


def _values(view: "SceneView", key: str) -> list[float]:
    return {"left": view.x_cam, "near": view.dist, "high": view.z_world, "big": view.logvol, "tall": view.logh}[key]


def resolve_ordered(view: "SceneView", group: list[int], key: str, descending: bool, rank: int) -> list[int]:
    """Indices the ordered reference may mean: the target first, then every member not
    clearly on its correct side.  Unique iff the result has one element."""
    if rank >= len(group):
        return []
    vals = _values(view, key)
    order = sorted(group, key=(lambda i: -vals[i]) if descending else (lambda i: vals[i]))
    b = _before(view, key)
    before = (lambda i, j: b(j, i)) if descending else b
    target = order[rank]
    out = [target]
    out += [j for j in order[:rank] if not before(j, target)]
    out += [j for j in order[rank + 1:] if not before(target, j)]
    return out


def resolve(ref: Ref, view: "SceneView") -> list[int]:
    """Object *indices* in ``view`` that ``ref`` may refer to (in view only)."""
    group = view.groups.get(ref.category, [])
    if ref.kind == "category":
        return list(group)
    if ref.kind == "attribute":
        words = set(ref.key.split(" "))
        return [i for i in group if words <= view.adjs[i]]
    if ref.kind in ("extreme", "ordinal"):
        return resolve_ordered(view, group, ref.key, ref.descending, ref.rank)
    if ref.kind == "given":
        return [i for i in view.visible if ref.text in view.given[i]]
    if ref.kind == "highlight":
        return [h.index for h in view.highlights if h.text == ref.text]
    raise ValueError(f"unknown reference kind {ref.kind!r}")


def _linear_axis(view: "SceneView", group: list[int]) -> str:
    """'left', 'high', 'depth' or '' : the axis the group's centres line up on (PCA)."""
    if len(group) < 3:
        return ""
    pts = np.array([[view.x_world[i], view.y_world[i], view.z_world[i]] for i in group])
    pts -= pts.mean(axis=0)
    _, s, vt = np.linalg.svd(pts, full_matrices=False)
    if s[0] <= 1e-9 or s[1] >= thresholds.PCA_LINEAR_RATIO * s[0]:
        return ""
    axis = int(np.argmax(np.abs(vt[0])))
    return ("left", "depth", "high")[axis]


def _adjectives(attrs: dict[str, str]) -> list[str]:
    out = []
    for k in ADJ_KEYS:
        v = attrs.get(k)
        if isinstance(v, str):
            v = v.strip().lower()
            if v and v not in out:
                out.append(v)
    return out


def compute_references(view: "SceneView") -> None:
    """Fill ``view.refs`` (Ref or None per object) for every subject candidate."""
    refs: list[Ref | None] = [None] * view.n
    for cat, group in view.groups.items():
        subjects = [i for i in group if view.ok[i]]
        if not subjects:
            continue
        if len(group) == 1:
            refs[group[0]] = Ref("category", cat, f"the {cat}")
            continue
        todo = set(subjects)
        # attributes: single words (in adjective order), then pairs
        for i in sorted(todo):
            words = view.adj_list[i]
            cands = [(w,) for w in words] + [(a, b) for k, a in enumerate(words) for b in words[k + 1:]]
            for combo in cands:
                ws = set(combo)
                if sum(1 for j in group if ws <= view.adjs[j]) == 1:
                    key = " ".join(combo)
                    refs[i] = Ref("attribute", cat, render("attribute", cat, key), key)
                    break
        todo = {i for i in todo if refs[i] is None}
        if not todo:
            continue
        for key, desc in _EXTREME_ORDER:
            hit = resolve_ordered(view, group, key, desc, 0)
            if len(hit) == 1 and hit[0] in todo:
                refs[hit[0]] = Ref("extreme", cat, render("extreme", cat, key, desc), key, desc, 0)
                todo.discard(hit[0])
            if not todo:
                break
        if todo and len(group) >= 3:
            line = _linear_axis(view, group)
            n = len(group)
            for key in ("left", "near", "high"):
                if key in ("left", "high") and line != key:
                    continue
                # rank outside, direction inside: "second from the left" mirrors to "second from the right"
                for rank in range(1, min(n - 1, 3)):
                    for desc in (False, True):
                        hit = resolve_ordered(view, group, key, desc, rank)
                        if len(hit) == 1 and hit[0] in todo:
                            text = render("ordinal", cat, key, desc, rank, n)
                            refs[hit[0]] = Ref("ordinal", cat, text, key, desc, rank)
                            todo.discard(hit[0])
        for i in sorted(todo):
            for text in view.given[i]:
                if sum(1 for j in view.visible if text in view.given[j]) == 1:
                    refs[i] = Ref("given", cat, text)
                    break
    view.refs = refs


def candidate_texts(view: "SceneView") -> dict[str, Ref]:
    """Every reference text the renderer can produce for this scene -> its structure
    (the inverse of ``render``, used to resolve a text back)."""
    out: dict[str, Ref] = {}
    for cat, group in view.groups.items():
        out[f"the {cat}"] = Ref("category", cat, f"the {cat}")
        for i in group:
            ws = view.adj_list[i]
            for combo in [(w,) for w in ws] + [(a, b) for k, a in enumerate(ws) for b in ws[k + 1:]]:
                key = " ".join(combo)
                out[render("attribute", cat, key)] = Ref("attribute", cat, render("attribute", cat, key), key)
        for key, desc in _EXTREME_ORDER:
            t = render("extreme", cat, key, desc)
            out[t] = Ref("extreme", cat, t, key, desc, 0)
        for key, desc in _ORDINAL_ORDER:
            for rank in range(1, min(len(group), len(ORDINALS))):
                t = render("ordinal", cat, key, desc, rank)
                out[t] = Ref("ordinal", cat, t, key, desc, rank)
        if len(group) % 2 == 1 and len(group) >= 3:
            t = f"the middle {cat}"
            out[t] = Ref("ordinal", cat, t, "left", False, (len(group) - 1) // 2)
    for i in view.visible:
        for text in view.given[i]:
            out.setdefault(text, Ref("given", view.cat[i], text))
    for h in view.highlights:
        out[h.text] = Ref("highlight", view.cat[h.index], h.text, h.color)
    return out


def resolve_text(text: str, view: "SceneView") -> list[int]:
    """Object *ids* a reference text may mean in this scene ([] if it is not ours)."""
    if view.ref_index is None:
        view.ref_index = candidate_texts(view)
    ref = view.ref_index.get(text)
    if ref is None:
        return []
    return [view.ids[i] for i in resolve(ref, view)]


def assign_highlights(view: "SceneView") -> None:
    """The fallback reference: every askable object (``ok``) that ``compute_references`` left
    without a reference and that has a usable 2D box in this view gets
    ``Ref("highlight", cat, "the {cat} highlighted by the {colour} box")``; colours in
    object-index order (so both mirror views agree).  A box whose outline would mostly lie
    under the other candidates' outlines (``highlight.hidden_boxes``) is not used.  Fills
    ``view.highlights`` and ``view.no_box`` (object -> why it has no usable box)."""
    hl: list[Highlight] = []
    no_box: dict[int, str] = {}
    cands: list[tuple[int, tuple[float, float, float, float]]] = []
    side = f"a side under {min_side(view.W):g} px inside the image"
    for i in range(view.n):
        if not view.ok[i] or view.refs[i] is not None:
            continue
        box = highlight_box(view.scene, i)
        if box is None:
            if view.scene.objects[i].box2d is not None:
                no_box[i] = f"its box2d has {side}"
            else:
                no_box[i] = f"no box2d, and its projected 3D box has a corner behind the camera or {side}"
            continue
        cands.append((i, box))
    hidden = hidden_boxes([b for _, b in cands], view.W, view.H)
    for k, (i, box) in enumerate(cands):
        if k in hidden:
            frac, j = hidden[k]
            no_box[i] = (f"{100 * frac:.0f}% of its box outline would be drawn over by the box of object "
                         f"{view.ids[cands[j][0]]} (limit {100 * thresholds.HIGHLIGHT_MAX_COVERED:.0f}%)")
            continue
        if len(hl) >= len(HIGHLIGHT_COLORS):
            break
        name, rgb = HIGHLIGHT_COLORS[len(hl)]
        cat = view.cat[i]
        text = highlight_text(cat, name)
        view.refs[i] = Ref("highlight", cat, text, name)
        hl.append(Highlight(i, view.ids[i], name, rgb, box, text))
    view.highlights = hl
    view.highlight_cores = tuple(h.text[4:] for h in hl)  # without "the " (also matches "The ...")
    view.no_box = no_box


def describe_unreferable(view: "SceneView", i: int) -> str:
    cat = view.cat[i]
    n = len(view.groups.get(cat, []))
    if i in view.no_box:
        why = f"and no usable 2D box to highlight it ({view.no_box[i]})"
    else:
        why = f"and all {len(HIGHLIGHT_COLORS)} highlight box colours are taken"
    return (f"object {view.ids[i]} ({cat}): no unique reference — {n} {cat} objects in view and no attribute, "
            f"position or size tells it apart (thresholds: {thresholds.REF_LR_GAP} m / "
            f"{math.floor(thresholds.REF_IMAGE_GAP * 100)}% image width left-right, "
            f"{thresholds.REF_DIST_GAP_ABS} m distance and depth, "
            f"volume x{thresholds.REF_VOLUME_RATIO}), {why}")
