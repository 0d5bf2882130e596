"""Typical category sizes: size comparisons that common sense answers without looking.

"Which is larger, the mug or the sofa?" needs no image.  A category's box-volume range is
taken from the synthetic catalog (``sources.synthetic.catalog``: w x l x h ranges, with l = w
for round objects and l = h = w for spheres); two categories are *size-obvious* when their
ranges do not overlap (every box of one is smaller than every box of the other: a mug and a
cabinet, a chair and a table).  Categories outside the catalog have no prior and never are.
A comparison is dropped when the priors alone decide its answer (``decided_by_prior``): the
extreme of a smallest / largest question is size-obvious against every other object named,
an ordering is size-obvious for each neighbouring pair, and a counting question's "larger
than X" holds or fails by prior for every object it compares.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=None)
def volume_range(category: str) -> tuple[float, float] | None:
    """(min, max) box volume in m^3 of a catalog category, or None if it has none."""
    from ..sources.synthetic.catalog import CATEGORIES  # deferred: the package imports the renderer

    c = CATEGORIES.get(category)
    if c is None:
        return None
    lo, hi = [c.w[0], c.l[0], c.h[0]], [c.w[1], c.l[1], c.h[1]]
    if c.shape in ("round", "sphere"):
        lo[1], hi[1] = lo[0], hi[0]
    if c.shape == "sphere":
        lo[2], hi[2] = lo[0], hi[0]
    return lo[0] * lo[1] * lo[2], hi[0] * hi[1] * hi[2]


@lru_cache(maxsize=4096)  # a handful of categories; asked for every pair a plan considers
def size_obvious(cat_a: str, cat_b: str) -> bool:
    """The two categories' volume ranges do not overlap (so which is larger is known a priori)."""
    if cat_a == cat_b:
        return False
    ra, rb = volume_range(cat_a), volume_range(cat_b)
    return ra is not None and rb is not None and (ra[1] < rb[0] or rb[1] < ra[0])


def decided_by_prior(view, objs, key: str) -> bool:
    """Whether a size comparison of ``objs`` (view indices) is answered by the priors alone:
    ``key`` "smallest" / "largest": the true extreme is size-obvious against every other;
    "order_smallest" / "order_largest" (an ordering): each neighbouring pair of the true order
    is size-obvious.  Other keys (distances) are never decided by size priors."""
    if key not in ("smallest", "largest", "order_smallest", "order_largest"):
        return False
    cat, lv = view.cat, view.logvol
    order = sorted(objs, key=lambda i: lv[i], reverse=key.endswith("largest"))
    if key.startswith("order"):
        return all(size_obvious(cat[order[k]], cat[order[k + 1]]) for k in range(len(order) - 1))
    return all(size_obvious(cat[order[0]], cat[j]) for j in order[1:])


def larger_count_by_prior(view, anchor: int, compared) -> bool:
    """Counting "larger than the anchor": every compared object is size-obvious against the
    anchor (so the count follows from the categories; e.g. mugs larger than a cabinet)."""
    compared = list(compared)
    return bool(compared) and all(size_obvious(view.cat[anchor], view.cat[j]) for j in compared)
