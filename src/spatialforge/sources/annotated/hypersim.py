"""Hypersim (apple/ml-hypersim): photorealistic synthetic indoor scenes, HDF5 per frame.

Layout of one scene ``ai_VVV_NNN/``: ``_detail/metadata_scene.csv`` (``parameter_name,
parameter_value`` rows; ``meters_per_asset_unit``), ``_detail/cam_XX/camera_keyframe_
{positions,orientations}.hdf5`` (N×3 camera centres in asset coordinates; N×3×3 **camera ->
world** rotations whose columns are the camera axes: x right, **y up, z backwards**, OpenGL
style), ``_detail/mesh/metadata_semantic_instance_bounding_box_object_aligned_2d_{positions,
extents,orientations}.hdf5`` (row i: semantic instance i; asset units; object z axis up) and
``images/scene_cam_XX_final_hdf5/frame.IIII.color.hdf5`` (linear HDR RGB),
``images/scene_cam_XX_geometry_hdf5/frame.IIII.{depth_meters,semantic,semantic_instance}.hdf5``.
Every HDF5 file holds one array named ``dataset``.

``depth_meters`` is the **Euclidean distance to the camera centre** (metres), not planar
depth: planar z = d / |K⁻¹ (u, v, 1)| at each pixel centre.  Intrinsics come from the scene's
``M_cam_from_uv`` (``metadata_camera_parameters.csv`` of the official repository's
``contrib/mikeroberts3000``, looked up next to INPUT or one folder up): the ray of the pixel
centre at NDC (u, v) ∈ [-1, 1]² (v up) is ``M_cam_from_uv @ (u, v, 1)``.  Tilt-shift scenes
are exact too: the map is QR-factored into a rotation of the camera (applied to the pose)
times a pinhole K; a map that would need a skewed K is rejected.  Without the CSV the
standard camera is assumed (60° horizontal field of view, centred; ``metadata.intrinsics``
says which).  Details and conventions: docs/datasets.md.
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path
from typing import Iterator

import numpy as np

from ...errors import ConfigError, DataError
from ...extras import require
from ...pinhole import pixel_centre, pixel_rays
from . import register
from .core import Frame, FrameRef, RawObject, finite, rotation, scene_id

NYU40 = ("wall", "floor", "cabinet", "bed", "chair", "sofa", "table", "door", "window", "bookshelf",
         "picture", "counter", "blinds", "desk", "shelves", "curtain", "dresser", "pillow", "mirror",
         "floormat", "clothes", "ceiling", "books", "refrigerator", "television", "paper", "towel",
         "showercurtain", "box", "whiteboard", "person", "nightstand", "toilet", "sink", "lamp",
         "bathtub", "bag", "otherstructure", "otherfurniture", "otherprop")  # ids 1..40
STRUCTURE = frozenset({"wall", "floor", "ceiling"})
FLIP = np.diag([1.0, -1.0, -1.0])  # Hypersim (OpenGL: y up, z back) <-> OpenCV camera axes
FOV_DEG = 60.0  # Hypersim's horizontal field of view
CAMERA_CSV = "metadata_camera_parameters.csv"
BOX = "_detail/mesh/metadata_semantic_instance_bounding_box_object_aligned_2d_{}.hdf5"


def h5(path: Path, where: str) -> np.ndarray:
    """The ``dataset`` array of a Hypersim HDF5 file, or ``DataError``."""
    require("ingest", "spatialforge ingest hypersim")
    import h5py  # heavy optional dependency (the ingest extra)

    if not path.is_file():
        raise DataError(f"{where}: missing {path.name}")
    try:
        with h5py.File(path, "r") as f:
            return np.asarray(f["dataset"][()])
    except (OSError, KeyError) as e:
        raise DataError(f"{path}: unreadable HDF5 ({e})") from None


def tonemap(rgb: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Hypersim's own tonemap (``scene_generate_images_tonemap.py``): scale so the 90th
    percentile of valid pixels' brightness (0.3 R + 0.59 G + 0.11 B) becomes 0.8 after gamma
    1/2.2, then gamma; clipped to [0, 1] and rounded to uint8."""
    rgb = np.nan_to_num(rgb.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    gamma = 1.0 / 2.2
    scale = 1.0
    if valid.any():
        b = 0.3 * rgb[..., 0] + 0.59 * rgb[..., 1] + 0.11 * rgb[..., 2]
        p90 = np.percentile(b[valid], 90)
        scale = 0.0 if p90 < 1e-4 else 0.8 ** (1 / gamma) / p90
    out = np.power(np.maximum(scale * rgb, 0), gamma)
    return np.round(np.clip(out, 0, 1) * 255).astype(np.uint8)


def camera_from_uv(M: np.ndarray, W: int, H: int, where: str) -> tuple[tuple[float, float, float, float], np.ndarray]:
    """Pinhole intrinsics and the rotation Q (OpenCV axes of the virtual camera, columns, in
    the OpenCV-flipped Hypersim camera frame) of ``ray = M @ (u, v, 1)``.  With pixel
    coordinates p (centre of column c at c + 0.5): (u, v, 1) = S p, so the OpenCV ray is
    F M S p = Q U p (QR, U upper triangular): K = U⁻¹ up to scale, the camera turned by Q."""
    S = np.array([[2.0 / W, 0, -1], [0, -2.0 / H, 1], [0, 0, 1]])
    Q, U = np.linalg.qr(FLIP @ M @ S)
    D = np.diag(np.sign(np.diag(U)))
    Q, U = Q @ D, D @ U
    if np.linalg.det(Q) < 0 or np.any(np.diag(U) <= 0):
        raise DataError(f"{where}: M_cam_from_uv {M.tolist()} is not a camera looking along -z")
    K = np.linalg.inv(U / U[2, 2])
    if abs(K[0, 1]) > 1e-6 * K[0, 0]:
        raise DataError(f"{where}: tilt-shift needs a skewed pinhole (skew {K[0, 1]:.3g}); not supported")
    return (float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2])), Q


def standard_m_cam_from_uv(W: int, H: int) -> np.ndarray:
    t = math.tan(math.radians(FOV_DEG) / 2)
    return np.diag([t, t * H / W, -1.0])


def planar_depth(dist: np.ndarray, K, where: str) -> np.ndarray:
    """Planar z (metres, float32, 0 = no hit) from Euclidean distances to the camera centre:
    z = d / |((u - cx) / fx, (v - cy) / fy, 1)| at each pixel centre.  NaN (no geometry) -> 0."""
    fx, fy, cx, cy = K
    H, W = dist.shape
    bad = ~np.isnan(dist) & (~np.isfinite(dist) | (dist < 0))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(f"{where}: depth_meters has {int(bad.sum())} infinite or negative distances "
                        f"(first at row {r}, col {c}: {dist[r, c]})")
    x, y = pixel_rays(pixel_centre(np.arange(W)), pixel_centre(np.arange(H)), fx, fy, cx, cy)
    norm = np.sqrt(1.0 + x[None, :] ** 2 + y[:, None] ** 2)
    return np.nan_to_num(dist / norm, nan=0.0).astype(np.float32)


def meters_per_asset_unit(scene: Path) -> float:
    path = scene / "_detail" / "metadata_scene.csv"
    if not path.is_file():
        raise DataError(f"scene {scene}: missing _detail/metadata_scene.csv")
    with path.open(newline="") as f:
        for row in csv.reader(f):
            if len(row) >= 2 and row[0].strip() == "meters_per_asset_unit":
                try:
                    m = float(row[1])
                except ValueError:
                    break
                if math.isfinite(m) and m > 0:
                    return m
                break
    raise DataError(f"{path}: no positive meters_per_asset_unit")


def camera_parameters(input: Path) -> dict[str, np.ndarray]:
    """scene name -> M_cam_from_uv (3×3) from the official CSV next to INPUT or one up."""
    for folder in (input, input.parent):
        path = folder / CAMERA_CSV
        if path.is_file():
            cols = [f"M_cam_from_uv_{i}{j}" for i in range(3) for j in range(3)]
            out = {}
            with path.open(newline="") as f:
                for row in csv.DictReader(f):
                    try:
                        out[row["scene_name"]] = np.array([float(row[c]) for c in cols]).reshape(3, 3)
                    except (KeyError, ValueError, TypeError) as e:
                        raise ConfigError(f"{path}: bad row {row.get('scene_name')!r} ({e})") from None
            return out
    return {}


def _boxes(scene: Path, m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Box centres (world, metres), extents (metres), orientations (object -> world)."""
    where = f"scene {scene}"
    pos, ext, rot = (h5(scene / BOX.format(k), where) for k in ("positions", "extents", "orientations"))
    if pos.ndim != 2 or pos.shape[1:] != (3,) or ext.shape != pos.shape or rot.shape != (len(pos), 3, 3):
        raise DataError(f"{where}: bounding box arrays disagree: {pos.shape}, {ext.shape}, {rot.shape}")
    return pos.astype(float) * m, ext.astype(float) * m, rot.astype(float)


def _category(labels: np.ndarray) -> str:
    ids = labels[(labels >= 1) & (labels <= len(NYU40))]
    if not len(ids):
        return ""
    return NYU40[int(np.bincount(ids).argmax()) - 1]


def _load(scene: Path, cam: str, idx: int, m: float, M, boxes) -> Frame:
    frame_id = f"{cam}.{idx:04d}"
    where = f"scene {scene}: {frame_id}"
    fin = scene / "images" / f"scene_{cam}_final_hdf5"
    geo = scene / "images" / f"scene_{cam}_geometry_hdf5"
    stem = f"frame.{idx:04d}"
    color = h5(fin / f"{stem}.color.hdf5", where)
    dist = h5(geo / f"{stem}.depth_meters.hdf5", where).astype(np.float64)
    inst = h5(geo / f"{stem}.semantic_instance.hdf5", where).astype(np.int64)
    sem = h5(geo / f"{stem}.semantic.hdf5", where).astype(np.int64)
    if color.ndim != 3 or color.shape[2] != 3:
        raise DataError(f"{where}: color is {color.shape}, expected (H, W, 3)")
    H, W = color.shape[:2]
    for name, arr in (("depth_meters", dist), ("semantic_instance", inst), ("semantic", sem)):
        if arr.shape != (H, W):
            raise DataError(f"{where}: {name} is {arr.shape}, color is {(H, W)}")
    positions = h5(scene / "_detail" / cam / "camera_keyframe_positions.hdf5", where)
    orientations = h5(scene / "_detail" / cam / "camera_keyframe_orientations.hdf5", where)
    if idx >= len(positions) or idx >= len(orientations):
        raise DataError(f"{where}: no camera keyframe {idx} (trajectory has {len(positions)})")
    c_world = finite("camera position", positions[idx], where, (3,)) * m
    R_hs = rotation("camera orientation", orientations[idx], where)
    source = "metadata_camera_parameters.csv" if M is not None else f"standard {FOV_DEG:g} deg fov"
    K, Q = camera_from_uv(M if M is not None else standard_m_cam_from_uv(W, H), W, H, where)
    R_wc = R_hs @ FLIP @ Q  # OpenCV camera -> Hypersim world (z up)
    ent = geo / f"{stem}.render_entity_id.hdf5"
    valid = h5(ent, where) != -1 if ent.is_file() else np.isfinite(dist)
    rgb = tonemap(color, valid)
    depth = planar_depth(dist, K, where)
    pos, ext, rot = boxes
    objs, dropped = [], {}
    for sid in np.unique(inst[inst >= 0]):
        key, mask = str(int(sid)), inst == sid
        if sid >= len(pos):
            dropped[key] = f"semantic instance {sid} has no bounding box ({len(pos)} boxes)"
            continue
        if not (np.all(np.isfinite(pos[sid])) and np.all(np.isfinite(ext[sid])) and np.all(np.isfinite(rot[sid]))):
            dropped[key] = "bounding box is not finite"
            continue
        label = _category(sem[mask])
        if label in STRUCTURE:
            continue
        rows, cols = np.nonzero(mask)
        box2d = (float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1))
        objs.append(RawObject(key, label, R_wc.T @ (pos[sid] - c_world), R_wc.T @ rot[sid], ext[sid], box2d=box2d,
                              mask=mask))
    return Frame("hypersim", scene.name, frame_id, rgb, depth, K, R_wc.T @ np.array([0.0, 0.0, 1.0]), objs,
                 dropped=dropped, where=where,
                 metadata={"meters_per_asset_unit": m, "intrinsics": source,
                           "camera_center_world": c_world.tolist()})


_FRAME = re.compile(r"^frame\.(\d+)\.color\.hdf5$")


def _scene(scene: Path, cams: dict[str, np.ndarray], have_csv: bool) -> Iterator[FrameRef]:
    try:
        m = meters_per_asset_unit(scene)
        if have_csv and scene.name not in cams:
            raise DataError(f"scene {scene}: not in {CAMERA_CSV}")
        boxes = _boxes(scene, m)
    except DataError as e:
        yield FrameRef(scene_id("hypersim", scene.name, "scene"), error=str(e))
        return
    M = cams.get(scene.name)
    for fin in sorted((scene / "images").glob("scene_cam_*_final_hdf5")):
        cam = fin.name[len("scene_"):-len("_final_hdf5")]
        idxs = sorted(int(mt[1]) for p in fin.iterdir() if (mt := _FRAME.match(p.name)))
        for idx in idxs:
            yield FrameRef(scene_id("hypersim", scene.name, f"{cam}.{idx:04d}"),
                           lambda cam=cam, idx=idx: _load(scene, cam, idx, m, M, boxes))


@register("hypersim")
def read_hypersim(input: Path) -> Iterator[FrameRef]:
    """INPUT: one scene folder ``ai_VVV_NNN/`` or a folder of them (read in name order)."""
    input = Path(input)
    if not input.is_dir():
        raise ConfigError(f"hypersim: {input} is not a folder (expected ai_VVV_NNN/ or a folder of them)")
    scenes = [input] if (input / "_detail").is_dir() else sorted(p for p in input.iterdir() if (p / "_detail").is_dir())
    if not scenes:
        raise ConfigError(f"hypersim: no scene folders (with _detail/) in {input}")
    cams = camera_parameters(input)
    for scene in scenes:
        yield from _scene(scene, cams, bool(cams))
