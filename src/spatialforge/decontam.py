"""Decontamination: keep the scenes a benchmark tests on out of training data.

VSI-Bench, SPAR-Bench and others are built from ScanNet, ScanNet++ and ARKitScenes
captures, the same captures ``spatialforge ingest`` reads. ``--exclude-benchmark`` on
``ingest`` and ``generate`` takes ``NAME[=PATH],...``: the scene ids are read from the
benchmark's own files (PATH: a file or folder in the benchmark's format; without it the
benchmark's default source) by the benchmark class (``Benchmark.scene_ids``: VSI-Bench's
``scene_name`` field; elsewhere ScanNet ids found in the row's text fields).

Matching: ingested frames and scenes are named ``<dataset>-<capture>-<frame>``
(``sources.annotated.core.scene_id``); a frame is excluded when one of its ``-``-separated
parts is a benchmark scene id -- an ARKitScenes video id (also CA-1M's, which reuses them),
a ScanNet++ scene id -- or, for ScanNet, names the same room: ``scene0000_00`` also excludes
the rescans ``scene0000_01``, ... (same space, other capture). What was excluded, and from
which benchmark file, is listed in the run manifest's ``stats["excluded"]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .errors import ConfigError
from .eval.benchmarks import get_benchmark

_SCANNET = re.compile(r"^(scene\d{4})_\d{2}$")


def _room(scene: str) -> str:
    """ScanNet scans of one room share the ``scene<4 digits>`` prefix; other ids are their own room."""
    m = _SCANNET.match(scene)
    return m.group(1) if m else scene


@dataclass
class Exclusion:
    """Benchmark scene ids (by room) and where each benchmark's ids were read from."""

    rooms: dict[str, str] = field(default_factory=dict)  # room -> "benchmark:scene id"
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)  # benchmark -> {"source", "n_scene_ids"}

    def match(self, key: str) -> str | None:
        """``"benchmark:scene id"`` when a part of ``key`` is an excluded scene, else None."""
        for part in key.split("-"):
            hit = self.rooms.get(_room(part))
            if hit is not None:
                return hit
        return None

    def describe(self) -> dict[str, Any]:
        return {name: dict(info) for name, info in sorted(self.sources.items())}

    def split(self, keys: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """(kept keys, {excluded key: "benchmark:scene id"})."""
        kept, excluded = [], {}
        for k in keys:
            hit = self.match(k)
            if hit is None:
                kept.append(k)
            else:
                excluded[k] = hit
        return kept, excluded

    def filter_paths(self, paths: list[Path], stats: dict[str, Any]) -> list[Path]:
        """Scene files whose name (stem) is not excluded; the excluded ones recorded in ``stats``."""
        _, excluded = self.split([p.stem for p in paths])
        self.record(stats, excluded)
        return [p for p in paths if p.stem not in excluded]

    def record(self, stats: dict[str, Any], excluded: dict[str, str]) -> None:
        """The manifest entry: the benchmarks read, and every excluded item with its scene."""
        stats["excluded"] = {"benchmarks": self.describe(), "n_items": len(excluded), "items": dict(sorted(excluded.items()))}


def parse_spec(spec: str) -> list[tuple[str, str | None]]:
    """``"vsibench=/data/test.jsonl,sparbench"`` -> ``[("vsibench", "/data/test.jsonl"), ("sparbench", None)]``."""
    out = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        name, sep, path = item.partition("=")
        if sep and not path.strip():
            raise ConfigError(f"--exclude-benchmark {item!r}: empty path after '='")
        out.append((name.strip(), path.strip() or None))
    if not out:
        raise ConfigError("--exclude-benchmark needs at least one benchmark name")
    return out


def load_exclusion(spec: str) -> Exclusion:
    """Read the scene ids of every benchmark in ``spec`` (see :func:`parse_spec`)."""
    ex = Exclusion()
    for name, path in parse_spec(spec):
        bench = get_benchmark(name)
        source = path if path is not None else bench.hf_id
        if source is None:
            raise ConfigError(f"--exclude-benchmark {name}: needs a path ({name}=PATH)")
        if path is not None and not Path(path).exists():
            raise ConfigError(f"--exclude-benchmark {name}: {path} not found")
        rows, _ = bench.read_rows(source)
        scenes: set[str] = set()
        for row in rows:
            scenes.update(bench.scene_ids(row))
        for s in sorted(scenes):
            ex.rooms.setdefault(_room(s), f"{name}:{s}")
        ex.sources[name] = {"source": str(source), "n_scene_ids": len(scenes)}
    return ex
