"""QA records per CPU-second on one core, on the path users run: scene files on disk -> Parquet.

    python benchmarks/qa_speed.py [--num-scenes 40] [--size 640x480] [--qa-per-scene 20 100 400]
                                  [--repeats 3] [--mirror] [--baseline-src OTHER_CHECKOUT/src]

Untimed setup: ``spatialforge.sources.synthetic.write_scenes`` renders the scenes into a
temp folder (scene JSON + RGB PNG + depth .npy, as any scene source lays them out).

Timed: one call of ``generate_dataset(out, source="folder", scenes_dir=...)`` (what
``spatialforge generate --source folder --scenes DIR`` runs) in a fresh process with one
thread pinned to one core (``--cpu``, as ``taskset -c``), CPU time (``time.process_time``): copying the scene files into ``out/scenes``, JSON
loads, image probes and reads, depth reads, QA generation, PNG encodes, Arrow tables,
zstd Parquet shards, manifest writes.  No cache is filled beforehand; a warm-up run on two
other scenes in the same process pays the imports (a long CLI run pays them once too).

Rounds are interleaved (budget 20, 100, 400, then again), so drifts of a shared machine hit
every budget alike; the median of ``--repeats`` rounds is the figure.  Baselines measured in
the same rounds: the bare floor (one f-string question + answer per record, no I/O), the
schema floor (rows of the shard's text columns, typed MCQ options and JSON included, written to
zstd Parquet, with no scene logic: what the targets leave for everything else), and,
with ``--baseline-src``, the same measurement on another checkout's ``src`` (before/after).

Targets (issue #17): >= 20,000 QA/s/core at 20 QA/scene (the CLI default), >= 50,000 at
100, >= 80,000 at 400 (HiSpatial's scale: ~400 QA per image).
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "ARROW_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

TARGETS = {20: 20_000, 100: 50_000, 400: 80_000}
HERE_SRC = Path(__file__).resolve().parents[1] / "src"

# Runs in a child process (PYTHONPATH = the checkout's src): one warm-up, one timed run.
_CHILD = r"""
import json, os, shutil, sys, time
from pathlib import Path
if sys.argv[6] != "-":
    os.sched_setaffinity(0, {int(sys.argv[6])})  # as `taskset -c N`: one core, no migrations
import pyarrow as pa
pa.set_cpu_count(1); pa.set_io_thread_count(1)
from spatialforge.datasets import generate_dataset
scenes, warm, out, budget, mirror = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
kw = dict(source="folder", qa_per_scene=budget, mirror=mirror, seed=0)
generate_dataset(out / "warmup", scenes_dir=warm, **kw)  # imports, lazy module state
t0 = time.process_time()
m = generate_dataset(out / "run", scenes_dir=scenes, **kw)
dt = time.process_time() - t0
print(json.dumps({"n": m.stats["num_records"], "cpu": dt}))
"""


def _measure(src: Path, scenes: Path, warm: Path, out: Path, budget: int, mirror: bool,
             cpu: int | None = None) -> tuple[int, float]:
    """(records, CPU seconds) of one timed ``generate_dataset`` run in a fresh process, pinned to
    core ``cpu`` when given."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONHASHSEED": "0"}
    res = subprocess.run([sys.executable, "-c", _CHILD, str(scenes), str(warm), str(out), str(budget),
                          "1" if mirror else "0", "-" if cpu is None else str(cpu)],
                         env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"child run failed ({src}, budget {budget}):\n{res.stderr[-3000:]}")
    d = json.loads(res.stdout.strip().splitlines()[-1])
    shutil.rmtree(out, ignore_errors=True)
    return d["n"], d["cpu"]


def _format_floor(reps: int = 200_000) -> float:
    """CPU seconds per record of one f-string question + answer (the floor of any generator)."""
    names = ["chair", "table", "lamp", "sofa", "mug", "bed", "desk"]
    t0 = time.process_time()
    out = []
    for i in range(reps):
        a, b = names[i % 7], names[(i * 3 + 1) % 7]
        out.append((f"How far is the {a} from the {b}? Answer in meters.", f"{0.01 * (i % 997):.2f} m"))
    return (time.process_time() - t0) / reps


def _schema_floor(reps: int = 12_000) -> float:
    """CPU seconds per record of rows in our shard's text columns with no scene logic: a stem
    filled with two names and a length, a third of them as 4-option MCQs with typed options in
    ``meta``, ``answer_struct`` / ``meta`` as sorted-key JSON, then Arrow arrays and a zstd
    Parquet file in memory.  What any generator of this schema pays in CPython before it
    decides anything about a scene."""
    import io

    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    opt = orjson.OPT_SORT_KEYS
    names = ["the chair", "the table", "the lamp", "the sofa", "the mug", "the bed", "the desk"]
    stems = ("How far is {a} from {b}?", "What is the distance between {a} and {b}?")
    t0 = time.process_time()
    cols: dict[str, list] = {k: [] for k in ("id", "question", "answer", "answer_struct", "meta", "choices",
                                             "object_ids", "task", "format")}
    for i in range(reps):
        a, b, d = names[i % 7], names[(i * 3 + 1) % 7], 0.5 + 0.01 * (i % 397)
        q = stems[i & 1].format(a=a, b=b)
        meta = {"sub": "distance", "template": i & 1, "unit": "m", "unit_long": False}
        if i % 3 == 0:
            opts = (d, d * 1.5, d * 0.5, d * 2.2)
            texts = [f"{o:.2f} m" for o in opts]
            q = "{}\nA. {}\nB. {}\nC. {}\nD. {}\n{}".format(q, *texts, "Select one option.")
            meta["options"] = [{"kind": "length", "value": o} for o in opts]
            meta["truth"] = meta["options"][0]
            ans, struct, fmt = "A", {"kind": "choice", "value": "A"}, "mcq"
        else:
            texts, ans, struct, fmt = [], f"{d:.2f} m", {"kind": "length", "value": d}, "free"
        for k, v in (("id", f"scene-{i:03d}"), ("question", q), ("answer", ans), ("choices", texts),
                     ("answer_struct", orjson.dumps(struct, option=opt).decode()),
                     ("meta", orjson.dumps(meta, option=opt).decode()), ("object_ids", [1, 2]),
                     ("task", "distance"), ("format", fmt)):
            cols[k].append(v)
    pq.write_table(pa.table({k: pa.array(v) for k, v in cols.items()}), io.BytesIO(), compression="zstd")
    return (time.process_time() - t0) / reps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-scenes", type=int, default=40)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--qa-per-scene", type=int, nargs="+", default=[20, 100, 400])
    ap.add_argument("--mirror", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds; the median is reported")
    ap.add_argument("--baseline-src", type=Path, default=None,
                    help="another checkout's src folder, measured in the same rounds (before/after)")
    ap.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)),
                    help="core every timed run is pinned to (default: the highest this process may use; -1: none)")
    args = ap.parse_args()
    cpu = None if args.cpu < 0 else args.cpu
    W, H = (int(v) for v in args.size.lower().split("x"))
    sys.path.insert(0, str(HERE_SRC))
    from spatialforge.sources.synthetic import write_scenes

    sides = {"this": HERE_SRC}
    if args.baseline_src is not None:
        sides["baseline"] = args.baseline_src.resolve()
    with tempfile.TemporaryDirectory(prefix="sf_qa_speed_") as tmp:
        tmp = Path(tmp)
        t0 = time.time()
        write_scenes(tmp / "scenes", num=args.num_scenes, seed=args.seed, size=(W, H))
        write_scenes(tmp / "warm", num=2, seed=args.seed + 1000, size=(W, H))
        for d in ("scenes", "warm"):  # the renderer's own manifest is not a scene
            (tmp / d / "manifest.json").unlink(missing_ok=True)
        print(f"setup (untimed): rendered {args.num_scenes} synthetic scenes at {W}x{H} in {time.time() - t0:.1f} s wall")
        print(f"timed: generate_dataset(source='folder') in a fresh process, one thread"
              f"{'' if cpu is None else f' pinned to core {cpu}'}, CPU time; mirror={args.mirror}; "
              f"{args.repeats} interleaved rounds, median reported (range = min-max over rounds)")
        load0 = os.getloadavg()[0]
        rates: dict[tuple[str, int], list[float]] = {}
        floors: list[float] = []
        schema_floors: list[float] = []
        counts: dict[int, int] = {}
        _schema_floor(1_000)  # warm-up: the first Parquet write sets up its codec (~5x the steady cost)
        for r in range(args.repeats):
            for budget in args.qa_per_scene:
                for side, src in sides.items():
                    n, secs = _measure(src, tmp / "scenes", tmp / "warm", tmp / f"out_{side}", budget, args.mirror,
                                       cpu)
                    rates.setdefault((side, budget), []).append(n / secs)
                    counts[budget] = n
            floors.append(1 / _format_floor())
            schema_floors.append(1 / _schema_floor())
        floor = statistics.median(floors)
        print(f"machine: {os.cpu_count()} cores, load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} "
              "at the end (above ~1 other jobs shared the cores: compare the ratios, not the absolute figures)")
        schema_floor = statistics.median(schema_floors)
        print(f"\n[baseline] bare f-string question+answer, no I/O: median {floor:,.0f} records/s/core")
        print(f"[baseline] schema floor (our text columns, typed MCQ options, JSON, Arrow, zstd Parquet; no scene "
              f"logic): median {schema_floor:,.0f} records/s/core")
        for budget in args.qa_per_scene:
            v = rates[("this", budget)]
            med = statistics.median(v)
            target = TARGETS.get(budget)
            verdict = "" if target is None else f"  target >= {target:,}: {'MET' if med >= target else 'NOT MET'}"
            line = (f"--qa-per-scene {budget:>4}: {counts[budget]:>6} records/run  median {med:>8,.0f} QA/s/core "
                    f"(range {min(v):,.0f}-{max(v):,.0f}; {floor / med:,.1f}x the f-string floor's and "
                    f"{schema_floor / med:,.1f}x the schema floor's time per record){verdict}")
            if "baseline" in sides:
                b = rates[("baseline", budget)]
                ratios = [x / y for x, y in zip(v, b)]  # per round: both sides ran back to back
                line += (f"\n                    baseline {statistics.median(b):>8,.0f} QA/s/core -> this/baseline "
                         f"median {statistics.median(ratios):.2f}x (per-round {', '.join(f'{x:.2f}' for x in ratios)})")
            print(line)


if __name__ == "__main__":
    main()
