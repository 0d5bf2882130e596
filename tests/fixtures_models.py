"""Shared fixtures: tiny offline VLMs, built once per test session (per xdist worker).

Import the fixtures you use into a test module::

    from tests.fixtures_models import tiny_qwen_path, tiny_paligemma_path, make_image  # noqa: F401

Each builder is cached by path, so modules that import the same fixture share one build.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatialforge.models.tiny import build_tiny_paligemma, build_tiny_qwen2_5_vl


def make_image(seed: int = 0, size: tuple[int, int] = (56, 56)) -> Image.Image:
    """A deterministic random RGB image (``size`` = (width, height)); 56² gives 4 Qwen image tokens."""
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp() / "tiny_models"


@pytest.fixture(scope="session")
def tiny_qwen_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a tiny Qwen2.5-VL checkpoint (model, processor, chat template)."""
    return build_tiny_qwen2_5_vl(_models_dir(tmp_path_factory) / "qwen2_5_vl")


@pytest.fixture(scope="session")
def tiny_paligemma_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a tiny PaliGemma 2 checkpoint (28² images, 4 image tokens)."""
    return build_tiny_paligemma(_models_dir(tmp_path_factory) / "paligemma2")
