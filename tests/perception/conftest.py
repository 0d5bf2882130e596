"""Fixtures for the perception tests: tiny random-weight models and a few rendered scenes,
each built once per session (per xdist worker)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from perception_helpers import SIZE
from spatialforge.perception.tiny import build_tiny_perception


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    return build_tiny_perception(tmp_path_factory.getbasetemp() / "tiny_perception")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> Path:
    """Three rendered scenes (seed 1, 160x120) with their exact ground truth."""
    from spatialforge.sources.synthetic import write_scenes

    out = tmp_path_factory.getbasetemp() / "rendered"
    write_scenes(out, 3, seed=1, size=SIZE)
    return out


@pytest.fixture
def image_folder(rendered, tmp_path) -> Path:
    """Only the RGB files of the rendered scenes: PNG for even, JPEG for odd scenes."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, p in enumerate(sorted((rendered / "images").glob("*.png"))):
        if i % 2:
            Image.open(p).convert("RGB").save(folder / f"{p.stem}.jpg", quality=90)
        else:
            shutil.copy(p, folder / p.name)
    return folder


@pytest.fixture
def oracle_env(rendered, monkeypatch) -> Path:
    monkeypatch.setenv("SPATIALFORGE_ORACLE_SCENES", str(rendered))
    return rendered

