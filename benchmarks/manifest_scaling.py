"""Cost of recording run events in a ``RunManifest``: the journal vs a rewrite per event.

    python benchmarks/manifest_scaling.py [--events 1000 10000 100000] [--repeats 3] [--old-max 10000]
                                          [--pattern item|shard]

``--pattern item`` (default): one event is what ``estimate_folder`` records per scene, a
per-item stat and the item done, flushed (perceive's per-batch flush is alike).  ``--pattern
shard``: one event is what ``generate_dataset`` records per 1000-record shard at 20 QA/scene:
the shard entry (50 scenes, their files, value counts), 50 scenes done, the run totals
(``datasets.pipeline._recount``; the old code re-summed every shard), flushed.  ``new``: ``spatialforge.manifest.RunManifest`` (one journal line per
flush, compaction when the journal outgrows the manifest, ``close()`` at the end).  ``old``:
the code before the journal, re-implemented here (the whole manifest.json rewritten
atomically, orjson indent 2, after every event); its cost grows with the square of the run, so
runs above ``--old-max`` events are not run and print its estimate from the largest one run
(x (n / n_run)^2).

Figures: CPU seconds (``time.process_time``, user + system: the writes are system time) and
bytes the process wrote (``wchar`` of ``/proc/self/io``), the median of ``--repeats``
interleaved rounds, plus the final manifest size.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from spatialforge import __version__  # noqa: E402
from spatialforge.datasets.pipeline import COUNT_KEYS, _recount  # noqa: E402
from spatialforge.manifest import RunManifest  # noqa: E402

SCENES_PER_SHARD = 50


def shard_entry(i: int) -> dict:
    """A shard entry as the pipeline writes it: 50 scenes of 20 records, value counts per column."""
    scenes = [f"scene-{i * SCENES_PER_SHARD + k:07d}" for k in range(SCENES_PER_SHARD)]
    counts = {k: {f"{k}-{v}": 1000 // 8 for v in range(8)} for k in COUNT_KEYS}
    return {"file": f"shard-{i:05d}.parquet", "records": 1000, "scenes": scenes,
            "files": [f"{s}.json" for s in scenes], "counts": counts}


class OldManifest:
    """The manifest before the journal: every recorded event rewrites the whole file."""

    def __init__(self, path: Path, command: str) -> None:
        self.path, self.command = path, command
        self.params: dict = {}
        self.done: list[str] = []
        self.done_set: set[str] = set()
        self.skipped: dict[str, str] = {}
        self.stats: dict = {"seconds": {}}

    def mark_done(self, item: str, write: bool = True) -> None:
        if item not in self.done_set:
            self.done.append(item)
            self.done_set.add(item)
        self.skipped.pop(item, None)
        if write:
            self.write()

    def write(self) -> None:
        d = {"command": self.command, "params": self.params,
             "versions": {"spatialforge": __version__, "python": sys.version.split()[0], "platform": platform.system()},
             "num_done": len(self.done), "num_skipped": len(self.skipped), "done": self.done,
             "skipped": self.skipped, "stats": self.stats}
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.write_bytes(orjson.dumps(d, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
                                     | orjson.OPT_NON_STR_KEYS))
        os.replace(tmp, self.path)


def old_recount(stats: dict) -> None:
    """The pipeline's totals before running totals: a re-sum of every shard."""
    shards = stats["shards"]
    totals: dict[str, Counter] = {k: Counter() for k in COUNT_KEYS}
    for s in shards:
        for k in COUNT_KEYS:
            totals[k].update(s["counts"].get(k, {}))
    stats["counts"] = {k: dict(sorted(v.items())) for k, v in totals.items()}
    stats["num_records"] = sum(s["records"] for s in shards)
    stats["num_scenes"] = sum(len(s["scenes"]) for s in shards)
    stats["num_shards"] = len(shards)


def run_old_shards(folder: Path, n: int) -> None:
    m = OldManifest(folder / "manifest.json", "generate")
    m.stats = {"shards": []}
    for i in range(n):
        entry = shard_entry(i)
        m.stats["shards"].append(entry)
        for s in entry["scenes"]:
            m.mark_done(s, write=False)
        old_recount(m.stats)
        m.write()


def run_new_shards(folder: Path, n: int) -> None:
    m = RunManifest.open(folder / "manifest.json", "generate")
    m.stats["shards"] = []
    try:
        for i in range(n):
            entry = shard_entry(i)
            m.append_stat("shards", entry)
            for s in entry["scenes"]:
                m.mark_done(s, flush=False)
            _recount(m, [entry])
            m.flush()
    finally:
        m.close()


def run_old(folder: Path, n: int) -> None:
    m = OldManifest(folder / "manifest.json", "geometry")
    for i in range(n):
        m.stats["seconds"][f"scene-{i:07d}.json"] = 0.0123
        m.mark_done(f"scene-{i:07d}.json")


def run_new(folder: Path, n: int) -> None:
    m = RunManifest.open(folder / "manifest.json", "geometry")
    m.stats["seconds"] = {}
    try:
        for i in range(n):
            m.set_stat(("seconds", f"scene-{i:07d}.json"), 0.0123)
            m.mark_done(f"scene-{i:07d}.json")
    finally:
        m.close()


def written_bytes() -> int:
    io = Path("/proc/self/io").read_text()
    return int(next(line.split()[1] for line in io.splitlines() if line.startswith("wchar:")))


def measure(fn, n: int) -> tuple[float, int, int]:
    with tempfile.TemporaryDirectory() as t:
        folder = Path(t)
        b0, c0 = written_bytes(), time.process_time()
        fn(folder, n)
        cpu, written = time.process_time() - c0, written_bytes() - b0
        return cpu, written, (folder / "manifest.json").stat().st_size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--old-max", type=int, default=10000, help="largest run of the old code (quadratic)")
    ap.add_argument("--pattern", choices=("item", "shard"), default="item")
    args = ap.parse_args()
    run = {"item": (run_new, run_old), "shard": (run_new_shards, run_old_shards)}[args.pattern]
    results: dict[tuple[str, int], list[tuple[float, int, int]]] = {}
    for _ in range(args.repeats):  # interleaved rounds
        for n in args.events:
            results.setdefault(("new", n), []).append(measure(run[0], n))
            if n <= args.old_max:
                results.setdefault(("old", n), []).append(measure(run[1], n))
    print(f"{'events':>8} {'final MB':>9} | {'new s':>7} {'new MB written':>15} | {'old s':>9} {'old MB written':>15}")
    largest_old = max((n for n in args.events if n <= args.old_max), default=None)
    for n in args.events:
        cpu, written, size = _medians(results[("new", n)])
        if ("old", n) in results:
            old_cpu, old_written, _ = _medians(results[("old", n)])
            mark = " "
        elif largest_old is not None:  # quadratic: the largest old run scaled
            old_cpu, old_written, _ = _medians(results[("old", largest_old)])
            scale = (n / largest_old) ** 2
            old_cpu, old_written, mark = old_cpu * scale, old_written * scale, "~"
        else:
            old_cpu = old_written = float("nan")
            mark = " "
        print(f"{n:8d} {size / 1e6:9.2f} | {cpu:7.2f} {written / 1e6:15.2f} |"
              f" {mark}{old_cpu:8.2f} {mark}{old_written / 1e6:14.1f}")


def _medians(runs: list[tuple[float, int, int]]) -> tuple[float, ...]:
    return tuple(statistics.median(r[k] for r in runs) for k in range(3))

if __name__ == "__main__":
    main()
