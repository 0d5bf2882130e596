"""Questions name objects only by verified references, where a scene carries them.

A perceived scene whose references were checked by a grounder (``perception/verify.py``,
HiSpatial §7.1) holds ``metadata["reference_check"]``: ``verified`` (object id -> the phrase that
passed) and ``fallback``.  ``apply_reference_check(view)`` runs after ``compute_references``: each
askable object's reference becomes its verified phrase (left/right swapped in a mirrored view;
still required to resolve to that object alone), or None, so that the highlighted-box fallback
names it (``fallback: highlight``) or it is not asked about (``fallback: skip``, returned with
the reason).  Scenes without the record are unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..mirror import swap_left_right
from .references import candidate_texts, resolve

if TYPE_CHECKING:  # pragma: no cover
    from .view import SceneView


def apply_reference_check(view: "SceneView") -> dict[int, str]:
    """Replace ``view.refs`` by the verified ones; object index -> why it is not askable
    (only with ``fallback: skip``)."""
    check = view.scene.metadata.get("reference_check")
    if not check:
        return {}
    verified = {str(k): v for k, v in (check.get("verified") or {}).items()}
    texts = candidate_texts(view)
    skipped: dict[int, str] = {}
    for i in range(view.n):
        if not view.ok[i]:
            continue
        phrase = verified.get(str(view.ids[i]))
        if phrase is not None and view.scene.flipped:
            phrase = swap_left_right(phrase)
        ref = texts.get(phrase) if phrase is not None else None
        view.refs[i] = ref if ref is not None and resolve(ref, view) == [i] else None
        if view.refs[i] is None and check.get("fallback") == "skip":
            why = "; ".join((check.get("rejected") or {}).get(str(view.ids[i]), [])) or "no verified phrase"
            skipped[i] = f"object {view.ids[i]} ({view.cat[i]}): no verified reference ({why})"
    return skipped
