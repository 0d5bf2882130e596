"""Shared frame model, geometry and the ``ingest`` writer for 3D-annotated datasets.

A reader turns one dataset frame into a ``Frame``: pixels, planar metric depth, pinhole
intrinsics, the up direction in the (OpenCV) camera frame, and oriented boxes in the camera
frame.  ``build_scene`` converts that to our conventions (docs/conventions.md): the world
frame is rebuilt from the up vector alone (origin at the camera centre, z up, x = camera
right made horizontal), so no dataset pose ever reaches a record except through ``up_cam``.
"""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
from PIL import Image, UnidentifiedImageError

from ...errors import ConfigError, DataError
from ...files import write_depth, write_image
from ...manifest import RunManifest
from ...pinhole import nearest_index, project
from ...scene import Box3D, Camera, MaskRLE, Object3D, Scene, SceneError
from .labelling import label_scene, load_detections

VERTICAL_TOLERANCE_DEG = 5.0  # a box axis within this of gravity is taken as its height axis
MIN_DEPTH = 0.05  # metres; corners nearer than this are "behind the camera" for projection
OCCLUSION_MARGIN = 0.05  # metres, for ``in_view``


@dataclass
class RawObject:
    """One annotated box as the dataset gives it, already in the OpenCV camera frame."""

    key: str  # the dataset's own id, for messages
    category: str
    center_cam: np.ndarray  # (3,)
    axes_cam: np.ndarray  # (3, 3) columns: the box's unit axes; the first horizontal one becomes w
    extents: np.ndarray  # (3,) full lengths along those axes, metres
    box2d: tuple[float, float, float, float] | None = None
    box2d_projected: bool = False  # box2d is the projection of the 3D box, not the visible extent
    occlusion: float | None = None
    truncation: float | None = None
    mask: np.ndarray | None = None  # (H, W) bool visible pixels, where the dataset labels them (Hypersim)


@dataclass
class Frame:
    dataset: str
    capture: str
    frame: str
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray | None  # (H, W) float32 planar z in metres, 0 = invalid
    intrinsics: tuple[float, float, float, float]  # fx, fy, cx, cy
    up_cam: np.ndarray  # (3,) unit vector against gravity, camera frame
    objects: list[RawObject]
    project_missing_box2d: bool = True
    metadata: dict = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)  # annotations the reader dropped, key -> reason
    where: str = ""  # the file and record, for messages


@dataclass
class FrameRef:
    """A frame to ingest: ``load`` reads it (raising ``DataError`` for a bad one).  A reader
    reports a capture it cannot open as a ref with ``error`` set (recorded, never subsampled)."""

    key: str
    load: Callable[[], Frame] | None = None
    error: str | None = None


def scene_id(dataset: str, capture: str, frame: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{dataset}-{capture}-{frame}")


def finite(name: str, values, where: str, shape: tuple[int, ...]) -> np.ndarray:
    """A float array of ``shape`` from a JSON value, or a ``DataError`` naming ``where``."""
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise DataError(f"{where}: {name} is not numeric: {values!r}") from None
    if arr.size != math.prod(shape):
        raise DataError(f"{where}: {name} needs {math.prod(shape)} numbers, got {arr.size}")
    arr = arr.reshape(shape)
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{where}: {name} is not finite: {arr.tolist()}")
    return arr


def rotation(name: str, values, where: str) -> np.ndarray:
    R = finite(name, values, where, (3, 3))
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-4) or np.linalg.det(R) < 0:
        raise DataError(f"{where}: {name} is not a rotation matrix: {R.tolist()}")
    return R


def gravity_rotation(up_cam: np.ndarray, where: str) -> np.ndarray:
    """R_world_cam of our world frame: z = up, x = camera x made horizontal, y = z × x."""
    up = np.asarray(up_cam, float)
    n = np.linalg.norm(up)
    if not np.isfinite(n) or n < 1e-9:
        raise DataError(f"{where}: no gravity direction (up = {up.tolist()})")
    z = up / n
    x = np.array([1.0, 0.0, 0.0]) - z[0] * z
    if np.linalg.norm(x) < 1e-6:
        raise DataError(f"{where}: the camera's x axis is vertical; the world frame is undefined")
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z])


def to_box3d(obj: RawObject, R_world_cam: np.ndarray) -> Box3D:
    """The gravity-aligned ``Box3D`` of an oriented camera-frame box, or ``DataError``."""
    ext = np.asarray(obj.extents, float)
    if not np.all(np.isfinite(ext)) or np.any(ext <= 0):
        raise DataError(f"size must be positive, got {ext.tolist()}")
    A = R_world_cam @ np.asarray(obj.axes_cam, float)  # box axes in the world frame (columns)
    k = int(np.argmax(np.abs(A[2])))
    if abs(A[2, k]) < math.cos(math.radians(VERTICAL_TOLERANCE_DEG)):
        tilt = math.degrees(math.acos(min(abs(A[2, k]), 1.0)))
        raise DataError(f"box is not gravity-aligned (its most vertical axis is {tilt:.1f} deg off)")
    i, j = [a for a in range(3) if a != k]
    yaw = math.atan2(A[1, i], A[0, i])
    center = R_world_cam @ np.asarray(obj.center_cam, float)
    return Box3D(tuple(center), (float(ext[i]), float(ext[k]), float(ext[j])), yaw)


def in_view(center_cam, ext, K, hw, depth) -> bool:
    """Whether a capture-level box is an object of this frame: its centre is in front of the
    camera and inside the image, and (with depth) not hidden at its centre pixel: the measured
    depth there is at least the centre's depth minus half the box diagonal minus 5 cm."""
    fx, fy, cx, cy = K
    H, W = hw
    z = center_cam[2]
    if z <= MIN_DEPTH:
        return False
    u, v = project(center_cam[0], center_cam[1], z, fx, fy, cx, cy)
    if not (0 <= u < W and 0 <= v < H):
        return False
    if depth is None:
        return True
    d = depth[int(v), int(u)]
    return not (d > 0 and d < z - np.linalg.norm(ext) / 2 - OCCLUSION_MARGIN)


def project_box2d(box: Box3D, cam: Camera) -> tuple[float, float, float, float] | None:
    """Image-clipped hull of the projected corners in front of the camera, or None if empty."""
    pc = cam.world_to_cam(box.corners())
    pc = pc[pc[:, 2] > MIN_DEPTH]
    if not len(pc):
        return None
    uv = cam.project(pc)
    x0, y0 = np.clip(uv.min(0), 0, [cam.width, cam.height])
    x1, y1 = np.clip(uv.max(0), 0, [cam.width, cam.height])
    return (float(x0), float(y0), float(x1), float(y1)) if x1 > x0 and y1 > y0 else None


def build_scene(frame: Frame) -> tuple[Scene, dict[str, str]]:
    """The scene of a frame and the objects dropped from it (dataset key -> reason)."""
    sid = scene_id(frame.dataset, frame.capture, frame.frame)
    where = f"{frame.dataset} capture {frame.capture!r} frame {frame.frame!r}"
    H, W = frame.rgb.shape[:2]
    fx, fy, cx, cy = (float(v) for v in frame.intrinsics)
    try:
        cam = Camera(fx, fy, cx, cy, W, H, tuple(map(tuple, gravity_rotation(frame.up_cam, where))))
    except SceneError as e:
        raise DataError(f"{where}: {e}") from None
    if frame.depth is not None and frame.depth.shape != (H, W):
        raise DataError(f"{where}: depth is {frame.depth.shape}, image is {(H, W)}")
    objects, dropped, projected, keys = [], dict(frame.dropped), [], []
    for obj in frame.objects:
        if not obj.category or not obj.category.strip():
            dropped[obj.key] = "unknown category"
            continue
        try:
            box = to_box3d(obj, cam.R)
        except (DataError, SceneError) as e:
            dropped[obj.key] = str(e)
            continue
        box2d, was_projected = obj.box2d, obj.box2d_projected
        if box2d is None and frame.project_missing_box2d:
            box2d, was_projected = project_box2d(box, cam), True
            if box2d is None:
                dropped[obj.key] = "not in view"
                continue
        oid = len(objects)
        try:
            mask = None if obj.mask is None else MaskRLE.encode(obj.mask)
            objects.append(Object3D(oid, obj.category.strip(), box, box2d=box2d, provenance="ground_truth",
                                    occlusion=obj.occlusion, truncation=obj.truncation, shape="other", mask=mask))
        except SceneError as e:
            dropped[obj.key] = str(e)
            continue
        keys.append(obj.key)
        if was_projected:
            projected.append(oid)
    meta = {"dataset": frame.dataset, "capture": frame.capture, "frame": frame.frame,
            "box2d_projected": projected, "dropped_objects": dropped, "object_keys": keys, **frame.metadata}
    scene = Scene(sid, f"images/{sid}.png", cam, tuple(objects),
                  depth_path=f"depth/{sid}.npy" if frame.depth is not None else None,
                  source="annotated", metadata=meta)
    return scene, dropped


def check_subsample(every: int, num: int | None) -> None:
    if every < 1:
        raise ConfigError(f"--every must be >= 1, got {every}")
    if num is not None and num < 0:
        raise ConfigError(f"--num must be >= 0, got {num}")


def ingest(name: str, input: str | Path, out: str | Path, every: int = 1, num: int | None = None,
           resume: bool = True, detections: str | Path | None = None, exclude: Any = None) -> RunManifest:
    """Read dataset ``name`` at ``input`` and write scenes under ``out`` in the layout
    ``generate --source folder`` reads (``<id>.json``, ``images/``, ``depth/``), recording
    every written and skipped frame in ``out/manifest.json``.  A rerun resumes: frames listed
    as done whose JSON exists are not read again.  ``detections``: a JSON of detector boxes
    per scene id that names generic ("object") boxes (``labelling.py``).  ``exclude``: a
    ``decontam.Exclusion``; frames of its benchmark scenes are not read, and are listed in
    the manifest's ``stats["excluded"]``."""
    from . import READERS  # deferred: the package __init__ imports this module, then registers the readers

    if name not in READERS:
        raise ConfigError(f"unknown dataset {name!r}; known: {', '.join(sorted(READERS))}")
    check_subsample(every, num)
    input, out = Path(input), Path(out)
    if not input.exists():
        raise ConfigError(f"{name} input {input} not found")
    dets = load_detections(detections) if detections is not None else None
    manifest = RunManifest.open(out / "manifest.json", "ingest",
                                {"dataset": name, "input": str(input), "every": every, "num": num,
                                 "detections": None if detections is None else str(detections),
                                 **({} if exclude is None else {"exclude": exclude.describe()})}, resume=resume)
    stats: dict[str, Any] = {"frames_seen": 0, "objects": 0, "dropped_objects": 0}
    excluded: dict[str, str] = {}
    written = 0
    refs: Iterator[FrameRef] = READERS[name](input)
    index = -1
    try:
        for ref in refs:
            if num is not None and written >= num:
                break
            if ref.error is not None:
                manifest.skip(ref.key, ref.error)
                continue
            hit = None if exclude is None else exclude.match(ref.key)
            if hit is not None:  # a benchmark's scene: never read, listed in the manifest
                excluded[ref.key] = hit
                continue
            index += 1
            if index % every:
                continue
            stats["frames_seen"] += 1
            if manifest.is_done(ref.key) and (out / f"{ref.key}.json").is_file():
                written += 1
                continue
            try:
                frame = ref.load()
                scene, dropped = build_scene(frame)
                if dets is not None:
                    scene = label_scene(scene, dets.get(scene.id, []))
                if not scene.objects:
                    why = "; ".join(f"{k}: {v}" for k, v in list(dropped.items())[:3]) or "no annotations"
                    raise DataError(f"{frame.where or ref.key}: no usable objects ({why})")
            except DataError as e:
                manifest.skip(ref.key, str(e))
                continue
            _write(out, scene, frame)
            stats["objects"] += len(scene.objects)
            stats["dropped_objects"] += len(dropped)
            manifest.stats = dict(stats)
            manifest.mark_done(ref.key)
            written += 1
        if exclude is not None:
            exclude.record(stats, excluded)
        manifest.stats = dict(stats)
    finally:
        manifest.close()
    return manifest


def _write(out: Path, scene: Scene, frame: Frame) -> None:
    for sub in ("images", "depth"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    write_image(out / scene.image_path, frame.rgb)
    if scene.depth_path is not None:
        write_depth(out / scene.depth_path, np.asarray(frame.depth, np.float32))
    json_path = out / f"{scene.id}.json"
    tmp = json_path.with_suffix(".json.tmp")
    scene.save(tmp)
    os.replace(tmp, json_path)  # the JSON appears last: its presence means "complete"


def decode_png(data: bytes, where: str, mode: str | None = None) -> np.ndarray:
    """Pixels of an encoded image (PNG, JPEG, ...) or a ``DataError`` naming ``where``."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            if mode == "RGB":
                return np.asarray(im.convert("RGB"))
            arr = np.asarray(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{where}: unreadable image ({e})") from None
    return arr


def depth_mm(data: bytes, where: str, hw: tuple[int, int]) -> np.ndarray:
    """A uint16 millimetre depth PNG as float32 metres at image size (0 stays invalid)."""
    arr = decode_png(data, where)
    if arr.ndim != 2 or arr.dtype.kind not in "iu":
        raise DataError(f"{where}: depth must be a 16-bit single-channel PNG, got {arr.dtype} {arr.shape}")
    return resize_nearest(arr.astype(np.float32) / 1000.0, hw)


def resize_nearest(depth: np.ndarray, hw: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resample of a depth map to (H, W): pixel centres map to the source
    pixel containing them (no interpolation across depth edges)."""
    h, w = depth.shape
    H, W = hw
    if (h, w) == (H, W):
        return depth
    return depth[nearest_index(H, h)][:, nearest_index(W, w)]
