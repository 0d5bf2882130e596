"""Question formats (free-form, 4-option multiple choice, true/false) and distractors.

``emit`` turns one task's computed truth into a ``QARecord`` in the plan's format:

* **free**: the question template, the answer rendered in the plan's unit; ``answer_struct``
  is the typed truth (metres for lengths).
* **mcq**: the same question with four options; the correct one sits at the plan's letter
  (uniform over A-D, so letters are balanced); three distractors are drawn by the plan's
  uniform draws from candidates that are *wrong by construction* (lengths off by >= 20 %,
  vectors >= 30 degrees away, other labels/counts/orders); ``meta["options"]`` holds the typed
  value behind each letter.
* **tf**: a statement claiming either the truth or the first distractor (the plan's target
  truth is a fair coin, so True and False balance); ``meta["claim"]`` holds the claimed value.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from . import thresholds
from .language import UNIT_NAMES, cap
from ..mirror import mirror_side
from .plan import Plan, RealiseError, Stream, iter_pick, pick
from .record import QARecord

LETTERS = ("A", "B", "C", "D")
_MCQ_LAYOUT = "{}\nA. {}\nB. {}\nC. {}\nD. {}\n{}"  # stem, the four options, the instruction
_END = (".", "?", "!")
MCQ_INSTRUCTIONS = (
    "Answer with the option's letter.",
    "Choose the correct option (A, B, C or D).",
    "Reply with the letter of the correct answer.",
    "Select one option.",
    "Which option is correct? Answer with its letter.",
)
TF_WRAPPERS = (
    ("True or false: {C}.", "tf"),
    ("Is it true that {c}?", "yn"),
    ("Statement: {C}. Is this statement correct?", "yn"),
    ("Decide whether the following is true or false: {c}.", "tf"),
    ("{C}. True or false?", "tf"),
    ("Is the following correct? {C}.", "yn"),
)
UNIT_HINTS = ("Answer in {u}.", "Give the answer in {u}.", "Use {u}.")
EVAL_OF_KIND = {"length": "numeric", "point3d": "point3d", "vector3d": "vector3d", "box3d": "box3d",
                "label": "label", "count": "count", "order": "order", "boolean": "yesno", "clock": "clock"}


def new_plan(rs: Stream, task: str, fmt: str, sub: str, objects: Sequence[int] = (), *, n_stems: int,
             n_claims: int, unit: str = "m", pixels: Sequence[tuple[int, int]] = (),
             params: dict[str, Any] | None = None, key: str = "", hint: bool = False) -> Plan:
    """Draw the format-level choices every plan has (a fixed number of draws)."""
    r = rs.random
    if fmt == "tf":
        template, wrap = int(r() * n_claims), int(r() * len(TF_WRAPPERS))
    else:
        template, wrap = int(r() * n_stems), int(r() * len(MCQ_INSTRUCTIONS))
    unit_long = r() < 0.3
    letter = int(r() * 4)
    truth = r() < 0.5
    draws = (r(), r(), r(), r())
    p = dict(params) if params else {}
    if hint and r() < 0.4:
        p["hint"] = True
    return Plan(task=task, fmt=fmt, sub=sub, objects=tuple(map(int, objects)), template=template, wrap=wrap,
                unit=unit, unit_long=unit_long, pixels=tuple(pixels), letter=letter, truth=truth, draws=draws,
                params=p, key=key)


def make_record(plan: Plan, view, level: int, question: str, answer: str, struct: dict, eval_type: str,
                choices: Sequence[str] = (), reasoning: str = "", meta: dict | None = None) -> QARecord:
    scene = view.scene
    return QARecord(id=plan.key + "-m" if plan.view == "mirrored" else plan.key, scene_id=scene.id,
                    question=question, answer=answer, answer_struct=struct, task=plan.task, level=level,
                    format=plan.fmt, eval_type=eval_type, object_ids=plan.objects, choices=tuple(choices),
                    reasoning=reasoning, pair_id=plan.key, view=plan.view, image_path=scene.image_path,
                    flipped=scene.flipped, meta={} if meta is None else meta)


def typed(kind: str, values: Sequence[Any], to_value: Callable[[Any], Any] | None = None,
          extra: Callable[[Any], dict] | None = None) -> list[dict]:
    """The typed value (``{"kind", "value"}`` plus ``extra(v)``) of each of ``values``."""
    if to_value is None and extra is None:
        return [{"kind": kind, "value": v} for v in values]
    out = []
    for v in values:
        d = {"kind": kind, "value": v if to_value is None else to_value(v)}
        if extra is not None:
            d.update(extra(v))
        out.append(d)
    return out


def emit(plan: Plan, view, level: int, *, stems: Sequence[str], claims: Sequence[str], slots: dict[str, Any],
         kind: str, truth: Any, render: Callable[[Any], str], distract: Callable[[int], list],
         to_value: Callable[[Any], Any] | None = None, claim_slots: Callable[[Any], dict] | None = None,
         eval_free: str | None = None, meta: dict | None = None, reasoning: str = "",
         uses_unit: bool = False, extra: Callable[[Any], dict] | None = None,
         labels: Sequence[Any] | None = None) -> QARecord:
    """Build the record for ``plan.fmt`` from the truth computed on ``view``.

    ``render(v)`` is the text of a value, ``distract(k)`` returns ``k`` wrong values,
    ``to_value(v)`` the JSON value stored (default ``v``), ``claim_slots(v)`` extra template
    slots for a TF claim of ``v`` (default ``{"value": render(v)}``), ``extra(v)`` extra keys
    of a typed value (e.g. the object id behind a reference), ``labels`` the task's label set
    (values like ``truth``): a free-form label answer stores ``to_value`` of each in
    ``answer_struct["labels"]``, the vocabulary evaluation parses an answer against (so a
    wrong label of the set scores as wrong, not as unparsable).
    """
    template = plan.template
    m: dict[str, Any] = {"sub": plan.sub, "template": template}
    if uses_unit:
        m["unit"] = plan.unit
        m["unit_long"] = plan.unit_long
    if meta:
        m.update(meta)
    fmt = plan.fmt
    if fmt == "free":
        q = stems[template % len(stems)].format_map(slots)
        if uses_unit and plan.params.get("hint"):
            q += " " + UNIT_HINTS[template % len(UNIT_HINTS)].format(u=UNIT_NAMES[plan.unit])
            m["unit_hint"] = True
        struct = typed(kind, (truth,), to_value, extra)[0]
        if labels is not None:
            struct["labels"] = list(labels) if to_value is None else [to_value(v) for v in labels]
        return make_record(plan, view, level, q, render(truth), struct, eval_free or EVAL_OF_KIND[kind],
                           reasoning=reasoning, meta=m)
    if fmt == "mcq":
        return _emit_mcq(plan, view, level, m, stems[template % len(stems)], slots, kind, truth, render, distract,
                         to_value, extra, reasoning)
    # true / false
    if plan.truth:
        claim_v, is_true = truth, True
    else:
        wrong = distract(1)
        if not wrong:
            raise RealiseError(f"{plan.task}/{plan.sub}: no false claim available")
        claim_v, is_true = wrong[0], False
    cs = claim_slots(claim_v) if claim_slots is not None else {"value": render(claim_v)}
    claim = claims[template % len(claims)].format(**slots, **cs)
    wrapper, style = TF_WRAPPERS[plan.wrap % len(TF_WRAPPERS)]
    q = wrapper.format(C=cap(claim), c=claim)
    ans = ("True" if is_true else "False") if style == "tf" else ("Yes" if is_true else "No")
    m["wrap"] = plan.wrap
    m["truth"], m["claim"] = typed(kind, (truth, claim_v), to_value, extra)
    return make_record(plan, view, level, q, ans, {"kind": "boolean", "value": is_true}, "yesno",
                       reasoning=reasoning, meta=m)


def _emit_mcq(plan: Plan, view, level: int, m: dict[str, Any], stem: str, slots: dict[str, Any], kind: str,
              truth: Any, render: Callable[[Any], str], distract: Callable[[int], list],
              to_value: Callable[[Any], Any] | None, extra: Callable[[Any], dict] | None,
              reasoning: str) -> QARecord:
    """The multiple-choice record (see ``emit``): the truth at the plan's letter among three distractors."""
    wrong = distract(3)
    if len(wrong) < 3:
        raise RealiseError(f"{plan.task}/{plan.sub}: fewer than 3 valid distractors")
    opts = list(wrong)
    opts.insert(plan.letter, truth)
    texts = [render(o) for o in opts]
    if len(set(texts)) < 4:
        raise RealiseError(f"{plan.task}/{plan.sub}: options are not distinct")
    # each option line ends with a full stop, so the text still reads as sentences when its
    # line breaks are lost (HTML, flattened prompts); ``choices`` keep the bare options
    lines = [t if t.endswith(_END) else t + "." for t in texts]
    q = _MCQ_LAYOUT.format(stem.format_map(slots), *lines, MCQ_INSTRUCTIONS[plan.wrap % len(MCQ_INSTRUCTIONS)])
    m["wrap"] = plan.wrap
    m["options"] = options = typed(kind, opts, to_value, extra)
    m["truth"] = options[plan.letter]
    letter = LETTERS[plan.letter]
    return make_record(plan, view, level, q, letter, {"kind": "choice", "value": letter}, "choice",
                       choices=texts, reasoning=reasoning, meta=m)


# ---------------------------------------------------------------------- distractors
LENGTH_FACTORS = (0.4, 0.5, 0.65, 1.5, 1.8, 2.2, 2.7)


def length_distractors(v: float, draws: Sequence[float], k: int, render: Callable[[float], str]) -> list[float]:
    """``k`` lengths that differ from ``v`` and from each other by >= 20 % and render differently."""
    seen = {render(v)}
    out: list[float] = []
    for f in iter_pick(LENGTH_FACTORS, draws):
        c = v * f
        if out and any(abs(c / o - 1) < thresholds.MCQ_MIN_REL for o in out):
            continue  # before rendering: a rejected candidate costs no text
        t = render(c)
        if t in seen:
            continue
        seen.add(t)
        out.append(c)
        if len(out) == k:
            break
    return out


def point_distractors(p: Sequence[float], draws: Sequence[float], k: int) -> list[list[float]]:
    """Points along the same viewing ray at other depths, or with a coordinate's sign flipped;
    each >= 20 % of |p| (and >= 0.1 m, visible in every unit's rounding) from the truth and
    from the others."""
    x, y, z = p
    cands = [[x * 0.6, y * 0.6, z * 0.6], [x * 1.5, y * 1.5, z * 1.5], [x * 0.75, y * 0.75, z * 0.75],
             [x * 1.35, y * 1.35, z * 1.35], [-x, y, z], [x, -y, z], [-x, -y, z], [x * 2.0, y * 2.0, z * 2.0]]
    r = max(thresholds.MCQ_MIN_REL * math.sqrt(x * x + y * y + z * z), 0.1)
    out: list[list[float]] = []
    for c in iter_pick(cands, draws):
        if math.dist(c, p) < r or out and any(math.dist(c, o) < r for o in out):
            continue
        out.append(c)
        if len(out) == k:
            break
    return out


def _angle(a: Sequence[float], b: Sequence[float]) -> float:
    """Degrees between unit 3-vectors ``a`` and ``b``."""
    d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
    return math.degrees(math.acos(max(-1.0, min(1.0, d))))


_SIGNS = ((-1, 1, 1), (1, -1, 1), (1, 1, -1), (-1, -1, 1), (-1, 1, -1), (1, -1, -1), (-1, -1, -1))


def vector_distractors(v: Sequence[float], draws: Sequence[float], k: int,
                       others: Sequence[Sequence[float]] = ()) -> list[list[float]]:
    """Wrong unit vectors >= 30 deg from ``v`` and >= 20 deg from each other: sign-flipped
    versions of ``v`` and ``others`` (e.g. directions to other objects of the scene).  Both
    commute with mirroring, so a mirrored partner gets the mirrored options."""
    cands = [[v[0] * s[0], v[1] * s[1], v[2] * s[2]] for s in _SIGNS] + [list(o) for o in others]
    out: list[list[float]] = []
    for c in iter_pick(cands, draws):
        if _angle(c, v) < thresholds.VECTOR_MIN_ANGLE or out and any(
                _angle(c, o) < thresholds.VECTOR_MIN_PAIR for o in out):
            continue
        out.append(c)
        if len(out) == k:
            break
    return out


def label_distractors(truth: Any, pool: Sequence[Any], draws: Sequence[float], k: int,
                      mirror: Callable[[Any], Any] | None = None) -> list[Any]:
    """``k`` other labels from ``pool``, picked by the draws in the pool's canonical order.

    ``mirror`` (on a mirrored view: the flip's label map, ``side_mirror(plan)``; the pool must
    be closed under it): the options are picked for the original view's truth and mapped, so
    a mirrored twin's options are the original's mirrored in place."""
    if mirror is None:
        return pick([x for x in pool if x != truth], draws, k)
    t0 = mirror(truth)
    return [mirror(x) for x in pick([x for x in pool if x != t0], draws, k)]


def side_mirror(plan: Plan) -> Callable[[str], str] | None:
    """``mirror_side`` when ``plan`` is realised on the mirrored view, else None (for
    ``label_distractors``)."""
    return mirror_side if plan.view == "mirrored" else None


def count_distractors(n: int, draws: Sequence[float], k: int) -> list[int]:
    cands = [c for c in (n + 1, n - 1, n + 2, n - 2, n + 3, n + 4) if c >= 0]
    return pick(cands, draws, k)
