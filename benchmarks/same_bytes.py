"""Same seed, same bytes: generate one dataset N times in fresh processes and compare file hashes.

    python benchmarks/same_bytes.py [--runs 10] [--num-scenes 10] [--size 640x480] [--seed 0]

Each run is a new Python process with its own ``PYTHONHASHSEED`` (and so its own heap layout
and address space), rendering synthetic scenes and generating a mirrored dataset (with highlighted-box
records where the task engine makes them), as ``spatialforge generate --mirror`` does.  Every output file is
hashed (Parquet shards, scene JSONs, images, depth maps); the run manifest is left out, as
it holds timestamps.  Prints how many runs match the first and which files differ.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

_RUN = """
import sys
from spatialforge.datasets import generate_dataset
generate_dataset(sys.argv[1], source="synthetic", num_scenes=int(sys.argv[2]), seed=int(sys.argv[3]),
                 size=(int(sys.argv[4]), int(sys.argv[5])), mirror=True)
"""


def hash_outputs(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` except run manifests (they hold timestamps)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def run_once(out: Path, num_scenes: int, seed: int, size: tuple[int, int], hash_seed: int) -> dict[str, str]:
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))}
    subprocess.run([sys.executable, "-c", _RUN, str(out), str(num_scenes), str(seed), *map(str, size)],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return hash_outputs(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--num-scenes", type=int, default=10)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="sf_same_bytes_") as tmp:
        hashes = [run_once(Path(tmp) / f"run{k}", args.num_scenes, args.seed, size, k) for k in range(args.runs)]
    ref = hashes[0]
    same = sum(h == ref for h in hashes)
    print(f"{same} of {args.runs} runs identical to run 0 ({len(ref)} files each, "
          f"{args.num_scenes} scenes at {args.size}, seed {args.seed})")
    for k, h in enumerate(hashes):
        diff = sorted(f for f in set(ref) | set(h) if ref.get(f) != h.get(f))
        if diff:
            print(f"  run {k}: {len(diff)} files differ, e.g. {diff[:3]}")
    return 0 if same == args.runs else 1


if __name__ == "__main__":
    sys.exit(main())
