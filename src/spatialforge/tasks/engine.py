"""Sampling questions for one scene, with exact mirror pairs.

``generate_qa`` draws a task by the sampling ratios (HiSpatial Table 7 by default, renormalised
over the tasks the scene can support; a task whose plan fails is drawn again up to
``TASK_RETRIES`` times) and a format uniformly, plans one question, realises it
and — with ``mirror=True`` — realises the same plan on the mirrored scene.  Everything random
comes from ``np.random.default_rng([seed, stable_hash(scene.id)])``, so a (scene, seed) pair
always gives the same records.
"""

from __future__ import annotations

import gc
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from .highlight import attach_highlights
from .plan import RealiseError, Skip, Stream
from .record import FORMATS, QARecord
from .registry import DEFAULT_RATIOS, TASKS
from .view import get_view

if TYPE_CHECKING:  # pragma: no cover
    from ..scene import Scene


@dataclass
class GenerationResult:
    records: list[QARecord] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # ("scene-id/task" or "scene-id/object-7", reason)


#: times a task whose plan was skipped (or gave a duplicate / unrealisable question) is drawn
#: again at once, so tasks that often fail on a scene keep their share of the sampling ratios
TASK_RETRIES = 2


def stable_hash(text: str) -> int:
    """64-bit hash of a string that is the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _check(tasks: Sequence[str] | None, ratios: Mapping[str, float] | None, formats: Sequence[str],
           seed: int, qa_per_scene: int) -> tuple[list[str], dict[str, float], tuple[str, ...]]:
    names = list(TASKS) if tasks is None else list(dict.fromkeys(tasks))
    unknown = [t for t in names if t not in TASKS] + [t for t in (ratios or {}) if t not in TASKS]
    if unknown:
        raise ValueError(f"unknown task(s) {', '.join(map(repr, unknown))}; valid tasks: {', '.join(TASKS)}")
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(f"unknown or no format(s) {bad}; valid formats: {', '.join(FORMATS)}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if qa_per_scene < 0:
        raise ValueError(f"qa_per_scene must be >= 0, got {qa_per_scene}")
    w = dict(DEFAULT_RATIOS)
    if ratios:
        for k, v in ratios.items():
            if not v >= 0:
                raise ValueError(f"ratio for {k!r} must be >= 0, got {v}")
        w.update({k: float(v) for k, v in ratios.items()})
    return names, w, tuple(dict.fromkeys(formats))


def generate_qa(scene: "Scene", *, seed: int, qa_per_scene: int = 20, tasks: Sequence[str] | None = None,
                ratios: Mapping[str, float] | None = None, formats: Sequence[str] = FORMATS,
                mirror: bool = False) -> GenerationResult:
    """Up to ``qa_per_scene`` questions about ``scene`` (plus as many mirrored partners when
    ``mirror``).  Record ids are ``f"{scene.id}-{k:03d}"`` (``-m`` appended for the mirrored
    partner, which shares the ``pair_id``).  Objects or tasks the scene cannot support are
    listed in ``skipped`` with the reason."""
    names, weights, fmts = _check(tasks, ratios, formats, seed, qa_per_scene)
    view = get_view(scene)
    result = GenerationResult(skipped=list(view.skipped))
    sampler = _Sampler(view, weights, result)
    sampler.activate(names, fmts)
    if qa_per_scene == 0 or not sampler.active:
        return result
    rs = Stream(np.random.default_rng([int(seed), stable_hash(scene.id)]))
    mview = get_view(scene.mirrored()) if mirror else None
    with _gc_paused():
        _ask(view, mview, rs, sampler, result, qa_per_scene)
    sampler.note_unproduced()
    return result


@contextmanager
def _gc_paused():
    """Python's cyclic garbage collector paused (restored after, if it was on): the question
    loop allocates tens of containers a question (plans, records and their dicts, none in a
    cycle), and the collections they trigger cost 7-9 % of the real path (generate_dataset at
    400 QA/scene, interleaved runs)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _ask(view, mview, rs: Stream, sampler: "_Sampler", result: GenerationResult, qa_per_scene: int) -> None:
    """The question loop of ``generate_qa``: appends the records to ``result``."""
    scene = view.scene
    questions: set[str] = set()
    retry: str | None = None  # a task that just failed to produce a question is drawn again
    retries = attempts = k = 0
    while k < qa_per_scene and sampler.active and attempts < 4 * qa_per_scene + 20:
        attempts += 1
        if retry is not None and retry in sampler.active and retries < TASK_RETRIES:
            name, retries = retry, retries + 1
        else:
            name, retries = sampler.draw_task(rs), 0
        retry = name  # cleared once it produces a question
        task = TASKS[name]
        fmt = rs.choice(sampler.active[name])
        plan = task.plan(view, rs, fmt, f"{scene.id}-{k:03d}")
        if isinstance(plan, Skip):
            sampler.skipped(name, fmt, plan)
            continue
        try:
            rec = attach_highlights(task.realise(plan, view), view)
            if rec.question in questions:
                continue
            mrec = None if mview is None else attach_highlights(task.realise(plan.mirrored(view.W), mview), mview)
        except RealiseError as e:
            sampler.failed(name, str(e))
            continue
        retry = None
        questions.add(rec.question)
        result.records.append(rec)
        if mrec is not None:
            result.records.append(mrec)
        sampler.produced[name] = sampler.produced.get(name, 0) + 1
        k += 1


class _Sampler:
    """Which tasks a scene can still be asked (``active``: task -> its usable formats), the draw
    among them by weight, and the reasons noted in the result's ``skipped`` (each once)."""

    def __init__(self, view, weights: dict[str, float], result: GenerationResult) -> None:
        self.view, self.weights, self.result = view, weights, result
        self.seen = set(result.skipped)
        self.active: dict[str, list[str]] = {}
        self.order: list[str] = []  # the active tasks in draw order, with cumulative weights ``cum``
        self.cum: list[float] = []
        self.transient: dict[str, dict[str, int]] = {}  # task -> reason -> times a plan failed
        self.produced: dict[str, int] = {}

    def note(self, item: str, reason: str) -> None:
        if (item, reason) not in self.seen:
            self.seen.add((item, reason))
            self.result.skipped.append((item, reason))

    def activate(self, names: list[str], fmts: tuple[str, ...]) -> None:
        for n in names:
            usable = [f for f in fmts if f in TASKS[n].formats]
            if self.weights.get(n, 0.0) > 0 and usable:
                why = TASKS[n].unsupported(self.view)
                if why:
                    self.note(f"{self.view.scene.id}/{n}", why)
                else:
                    self.active[n] = usable
        self.order = list(self.active)

    def draw_task(self, rs: Stream) -> str:
        if len(self.cum) != len(self.order):
            self.cum, acc = [], 0.0
            for n in self.order:
                acc += self.weights[n]
                self.cum.append(acc)
        return self.order[rs.weighted(self.cum)]

    def skipped(self, name: str, fmt: str, skip: Skip) -> None:
        """A plan was skipped: a permanent skip drops the format (or the task), else it is counted."""
        if not skip.permanent:
            self.failed(name, skip.reason)
            return
        where = f"{self.view.scene.id}/{name}"
        if skip.format_only:
            self.active[name] = [f for f in self.active[name] if f != fmt]
            self.note(where, f"{fmt} format: {skip.reason}")
        else:
            self.active[name] = []
            self.note(where, skip.reason)
        if not self.active[name]:
            del self.active[name]
            self.order.remove(name)
            self.cum = []

    def failed(self, name: str, reason: str) -> None:
        t = self.transient.setdefault(name, {})
        t[reason] = t.get(reason, 0) + 1

    def note_unproduced(self) -> None:
        """For each task that failed and never produced a question: its most frequent reason."""
        for name, reasons in self.transient.items():
            if not self.produced.get(name):
                top = max(reasons.items(), key=lambda kv: kv[1])[0]
                self.note(f"{self.view.scene.id}/{name}", top)
