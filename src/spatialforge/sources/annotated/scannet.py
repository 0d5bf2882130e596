"""ScanNet v2 (ScanNet/ScanNet): a scan folder with the mesh annotations and the frames
exported from the ``.sens`` file by the official SensReader.

Layout: ``<scene>/<scene>.txt`` (``axisAlignment = 16 numbers``, row-major 4x4 applied to
world points), ``<scene>_vh_clean_2.ply`` (mesh vertices, metres),
``<scene>_vh_clean_2.0.010000.segs.json`` (``segIndices``: a segment id per vertex),
``<scene>.aggregation.json`` (``segGroups[{objectId, label, segments}]``) and the export
``color/<i>.jpg``, ``depth/<i>.png`` (uint16 mm), ``pose/<i>.txt`` (4x4 **camera -> world**,
used as stored; invalid frames hold ``-inf``), ``intrinsic/intrinsic_color.txt`` and
``intrinsic_depth.txt`` (4x4, K in the top-left 3x3).

Boxes are ScanNet's usual ones: the axis-aligned box of an instance's vertices in the
axis-aligned (z-up) world.  Depth is registered to the colour camera (same centre and
orientation, its own intrinsics), so it is resampled into the colour image through the two
intrinsics.  Walls, floors and ceilings are not objects.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Iterator

import numpy as np

from ...errors import ConfigError, DataError
from ...pinhole import pixel_centre, pixel_rays, project
from . import register
from .core import Frame, FrameRef, RawObject, decode_png, finite, in_view, scene_id

STRUCTURE = frozenset({"wall", "floor", "ceiling"})


def _matrix(path: Path, where: str) -> np.ndarray:
    try:
        vals = [float(x) for x in path.read_text().split()]
    except (OSError, ValueError) as e:
        raise DataError(f"{where}: {path.name} unreadable ({e})") from None
    return finite(path.name, vals, f"{where}: {path}", (4, 4))


def axis_alignment(path: Path) -> np.ndarray:
    """The ``axisAlignment`` 4x4 of ``<scene>.txt`` (identity if the line is absent)."""
    if not path.is_file():
        return np.eye(4)
    for line in path.read_text().splitlines():
        if line.strip().startswith("axisAlignment"):
            return finite("axisAlignment", line.split("=", 1)[1].split(), str(path), (4, 4))
    return np.eye(4)


def instance_boxes(scan: Path) -> tuple[list[tuple[str, str, np.ndarray, np.ndarray]], dict[str, str]]:
    """(key, label, centre, extents) of each instance's axis-aligned box in the aligned world."""
    import trimesh

    name = scan.name
    ply, segs = scan / f"{name}_vh_clean_2.ply", scan / f"{name}_vh_clean_2.0.010000.segs.json"
    agg = next((p for p in (scan / f"{name}.aggregation.json", scan / f"{name}_vh_clean.aggregation.json")
                if p.is_file()), None)
    for p in (ply, segs):
        if not p.is_file():
            raise DataError(f"scan {scan}: missing {p.name}")
    if agg is None:
        raise DataError(f"scan {scan}: missing {name}.aggregation.json")
    try:  # what trimesh's PLY reader raises on garbage, truncated or inconsistent files (tried)
        mesh = trimesh.load(ply, process=False)
    except (ValueError, KeyError, IndexError, struct.error, EOFError, OSError) as e:
        raise DataError(f"{ply}: unreadable mesh ({type(e).__name__}: {e})") from None
    if not hasattr(mesh, "vertices"):
        raise DataError(f"{ply}: not a single mesh (trimesh read a {type(mesh).__name__})")
    verts = np.asarray(mesh.vertices, float)
    try:
        seg_ids = np.asarray(json.loads(segs.read_text())["segIndices"])
        groups = json.loads(agg.read_text())["segGroups"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataError(f"scan {scan}: bad segments/aggregation JSON ({type(e).__name__}: {e})") from None
    if len(seg_ids) != len(verts):
        raise DataError(f"{segs}: {len(seg_ids)} segment ids for {len(verts)} mesh vertices")
    A = axis_alignment(scan / f"{name}.txt")
    aligned = verts @ A[:3, :3].T + A[:3, 3]
    out, bad = [], {}
    for g in groups:
        key, label = str(g.get("objectId", g.get("id", "?"))), str(g.get("label") or "").strip()
        if label.lower() in STRUCTURE:
            continue
        pts = aligned[np.isin(seg_ids, g.get("segments", []))]
        if len(pts) == 0:
            bad[key] = "no mesh vertices in its segments"
            continue
        lo, hi = pts.min(0), pts.max(0)
        out.append((key, label, (lo + hi) / 2, hi - lo))
    return out, bad


def resample_depth(depth: np.ndarray, K_d: np.ndarray, K_c: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Depth registered to the colour camera, resampled to its pixels through both intrinsics
    (nearest; pixels that fall outside the depth image get 0 = invalid)."""
    H, W = hw
    rx, ry = pixel_rays(pixel_centre(np.arange(W)), pixel_centre(np.arange(H)), K_c[0, 0], K_c[1, 1], K_c[0, 2], K_c[1, 2])
    u, v = project(rx, ry, 1.0, K_d[0, 0], K_d[1, 1], K_d[0, 2], K_d[1, 2])
    cols, rows = np.floor(u).astype(int), np.floor(v).astype(int)
    ok_c = (cols >= 0) & (cols < depth.shape[1])
    ok_r = (rows >= 0) & (rows < depth.shape[0])
    out = depth[np.clip(rows, 0, depth.shape[0] - 1)][:, np.clip(cols, 0, depth.shape[1] - 1)]
    return np.where(ok_r[:, None] & ok_c[None, :], out, 0).astype(np.float32)


def _load(scan: Path, stem: str, boxes, bad, A: np.ndarray) -> Frame:
    where = f"scan {scan}: frame {stem}"
    color = next((p for p in (scan / "color" / f"{stem}.jpg", scan / "color" / f"{stem}.png") if p.is_file()), None)
    if color is None:
        raise DataError(f"{where}: missing color/{stem}.jpg")
    rgb = decode_png(color.read_bytes(), str(color), mode="RGB")
    H, W = rgb.shape[:2]
    K_c = _matrix(scan / "intrinsic" / "intrinsic_color.txt", where)
    pose = _matrix(scan / "pose" / f"{stem}.txt", where)  # camera -> world, as stored
    T = A @ pose  # camera -> aligned world
    R, t = T[:3, :3], T[:3, 3]
    depth = None
    dpath = scan / "depth" / f"{stem}.png"
    if dpath.is_file():
        raw = decode_png(dpath.read_bytes(), str(dpath))
        if raw.ndim != 2 or raw.dtype.kind not in "iu":
            raise DataError(f"{dpath}: depth must be a 16-bit single-channel PNG, got {raw.dtype} {raw.shape}")
        K_d = _matrix(scan / "intrinsic" / "intrinsic_depth.txt", where)
        depth = resample_depth(raw.astype(np.float32) / 1000.0, K_d, K_c, (H, W))
    K = (K_c[0, 0], K_c[1, 1], K_c[0, 2], K_c[1, 2])
    objs = []
    for key, label, c, ext in boxes:
        center_cam = R.T @ (c - t)
        if in_view(center_cam, ext, K, (H, W), depth):
            objs.append(RawObject(key, label, center_cam, R.T.copy(), ext))
    return Frame("scannet", scan.name, stem, rgb, depth, K, R.T @ np.array([0.0, 0.0, 1.0]), objs,
                 dropped=dict(bad), where=where, metadata={"camera_center_world": pose[:3, 3].tolist()})


def _scan(scan: Path) -> Iterator[FrameRef]:
    try:
        boxes, bad = instance_boxes(scan)
        A = axis_alignment(scan / f"{scan.name}.txt")
    except DataError as e:
        yield FrameRef(scene_id("scannet", scan.name, "scan"), error=str(e))
        return
    stems = sorted((p.stem for p in (scan / "pose").glob("*.txt")), key=lambda s: (len(s), s))
    for stem in stems:
        yield FrameRef(scene_id("scannet", scan.name, stem), lambda stem=stem: _load(scan, stem, boxes, bad, A))


@register("scannet")
def read_scannet(input: Path) -> Iterator[FrameRef]:
    """INPUT: one scan folder ``<scene>/`` (with its SensReader export), or a folder of them."""
    input = Path(input)
    if not input.is_dir():
        raise ConfigError(f"scannet: {input} is not a folder")
    scans = [input] if (input / "pose").is_dir() else sorted(p for p in input.iterdir() if (p / "pose").is_dir())
    if not scans:
        raise ConfigError(f"scannet: no scan folders with a pose/ export in {input}")
    for scan in scans:
        yield from _scan(scan)
