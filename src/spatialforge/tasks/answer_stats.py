"""Answer balance: the class of each record's true answer, and which classes are over-represented.

A model can learn a skewed answer without looking at the image ("in front" for 90 % of the
perspective questions), so every *categorical* answer must be close to uniform within its
task, format and variant.  ``answer_class(rec)`` names the class of the true answer (the
free answer, or the typed truth behind an MCQ letter or a true/false claim):

* labels: the label ("left", "toward", "front+right"); an answer that is one of the objects
  named in the question (nearest / largest ...): its position among them ("object 2 of 3");
* clock hours: the hour; counts: the number, with ``COUNT_POOL`` and more pooled ("3+"), since
  large counts exist only in scenes with many objects; orders: the permutation of the named
  objects ("312"); yes/no answers: "yes" / "no".

Lengths, points, vectors and boxes are not categorical.  ``balance_report`` groups records by
(task, format, variant) — the variant (``meta["sub"]``, plus the axes of a two-axis label and
the number of objects named for an object answer) fixes the answer set — and flags a class
whose share exceeds ``MAX_RATIO`` times the uniform share ``1 / k`` (``k`` = classes that occur
in the group).  Sample-size guard: a group is judged only with at least ``MIN_PER_CLASS``
records per class (``n >= MIN_PER_CLASS * k``): at 40 per class the 1.5x line is >= 3.3
standard errors above the uniform share for k <= 12, so a balanced group does not trip it by
chance.  A group with more than ``MAX_CLASSES`` classes holds open answers (pixel names) and is
not judged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:  # pragma: no cover
    from .record import QARecord

MAX_RATIO = 1.5
MIN_PER_CLASS = 40
MAX_CLASSES = 24
COUNT_POOL = 3


def answer_class(rec: "QARecord") -> tuple[tuple[str, str, str], str] | None:
    """``((task, format, variant), class)`` of the record's true answer, or None when the
    answer is not categorical (lengths, points, vectors, boxes)."""
    truth = rec.answer_struct if rec.format == "free" else rec.meta.get("truth")
    if not truth:
        return None
    kind, v = truth["kind"], truth["value"]
    variant = str(rec.meta.get("sub", ""))
    if rec.meta.get("axes"):
        variant += "(" + "+".join(rec.meta["axes"]) + ")"
    if kind == "label":
        if "object_id" in truth:
            variant += f"/{len(rec.object_ids)} objects"
            cls = f"object {rec.object_ids.index(truth['object_id']) + 1}"
        else:
            cls = str(v)
    elif kind == "clock":
        cls = f"{v} o'clock"
    elif kind == "count":
        cls = str(v) if v < COUNT_POOL else f"{COUNT_POOL}+"
    elif kind == "order":
        variant += f"/{len(rec.object_ids)} objects"
        cls = "".join(str(rec.object_ids.index(o) + 1) for o in truth["object_ids"])
    elif kind == "boolean":
        cls = "yes" if v else "no"
    else:
        return None
    return (rec.task, rec.format, variant), cls


@dataclass(frozen=True)
class GroupBalance:
    task: str
    fmt: str
    variant: str
    counts: dict[str, int]  # class -> records, most common first

    @property
    def n(self) -> int:
        return sum(self.counts.values())

    @property
    def k(self) -> int:
        return len(self.counts)

    @property
    def top(self) -> tuple[str, float]:
        """The most common class and its share over the uniform share (1.0 = uniform)."""
        cls, c = next(iter(self.counts.items()))
        return cls, c * self.k / self.n

    @property
    def judged(self) -> bool:
        return 1 < self.k <= MAX_CLASSES and self.n >= MIN_PER_CLASS * self.k

    @property
    def over(self) -> list[tuple[str, float]]:
        """Classes above ``MAX_RATIO`` x the uniform share (only for a judged group)."""
        if not self.judged:
            return []
        return [(c, v * self.k / self.n) for c, v in self.counts.items() if v * self.k / self.n > MAX_RATIO]


def balance_report(records: Iterable["QARecord"] | Iterable[tuple[tuple[str, str, str], str]]) -> list[GroupBalance]:
    """One ``GroupBalance`` per (task, format, variant) with a categorical answer, sorted.
    Accepts records or precomputed ``answer_class`` pairs (what a worker process returns)."""
    groups: dict[tuple[str, str, str], Counter] = {}
    for r in records:
        ac = r if isinstance(r, tuple) else answer_class(r)
        if ac is None:
            continue
        groups.setdefault(ac[0], Counter())[ac[1]] += 1
    return [GroupBalance(t, f, v, dict(c.most_common())) for (t, f, v), c in sorted(groups.items())]


def format_report(groups: list[GroupBalance]) -> list[str]:
    """Printable lines: one per group (n, classes, the top class and its ratio to uniform,
    and the full distribution), then a ``FAIL`` line per over-represented class."""
    lines = []
    for g in groups:
        cls, ratio = g.top
        mark = "FLAG" if g.over else ("ok  " if g.judged else "n/a ")
        dist = "  ".join(f"{c} {100 * v / g.n:.0f}%" for c, v in g.counts.items())
        lines.append(f"  {mark} {g.task:15s} {g.fmt:4s} {g.variant:28s} n={g.n:6,d} k={g.k:2d} "
                     f"top {cls!s:14s} {ratio:4.2f}x | {dist}")
    for g in groups:
        for c, r in g.over:
            lines.append(f"FAIL: {g.task}/{g.fmt}/{g.variant}: answer {c!r} is {r:.2f}x its uniform share "
                         f"(limit {MAX_RATIO}x, n={g.n}, k={g.k})")
    return lines
