"""3D-annotated datasets (Omni3D, CA-1M, ARKitScenes, ScanNet, Hypersim) ingested into scenes.

    from spatialforge.sources.annotated import ingest
    ingest("ca1m", "ca1m-tars/", "scenes/", every=10)   # scenes/<id>.json, images/, depth/

Each reader is a function ``input path -> iterator of FrameRef`` registered under the
dataset's name; conventions and what each reader does with them: docs/datasets.md.
"""

from __future__ import annotations

from typing import Callable, Iterator

from .core import Frame, FrameRef, RawObject, build_scene, gravity_rotation, ingest, scene_id, to_box3d

READERS: dict[str, Callable[..., Iterator[FrameRef]]] = {}


def register(name: str):
    def deco(fn):
        READERS[name] = fn
        return fn
    return deco


from . import arkitscenes, ca1m, hypersim, omni3d, scannet  # noqa: E402,F401  (register the readers)

__all__ = ["READERS", "Frame", "FrameRef", "RawObject", "build_scene", "gravity_rotation", "ingest",
           "register", "scene_id", "to_box3d"]
