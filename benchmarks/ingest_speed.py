"""Ingestion speed per format on one core: frames/s of ``spatialforge ingest`` reading each
dataset's native layout (written from synthetic scenes by the test fixture writers) and
writing scenes (PNG image, .npy depth, JSON).

    python benchmarks/ingest_speed.py --scenes 3 --repeat 4 --size 640x480
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.sources.annotated.writers

from spatialforge.sources.annotated import ingest  # noqa: E402
from spatialforge.sources.synthetic import render_synthetic  # noqa: E402
from tests.sources.annotated.writers import (  # noqa: E402
    write_arkitscenes, write_ca1m, write_hypersim, write_omni3d, write_scannet)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=3, help="distinct synthetic scenes")
    ap.add_argument("--repeat", type=int, default=4, help="frames per scene (copies)")
    ap.add_argument("--size", default="640x480")
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    samples = [render_synthetic(0, i, (w, h)) for i in range(a.scenes)] * a.repeat
    n = len(samples)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inputs = {"omni3d": write_omni3d(samples, root / "omni3d"), "ca1m": write_ca1m(samples, root / "ca1m"),
                  "arkitscenes": (write_arkitscenes(samples, root / "ark"), root / "ark")[1],
                  "scannet": (write_scannet(samples, root / "scannet"), root / "scannet")[1],
                  "hypersim": (write_hypersim(samples, root / "hypersim"), root / "hypersim")[1]}
        print(f"{n} frames of {w}x{h}, one core")
        for name, inp in inputs.items():
            t = time.perf_counter()
            m = ingest(name, inp, root / f"out-{name}", resume=False)
            dt = time.perf_counter() - t
            print(f"  {name:12s} {len(m.done):3d} scenes  {len(m.done) / dt:7.1f} frames/s  ({dt:.2f} s)")


if __name__ == "__main__":
    main()
