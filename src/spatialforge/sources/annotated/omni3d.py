"""Omni3D (facebookresearch/omni3d, DATA.md): COCO-style JSON with per-image ``K`` and
per-annotation camera-frame boxes.

Conventions read here (cubercnn ``get_cuboid_verts_faces``): camera x right, y down, z
forward (OpenCV); ``dimensions`` is ``[W, H, L]`` but the box's local x axis carries L, local
y carries H and local z carries W; ``bbox3D_cam`` corner i is ``R_cam @ local_i + center_cam``
with local x = [-L, L, L, -L, -L, L, L, -L]/2, y = [-H, -H, H, H, -H, -H, H, H]/2,
z = [-W]*4 + [W]*4 /2.  Omni3D gives no gravity: the boxes are gravity-aligned, so up is
-(local y) of the boxes (they must agree within 5 deg).  No depth, no masks.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterator

import numpy as np

from ...errors import ConfigError, DataError
from . import register
from .core import Frame, FrameRef, RawObject, decode_png, finite, rotation, scene_id

_SX = np.array([-1, 1, 1, -1, -1, 1, 1, -1]) / 2
_SY = np.array([-1, -1, 1, 1, -1, -1, 1, 1]) / 2
_SZ = np.array([-1, -1, -1, -1, 1, 1, 1, 1]) / 2


def cuboid_corners(center: np.ndarray, dims_whl: np.ndarray, R: np.ndarray) -> np.ndarray:
    """(8, 3) camera-frame corners in Omni3D's order (see the module docstring)."""
    w, h, l = dims_whl
    local = np.stack([_SX * l, _SY * h, _SZ * w], 1)
    return local @ R.T + center


def _valid_box2d(b) -> tuple[float, float, float, float] | None:
    if b is None:
        return None
    v = np.asarray(b, float).reshape(-1)
    if v.size != 4 or not np.all(np.isfinite(v)) or np.any(v < -0.5) or v[2] <= v[0] or v[3] <= v[1]:
        return None  # Omni3D writes [-1, -1, -1, -1] where a box is unknown
    return tuple(float(x) for x in v)


def _object(ann: dict, cats: dict, where: str) -> RawObject:
    key = str(ann.get("id", "?"))
    where = f"{where} annotation {key}"
    name = ann.get("category_name") or cats.get(ann.get("category_id"))
    if not name:
        raise DataError(f"{where}: unknown category (category_id {ann.get('category_id')!r})")
    for k in ("center_cam", "dimensions", "R_cam"):
        if k not in ann:
            raise DataError(f"{where}: missing {k!r}")
    center = finite("center_cam", ann["center_cam"], where, (3,))
    dims = finite("dimensions", ann["dimensions"], where, (3,))
    if np.any(dims <= 0):
        raise DataError(f"{where}: size must be positive, got dimensions {dims.tolist()}")
    R = rotation("R_cam", ann["R_cam"], where)
    if "bbox3D_cam" in ann:  # the corners must be the box the other fields describe
        corners = finite("bbox3D_cam", ann["bbox3D_cam"], where, (8, 3))
        err = np.abs(corners - cuboid_corners(center, dims, R)).max()
        if err > 1e-3 + 1e-3 * np.abs(corners).max():
            raise DataError(f"{where}: bbox3D_cam disagrees with center_cam/dimensions/R_cam by {err:.4f} m")
    tight = _valid_box2d(ann.get("bbox2D_tight"))
    proj = _valid_box2d(ann.get("bbox2D_proj"))
    trunc, vis = ann.get("truncation"), ann.get("visibility")
    # our axes order: W axis (local z) first so it becomes w, then L (local x), then H (local y)
    return RawObject(key, str(name), center, R[:, [2, 0, 1]], dims[[0, 2, 1]],
                     box2d=tight or proj, box2d_projected=tight is None and proj is not None,
                     truncation=float(trunc) if isinstance(trunc, (int, float)) and 0 <= trunc <= 1 else None,
                     occlusion=1.0 - float(vis) if isinstance(vis, (int, float)) and 0 <= vis <= 1 else None)


def _up(objs: list[RawObject], where: str) -> tuple[np.ndarray, dict[str, str]]:
    """Gravity from the boxes' H axes (sign: up has negative image-y), and the boxes that disagree."""
    ups = [-o.axes_cam[:, 2] for o in objs]
    ups = [u if u[1] <= 0 else -u for u in ups]
    ref = ups[0]
    cos = math.cos(math.radians(5.0))
    keep = [u for u in ups if u @ ref >= cos]
    bad = {o.key: "its vertical disagrees with the other boxes by > 5 deg" for o, u in zip(objs, ups) if u @ ref < cos}
    if len(bad) > len(keep):
        raise DataError(f"{where}: the boxes disagree on the vertical; no gravity direction")
    up = np.mean(keep, 0)
    return up / np.linalg.norm(up), bad


def _find_image(json_path: Path, rel: str) -> Path | None:
    for root in (json_path.parent, json_path.parent.parent):
        if (root / rel).is_file():
            return root / rel
    return None


def _load(json_path: Path, img: dict, anns: list[dict], cats: dict) -> Frame:
    where = f"{json_path}: image {img.get('id')!r}"
    for k in ("K", "width", "height", "file_path"):
        if k not in img:
            raise DataError(f"{where}: missing {k!r}")
    K = finite("K", img["K"], where, (3, 3))
    path = _find_image(json_path, str(img["file_path"]))
    if path is None:
        raise DataError(f"{where}: image file {img['file_path']!r} not found next to {json_path} or one level up")
    rgb = decode_png(path.read_bytes(), f"{where}: {path}", mode="RGB")
    if rgb.shape[:2] != (int(img["height"]), int(img["width"])):
        raise DataError(f"{where}: {path} is {rgb.shape[1]}x{rgb.shape[0]}, JSON says {img['width']}x{img['height']}")
    objs, dropped = [], {}
    for ann in anns:
        if ann.get("valid3D") is False or ann.get("behind_camera") is True:
            dropped[str(ann.get("id", "?"))] = "not valid in 3D (valid3D false or behind the camera)"
            continue
        try:
            objs.append(_object(ann, cats, where))
        except DataError as e:
            dropped[str(ann.get("id", "?"))] = str(e)
    if not objs:
        why = "; ".join(f"{k}: {v}" for k, v in list(dropped.items())[:3]) or "no annotations"
        raise DataError(f"{where}: no usable objects ({why})")
    up, bad = _up(objs, where)
    dropped.update(bad)
    objs = [o for o in objs if o.key not in bad]
    return Frame("omni3d", str(img.get("dataset_id", json_path.stem)), str(img["id"]), rgb, None,
                 (K[0, 0], K[1, 1], K[0, 2], K[1, 2]), up, objs, project_missing_box2d=False,
                 metadata={"source_file": str(img["file_path"]), "src_90_rotate": img.get("src_90_rotate", 0)},
                 dropped=dropped, where=where)


@register("omni3d")
def read_omni3d(input: Path) -> Iterator[FrameRef]:
    """INPUT: an Omni3D JSON file, or a folder of them (images resolved from ``file_path``
    relative to the JSON's folder or its parent, as in Omni3D's ``datasets/`` layout)."""
    input = Path(input)
    files = sorted(input.glob("*.json")) if input.is_dir() else [input]
    if not files:
        raise ConfigError(f"omni3d: no *.json files in {input}")
    for jf in files:
        try:
            d = json.loads(jf.read_text())
            images, anns = d["images"], d.get("annotations", [])
            cats = {c["id"]: c["name"] for c in d.get("categories", [])}
        except (OSError, ValueError, KeyError, TypeError) as e:
            yield FrameRef(f"omni3d-{jf.stem}", error=f"{jf}: not an Omni3D JSON ({type(e).__name__}: {e})")
            continue
        by_image: dict = {}
        for a in anns:
            by_image.setdefault(a.get("image_id"), []).append(a)
        for img in images:
            key = scene_id("omni3d", str(img.get("dataset_id", jf.stem)), str(img.get("id")))
            yield FrameRef(key, lambda img=img, jf=jf: _load(jf, img, by_image.get(img.get("id"), []), cats))
