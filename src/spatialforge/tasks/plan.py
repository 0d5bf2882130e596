"""Plans: every random choice of one question, separate from the scene it is realised on.

``plan(scene, rng) -> Plan | Skip`` draws the choices (objects, template, unit, pixels,
option letter, true/false target, distractor draws); ``realise(plan, scene)`` computes the
text and the answer from whichever scene it is given.  A mirrored partner is
``realise(plan.mirrored(W), scene.mirrored())`` (SVQA-R1: question and answer rewritten so they
are true for the flipped image): pixel columns change (``col -> W - 1 - col``) and a side the
plan fixes is swapped (``sub`` or ``params["rel"]`` / ``params["side"]``: counting's
``"left_of"`` becomes ``"right_of"``), so "how many ... to the left of X" is asked as "... to
the right of X" of the mirror, with the same count.  Every other choice is identical;
left/right *answers* and references follow from the mirrored geometry.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from ..mirror import mirror_col, mirror_side

#: plan params that hold a side fixed by the plan (swapped by ``Plan.mirrored``)
SIDED_PARAMS = ("rel", "side")


@dataclass(frozen=True, slots=True)
class Skip:
    """Why a task produced no question.  ``permanent``: the scene can never support the task
    (``format_only``: only in the requested format)."""

    reason: str
    permanent: bool = False
    format_only: bool = False


class RealiseError(RuntimeError):
    """A plan could not be realised on the scene it was given (e.g. a reference stopped
    being unique).  The engine drops the question and records the reason."""


@dataclass(slots=True)
class Plan:
    """Treated as immutable (not frozen only because frozen dataclasses construct slower)."""

    task: str
    fmt: str
    sub: str  # the task's variant, e.g. "width" or "left_right"
    objects: tuple[int, ...] = ()  # object ids, in the roles the task gives them
    template: int = 0  # question template (free/mcq) or claim template (tf)
    wrap: int = 0  # MCQ instruction or TF wrapper
    unit: str = "m"
    unit_long: bool = False
    pixels: tuple[tuple[int, int], ...] = ()  # (col, row) integer pixels
    letter: int = 0  # MCQ: index of the correct option
    truth: bool = True  # TF: the statement's target truth value
    draws: tuple[float, ...] = ()  # uniform draws for distractors
    params: dict[str, Any] = field(default_factory=dict)  # task-specific choices (radius, polarity...)
    key: str = ""  # record id stem; the pair id
    view: str = "original"

    def mirrored(self, width: int) -> "Plan":
        """The same plan for the horizontally flipped image of width ``width``: pixel columns
        flipped and a side fixed by the plan swapped (``sub``, ``params["rel"]``,
        ``params["side"]``), so the question is rewritten for the flipped image and its
        answer stays the same.  An involution: ``p.mirrored(W).mirrored(W) == p``."""
        params = self.params
        if any(isinstance(params.get(k), str) and mirror_side(params[k]) != params[k] for k in SIDED_PARAMS):
            params = {k: mirror_side(v) if k in SIDED_PARAMS and isinstance(v, str) else v
                      for k, v in params.items()}
        return Plan(task=self.task, fmt=self.fmt, sub=mirror_side(self.sub), objects=self.objects,
                    template=self.template, wrap=self.wrap, unit=self.unit, unit_long=self.unit_long,
                    pixels=tuple((mirror_col(c, width), r) for c, r in self.pixels), letter=self.letter,
                    truth=self.truth, draws=self.draws, params=params, key=self.key,
                    view="mirrored" if self.view == "original" else "original")


class Stream:
    """Uniform draws from a numpy ``Generator``, drawn from it in blocks (deterministic: the
    sequence is the generator's own ``random()`` sequence, whatever the block size).

    Measured on the real path (``generate --source folder``, 400 QA/scene, interleaved runs):
    calling ``gen.random()`` per draw instead made the whole run 1.06-1.25x slower (a numpy call
    per draw; a question takes ~30 draws).
    """

    __slots__ = ("_gen", "_draws", "random")

    def __init__(self, gen: np.random.Generator, block: int = 256) -> None:
        self._gen = gen
        blocks = map(np.ndarray.tolist, map(gen.random, itertools.repeat(block)))
        self._draws = itertools.chain.from_iterable(blocks)
        #: ``random()``: the next uniform float in [0, 1)
        self.random = self._draws.__next__

    @classmethod
    def of(cls, rng: "Stream | np.random.Generator | int | None") -> "Stream":
        if isinstance(rng, Stream):
            return rng
        if isinstance(rng, np.random.Generator):
            return cls(rng)
        return cls(np.random.default_rng(rng))

    def randint(self, n: int) -> int:
        """Uniform integer in [0, n)."""
        i = int(self.random() * n)
        return i if i < n else n - 1

    def take(self, n: int) -> list[float]:
        """The next ``n`` draws of ``random()``, in one call (for a plan that draws many at once)."""
        return list(itertools.islice(self._draws, n))

    def choice(self, seq: Sequence[Any]) -> Any:
        return seq[self.randint(len(seq))]

    def coin(self, p: float = 0.5) -> bool:
        return self.random() < p

    def weighted(self, cum: Sequence[float]) -> int:
        """Index drawn from cumulative weights ``cum`` (last value = total)."""
        return min(bisect.bisect_right(cum, self.random() * cum[-1]), len(cum) - 1)

    def sample(self, seq: Sequence[Any], k: int) -> list[Any]:
        """``k`` distinct items, in draw order."""
        n = len(seq)
        if k == 2 and n >= 2:  # the common cases, without copying; same draws and items as below
            i = self.randint(n)
            j = self.randint(n - 1)
            return [seq[i], seq[j + (j >= i)]]
        if k == 3 and n >= 3:
            i = self.randint(n)
            j = self.randint(n - 1)
            j += j >= i
            m = self.randint(n - 2)
            lo, hi = (i, j) if i < j else (j, i)
            m += m >= lo
            m += m >= hi
            return [seq[i], seq[j], seq[m]]
        pool = list(seq)
        out = []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(self.randint(len(pool))))
        return out

    def draws(self, n: int = 4) -> tuple[float, ...]:
        r = self.random
        if n == 4:
            return (r(), r(), r(), r())
        return tuple(r() for _ in range(n))


def iter_pick(pool: Sequence[Any], draws: Sequence[float]):
    """Items of ``pool`` in an order chosen by the uniform ``draws`` (no replacement), lazily:
    the j-th item is taken at position ``int(draws[j] * remaining)``; once the draws run out,
    the remaining items follow in order."""
    pool = list(pool)
    nd = len(draws)
    j = 0
    while pool:
        d = draws[j] if j < nd else 0.0
        yield pool.pop(min(int(d * len(pool)), len(pool) - 1))
        j += 1


def pick(pool: Sequence[Any], draws: Sequence[float], k: int) -> list[Any]:
    """``k`` distinct items of ``pool`` chosen by the uniform ``draws`` (see ``iter_pick``)."""
    out = []
    if k <= 0:
        return out
    for item in iter_pick(pool, draws):
        out.append(item)
        if len(out) == k:
            break
    return out


_MISSING = object()


def balanced_choice(rs: Stream, cands: Sequence[Any], class_of, weights: dict[Any, float] | None = None,
                    thin_sole: bool = False, memo: dict[Any, Any] | None = None) -> tuple[Any, Any] | None:
    """``(candidate, class)`` with the answer class drawn among the classes the candidates
    have (``class_of(c)``; None = unusable candidate) — uniformly, or by ``weights`` (default
    1) — then a candidate of that class uniformly; None if no candidate is usable.  Choosing
    the answer first, instead of the objects, keeps a common answer ("in front", 12 o'clock,
    0) from dominating a task.  ``weights`` favour answers that few scenes allow at all (a
    uniform draw per scene still over-represents an answer that almost every scene has);
    classes are ordered canonically (``sorted`` by ``str``), so the draw is deterministic.
    ``thin_sole``: when the candidates have one class only and its weight w is below 1, return
    None with probability 1 - w (a scene whose only answer is the common one is asked it at
    that rate; the engine then draws the task again).  ``memo``: a dict that keeps ``class_of``
    of each candidate (hashable) between calls, for a ``class_of`` that depends only on the
    candidate and an immutable scene view (``SceneView.memo``).  A caller whose candidates are
    the same on every call keeps their ``Balanced`` grouping instead and draws from it."""
    return Balanced(group_by_class(cands, class_of, memo), weights).draw(rs, thin_sole)


def group_by_class(cands: Iterable[Any], class_of, memo: dict[Any, Any] | None = None) -> dict[Any, list[Any]]:
    """The usable candidates (``class_of(c)`` not None) by class, each group in candidate order
    (``memo``: see ``balanced_choice``)."""
    groups: dict[Any, list[Any]] = {}
    for c in cands:
        if memo is None:
            k = class_of(c)
        else:
            k = memo.get(c, _MISSING)
            if k is _MISSING:
                k = memo[c] = class_of(c)
        if k is not None:
            if k in groups:
                groups[k].append(c)
            else:
                groups[k] = [c]
    return groups


class Balanced:
    """Candidates grouped by answer class (``group_by_class``) with the class weights, ready to
    draw from (``draw``: the draws of ``balanced_choice``).  Immutable, so a plan whose
    candidates are fixed for a scene view keeps it there (``SceneView.memo``) and a question
    then costs only its draws."""

    __slots__ = ("keys", "groups", "weights", "cum")

    def __init__(self, groups: dict[Any, list[Any]], weights: dict[Any, float] | None = None) -> None:
        self.keys = sorted(groups, key=str)
        self.groups = groups
        self.weights = weights
        self.cum: list[float] | None = None  # cumulative class weights; None: uniform
        if weights is not None:
            self.cum, acc = [], 0.0
            for key in self.keys:
                acc += weights.get(key, 1.0)
                self.cum.append(acc)

    def draw(self, rs: Stream, thin_sole: bool = False) -> tuple[Any, Any] | None:
        """``(candidate, class)`` drawn as ``balanced_choice`` describes, None if there is none."""
        keys = self.keys
        if not keys:
            return None
        if thin_sole and len(keys) == 1 and self.weights and rs.random() >= self.weights.get(keys[0], 1.0):
            return None
        k = keys[rs.randint(len(keys)) if self.cum is None else rs.weighted(self.cum)]
        return rs.choice(self.groups[k]), k
