"""QA records per second per core of the task engine, from in-memory scenes.

    python benchmarks/bench_tasks.py [n_scenes] [qa_per_scene]

Depth maps are loaded (and cached) before timing; the views (references etc.) are *not*
prebuilt, so per-scene precomputation is included.  Prints records/s for mirror off and on.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tasks"))

from taskscenes import random_scene  # noqa: E402

import spatialforge.tasks.view as view_mod  # noqa: E402
from spatialforge.tasks import clear_caches, generate_qa  # noqa: E402


def main() -> None:
    n_scenes = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    per = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    with tempfile.TemporaryDirectory() as tmp:
        scenes = [random_scene(s, Path(tmp) if s % 4 == 0 else None, n=None) for s in range(n_scenes)]
        for mirror in (False, True):
            clear_caches()
            view_mod._DEPTH_CACHE_SIZE = 10**6  # keep every depth map: loading is excluded from the timing
            for s in scenes:
                if s.depth_path:
                    view_mod._load_depth(s)
            view_mod._VIEWS.clear()  # ... but per-scene views (references etc.) are timed
            t0 = time.process_time()
            n = 0
            for s in scenes:
                n += len(generate_qa(s, seed=1, qa_per_scene=per, mirror=mirror).records)
            dt = time.process_time() - t0
            print(f"mirror={mirror}: {n} records in {dt:.3f} s -> {n / dt:,.0f} records/s per core (CPU time)")


if __name__ == "__main__":
    main()
