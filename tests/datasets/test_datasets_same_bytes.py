"""Same seed, same bytes, across processes: rendered scenes, mirrored views and shards.

In-process repeats share one heap and address layout, which hides encoders whose output
depends on memory contents; each run here is a fresh interpreter with its own hash seed.
"""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from spatialforge.datasets.parquet import encode_png

_RUN = """
import sys
from spatialforge.datasets import generate_dataset
generate_dataset(sys.argv[1], source="synthetic", num_scenes=3, seed=5, size=(160, 120), mirror=True,
                 qa_per_scene=10)
"""


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != "manifest.json"}


def test_generation_gives_the_same_bytes_in_fresh_processes(tmp_path):
    src = str(Path(__file__).resolve().parents[2] / "src")
    runs = []
    for k in range(3):
        env = {**os.environ, "PYTHONHASHSEED": str(k), "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
        subprocess.run([sys.executable, "-c", _RUN, str(tmp_path / f"run{k}")], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        runs.append(_hashes(tmp_path / f"run{k}"))
    assert any(f.startswith("data/shard-") for f in runs[0]) and any(f.endswith(".png") for f in runs[0])
    assert runs[0] == runs[1] == runs[2]


def test_png_bytes_do_not_depend_on_memory_layout():
    rgb = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    rgb[:, :60] = 40  # flat and noisy regions: long and short matches
    ref = encode_png(rgb)
    for k in range(20):  # other buffers around, strided / offset inputs: same bytes
        pad = np.random.default_rng(k).integers(0, 256, rgb.size + 4096, dtype=np.uint8)
        view = pad[k: k + rgb.size].reshape(rgb.shape)
        view[...] = rgb
        assert encode_png(view) == ref
