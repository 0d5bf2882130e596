"""Run manifests for batch jobs: what was done, what was skipped and why, and how to resume.

A batch job never dies on one bad record: it calls ``skip(item, reason)`` and goes on.

On disk a run keeps ``manifest.json`` (the compacted state) and, while it runs,
``manifest.json.journal`` beside it: a first line naming the ``manifest.json`` it continues
(its sha256), then one JSON line per ``flush()`` listing the events recorded since (done,
skip, a stats change).  Recording an event appends a line instead of rewriting the whole
manifest, so a run writes O(its final manifest size) bytes in all, not a full rewrite per
record.  The journal is compacted into ``manifest.json`` (atomic write, then a fresh journal)
once it outgrows the compacted manifest, and by ``close()`` at the end of a run, which leaves
``manifest.json`` alone, the whole state.

A kill at any point loses at most the flush being written: ``open`` replays the journal's
whole lines over ``manifest.json`` (a torn last line is ignored), and a journal that names
another ``manifest.json`` than the one on disk (a crash between a compaction's two steps) is
already in it and is ignored.  Mid-run readers use ``RunManifest.open``: ``manifest.json``
alone lags behind the journal.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
from pathlib import Path
from typing import Any

import orjson

from . import __version__

JOURNAL_SUFFIX = ".journal"
# compaction once the journal holds more bytes than manifest.json (and at least this many):
# each compaction is paid for by as many journal bytes, so a run writes O(its events) bytes
# (10k events: 4x the final manifest, where a rewrite per event wrote 5000x; manifest_scaling.py)
COMPACT_MIN_BYTES = 64 * 1024
_DUMP_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS

StatKey = str | tuple[str, ...]  # a stats key, or the path of keys to a nested one


class RunManifest:
    """A run's done items, skipped items with reasons, and stats.  Change them through the
    methods (``mark_done``, ``skip``, ``set_stat``, assigning ``stats``...): those are journaled.
    Anything changed directly is on disk only after the next compaction (``write``, ``close``)."""

    def __init__(self, path: str | Path, command: str, params: dict[str, Any] | None = None,
                 done: list[str] | None = None, skipped: dict[str, str] | None = None,
                 stats: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.command = command
        self.params = {} if params is None else params
        self.done = [] if done is None else done
        self.skipped = {} if skipped is None else skipped
        self._stats = {} if stats is None else stats
        self._done_cache: set[str] | None = None
        self._pending: list[bytes] = []  # events recorded since the last flush, as JSON
        self._journal = None  # append handle, opened by this process's first compaction
        self._journal_bytes = 0
        self._compacted_bytes = 0

    @classmethod
    def open(cls, path: str | Path, command: str, params: dict[str, Any] | None = None, resume: bool = True) -> "RunManifest":
        """Load an existing manifest of the same command (with its journal) to resume, else start a new one."""
        path = Path(path)
        if resume and path.exists():
            try:
                d, events = _read_state(path)
            except (orjson.JSONDecodeError, OSError):
                d, events = {}, []  # unreadable manifest: start over rather than trust it
            if d.get("command") == command:
                m = cls(path, command, params or d.get("params", {}), list(d.get("done", [])),
                        dict(d.get("skipped", {})), dict(d.get("stats", {})))
                for event in events:
                    m._apply(event)
                return m
        return cls(path, command, params or {})

    @property
    def stats(self) -> dict[str, Any]:
        return self._stats

    @stats.setter
    def stats(self, value: dict[str, Any]) -> None:
        """Replacing the whole stats is recorded with the next flush (for small running stats)."""
        self._record(["stats", value])

    @property
    def journal_path(self) -> Path:
        return journal_path(self.path)

    def is_done(self, item: str) -> bool:
        return item in self._done_set()

    def _done_set(self) -> set[str]:
        if self._done_cache is None or len(self._done_cache) != len(self.done):
            self._done_cache = set(self.done)
        return self._done_cache

    def mark_done(self, item: str, flush: bool = True) -> None:
        self._record(["done", item])
        if flush:
            self.flush()

    def unmark_done(self, item: str) -> None:
        """Not done any more (e.g. done before, its output gone, and it fails now)."""
        if item in self._done_set():
            self._record(["undone", item])

    def skip(self, item: str, reason: str, flush: bool = True) -> None:
        self._record(["skip", item, reason])
        if flush:
            self.flush()

    def set_stat(self, key: StatKey, value: Any) -> None:
        """``stats[key] = value`` (a tuple key reaches into nested dicts, made as needed)."""
        self._record(["set", _keys(key), value])

    def pop_stat(self, key: StatKey) -> None:
        """Remove ``stats[key]`` if it is there."""
        self._record(["pop", _keys(key)])

    def append_stat(self, key: StatKey, value: Any) -> None:
        """Append ``value`` to the list ``stats[key]`` (made when missing)."""
        self._record(["append", _keys(key), value])

    def _record(self, event: list[Any]) -> None:
        self._apply(event)
        self._pending.append(orjson.dumps(event, default=str, option=_DUMP_OPTIONS))

    def _apply(self, event: list[Any]) -> None:
        """One event's change to the state: the same code records it live and replays it."""
        kind = event[0]
        if kind == "done":
            if event[1] not in self._done_set():
                self.done.append(event[1])
                self._done_cache.add(event[1])
            self.skipped.pop(event[1], None)
        elif kind == "undone":
            if event[1] in self._done_set():
                self.done.remove(event[1])
                self._done_cache.discard(event[1])
        elif kind == "skip":
            self.skipped[event[1]] = event[2]
        elif kind == "stats":
            self._stats = event[1]
        elif kind == "set":
            _parent(self._stats, event[1])[event[1][-1]] = event[2]
        elif kind == "pop":
            _parent(self._stats, event[1]).pop(event[1][-1], None)
        elif kind == "append":
            _parent(self._stats, event[1]).setdefault(event[1][-1], []).append(event[2])
        else:
            raise ValueError(f"{self.journal_path}: unknown manifest event {kind!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "params": self.params,
            "versions": {"spatialforge": __version__, "python": sys.version.split()[0], "platform": platform.system()},
            "num_done": len(self.done),
            "num_skipped": len(self.skipped),
            "done": self.done,
            "skipped": self.skipped,
            "stats": self.stats,
        }

    def flush(self) -> None:
        """Persist the events recorded since the last flush as one journal line (all or none
        of them survive a kill), compacting when the journal has outgrown ``manifest.json``."""
        if not self._pending:
            return
        if self._journal is None:  # this process's first flush: start from a compacted manifest
            self.write()
            return
        line = b"[" + b",".join(self._pending) + b"]\n"
        self._pending.clear()
        _write_all(self._journal, line)
        self._journal_bytes += len(line)
        if self._journal_bytes > max(COMPACT_MIN_BYTES, self._compacted_bytes):
            self.write()

    def write(self) -> None:
        """Compact: the whole state into ``manifest.json`` atomically, then an empty journal."""
        data = self._write_manifest()
        if self._journal is not None:
            self._journal.close()
        _replace(self.journal_path, orjson.dumps({"base": _digest(data)}) + b"\n")
        self._journal = open(self.journal_path, "ab", buffering=0)
        self._journal_bytes = 0

    def close(self) -> None:
        """End of a run (also on errors, from a ``finally``): the whole state into
        ``manifest.json``, the journal removed.  Flushing again later starts a new journal."""
        self._write_manifest()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        self.journal_path.unlink(missing_ok=True)

    def _write_manifest(self) -> bytes:
        self._pending.clear()  # all in the state written
        # orjson: the stdlib encoder with ``indent`` runs in pure Python
        data = orjson.dumps(self.to_dict(), default=str, option=orjson.OPT_INDENT_2 | _DUMP_OPTIONS)
        _replace(self.path, data)
        self._compacted_bytes = len(data)
        return data


def journal_path(path: str | Path) -> Path:
    """The journal beside the manifest at ``path``."""
    path = Path(path)
    return path.with_name(path.name + JOURNAL_SUFFIX)


def remove_manifest(path: str | Path) -> None:
    """Delete the manifest at ``path`` and its journal (starting a run over)."""
    Path(path).unlink(missing_ok=True)
    journal_path(path).unlink(missing_ok=True)


def _read_state(path: Path) -> tuple[dict[str, Any], list[list[Any]]]:
    """``manifest.json`` and the journal events recorded after it.  A journal whose first line
    names another manifest is already compacted into it; when the manifest changed between the
    two reads (a writer compacting meanwhile), both are read again."""
    data = path.read_bytes()
    while True:
        try:
            journal = journal_path(path).read_bytes()
        except FileNotFoundError:
            journal = b""
        head, _, rest = journal.partition(b"\n")
        if head and orjson.loads(head).get("base") == _digest(data):
            return orjson.loads(data), _events(rest)
        again = path.read_bytes()
        if again == data:
            return orjson.loads(data), []
        data = again


def _events(lines: bytes) -> list[list[Any]]:
    """The events of every whole journal line; a torn last line (a kill mid-write) is dropped."""
    events = []
    # a line is written whole with its newline last: what follows the last newline is torn or empty
    for line in lines.split(b"\n")[:-1]:
        try:
            events.extend(orjson.loads(line))
        except orjson.JSONDecodeError:  # garbage a power loss can leave: the journal ends before it
            break
    return events


def _keys(key: StatKey) -> list[str]:
    return [key] if isinstance(key, str) else list(key)


def _parent(stats: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    for k in keys[:-1]:
        stats = stats.setdefault(k, {})
    return stats


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_all(f, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[f.write(view):]
