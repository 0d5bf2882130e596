"""Run manifests for batch jobs: what was done, what was skipped and why, and how to resume.

A batch job never dies on one bad record: it calls ``skip(item, reason)`` and goes on.
The manifest is rewritten atomically after every record, so a crashed job can resume by
skipping the items already listed as done.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from . import __version__


@dataclass
class RunManifest:
    path: Path
    command: str
    params: dict[str, Any] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def open(cls, path: str | Path, command: str, params: dict[str, Any] | None = None, resume: bool = True) -> "RunManifest":
        """Load an existing manifest of the same command to resume, else start a new one."""
        path = Path(path)
        if resume and path.exists():
            try:
                d = json.loads(path.read_text())
                if d.get("command") == command:
                    return cls(path, command, params or d.get("params", {}), list(d.get("done", [])),
                               dict(d.get("skipped", {})), dict(d.get("stats", {})))
            except (json.JSONDecodeError, OSError):
                pass  # unreadable manifest: start over rather than trust it
        return cls(path, command, params or {})

    def is_done(self, item: str) -> bool:
        return item in self._done_set()

    def _done_set(self) -> set[str]:
        if getattr(self, "_cache", None) is None or len(self._cache) != len(self.done):
            self._cache = set(self.done)
        return self._cache

    def mark_done(self, item: str, flush: bool = True) -> None:
        if item not in self._done_set():
            self.done.append(item)
            self._cache.add(item)
        self.skipped.pop(item, None)
        if flush:
            self.write()

    def skip(self, item: str, reason: str, flush: bool = True) -> None:
        self.skipped[item] = reason
        if flush:
            self.write()

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

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        # orjson: the manifest is rewritten after every shard and grows with the run; the
        # stdlib encoder with ``indent`` runs in pure Python
        tmp.write_bytes(orjson.dumps(self.to_dict(), default=str,
                                     option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS))
        os.replace(tmp, self.path)
