"""A scene's 3D boxes as a GLB file for Gradio's ``Model3D`` (trimesh writes the GLB)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..scene import Scene
from ..viz.show import PALETTE

OTHER = (170, 170, 170, 110)  # objects the record does not ask about: grey, half transparent
# world frame: x right, y forward, z up; glTF is y up, -z forward
Z_UP_TO_Y_UP = np.array([[1, 0, 0, 0], [0, 0, 1, 0], [0, -1, 0, 0], [0, 0, 0, 1]], float)


def boxes_glb(scene: Scene, highlight: Sequence[int], path: str | Path) -> Path:
    """Write every object's 3D box (the ``highlight`` ids in the show page's colours, the rest
    grey) as one GLB at ``path``; returns the path."""
    import trimesh

    colours = {int(oid): PALETTE[k % len(PALETTE)] + (230,) for k, oid in enumerate(highlight)}
    meshes = []
    for obj in scene.objects:
        mesh = trimesh.convex.convex_hull(obj.box3d.corners())
        mesh.visual.face_colors = np.tile(colours.get(obj.id, OTHER), (len(mesh.faces), 1))
        meshes.append(mesh)
    merged = trimesh.util.concatenate(meshes)
    merged.apply_transform(Z_UP_TO_Y_UP)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    merged.export(path, file_type="glb")
    return path
