"""Per-completion agreement between the two views of a mirror pair (``consistency="agreement"``).

Every completion is read with the evaluation's parser for its row (``eval.scoring.score_sample``:
the ``<answer>`` span, the ``eval_type``'s parser, the typed truth).  An original completion
``i`` and a mirrored completion ``j`` *agree* when ``j``'s answer is ``i``'s answer under the
exact mirror of the answer -- the rule of the evaluation's mirror-consistency metric
(``eval.metrics.mirror_agreements``), with the map read from the two truths: yes/no flips when
the truths differ, choice letters and labels swap the two true ones (left <-> right), clock
hours h -> 12 - h, x coordinates x -> W - x (2D) or -x (3D), lengths and counts unchanged.

``a_i`` = share of the partner group's completions that agree with completion ``i`` (a failed
parse agrees with nothing).  Training on ``correctness + weight * a_i`` rewards an answer for
matching what the model says about the other view, answer by answer, so it is not a constant
per group and survives per-group normalisation unless the answers are two-valued (see
docs/training.md).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..eval.metrics import MirrorItem, mirror_agreements
from ..eval.scoring import MIRROR_KINDS, score_sample
from .consistency import GroupLayout


@dataclass(frozen=True)
class ParsedAnswer:
    """One completion's typed answer: ``value`` is None when its parse failed."""

    kind: str
    value: Any
    gt: Any
    image_width: float | None = None


def parse_completion(text: str, answer_struct: Any, eval_type: str | None, *, question: str | None = None,
                     choices: Sequence[str] | None = None,
                     image_size: tuple[float, float] | None = None) -> ParsedAnswer | None:
    """The typed answer of a completion, or None when its row has no mirrorable typed answer
    (no ``answer_struct``, ``eval_type`` open, or a malformed truth)."""
    if not eval_type or eval_type == "open" or answer_struct in (None, ""):
        return None
    try:
        struct = json.loads(answer_struct) if isinstance(answer_struct, str) else answer_struct
        s = score_sample(text, struct, eval_type, question=question, choices=choices or None, image_size=image_size)
    except (TypeError, ValueError, KeyError):  # a malformed truth: this row gets no agreement term
        return None
    if s.kind not in MIRROR_KINDS:
        return None
    return ParsedAnswer(s.kind, s.parsed if s.parsable else None, s.gt_value,
                        float(image_size[0]) if image_size else None)


def parse_inputs(texts: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> list[ParsedAnswer | None]:
    """:func:`parse_completion` for TRL's generation inputs (dataset columns per completion)."""
    out = []
    for text, row in zip(texts, rows, strict=True):
        image = row.get("image")
        size = tuple(image.size) if hasattr(image, "size") and isinstance(image.size, tuple) else None
        choices = row.get("choices")
        out.append(parse_completion(text, row.get("answer_struct"), row.get("eval_type"),
                                    question=row.get("question"), choices=list(choices) if choices else None,
                                    image_size=size))
    return out


def agree(original: ParsedAnswer, mirrored: ParsedAnswer) -> bool:
    """Does the mirrored completion's answer equal the mirror of the original one?"""
    if original.kind != mirrored.kind:
        return False
    width = original.image_width or mirrored.image_width
    items = [MirrorItem("pair", "original", original.kind, original.value, gt=original.gt, image_width=width),
             MirrorItem("pair", "mirrored", mirrored.kind, mirrored.value, gt=mirrored.gt, image_width=width)]
    return mirror_agreements(items)["pair"]


def agreement_shares(answers: Sequence[ParsedAnswer | None], layout: GroupLayout) -> torch.Tensor:
    """(N,) ``a_i`` for every completion of the paired groups; NaN where a row has no typed
    answer and for unpaired groups."""
    g = layout.num_generations
    if len(answers) != layout.num_groups * g:
        raise ValueError(f"{len(answers)} answers for {layout.num_groups} groups of {g}")
    out = torch.full((len(answers),), float("nan"))
    for go, gm in layout.pairs:
        orig, mirr = answers[go * g:(go + 1) * g], answers[gm * g:(gm + 1) * g]
        if any(a is None for a in (*orig, *mirr)):
            continue
        hits = torch.tensor([[float(agree(o, m)) for m in mirr] for o in orig])  # (G, G)
        out[go * g:(go + 1) * g] = hits.mean(dim=1)
        out[gm * g:(gm + 1) * g] = hits.mean(dim=0)
    return out
