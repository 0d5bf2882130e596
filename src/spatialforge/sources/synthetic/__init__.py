"""Built-in synthetic scene source: procedural indoor scenes rendered headless with exact GT.

    from spatialforge.sources.synthetic import render_synthetic, write_scenes
    sample = render_synthetic(seed=0, index=3, size=(640, 480))   # Scene + rgb/depth/ids arrays
    paths = write_scenes("data/synth", num=100, seed=0)           # JSON + images/ depth/ masks/

Importing this package does not import pyrender/PyOpenGL; rendering does (EGL, else OSMesa).
"""

from .catalog import CATEGORIES, COLORS, Category
from .generate import SyntheticSample, render_layout, render_synthetic, sample_visible_layout, scene_id, write_scenes
from .layout import Layout, LayoutError, PlacedObject, footprints_overlap, sample_layout

__all__ = [
    "CATEGORIES", "COLORS", "Category", "Layout", "LayoutError", "PlacedObject", "SyntheticSample",
    "footprints_overlap", "render_layout", "render_synthetic", "sample_layout", "sample_visible_layout",
    "scene_id", "write_scenes",
]
