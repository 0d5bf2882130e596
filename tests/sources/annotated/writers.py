"""Fixture writers: export synthetic scenes (exact ground truth) into each dataset's native
on-disk layout, so the readers can be tested without the datasets (which may not be shipped).

Each writer follows the format description in docs/datasets.md, deliberately with the
dataset's own conventions (world frames that are not ours, poses in the file's direction,
millimetre depth), so a reader that skips a conversion fails the round trip.
"""

from __future__ import annotations

import io
import json
import math
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from spatialforge.sources.annotated.omni3d import cuboid_corners

UP = np.array([0.0, 0.0, 1.0])


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def depth_mm(depth: np.ndarray) -> np.ndarray:
    """The format's quantisation: uint16 millimetres, 0 = no data."""
    return np.round(np.nan_to_num(depth, nan=0.0) * 1000).astype(np.uint16)


def visible(scene):
    return [o for o in scene.objects if o.box2d is not None]


def box_axes_world(box):
    """Columns: our w axis, l axis, up (world frame)."""
    c, s = math.cos(box.yaw), math.sin(box.yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# ---------------------------------------------------------------- Omni3D
def write_omni3d(samples, root: Path, name: str = "Synth_test") -> Path:
    """``root/Omni3D/<name>.json`` + ``root/synth/<id>.png`` (file_path relative to ``root``)."""
    (root / "Omni3D").mkdir(parents=True, exist_ok=True)
    (root / "synth").mkdir(parents=True, exist_ok=True)
    images, anns, cats = [], [], {}
    for n, smp in enumerate(samples):
        sc, cam = smp.scene, smp.scene.camera
        rel = f"synth/{sc.id}.png"
        (root / rel).write_bytes(_png(smp.rgb))
        images.append({"id": 100 + n, "dataset_id": 7, "width": cam.width, "height": cam.height,
                       "file_path": rel, "K": cam.K.tolist(), "src_90_rotate": 0})
        for o in visible(sc):
            b = o.box3d
            A = box_axes_world(b)
            # Omni3D local axes: x carries L, y carries H (pointing down), z carries W; right-handed
            R_world = np.stack([A[:, 1], -A[:, 2], -A[:, 0]], 1)
            R_cam = cam.R.T @ R_world
            center = cam.world_to_cam(np.array(b.center))
            w, h, l = b.size
            cats.setdefault(o.category, len(cats))
            anns.append({"id": 1000 * n + o.id, "image_id": 100 + n, "category_id": cats[o.category],
                         "category_name": o.category, "valid3D": True, "behind_camera": False,
                         "center_cam": center.tolist(), "dimensions": [w, h, l], "R_cam": R_cam.tolist(),
                         "bbox3D_cam": cuboid_corners(center, np.array([w, h, l]), R_cam).tolist(),
                         "bbox2D_tight": list(o.box2d), "bbox2D_proj": [-1, -1, -1, -1],
                         "truncation": o.truncation, "visibility": 1 - o.occlusion})
    path = root / "Omni3D" / f"{name}.json"
    path.write_text(json.dumps({"info": {"id": 7, "name": name}, "images": images, "annotations": anns,
                                "categories": [{"id": i, "name": c} for c, i in cats.items()]}))
    return path
