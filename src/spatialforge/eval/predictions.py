"""Resumable prediction runs: a JSONL cache keyed by request id, and ``run_requests``.

One cache file per (model, benchmark, prompt style).  Lines are ``{"id": ..., "output": ...}``;
the file is append-only and flushed (fsync) after every batch, so a run that is killed keeps
every finished batch and a rerun generates only the missing ids.  A torn last line (killed
mid-write) is cut off on open.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich import progress as rp

from .runners import GenerationError, GenRequest, Runner

log = logging.getLogger(__name__)


def _slug(text: str, max_len: int = 80) -> str:
    s = re.sub(r"[^A-Za-z0-9._-]+", "__", str(text).strip("/\\")).strip("_") or "_"
    if len(s) > max_len:  # keep it readable, keep it unique
        s = s[: max_len - 9] + "-" + hashlib.sha1(s.encode()).hexdigest()[:8]
    return s


class PredictionCache:
    """Append-only JSONL of generated outputs, keyed by request id."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._outputs: dict[str, str] = {}
        self.bad_lines = 0
        self._load()

    @classmethod
    def for_run(cls, root: str | os.PathLike, model: str, benchmark: str, prompt_style: str) -> PredictionCache:
        """``root/<model>/<benchmark>/<prompt_style>.jsonl`` (names made filesystem-safe)."""
        return cls(Path(root) / _slug(model) / _slug(benchmark) / f"{_slug(prompt_style)}.jsonl")

    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        end = raw.rfind(b"\n") + 1
        if end < len(raw):  # a torn last line: drop it so the next append starts clean
            log.warning("%s: dropping an incomplete last line (%d bytes)", self.path, len(raw) - end)
            with open(self.path, "r+b") as f:
                f.truncate(end)
            raw = raw[:end]
        for lineno, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                self._outputs[str(rec["id"])] = str(rec["output"])
            except (ValueError, KeyError, TypeError):
                self.bad_lines += 1
                log.warning("%s:%d: unreadable cache line ignored", self.path, lineno)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._outputs

    def __len__(self) -> int:
        return len(self._outputs)

    def __iter__(self) -> Iterator[str]:
        return iter(self._outputs)

    def get(self, request_id: str, default: str | None = None) -> str | None:
        return self._outputs.get(request_id, default)

    @property
    def outputs(self) -> dict[str, str]:
        return dict(self._outputs)

    def add_many(self, items: Iterable[tuple[str, str]]) -> int:
        """Append new (id, output) pairs and fsync; ids already cached are skipped. Returns the count added."""
        fresh: dict[str, str] = {}
        for i, o in items:  # the first output of an id wins, here as in the file
            if str(i) not in self._outputs:
                fresh.setdefault(str(i), o)
        new = list(fresh.items())
        if not new:
            return 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(json.dumps({"id": i, "output": o}, ensure_ascii=False) + "\n" for i, o in new)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        self._outputs.update(new)
        return len(new)

    def add(self, request_id: str, output: str) -> bool:
        return self.add_many([(request_id, output)]) == 1


@dataclass
class RunResult:
    """``outputs``: id -> text for every request that has one (cached or new)."""

    outputs: dict[str, str] = field(default_factory=dict)
    generated: int = 0
    from_cache: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def n_failed(self) -> int:
        return len(self.failed)


def run_requests(
    runner: Runner,
    requests: Sequence[GenRequest],
    cache: PredictionCache | None = None,
    batch_size: int = 8,
    progress: bool = True,
    *,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
) -> RunResult:
    """Generate outputs for ``requests`` not yet in ``cache``, batch by batch, caching each batch.

    Requests that fail (``GenerationError`` from API runners) are reported in ``failed`` and
    left out of the cache, so a rerun retries them.  Other exceptions propagate: the batches
    finished before them are already cached.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    seen: set[str] = set()
    for r in requests:
        if r.id in seen:
            raise ValueError(f"duplicate request id {r.id!r}: ids key the prediction cache and must be unique")
        seen.add(r.id)

    result = RunResult()
    pending: list[GenRequest] = []
    for r in requests:
        if cache is not None and r.id in cache:
            result.outputs[r.id] = cache.get(r.id)  # type: ignore[assignment]
            result.from_cache += 1
        else:
            pending.append(r)

    columns = (rp.TextColumn("[bold]{task.description}"), rp.BarColumn(), rp.MofNCompleteColumn(),
               rp.TimeElapsedColumn(), rp.TimeRemainingColumn())  # fmt: skip
    with rp.Progress(*columns, disable=not progress) as bar:
        task = bar.add_task(getattr(runner, "name", "generate"), total=len(requests), completed=result.from_cache)
        for start in range(0, len(pending), batch_size):
            batch = pending[start : start + batch_size]
            try:
                outs: list[str | None] = list(
                    runner.generate(batch, max_new_tokens=max_new_tokens, temperature=temperature)
                )
                errors: dict[int, str] = {}
            except GenerationError as e:
                outs, errors = e.outputs, e.errors
            if len(outs) != len(batch):
                name = getattr(runner, "name", runner)
                raise RuntimeError(f"runner {name!r} returned {len(outs)} outputs for {len(batch)} requests")
            done = [(r.id, o) for r, o in zip(batch, outs, strict=True) if o is not None]
            if cache is not None:
                cache.add_many(done)
            result.outputs.update(done)
            result.generated += len(done)
            for i, reason in errors.items():
                result.failed[batch[i].id] = reason
            bar.advance(task, len(batch))
    result.outputs = {r.id: result.outputs[r.id] for r in requests if r.id in result.outputs}  # request order
    if result.failed:
        first = next(iter(result.failed.values()))
        log.warning("%d of %d requests failed; first: %s", len(result.failed), len(requests), first)
    return result
