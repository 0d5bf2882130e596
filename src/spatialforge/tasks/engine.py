"""Sampling questions for one scene, with exact mirror pairs.

``generate_qa`` draws a task by the sampling ratios (HiSpatial Table 7 by default, renormalised
over the tasks the scene can support; a task whose plan fails is drawn again up to
``TASK_RETRIES`` times) and a format uniformly, plans one question, realises it
and — with ``mirror=True`` — realises the same plan on the mirrored scene.  Everything random
comes from ``np.random.default_rng([seed, stable_hash(scene.id)])``, so a (scene, seed) pair
always gives the same records.
"""

from __future__ import annotations

import hashlib
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
    seen_skip: set[tuple[str, str]] = set(result.skipped)

    def note(item: str, reason: str) -> None:
        if (item, reason) not in seen_skip:
            seen_skip.add((item, reason))
            result.skipped.append((item, reason))

    active: dict[str, list[str]] = {}
    for n in names:
        usable = [f for f in fmts if f in TASKS[n].formats]
        if weights.get(n, 0.0) > 0 and usable:
            why = TASKS[n].unsupported(view)
            if why:
                note(f"{scene.id}/{n}", why)
            else:
                active[n] = usable
    if qa_per_scene == 0 or not active:
        return result
    rs = Stream(np.random.default_rng([int(seed), stable_hash(scene.id)]))
    mview = get_view(scene.mirrored()) if mirror else None
    W = scene.camera.width
    transient: dict[str, dict[str, int]] = {}
    produced: dict[str, int] = {}
    questions: set[str] = set()
    k = 0
    attempts = 0
    max_attempts = 4 * qa_per_scene + 20
    order = list(active)
    cum: list[float] = []
    retry: str | None = None  # a task that just failed to produce a question is drawn again
    retries = 0
    while k < qa_per_scene and active and attempts < max_attempts:
        attempts += 1
        if len(cum) != len(order):
            cum, acc = [], 0.0
            for n in order:
                acc += weights[n]
                cum.append(acc)
        if retry is not None and retry in active and retries < TASK_RETRIES:
            name, retries = retry, retries + 1
        else:
            name, retries = order[rs.weighted(cum)], 0
        retry = name  # cleared once it produces a question
        task = TASKS[name]
        fmt = rs.choice(active[name])
        key = f"{scene.id}-{k:03d}"
        res = task.plan(view, rs, fmt, key)
        if isinstance(res, Skip):
            if res.permanent:
                # the scene can never support this format of the task
                if res.format_only:
                    active[name] = [f for f in active[name] if f != fmt]
                    note(f"{scene.id}/{name}", f"{fmt} format: {res.reason}")
                else:
                    active[name] = []
                    note(f"{scene.id}/{name}", res.reason)
                if not active[name]:
                    del active[name]
                    order.remove(name)
                    cum = []
            else:
                t = transient.setdefault(name, {})
                t[res.reason] = t.get(res.reason, 0) + 1
            continue
        try:
            rec = attach_highlights(task.realise(res, view), view)
            if rec.question in questions:
                continue
            mrec = attach_highlights(task.realise(res.mirrored(W), mview), mview) if mview is not None else None
        except RealiseError as e:
            t = transient.setdefault(name, {})
            t[str(e)] = t.get(str(e), 0) + 1
            continue
        retry = None
        questions.add(rec.question)
        result.records.append(rec)
        if mrec is not None:
            result.records.append(mrec)
        produced[name] = produced.get(name, 0) + 1
        k += 1
    for name, reasons in transient.items():
        if not produced.get(name):
            top = max(reasons.items(), key=lambda kv: kv[1])[0]
            note(f"{scene.id}/{name}", top)
    return result
