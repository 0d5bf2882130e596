"""Helpers shared by the perception tests (a uniquely named module: ``conftest`` is ambiguous
when several test folders are collected in one run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

SIZE = (160, 120)
CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "perception"


def noise_image(path: Path, seed: int = 0, size: tuple[int, int] = SIZE) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(1, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path
